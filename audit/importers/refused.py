"""Exports that are recognised only to be refused with advice (they hold no links).

Refusing them by name is kinder than "unknown header": the user exported the wrong table
and needs to know which one to pick instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Recognised:
    """A known export that LinkCRM does not import, and what to export instead."""

    headers: frozenset[str]  # normalised; all present → this export
    message: str

    def matches(self, header: frozenset[str]) -> bool:
        return self.headers <= header


RECOGNISED: tuple[Recognised, ...] = (
    Recognised(
        frozenset({"subnet", "ref. domains", "links to target"}),
        "this is an Ahrefs Referring IPs export; export Backlinks or Referring domains instead",
    ),
    Recognised(
        frozenset({"link text"}),
        "this is a Search Console Top linking text export (anchor texts, no links); "
        "export Latest links, More sample links or Top linking sites instead",
    ),
    Recognised(
        frozenset({"target page", "incoming links", "linking sites"}),
        "this is a Search Console Top target pages export (your pages, not who links to them); "
        "export Latest links, More sample links or Top linking sites instead",
    ),
)
