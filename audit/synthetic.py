"""Seeded, realistic Semrush Backlinks exports for benchmarks, tests and the demo.

``write_semrush_backlinks(out, rows=..., seed=...)`` streams a CSV with exactly the header
of a real Semrush Backlink Analytics → Backlinks export (see
``../shared/samples/semrush/acceleratinght.org-backlinks.csv``), row by row: memory stays
flat whatever the size. The same arguments always give the same bytes.

What it looks like (roughly what real profiles show):
- about ``refdomain_ratio`` referring domains per link (0.2: 200k domains per 1M links),
  links per domain power-law distributed (most domains 1-3 links, a few thousands:
  those are sitewide), on a mix of TLDs (com, org, net, de, co.uk, com.br, ru, ...);
  hosts are the bare domain, ``www.``, or subdomains (blog., news., forum., m.); a share
  of pages sit on blog platforms (``*.blogspot.com``, ``*.wordpress.com``);
- rows of different domains interleave (a bounded pool of "open" domains), as in an
  export sorted by authority;
- ~30 % nofollow, some sponsored / UGC, ~8 % image links, a few frame and form links;
- anchors: branded, generic ("click here"), money keywords, naked URLs, compound, empty;
- first seen spread over three years before ``end_date``; ~5 % lost ("Lost link" true,
  last seen earlier), ~3 % new (first seen in the last 30 days);
- ~2 % of pages link to the same target twice with another anchor (as real exports do);
- titles with commas, quotes and non-ASCII text, so CSV quoting is exercised.

Domain names come from a shared universe indexed by number: two files whose
``domain_offset`` ranges overlap share those referring domains (competitor gaps). They are
fake names on real TLDs: they do not belong to anyone on purpose.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

# Bumped whenever the output for a given seed changes (benchmarks cache files by it).
GENERATOR_VERSION = 2

SEMRUSH_BACKLINKS_HEADER = [
    "Page ascore", "Source title", "Source url", "Target url", "Anchor", "External links", "Internal links",
    "Nofollow", "Sponsored", "Ugc", "Text", "Frame", "Form", "Image", "Sitewide", "First seen", "Last seen",
    "New link", "Lost link",
]  # fmt: skip

_TLDS = (
    ("com", 42), ("org", 8), ("net", 7), ("de", 6), ("co.uk", 4), ("ru", 4), ("com.br", 3), ("fr", 3),
    ("it", 2), ("nl", 2), ("pl", 2), ("info", 2), ("io", 2), ("es", 2), ("in", 2), ("jp", 1), ("com.au", 1),
    ("ca", 1), ("co", 1), ("xyz", 2), ("top", 1), ("online", 1), ("cz", 1), ("se", 1), ("ch", 1),
)  # fmt: skip
_TLD_SLOTS = tuple(tld for tld, weight in _TLDS for _ in range(weight))  # weighted, picked by index
_PLATFORMS = ("blogspot.com", "wordpress.com", "tumblr.com", "weebly.com")
_SYLLABLES = (
    "al", "an", "ar", "be", "bo", "ca", "da", "de", "el", "en", "fa", "go", "ha", "in", "ka", "la", "lo",
    "ma", "mi", "no", "or", "pa", "ra", "re", "sa", "so", "ta", "to", "ur", "va", "wi", "zo", "tech", "web",
    "hub", "news", "blog", "net", "info", "media", "green", "city", "home", "travel", "outdoor", "guide",
)  # fmt: skip
_SUBDOMAINS = (("", 50), ("www.", 30), ("blog.", 7), ("news.", 4), ("forum.", 3), ("m.", 3), ("shop.", 3))
_PATH_WORDS = (
    "best", "hiking", "boots", "review", "guide", "top", "gear", "camping", "tips", "2024", "list",
    "outdoor", "tents", "jackets", "winter", "trail", "running", "news", "deals", "how-to", "vs", "brands",
)  # fmt: skip
_TITLE_WORDS = (
    "Best", "Hiking", "Boots", "Review", "Guide", "Top 10", "Gear", "Camping", "Tips", "Outdoor", "Tents",
    "Jackets", "Winter", "Trail", "Running", "News", "Deals", "Brands", "Wandern", "Randonnée", "Поход",
    "登山", "Ausrüstung", "équipement", "Test", "Blog", "Forum", "Shop",
)  # fmt: skip
_GENERIC_ANCHORS = (
    "click here",
    "here",
    "website",
    "this site",
    "read more",
    "source",
    "link",
    "visit website",
)


@dataclass(frozen=True)
class SiteProfile:
    """Who the links point to, and what their anchors call it."""

    domain: str = "northwind-outdoor.com"
    brand: str = "Northwind Outdoor"
    money_terms: tuple[str, ...] = (
        "hiking boots",
        "waterproof jackets",
        "camping tents",
        "trail running shoes",
    )
    pages: tuple[str, ...] = (
        "",
        "hiking-boots/",
        "jackets/",
        "tents/",
        "blog/layering-guide/",
        "about/",
        "sale/",
    )


@dataclass
class _Domain:
    name: str
    hosts: tuple[str, ...]
    remaining: int
    sitewide: bool
    authority: int
    next_page: int = 0


class _Generator:
    """Draws rows; every random choice goes through one seeded ``random.Random``."""

    def __init__(self, *, seed: int, site: SiteProfile, end_date: dt.date, domain_offset: int) -> None:
        self.rng = random.Random(seed)
        self.site = site
        self.end_date = end_date
        self.domain_index = domain_offset
        self.tlds = [tld for tld, _ in _TLDS]
        self.tld_weights = [weight for _, weight in _TLDS]
        self.sub_names = [name for name, _ in _SUBDOMAINS]
        self.sub_weights = [weight for _, weight in _SUBDOMAINS]

    def domain(self) -> _Domain:
        """The next domain of the universe, with its link count drawn from a power law."""
        index = self.domain_index
        self.domain_index += 1
        name = _domain_name(index)
        rng = self.rng
        links = min(int(rng.paretovariate(1.08)), 3000)
        if name.endswith(_PLATFORMS):
            hosts = tuple(f"{_word(index * 7 + k)}.{name}" for k in range(1 + links // 20))
        else:
            count = 1 if links < 5 else 2 if links < 50 else 3
            hosts = tuple(f"{sub}{name}" for sub in rng.choices(self.sub_names, self.sub_weights, k=count))
        authority = min(100, int(rng.expovariate(1 / 12)))
        return _Domain(name=name, hosts=hosts, remaining=links, sitewide=links >= 100, authority=authority)

    def row(self, domain: _Domain) -> list[str]:
        rng = self.rng
        site = self.site
        host = rng.choice(domain.hosts)
        domain.next_page += 1
        path = "-".join(rng.sample(_PATH_WORDS, 3))
        source_url = f"https://{host}/{path}-{domain.next_page}/"
        target_url = f"https://www.{site.domain}/{rng.choice(site.pages)}"
        title = ", ".join(rng.sample(_TITLE_WORDS, 3)) + (' "2025"' if rng.random() < 0.1 else "")
        kind = rng.choices(("text", "image", "frame", "form"), (90, 8, 1, 1))[0]
        anchor = "" if kind == "image" and rng.random() < 0.7 else self.anchor()
        first, last, lost, new = self.dates()
        page_ascore = max(0, min(100, domain.authority + rng.randint(-8, 4)))
        return [
            str(page_ascore), title, source_url, target_url, anchor, str(int(rng.lognormvariate(3, 1.2)) + 1),
            str(int(rng.lognormvariate(4, 1.3))), _flag(rng.random() < 0.3), _flag(rng.random() < 0.02),
            _flag(rng.random() < 0.05), _flag(kind == "text"), _flag(kind == "frame"), _flag(kind == "form"),
            _flag(kind == "image"), _flag(domain.sitewide), first, last, _flag(new), _flag(lost),
        ]  # fmt: skip

    def anchor(self) -> str:
        rng = self.rng
        site = self.site
        pick = rng.random()
        if pick < 0.30:
            return rng.choice((site.brand, site.brand.lower(), site.domain, f"{site.brand} shop"))
        if pick < 0.50:
            return rng.choice(_GENERIC_ANCHORS)
        if pick < 0.65:
            return rng.choice(site.money_terms)
        if pick < 0.80:
            return rng.choice((f"https://www.{site.domain}/", f"www.{site.domain}", f"https://{site.domain}"))
        return f"{rng.choice(_TITLE_WORDS).lower()} {rng.choice(site.money_terms)} from {site.brand}"

    def dates(self) -> tuple[str, str, bool, bool]:
        """(first seen, last seen, lost, new) within three years before the end date."""
        rng = self.rng
        first = self.end_date - dt.timedelta(days=int(rng.triangular(0, 3 * 365, 200)))
        lost = rng.random() < 0.05
        if lost:
            last = first + dt.timedelta(days=rng.randint(0, max(0, (self.end_date - first).days - 1)))
        else:
            last = self.end_date - dt.timedelta(days=rng.randint(0, 20))
            last = max(last, first)
        new = (self.end_date - first).days <= 30
        return first.isoformat(), last.isoformat(), lost, new


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _word(n: int) -> str:
    """A pronounceable fake word, a pure function of ``n``."""
    parts = []
    n = (n * 2654435761 + 12345) % (1 << 32)
    for _ in range(2 + n % 2):
        parts.append(_SYLLABLES[n % len(_SYLLABLES)])
        n //= len(_SYLLABLES)
    return "".join(parts)


def _domain_name(index: int) -> str:
    """Domain number ``index`` of the shared universe: unique per index, fake, on a real TLD."""
    if index % 97 == 0:
        return _PLATFORMS[(index // 97) % len(_PLATFORMS)]
    tld = _TLD_SLOTS[(index * 2654435761 >> 7) % len(_TLD_SLOTS)]
    return f"{_word(index)}-{_base36(index)}.{tld}"


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, rest = divmod(n, 36)
        out = digits[rest] + out
        if not n:
            return out


def iter_semrush_backlinks(
    *,
    rows: int,
    seed: int = 1,
    site: SiteProfile | None = None,
    end_date: dt.date = dt.date(2025, 6, 1),
    domain_offset: int = 1,
    open_domains: int | None = None,
) -> Iterator[list[str]]:
    """The data rows (header excluded) of a synthetic export, one list of 19 cells at a time.

    ``open_domains`` domains take turns at any time (default: 1 per 100 rows, 10 to 2000):
    it bounds memory and sets how far one domain's links spread through the file.
    """
    if open_domains is None:
        open_domains = max(10, min(2000, rows // 100))
    gen = _Generator(seed=seed, site=site or SiteProfile(), end_date=end_date, domain_offset=domain_offset)
    pool: list[_Domain] = []
    rng = gen.rng
    previous: list[str] | None = None
    for _ in range(rows):
        if previous is not None and rng.random() < 0.02:
            # Same page, same target, another anchor: Semrush lists each anchor.
            row = [*previous[:4], gen.anchor(), *previous[5:]]
        else:
            while len(pool) < open_domains:
                pool.append(gen.domain())
            slot = rng.randrange(len(pool))
            domain = pool[slot]
            row = gen.row(domain)
            domain.remaining -= 1
            if domain.remaining <= 0:
                pool[slot] = pool[-1]
                pool.pop()
        previous = row
        yield row


def write_semrush_backlinks(out: TextIO, *, rows: int, **options: object) -> int:
    """Writes header and ``rows`` rows to ``out`` (opened with newline=""); returns rows written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SEMRUSH_BACKLINKS_HEADER)
    written = 0
    batch: list[list[str]] = []
    for row in iter_semrush_backlinks(rows=rows, **options):  # type: ignore[arg-type]
        batch.append(row)
        if len(batch) >= 1000:
            writer.writerows(batch)
            written += len(batch)
            batch.clear()
    writer.writerows(batch)
    return written + len(batch)
