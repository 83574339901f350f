"""Outreach's pages, one module per screen; each module owns its ``urlpatterns``."""
