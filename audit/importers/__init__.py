"""Backlink export importers: one module per provider format (see base.py for the contract)."""
