"""Prospects' gap pages (see prospects/urls.py: this module owns its urlpatterns)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
