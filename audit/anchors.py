"""Anchor-text classification: which kind of anchor a link uses, judged against the site's terms.

``classify_anchor`` is a pure function of the anchor text, the link type and the site's brand
and money terms. The categories, checked in this order (the first that applies wins):

1. **empty or image** – no visible text, or an image link (its "anchor" is alt text at best);
2. **naked URL** – the anchor is a URL or a bare host name (``https://acme.com/x``, ``www.acme.com``,
   ``acme.co.uk``), whoever it names;
3. **generic** – a phrase from ``GENERIC_ANCHORS`` (``click here``, ``website``, ``read more`` ...);
4. **branded** – only brand terms (plus filler such as ``the``, ``inc``, ``official site``);
5. **exact match** – exactly one of the money terms;
6. **compound** – a brand term together with a money term or with other words;
7. **partial match** – contains a money term among other words;
8. **other** – none of the above (no brand, no money term, not generic).

Terms and anchors are compared case-insensitively on whole words after punctuation is folded
to spaces, so ``Acme's`` matches the brand ``acme`` but ``acmetools`` does not. When a site has
no brand terms, the label of its domain stands in (``acme`` and ``acme tools`` for
``acme-tools.com``), so a fresh site still gets a useful split.

At scale the profile never classifies links one by one: ``audit.selectors.anchor_profile``
groups the site's links by their trimmed, lower-cased anchor in SQL (one row per DISTINCT
anchor, with link and domain counts) and classifies only those groups here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from audit.choices import AnchorCategory, LinkType

# Anchors matching no other category.
OTHER = AnchorCategory.OTHER
CATEGORY_LABELS: dict[str, str] = dict(AnchorCategory.choices)
# Display order, from the most to the least natural kinds of anchors.
CATEGORY_ORDER: tuple[str, ...] = (
    AnchorCategory.BRANDED,
    AnchorCategory.NAKED_URL,
    AnchorCategory.GENERIC,
    AnchorCategory.EXACT_MATCH,
    AnchorCategory.PARTIAL_MATCH,
    AnchorCategory.COMPOUND,
    AnchorCategory.EMPTY,
    OTHER,
)

# Anchors that say nothing about the target. Compared after normalisation (lower case,
# punctuation folded), so "Click here!" and "click-here" both match "click here".
GENERIC_ANCHORS: frozenset[str] = frozenset(
    {
        "click here", "click", "here", "this", "this link", "link", "this site", "this website",
        "this page", "this article", "this post", "website", "web site", "site", "homepage",
        "home page", "home", "page", "read more", "more", "more info", "more information",
        "learn more", "find out more", "see more", "view more", "details", "more details",
        "go", "go here", "go to site", "visit", "visit site", "visit website", "visit us",
        "check it out", "check this out", "source", "article", "blog", "post", "official site",
        "official website", "continue", "continue reading", "download", "url", "www", "info",
        "see here", "read here", "click this", "link here", "the website", "the site",
        "their website", "our website", "your website", "via", "buy now", "shop now",
    }
)

# Words that may surround a brand name without making the anchor anything but branded.
BRAND_FILLER: frozenset[str] = frozenset(
    {"the", "inc", "ltd", "llc", "gmbh", "co", "corp", "company", "official", "site", "website", "com", "s"}
)

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
# A URL with a scheme, or something shaped like a host name: labels joined by dots ending in a
# 2+ letter TLD (or an IPv4 address), optionally followed by a path. No spaces anywhere.
_URL_LIKE = re.compile(
    r"""^(?:[a-z][a-z0-9+.-]*://\S+
        |www\.\S+
        |(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]+)(?::\d+)?(?:[/?#]\S*)?
        |\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?:[/?#]\S*)?)$""",
    re.VERBOSE,
)


def normalize_anchor(text: str) -> str:
    """Lower-cased words separated by single spaces: ``"  Click HERE!"`` → ``"click here"``."""
    return _NON_WORD.sub(" ", text.casefold()).strip()


def is_naked_url(text: str) -> bool:
    """True when the anchor, trimmed, is a URL or a bare host name."""
    candidate = text.strip().casefold()
    return bool(candidate) and _URL_LIKE.match(candidate) is not None


def default_brand_terms(domain: str) -> list[str]:
    """Brand terms guessed from a registrable domain: its first label, and that label de-hyphenated."""
    label = domain.strip().lower().split(".", 1)[0]
    if not label:
        return []
    spaced = label.replace("-", " ").replace("_", " ")
    return [label] if spaced == label else [label, spaced]


def _terms_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    """One regex finding any of the (normalised) terms as whole words; None for no terms."""
    if not terms:
        return None
    alternatives = "|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<![^ ])(?:{alternatives})(?![^ ])")


@dataclass(frozen=True)
class AnchorTerms:
    """A site's brand and money terms, normalised once for classifying many anchors."""

    brand: tuple[str, ...]
    money: tuple[str, ...]

    @classmethod
    def build(
        cls, *, brand_terms: Iterable[str], money_terms: Iterable[str], domain: str = ""
    ) -> AnchorTerms:
        """Normalise the terms; a site without brand terms uses its domain's label (see module doc)."""
        brand = [term for term in (normalize_anchor(t) for t in brand_terms) if term]
        if not brand and domain:
            brand = [normalize_anchor(term) for term in default_brand_terms(domain)]
        money = [term for term in (normalize_anchor(t) for t in money_terms) if term]
        return cls(brand=tuple(sorted(set(brand))), money=tuple(sorted(set(money))))

    @cached_property
    def money_set(self) -> frozenset[str]:
        return frozenset(self.money)

    @cached_property
    def brand_pattern(self) -> re.Pattern[str] | None:
        return _terms_pattern(self.brand)

    @cached_property
    def money_pattern(self) -> re.Pattern[str] | None:
        return _terms_pattern(self.money)


def _is_brand_only(words: str, terms: AnchorTerms) -> bool:
    """Whether the anchor is made of brand terms and filler words alone (and has a brand term)."""
    pattern = terms.brand_pattern
    if pattern is None:
        return False
    rest, found = pattern.subn(" ", words)
    return found > 0 and all(word in BRAND_FILLER for word in rest.split())


def classify_anchor(anchor: str, *, terms: AnchorTerms, link_type: str = LinkType.TEXT) -> str:
    """The category of one anchor: an ``AnchorCategory`` value, or ``OTHER``. Order: module doc."""
    words = normalize_anchor(anchor)
    if link_type == LinkType.IMAGE or not words:
        return AnchorCategory.EMPTY
    if is_naked_url(anchor):
        return AnchorCategory.NAKED_URL
    if words in GENERIC_ANCHORS:
        return AnchorCategory.GENERIC
    if _is_brand_only(words, terms):
        return AnchorCategory.BRANDED
    if words in terms.money_set:
        return AnchorCategory.EXACT_MATCH
    if terms.brand_pattern is not None and terms.brand_pattern.search(words):
        return AnchorCategory.COMPOUND
    if terms.money_pattern is not None and terms.money_pattern.search(words):
        return AnchorCategory.PARTIAL_MATCH
    return OTHER

