"""The seeded 5-site dataset of ``make bench-gap``: realistic overlaps, loaded through the real loader.

A universe of ``domains`` referring domains (fake names on real TLDs, as in audit.synthetic).
Each domain links to 1-5 of the sites: 40 % to one, 22 % to two, 15 % to three, 12 % to
four, 11 % to all five, the sites drawn at random, so every gap tab has rows (Best: the
domains linking to the four competitors only). Per (domain, site) the link count follows a
power law (most 1-3, a few thousands), scaled so each site gets exactly ``links_per_site``
links. Better-known domains (higher authority) link to more sites.

Rows go through ``audit.loading.load_rows`` exactly as an import does, so ``audit_backlink``
and the per-site ``audit_refdomain`` aggregates are what the product would hold.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

from audit.importers.base import BacklinkRow

DATASET_VERSION = 1  # bump when the generator changes: bench-gap then rebuilds its cached dataset
SITES = ("northwind-outdoor.com", "trailcraft-gear.com", "summitline-supply.com", "peakform-store.com",
         "ridgeway-outfitters.com")  # fmt: skip
_TLDS = (
    ("com", 42),
    ("org", 8),
    ("net", 7),
    ("de", 6),
    ("co.uk", 4),
    ("ru", 4),
    ("com.br", 3),
    ("fr", 3),
    ("it", 2),
    ("nl", 2),
    ("pl", 2),
    ("info", 2),
    ("io", 2),
    ("es", 2),
    ("in", 2),
    ("xyz", 2),
    ("top", 1),
)
_REACH = ((1, 40), (2, 22), (3, 15), (4, 12), (5, 11))
_SUBS = ("", "", "www.", "blog.", "news.")
_WORDS = (
    "best",
    "hiking",
    "boots",
    "review",
    "guide",
    "gear",
    "camping",
    "tips",
    "outdoor",
    "tents",
    "trail",
)
_ANCHORS = (
    "click here",
    "website",
    "hiking boots",
    "camping tents",
    "read more",
    "waterproof jackets",
    "source",
)
_END = dt.date(2025, 6, 1)


@dataclass(frozen=True)
class RefDomain:
    name: str
    authority: int
    sites: tuple[int, ...]  # indexes into SITES


def _name(index: int, rng: random.Random) -> str:
    tld = rng.choices([t for t, _ in _TLDS], [w for _, w in _TLDS])[0]
    return f"ref{index:06d}{rng.choice(_WORDS)}.{tld}"


def universe(*, domains: int, seed: int, sites: int = len(SITES)) -> list[RefDomain]:
    """The referring domains and which sites each links to (a pure function of the seed)."""
    rng = random.Random(seed)
    reach_values, reach_weights = [k for k, _ in _REACH], [w for _, w in _REACH]
    out = []
    for index in range(domains):
        authority = min(100, int(rng.expovariate(1 / 14)))
        reach = min(sites, rng.choices(reach_values, reach_weights)[0] + (1 if authority > 60 else 0))
        out.append(RefDomain(_name(index, rng), authority, tuple(sorted(rng.sample(range(sites), reach)))))
    return out


def link_counts(linking: list[RefDomain], *, total: int, rng: random.Random) -> list[int]:
    """Power-law links per domain, scaled so they sum to exactly ``total`` (each at least 1)."""
    raw = [min(3000, int(rng.paretovariate(1.16))) for _ in linking]
    scale = total / sum(raw)
    counts = [max(1, int(value * scale)) for value in raw]
    counts[counts.index(max(counts))] += total - sum(counts)  # the rounding goes to the biggest
    return counts


def site_rows(
    site_index: int, refdomains: list[RefDomain], *, links: int, seed: int
) -> Iterator[BacklinkRow]:
    """The backlinks of one site as normalised loader rows."""
    rng = random.Random(seed * 1000 + site_index)
    site = SITES[site_index]
    linking = [d for d in refdomains if site_index in d.sites]
    line = 1
    for domain, count in zip(linking, link_counts(linking, total=links, rng=rng), strict=True):
        for k in range(count):
            line += 1
            first = _END - dt.timedelta(days=rng.randrange(3 * 365))
            lost = rng.random() < 0.05
            yield BacklinkRow(
                line=line,
                source_url=f"https://{rng.choice(_SUBS)}{domain.name}/{rng.choice(_WORDS)}-{k}/",
                target_url=f"https://{site}/{rng.choice(_WORDS)}/",
                anchor=rng.choice(_ANCHORS),
                source_title=f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS)} {k}",
                nofollow=rng.random() < 0.3,
                first_seen=first.isoformat(),
                last_seen=(first if lost else _END).isoformat(),
                lost_at=first.isoformat() if lost else None,
                page_authority=max(0, domain.authority - rng.randrange(10)),
                domain_authority=domain.authority,
            )
