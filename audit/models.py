"""Audit's tables: sites, their backlinks, toxicity and disavow (filled by later issues)."""
