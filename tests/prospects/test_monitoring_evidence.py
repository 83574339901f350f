"""Link Acquired needs evidence: the linking page on the prospect's own site."""

from __future__ import annotations

import pytest

from prospects.choices import Stage
from prospects.models import AcquiredLink
from prospects.selectors.monitoring import acquired_link_of_prospect
from prospects.services.pipeline import PipelineError, prospect_move_stage, prospects_bulk_move
from tests.prospects.pipeline_helpers import make_project, make_prospects

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(alice):
    return make_project("Gear", alice)


def test_a_person_cannot_move_to_link_acquired_without_the_linking_page(project, alice):
    prospect = make_prospects(project, "blog.com", by=alice, stage=Stage.REPLY_RECEIVED)[0]
    with pytest.raises(PipelineError, match="needs the linking page"):
        prospect_move_stage(prospect_id=prospect.pk, to_stage=Stage.LINK_ACQUIRED, actor=alice)
    prospect.refresh_from_db()
    assert prospect.stage == Stage.REPLY_RECEIVED


def test_automation_cannot_either(project, alice):
    prospect = make_prospects(project, "blog.com", by=alice, stage=Stage.REPLY_RECEIVED)[0]
    with pytest.raises(PipelineError):
        prospect_move_stage(prospect_id=prospect.pk, to_stage=Stage.LINK_ACQUIRED, automation="link.verified")


def test_a_prospect_that_keeps_its_page_may_be_moved_back_without_retyping_it(project, alice):
    prospect = make_prospects(project, "blog.com", by=alice, stage=Stage.REPLY_RECEIVED)[0]
    url = "https://www.blog.com/gear"
    prospect_move_stage(prospect_id=prospect.pk, to_stage=Stage.LINK_ACQUIRED, actor=alice, linking_page_url=url)
    prospect_move_stage(prospect_id=prospect.pk, to_stage=Stage.TO_CONTACT, actor=alice)
    prospect_move_stage(prospect_id=prospect.pk, to_stage=Stage.LINK_ACQUIRED, actor=alice)
    prospect.refresh_from_db()
    assert (prospect.stage, prospect.linking_page_url) == (Stage.LINK_ACQUIRED, url)


def test_bulk_moves_skip_prospects_without_evidence_and_say_why(project, alice):
    bare, kept = make_prospects(project, "bare.com", "kept.com", by=alice, stage=Stage.REPLY_RECEIVED)
    prospect_move_stage(prospect_id=kept.pk, to_stage=Stage.LINK_ACQUIRED, actor=alice,
                        linking_page_url="https://kept.com/p")  # fmt: skip
    prospect_move_stage(prospect_id=kept.pk, to_stage=Stage.REPLY_RECEIVED, actor=alice)
    result = prospects_bulk_move(project=project, prospect_ids=[bare.pk, kept.pk], to_stage=Stage.LINK_ACQUIRED,
                                 actor=alice)  # fmt: skip
    assert result.done == [kept.pk]
    assert result.skipped[0][0] == bare.pk and "linking page" in result.skipped[0][1]


def test_an_acquired_link_is_monitored_from_its_page_as_soon_as_it_is_acquired(project, alice):
    prospect = make_prospects(project, "blog.com", by=alice, stage=Stage.REPLY_RECEIVED)[0]
    assert acquired_link_of_prospect(prospect.pk) is None
    prospect_move_stage(prospect_id=prospect.pk, to_stage=Stage.LINK_ACQUIRED, actor=alice,
                        linking_page_url="https://blog.com/Gear-List")  # fmt: skip
    link = acquired_link_of_prospect(prospect.pk)
    assert (link.page_url, link.host, link.status) == ("https://blog.com/Gear-List", "blog.com", "pending")
    assert AcquiredLink.objects.count() == 1
