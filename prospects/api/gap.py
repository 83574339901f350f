"""Prospects' gap API (registered by prospects/api/urls.py through ``register``)."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter


def register(router: SimpleRouter) -> None:
    """Add this module's viewsets to the API router."""
