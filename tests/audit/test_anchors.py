"""Anchor classification: each category, the order of the checks, and the site's terms."""

from __future__ import annotations

import pytest

from audit.anchors import (
    GENERIC_ANCHORS,
    OTHER,
    AnchorTerms,
    classify_anchor,
    default_brand_terms,
    is_naked_url,
    normalize_anchor,
)
from audit.choices import AnchorCategory, LinkType

TERMS = AnchorTerms.build(brand_terms=["Acme", "Acme Tools"], money_terms=["blue widgets", "widgets"],
                          domain="acme.com")


@pytest.mark.parametrize(
    ("anchor", "expected"),
    [
        ("", AnchorCategory.EMPTY),
        ("   ", AnchorCategory.EMPTY),
        ("!!!", AnchorCategory.EMPTY),
        ("https://acme.com/shop?x=1", AnchorCategory.NAKED_URL),
        ("www.acme.com", AnchorCategory.NAKED_URL),
        ("acme.com", AnchorCategory.NAKED_URL),
        ("shop.other-site.co.uk/page", AnchorCategory.NAKED_URL),
        ("192.0.2.7", AnchorCategory.NAKED_URL),
        ("Click here!", AnchorCategory.GENERIC),
        ("read more", AnchorCategory.GENERIC),
        ("Website", AnchorCategory.GENERIC),
        ("ACME", AnchorCategory.BRANDED),
        ("Acme's", AnchorCategory.BRANDED),
        ("Acme Tools Inc.", AnchorCategory.BRANDED),
        ("the Acme official site", AnchorCategory.BRANDED),
        ("Blue Widgets", AnchorCategory.EXACT_MATCH),
        ("widgets", AnchorCategory.EXACT_MATCH),
        ("Acme blue widgets", AnchorCategory.COMPOUND),
        ("acme blog review", AnchorCategory.COMPOUND),
        ("cheap blue widgets online", AnchorCategory.PARTIAL_MATCH),
        ("best widgets of 2024", AnchorCategory.PARTIAL_MATCH),
        ("an article about gardening", OTHER),
        ("acmetools rock", OTHER),  # brand matched on whole words only
    ],
)
def test_it_classifies_text_anchors(anchor, expected):
    assert classify_anchor(anchor, terms=TERMS) == expected


def test_image_links_are_empty_or_image_whatever_their_alt_text():
    assert classify_anchor("Acme", terms=TERMS, link_type=LinkType.IMAGE) == AnchorCategory.EMPTY
    assert classify_anchor("Acme", terms=TERMS, link_type=LinkType.TEXT) == AnchorCategory.BRANDED


def test_a_site_without_brand_terms_uses_its_domain_label():
    terms = AnchorTerms.build(brand_terms=[], money_terms=[], domain="acme-tools.co.uk")
    assert classify_anchor("Acme Tools", terms=terms) == AnchorCategory.BRANDED
    assert classify_anchor("acme-tools", terms=terms) == AnchorCategory.BRANDED
    assert classify_anchor("acme tools review", terms=terms) == AnchorCategory.COMPOUND
    assert default_brand_terms("acme-tools.co.uk") == ["acme-tools", "acme tools"]


def test_explicit_brand_terms_replace_the_domain_guess():
    terms = AnchorTerms.build(brand_terms=["Zeta"], money_terms=[], domain="acme.com")
    assert classify_anchor("acme", terms=terms) == OTHER
    assert classify_anchor("zeta", terms=terms) == AnchorCategory.BRANDED


def test_without_money_terms_nothing_is_exact_or_partial():
    terms = AnchorTerms.build(brand_terms=["acme"], money_terms=[], domain="acme.com")
    assert classify_anchor("blue widgets", terms=terms) == OTHER


def test_naked_url_wins_over_brand_and_generic_lists_are_normalised():
    assert classify_anchor("http://acme.com", terms=TERMS) == AnchorCategory.NAKED_URL
    assert is_naked_url("acme") is False
    assert is_naked_url("acme tools.com") is False
    assert all(normalize_anchor(phrase) == phrase for phrase in GENERIC_ANCHORS)
    assert normalize_anchor("  Click—HERE!! ") == "click here"
