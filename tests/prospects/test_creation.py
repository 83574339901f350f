"""Creating prospects: one per registrable domain, duplicates merged, suppressed refused, all logged."""

from __future__ import annotations

import re

import pytest

from prospects.choices import ActorKind, PipelineKind, ProspectSource, Stage, SuppressionKind
from prospects.models import Prospect, StageChange, Suppression
from prospects.services.creation import prospects_add_manually, prospects_create
from prospects.services.pipeline import PipelineError
from tests.prospects.pipeline_helpers import make_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(alice, bob):
    return make_project("Shop", alice, bob)


def create(project, domains, **kwargs):
    kwargs.setdefault("source", ProspectSource.GAP)
    kwargs.setdefault("created_by", None)
    return prospects_create(project=project, domains=domains, **kwargs)


def test_it_creates_one_prospect_per_registrable_domain_in_progress(project, alice):
    result = create(
        project,
        [
            "https://blog.Example.co.uk/post?x=1",
            "WWW.other.com.",
            "bücher.de",
            "shop.example.co.uk",
            "other.com",
        ],
        created_by=alice,
        source=ProspectSource.MANUAL,
    )
    prospects = Prospect.objects.filter(project=project).order_by("id")
    assert [p.domain for p in prospects] == ["example.co.uk", "other.com", "xn--bcher-kva.de"]
    assert result.created == 3 and result.created_ids == [p.pk for p in prospects]
    assert result.duplicates == ["example.co.uk", "other.com"]
    assert {(p.stage, p.source, p.created_by_id) for p in prospects} == {
        (Stage.IN_PROGRESS, "manual", alice.pk)
    }


def test_each_created_prospect_gets_its_first_stage_change(project, alice):
    result = create(project, ["a.com", "b.com"], created_by=alice)
    changes = StageChange.objects.filter(prospect_id__in=result.created_ids).order_by("prospect_id")
    assert list(changes.values_list("prospect_id", "from_stage", "to_stage", "actor_id", "actor_kind")) == [
        (pk, "", Stage.IN_PROGRESS, alice.pk, ActorKind.PERSON) for pk in result.created_ids
    ]


def test_created_by_nobody_is_logged_as_the_automation(project):
    result = create(project, ["a.com"], automation="gap.import")
    change = StageChange.objects.get(prospect_id=result.created_ids[0])
    assert (change.actor, change.actor_kind, change.automation) == (None, ActorKind.AUTOMATION, "gap.import")
    result = create(project, ["b.com"])
    assert StageChange.objects.get(prospect_id=result.created_ids[0]).automation == "create.gap"


def test_existing_prospects_are_merged_not_duplicated_or_changed(project, alice, bob):
    first = create(project, ["a.com"], created_by=alice, assignee=alice, tags=["Blog"])
    again = create(project, ["https://a.com/x", "c.com"], created_by=bob, assignee=bob)
    assert again.created == 1 and again.duplicates == ["a.com"]
    original = Prospect.objects.get(pk=first.created_ids[0])
    assert (original.assignee, original.tags, original.created_by) == (alice, ["blog"], alice)
    assert StageChange.objects.filter(prospect=original).count() == 1


def test_the_same_domain_may_be_in_another_project_or_the_removal_pipeline(project, alice):
    other = make_project("Other", alice)
    assert create(project, ["a.com"]).created == 1
    assert create(other, ["a.com"]).created == 1
    assert (
        create(project, ["a.com"], pipeline=PipelineKind.REMOVAL, source=ProspectSource.REMOVAL).created == 1
    )
    assert Prospect.objects.filter(domain="a.com").count() == 3


def test_suppressed_domains_are_refused_and_reported(project, alice):
    other = make_project("Other", alice)
    Suppression.objects.create(project=project, kind=SuppressionKind.DOMAIN, value="here.com")
    Suppression.objects.create(project=None, kind=SuppressionKind.DOMAIN, value="everywhere.com")
    Suppression.objects.create(project=other, kind=SuppressionKind.DOMAIN, value="there.com")
    Suppression.objects.create(project=None, kind=SuppressionKind.EMAIL, value="jo@fine.com")
    result = create(project, ["here.com", "blog.everywhere.com", "there.com", "fine.com", "here.com"])
    assert result.suppressed == ["everywhere.com", "here.com"]
    assert result.duplicates == []  # a repeated suppressed domain is reported once, as suppressed
    assert sorted(Prospect.objects.values_list("domain", flat=True)) == ["fine.com", "there.com"]


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("192.168.1.10", "IP address"),
        ("http://[2001:db8::1]/x", "IP address"),
        ("localhost", "no public suffix"),
        ("co.uk", "public suffix"),
        ("exa mple.com", "not a valid domain|invalid host name"),
        ("ex!ample.com", "not a valid domain|invalid host name"),
        ("-foo.com", "not a valid domain|invalid host name"),
        ("foo..com", "invalid host"),
        ("http://", "no host"),
    ],
)
def test_unusable_values_are_reported_with_why(project, value, why):
    result = create(project, [value, "ok.com"])
    assert result.created == 1
    assert len(result.invalid) == 1 and result.invalid[0][0] == value and re.search(why, result.invalid[0][1])


def test_the_assignee_must_be_a_member(project, outsider):
    with pytest.raises(PipelineError):
        create(project, ["a.com"], assignee=outsider)
    assert not Prospect.objects.exists()


def test_manual_add_takes_lines_commas_and_semicolons(project, alice):
    result = prospects_add_manually(
        project=project,
        text="a.com\nhttps://www.b.com/x, c.com; d.com\n\nnot a domain",
        created_by=alice,
        tags=["Tier 1"],
    )
    assert result.created == 4
    assert [value for value, _ in result.invalid] == ["not a domain"]
    assert set(Prospect.objects.values_list("source", flat=True)) == {ProspectSource.MANUAL}
    assert [p.tags for p in Prospect.objects.all()] == [["tier 1"]] * 4


def test_fifty_thousand_domains_in_one_call(project, alice):
    domains = [f"site{n}.com" for n in range(50_000)]
    existing = create(project, domains[:1000])
    result = create(project, [*domains, "site7.com"], created_by=alice)
    assert result.created == 49_000
    assert len(result.duplicates) == 1000
    assert Prospect.objects.filter(project=project).count() == 50_000
    assert StageChange.objects.filter(from_stage="", to_stage=Stage.IN_PROGRESS).count() == 50_000
    assert StageChange.objects.filter(actor=alice).count() == 49_000
    assert existing.created == 1000
