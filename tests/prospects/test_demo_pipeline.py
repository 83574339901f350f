"""The demo pipeline: prospects in every stage, people and automation in the timelines, work to do."""

from __future__ import annotations

import pytest
from django.db.models import Count
from django.utils import timezone

from audit.models import Site
from linkcrm.choices import Role
from prospects import demo_pipeline
from prospects.choices import ActorKind, Stage
from prospects.models import Note, ProjectCompetitor, Prospect, Reminder, StageChange
from prospects.selectors.pipeline import reminders_due_for_user
from tests.prospects.pipeline_helpers import backlink, make_project, make_prospects

pytestmark = pytest.mark.django_db


def test_it_spreads_sixty_prospects_over_every_stage_with_a_real_history(make_user):
    admin = make_user("boss", Role.ADMIN)
    project = make_project("Demo", admin)
    assert demo_pipeline.load(project) == 60

    stages = dict(Prospect.objects.filter(project=project).values_list("stage").annotate(n=Count("id")))
    assert stages == {"in_progress": 14, "to_contact": 12, "contacted": 12, "reply_received": 8,
                      "link_acquired": 6, "rejected": 8}  # fmt: skip
    rejected = Prospect.objects.filter(project=project, stage=Stage.REJECTED)
    assert set(rejected.values_list("reject_reason", flat=True)) == {
        "declined",
        "unresponsive",
        "not_relevant",
        "bounced",
    }
    changes = StageChange.objects.filter(prospect__project=project)
    assert {"person", "automation"} <= set(changes.values_list("actor_kind", flat=True))
    assert {"email.sent", "email.reply", "email.bounce"} <= set(changes.values_list("automation", flat=True))
    # The history is spread over past weeks, not stamped at load time.
    assert (
        changes.exclude(from_stage="")
        .filter(created_at__lt=timezone.now() - timezone.timedelta(days=7))
        .exists()
    )
    assert not changes.filter(created_at__gt=timezone.now()).exists()
    every = Prospect.objects.filter(project=project)
    assert every.filter(stage=Stage.LINK_ACQUIRED).exclude(linking_page_url="").exists()
    assert set(every.exclude(assignee=None).values_list("assignee__username", flat=True)) >= {
        "boss",
        "anna.demo",
    }
    assert Note.objects.filter(prospect__project=project).count() >= 5
    # The admin has reminders due (some overdue) on the dashboard.
    assert any(r.due_at < timezone.now() for r in reminders_due_for_user(admin))


def test_a_person_put_back_what_automation_moved(make_user):
    project = make_project("Demo", make_user("boss", Role.ADMIN))
    demo_pipeline.load(project)
    back = StageChange.objects.filter(
        prospect__project=project, actor_kind=ActorKind.PERSON, from_stage=Stage.REPLY_RECEIVED,
        to_stage=Stage.CONTACTED,
    )  # fmt: skip
    assert back.count() == 1


def test_it_uses_the_projects_gap_prospects_first_and_is_idempotent(make_user):
    admin = make_user("boss", Role.ADMIN)
    project = make_project("Demo", admin)
    rival = Site.objects.create(domain="rival.com")
    ProjectCompetitor.objects.create(project=project, site=rival)
    backlink(rival, "https://hiking-notes.com/a", "https://rival.com/", "rival")
    gap = make_prospects(project, "from-gap.com")[0]
    Prospect.objects.filter(pk=gap.pk).update(score=99)

    demo_pipeline.load(project)
    domains = set(Prospect.objects.filter(project=project).values_list("domain", flat=True))
    assert {"from-gap.com", "hiking-notes.com"} <= domains
    assert Prospect.objects.filter(project=project).count() == 60
    before = (Prospect.objects.count(), StageChange.objects.count(), Reminder.objects.count())
    assert demo_pipeline.load(project) == 0
    assert (Prospect.objects.count(), StageChange.objects.count(), Reminder.objects.count()) == before
