"""Outreach's tables: mailboxes, templates, sequences, outbox and inbox (filled by later issues)."""
