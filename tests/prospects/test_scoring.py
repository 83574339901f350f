"""Prospect scores on the known gap world: exact parts, weights, breakdown, and what has no data."""

from __future__ import annotations

import datetime as dt

import pytest

from prospects.choices import ProspectSource
from prospects.models import Project, Prospect
from prospects.services.creation import prospects_create
from prospects.services.projects import ProjectSettingsError, project_set_keywords, project_set_score_weights
from prospects.services.scoring import keyword_pattern, prospects_rescore
from tests.prospects import gap_world

pytestmark = pytest.mark.django_db
TODAY = dt.date(2025, 6, 1)


@pytest.fixture
def world() -> gap_world.World:
    world = gap_world.build(Project.objects.create(name="Shop", keywords=["hiking"]))
    prospects_create(
        project=world.project, domains=["best1.org", "toxic.org", "casino-deals-1234.xyz", "nf.net"],
        source=ProspectSource.MANUAL, created_by=None,
    )  # fmt: skip
    return world


def prospect(domain: str) -> Prospect:
    return Prospect.objects.get(domain=domain)


def values(breakdown: dict) -> dict[str, int | None]:
    return {part: facts["value"] for part, facts in breakdown["parts"].items()}


def test_every_part_of_a_score(world):
    assert prospects_rescore(project=world.project, today=TODAY) == 4
    best = prospect("best1.org")
    # freshness: newest live link 2025-01-01, 151 days → 100 × (1 − 151/730); relevance: 2 of 3 links.
    assert values(best.score_breakdown) == {
        "authority": 50, "competitors": 100, "freshness": 79, "follow": 100, "relevance": 67, "spam": 100,
    }  # fmt: skip
    # (50·30 + 100·25 + 79·10 + 100·10 + 67·15 + 100·10) / 100 = 77.95
    assert best.score == 78 and best.score_breakdown["score"] == 78
    assert (best.authority, best.competitors_linked) == (50, 2)


def test_the_breakdown_shows_weight_contribution_and_facts(world):
    prospects_rescore(project=world.project, today=TODAY)
    parts = prospect("best1.org").score_breakdown["parts"]
    assert parts["relevance"] == {
        "value": 67, "weight": 15, "contribution": 10.1,
        "facts": {"matching": 2, "links": 3, "keywords": True},
    }  # fmt: skip
    assert parts["freshness"]["facts"] == {"newest_link": "2025-01-01", "age_days": 151}
    assert parts["competitors"]["facts"] == {"linked": 2, "of": 2}
    assert sum(part["contribution"] for part in parts.values()) == pytest.approx(77.95, abs=0.1)


def test_a_provider_spam_flag_makes_the_spam_part_zero(world):
    prospects_rescore(project=world.project, today=TODAY)
    spam = prospect("toxic.org").score_breakdown["parts"]["spam"]
    assert spam["value"] == 0 and spam["facts"]["flagged_spam"] is True


def test_domain_patterns_raise_the_spam_risk(world):
    prospects_rescore(project=world.project, today=TODAY)
    casino = prospect("casino-deals-1234.xyz")
    # .xyz +30, "casino" +60, two hyphens / four digits +20: capped at 100.
    assert casino.score_breakdown["parts"]["spam"]["facts"]["pattern_risk"] == 100
    assert values(casino.score_breakdown) == {
        "authority": None, "competitors": 0, "freshness": None, "follow": None, "relevance": None, "spam": 0,
    }  # fmt: skip
    assert casino.score == 0


def test_parts_without_data_leave_the_others_their_weight(world):
    project_set_keywords(project=world.project, keywords=[])
    prospects_rescore(project=world.project, today=TODAY)
    best = prospect("best1.org")
    assert best.score_breakdown["parts"]["relevance"]["value"] is None
    assert best.score_breakdown["parts"]["relevance"]["contribution"] == 0
    assert best.score == 80  # 6790 / 85 = 79.9


def test_nofollow_links_lower_the_follow_part(world):
    prospects_rescore(project=world.project, today=TODAY)
    assert prospect("nf.net").score_breakdown["parts"]["follow"]["value"] == 0


def test_weights_are_the_projects_and_changing_them_rescores(world):
    weights = {"authority": 100, "competitors": 0, "freshness": 0, "follow": 0, "relevance": 0, "spam": 0}
    project_set_score_weights(project=world.project, weights=weights)
    assert prospect("best1.org").score == 50
    assert prospect("best1.org").score_breakdown["parts"]["authority"]["weight"] == 100


@pytest.mark.parametrize(
    "weights",
    [
        {"authority": 10},
        {"authority": 0, "competitors": 0, "freshness": 0, "follow": 0, "relevance": 0, "spam": 0},
        {"authority": 101, "competitors": 0, "freshness": 0, "follow": 0, "relevance": 0, "spam": 0},
        {"authority": "5", "competitors": 0, "freshness": 0, "follow": 0, "relevance": 0, "spam": 0},
    ],
)
def test_bad_weights_are_refused_and_nothing_changes(world, weights):
    with pytest.raises(ProjectSettingsError):
        project_set_score_weights(project=world.project, weights=weights)
    world.project.refresh_from_db()
    assert world.project.score_weights["authority"] == 30


def test_only_the_given_prospects_are_rescored(world):
    assert prospects_rescore(project=world.project, prospect_ids=[prospect("nf.net").id], today=TODAY) == 1
    assert prospect("nf.net").score > 0
    assert prospect("best1.org").score == 0 and prospect("best1.org").score_breakdown == {}
    assert prospects_rescore(project=world.project, prospect_ids=[], today=TODAY) == 0


def test_prospects_of_other_projects_are_not_touched(world):
    other = Project.objects.create(name="Other")
    prospects_create(project=other, domains=["best1.org"], source=ProspectSource.MANUAL, created_by=None)
    prospects_rescore(project=world.project, today=TODAY)
    assert Prospect.objects.get(project=other).score_breakdown == {}


def test_keywords_match_whole_words_in_any_case():
    pattern = keyword_pattern(["Hiking", "c++ tips", " "])
    assert pattern == r"\m(?:Hiking|c\+\+\ tips)\M"
    assert keyword_pattern([]) is None


def test_the_breakdown_renders_part_by_part(world):
    from django.template import Context, Template

    prospects_rescore(project=world.project, today=TODAY)
    html = Template("{% load score_tags %}{% score_breakdown prospect %}").render(
        Context({"prospect": prospect("best1.org")})
    )
    assert "Score 78" in html
    assert '<tr data-part="relevance"><td>Relevance (keywords)</td><td class="num">67</td>' in html
    assert "2 of 3 links mention a keyword" in html and "links to 2 of 2 competitors" in html
    assert "newest link first seen 2025-01-01 (151 days ago)" in html
    prospects_create(project=world.project, domains=["new.org"], source=ProspectSource.GAP, created_by=None)
    unscored = Template("{% load score_tags %}{% score_breakdown prospect %}").render(
        Context({"prospect": prospect("new.org")})
    )
    assert "Not scored yet." in unscored
