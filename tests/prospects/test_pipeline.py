"""Stage moves: guarded updates, the StageChange log, the rules for people and for automation."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from prospects.choices import ActorKind, PipelineKind, Stage
from prospects.models import AcquiredLink, Note, Prospect, Reminder, StageChange
from prospects.services.pipeline import (
    AutomationMove,
    PipelineError,
    StageConflict,
    note_add,
    prospect_move_stage,
    prospect_set_tags,
    prospects_add_tags,
    prospects_assign,
    prospects_automation_move,
    prospects_bulk_move,
    reminder_add,
    reminder_done,
    tags_parse,
)
from tests.prospects.pipeline_helpers import make_project, make_prospects

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(alice, bob):
    return make_project("Shop", alice, bob)


@pytest.fixture
def prospect(project, alice):
    return make_prospects(project, "blog.example.com", by=alice, stage=Stage.TO_CONTACT)[0]


def moves(prospect: Prospect) -> list[tuple[str, str, str]]:
    return list(
        StageChange.objects.filter(prospect=prospect)
        .order_by("id")
        .values_list("from_stage", "to_stage", "actor_kind")
    )


# --- people ---------------------------------------------------------------------------------------


def test_it_moves_a_prospect_and_logs_who_why_and_when(prospect, bob):
    change = prospect_move_stage(
        prospect_id=prospect.pk,
        to_stage=Stage.CONTACTED,
        expected_from=Stage.TO_CONTACT,
        actor=bob,
        reason="sent the pitch",
    )
    prospect.refresh_from_db()
    assert prospect.stage == Stage.CONTACTED
    assert prospect.person_moved_at == prospect.stage_changed_at
    assert (change.from_stage, change.to_stage, change.actor, change.actor_kind, change.reason) == (
        Stage.TO_CONTACT,
        Stage.CONTACTED,
        bob,
        ActorKind.PERSON,
        "sent the pitch",
    )
    assert moves(prospect) == [
        ("", Stage.IN_PROGRESS, ActorKind.PERSON),
        (Stage.IN_PROGRESS, Stage.TO_CONTACT, ActorKind.PERSON),
        (Stage.TO_CONTACT, Stage.CONTACTED, ActorKind.PERSON),
    ]


def test_a_person_may_move_backwards_and_out_of_rejected(prospect, alice):
    prospect_move_stage(
        prospect_id=prospect.pk, to_stage=Stage.REJECTED, actor=alice, reject_reason="declined"
    )
    prospect.refresh_from_db()
    assert (prospect.stage, prospect.reject_reason) == (Stage.REJECTED, "declined")
    prospect_move_stage(prospect_id=prospect.pk, to_stage=Stage.IN_PROGRESS, actor=alice)
    prospect.refresh_from_db()
    # Leaving Rejected clears the reason (the check constraint would refuse it otherwise).
    assert (prospect.stage, prospect.reject_reason) == (Stage.IN_PROGRESS, "")
    assert (
        StageChange.objects.filter(prospect=prospect, to_stage=Stage.REJECTED).get().reject_reason
        == "declined"
    )


def test_a_stale_expected_stage_raises_and_writes_nothing(prospect, alice, bob):
    prospect_move_stage(
        prospect_id=prospect.pk, to_stage=Stage.CONTACTED, expected_from=Stage.TO_CONTACT, actor=alice
    )
    before = StageChange.objects.count()
    with pytest.raises(StageConflict) as caught:
        prospect_move_stage(
            prospect_id=prospect.pk,
            to_stage=Stage.REJECTED,
            expected_from=Stage.TO_CONTACT,
            actor=bob,
            reject_reason="not_relevant",
        )
    assert caught.value.actual == Stage.CONTACTED
    prospect.refresh_from_db()
    assert prospect.stage == Stage.CONTACTED
    assert StageChange.objects.count() == before


def test_moving_to_the_stage_it_is_in_changes_nothing(prospect, alice):
    assert prospect_move_stage(prospect_id=prospect.pk, to_stage=Stage.TO_CONTACT, actor=alice) is None
    assert len(moves(prospect)) == 2


@pytest.mark.parametrize(
    ("to_stage", "reject_reason", "message"),
    [
        (Stage.REJECTED, "", "needs a reason"),
        (Stage.REJECTED, "bored", "needs a reason"),
        (Stage.CONTACTED, "declined", "only with the Rejected stage"),
        ("nowhere", "", "unknown stage"),
    ],
)
def test_bad_moves_are_refused(prospect, alice, to_stage, reject_reason, message):
    with pytest.raises(PipelineError, match=message):
        prospect_move_stage(
            prospect_id=prospect.pk, to_stage=to_stage, actor=alice, reject_reason=reject_reason
        )
    prospect.refresh_from_db()
    assert prospect.stage == Stage.TO_CONTACT


def test_a_move_is_by_a_person_or_an_automation_not_both(prospect, alice):
    with pytest.raises(PipelineError, match="not both or neither"):
        prospect_move_stage(
            prospect_id=prospect.pk, to_stage=Stage.CONTACTED, actor=alice, automation="email.sent"
        )
    with pytest.raises(PipelineError, match="not both or neither"):
        prospect_move_stage(prospect_id=prospect.pk, to_stage=Stage.CONTACTED)


def test_link_acquired_keeps_a_linking_page_on_the_prospects_domain(prospect, alice):
    url = "https://www.blog.example.com/best-tents"
    prospect_move_stage(
        prospect_id=prospect.pk, to_stage=Stage.LINK_ACQUIRED, actor=alice, linking_page_url=url
    )
    prospect.refresh_from_db()
    assert (prospect.stage, prospect.linking_page_url) == (Stage.LINK_ACQUIRED, url)


def test_link_acquired_without_a_linking_page_is_refused_in_link_building(prospect, alice):
    with pytest.raises(PipelineError, match="needs the linking page URL"):
        prospect_move_stage(prospect_id=prospect.pk, to_stage=Stage.LINK_ACQUIRED, actor=alice)
    prospect.refresh_from_db()
    assert prospect.stage == Stage.TO_CONTACT


def test_in_link_removal_link_acquired_means_the_link_is_gone_and_needs_no_page(project, alice):
    gone, other = make_prospects(project, "gone.org", "other.net", by=alice, stage=Stage.CONTACTED)
    Prospect.objects.filter(pk__in=[gone.pk, other.pk]).update(pipeline=PipelineKind.REMOVAL)

    prospect_move_stage(prospect_id=gone.pk, to_stage=Stage.LINK_ACQUIRED, actor=alice, reason="taken down")

    gone.refresh_from_db()
    assert (gone.stage, gone.linking_page_url) == (Stage.LINK_ACQUIRED, "")
    assert not AcquiredLink.objects.filter(prospect=gone).exists()  # nothing to watch: the link is meant to be gone
    with pytest.raises(PipelineError, match="must be on other.net"):  # a page, if given, is still checked
        prospect_move_stage(prospect_id=other.pk, to_stage=Stage.LINK_ACQUIRED, actor=alice,
                            linking_page_url="https://elsewhere.org/page")  # fmt: skip


@pytest.mark.parametrize(
    ("to_stage", "url", "message"),
    [
        (Stage.LINK_ACQUIRED, "https://other.org/page", "must be on example.com"),
        (Stage.LINK_ACQUIRED, "javascript:alert(1)", "not a valid http"),
        (Stage.CONTACTED, "https://example.com/page", "Link Acquired only"),
    ],
)
def test_bad_linking_page_evidence_is_refused(prospect, alice, to_stage, url, message):
    with pytest.raises(PipelineError, match=message):
        prospect_move_stage(prospect_id=prospect.pk, to_stage=to_stage, actor=alice, linking_page_url=url)
    prospect.refresh_from_db()
    assert (prospect.stage, prospect.linking_page_url) == (Stage.TO_CONTACT, "")


def test_the_database_refuses_a_reason_outside_rejected(prospect):
    with pytest.raises(IntegrityError), transaction.atomic():
        Prospect.objects.filter(pk=prospect.pk).update(reject_reason="declined")


# --- automation -------------------------------------------------------------------------------------


def test_automation_moves_forward_and_says_which_automation(prospect):
    change = prospect_move_stage(prospect_id=prospect.pk, to_stage=Stage.CONTACTED, automation="email.sent")
    prospect.refresh_from_db()
    assert prospect.stage == Stage.CONTACTED
    assert (change.actor, change.actor_kind, change.automation) == (None, ActorKind.AUTOMATION, "email.sent")
    # An automated move is not a person's move: it must not shield itself from later automation.
    assert prospect.person_moved_at < prospect.stage_changed_at


@pytest.mark.parametrize("to_stage", [Stage.IN_PROGRESS, Stage.TO_CONTACT])
def test_automation_never_moves_backwards_or_sideways(prospect, to_stage):
    assert prospect_move_stage(prospect_id=prospect.pk, to_stage=to_stage, automation="email.sent") is None
    prospect.refresh_from_db()
    assert prospect.stage == Stage.TO_CONTACT
    assert len(moves(prospect)) == 2


def test_automation_never_moves_out_of_rejected(prospect, alice):
    prospect_move_stage(
        prospect_id=prospect.pk, to_stage=Stage.REJECTED, actor=alice, reject_reason="unresponsive"
    )
    later = timezone.now() + timedelta(minutes=1)
    assert (
        prospect_move_stage(
            prospect_id=prospect.pk, to_stage=Stage.REPLY_RECEIVED, automation="email.reply", event_at=later
        )
        is None
    )
    prospect.refresh_from_db()
    assert (prospect.stage, prospect.reject_reason) == (Stage.REJECTED, "unresponsive")


def test_automation_never_takes_back_an_acquired_link(prospect, alice):
    prospect_move_stage(
        prospect_id=prospect.pk, to_stage=Stage.LINK_ACQUIRED, actor=alice,
        linking_page_url="https://blog.example.com/post",
    )  # fmt: skip
    later = timezone.now() + timedelta(minutes=1)
    assert (
        prospect_move_stage(
            prospect_id=prospect.pk,
            to_stage=Stage.REJECTED,
            reject_reason="bounced",
            automation="email.bounce",
            event_at=later,
        )
        is None
    )
    prospect.refresh_from_db()
    assert prospect.stage == Stage.LINK_ACQUIRED


def test_automation_rejects_an_open_prospect_on_a_bounce(prospect):
    prospect_move_stage(prospect_id=prospect.pk, to_stage=Stage.CONTACTED, automation="email.sent")
    change = prospect_move_stage(
        prospect_id=prospect.pk, to_stage=Stage.REJECTED, reject_reason="bounced", automation="email.bounce"
    )
    prospect.refresh_from_db()
    assert (prospect.stage, prospect.reject_reason, change.reject_reason) == (
        Stage.REJECTED,
        "bounced",
        "bounced",
    )


def test_automation_does_not_override_a_persons_later_move(prospect, alice):
    reply_seen_at = timezone.now()
    # The person moved it back after the reply arrived (e.g. the reply was an auto-responder).
    prospect_move_stage(prospect_id=prospect.pk, to_stage=Stage.IN_PROGRESS, actor=alice)
    assert (
        prospect_move_stage(
            prospect_id=prospect.pk,
            to_stage=Stage.REPLY_RECEIVED,
            automation="email.reply",
            event_at=reply_seen_at,
        )
        is None
    )
    prospect.refresh_from_db()
    assert prospect.stage == Stage.IN_PROGRESS


def test_automation_applies_an_event_newer_than_the_persons_move(prospect, alice):
    prospect_move_stage(prospect_id=prospect.pk, to_stage=Stage.CONTACTED, actor=alice)
    change = prospect_move_stage(
        prospect_id=prospect.pk,
        to_stage=Stage.REPLY_RECEIVED,
        automation="email.reply",
        event_at=timezone.now() + timedelta(seconds=5),
        reason="reply from editor@blog.example.com",
    )
    prospect.refresh_from_db()
    assert prospect.stage == Stage.REPLY_RECEIVED
    assert change.reason == "reply from editor@blog.example.com"


def test_automation_moves_many_prospects_at_once_with_a_log_row_each(project, alice):
    contacted = make_prospects(project, "a.com", "b.com", by=alice, stage=Stage.CONTACTED)
    rejected = make_prospects(project, "c.com", by=alice, stage=Stage.REJECTED)[0]
    now = timezone.now() + timedelta(seconds=5)
    changes = prospects_automation_move(
        moves=[AutomationMove(p.pk, f"reply from editor@{p.domain}", now) for p in (*contacted, rejected)],
        to_stage=Stage.REPLY_RECEIVED,
        automation="email.reply",
    )
    assert sorted(c.prospect_id for c in changes) == [p.pk for p in contacted]
    assert set(Prospect.objects.filter(pk__in=[p.pk for p in contacted]).values_list("stage", flat=True)) == {
        Stage.REPLY_RECEIVED
    }
    logged = StageChange.objects.filter(automation="email.reply").order_by("prospect_id")
    assert list(logged.values_list("prospect_id", "from_stage", "actor_kind", "reason")) == [
        (p.pk, Stage.CONTACTED, ActorKind.AUTOMATION, f"reply from editor@{p.domain}") for p in contacted
    ]
    rejected.refresh_from_db()
    assert rejected.stage == Stage.REJECTED  # never out of Rejected, as one by one


def test_automation_moves_a_prospect_for_its_first_event_that_may_move_it(prospect, alice):
    before_person = timezone.now()
    prospect_move_stage(prospect_id=prospect.pk, to_stage=Stage.CONTACTED, actor=alice)
    after_person = timezone.now() + timedelta(seconds=5)
    changes = prospects_automation_move(
        moves=[
            AutomationMove(prospect.pk, "older than the person's move", before_person),
            AutomationMove(prospect.pk, "newer", after_person),
            AutomationMove(prospect.pk, "newest", after_person + timedelta(seconds=1)),
        ],
        to_stage=Stage.REPLY_RECEIVED,
        automation="email.reply",
    )
    assert [(c.from_stage, c.reason) for c in changes] == [(Stage.CONTACTED, "newer")]
    assert StageChange.objects.filter(prospect=prospect, automation="email.reply").count() == 1


def test_automation_moves_to_link_acquired_one_by_one_with_evidence(prospect):
    with pytest.raises(PipelineError, match="Link Acquired"):
        prospects_automation_move(
            moves=[AutomationMove(prospect.pk, "found", timezone.now())],
            to_stage=Stage.LINK_ACQUIRED,
            automation="monitoring",
        )


# --- races: real concurrent transactions -------------------------------------------------------


def _backend_waits_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


@pytest.mark.django_db(transaction=True)
def test_two_people_moving_the_same_card_one_wins_one_gets_a_conflict(project, alice, bob):
    """A's move is uncommitted when B reads and updates: B's guarded UPDATE must find 0 rows."""
    prospect = make_prospects(project, "race.com", by=alice, stage=Stage.TO_CONTACT)[0]
    a_moved, release_a = threading.Event(), threading.Event()
    b_pid: list[int] = []
    outcome: dict[str, object] = {}

    def mover_a() -> None:
        try:
            with transaction.atomic():
                outcome["a"] = prospect_move_stage(
                    prospect_id=prospect.pk,
                    to_stage=Stage.CONTACTED,
                    expected_from=Stage.TO_CONTACT,
                    actor=alice,
                )
                a_moved.set()
                release_a.wait(10)
        finally:
            connection.close()

    def mover_b() -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                b_pid.append(cursor.fetchone()[0])
            outcome["b"] = prospect_move_stage(
                prospect_id=prospect.pk,
                to_stage=Stage.REJECTED,
                expected_from=Stage.TO_CONTACT,
                actor=bob,
                reject_reason="declined",
            )
        except StageConflict as exc:
            outcome["b"] = exc
        finally:
            connection.close()

    thread_a = threading.Thread(target=mover_a)
    thread_a.start()
    assert a_moved.wait(10)
    thread_b = threading.Thread(target=mover_b)
    thread_b.start()
    # B has read "To Contact" (A is not committed) and now waits on A's row lock.
    deadline = time.monotonic() + 10
    while not (b_pid and _backend_waits_on_a_lock(b_pid[0])) and time.monotonic() < deadline:
        time.sleep(0.01)
    release_a.set()
    thread_a.join(10)
    thread_b.join(10)

    assert isinstance(outcome["a"], StageChange)
    assert isinstance(outcome["b"], StageConflict) and outcome["b"].actual == Stage.CONTACTED
    prospect.refresh_from_db()
    assert prospect.stage == Stage.CONTACTED
    assert moves(prospect)[-1] == (Stage.TO_CONTACT, Stage.CONTACTED, ActorKind.PERSON)
    assert StageChange.objects.filter(prospect=prospect, to_stage=Stage.REJECTED).count() == 0


@pytest.mark.django_db(transaction=True)
def test_many_simultaneous_movers_exactly_one_wins(project, alice, bob):
    prospect = make_prospects(project, "crowd.com", by=alice, stage=Stage.TO_CONTACT)[0]
    start = threading.Barrier(6)
    results: list[object] = []

    def mover(to_stage: str) -> None:
        try:
            start.wait(10)
            results.append(
                prospect_move_stage(
                    prospect_id=prospect.pk, to_stage=to_stage, expected_from=Stage.TO_CONTACT, actor=bob,
                    linking_page_url="https://crowd.com/links" if to_stage == Stage.LINK_ACQUIRED else "",
                )  # fmt: skip
            )
        except StageConflict as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=mover, args=(stage,))
        for stage in (Stage.CONTACTED, Stage.REPLY_RECEIVED, Stage.LINK_ACQUIRED) * 2
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    winners = [r for r in results if isinstance(r, StageChange)]
    assert len(results) == 6 and len(winners) == 1
    prospect.refresh_from_db()
    assert prospect.stage == winners[0].to_stage
    assert StageChange.objects.filter(prospect=prospect, from_stage=Stage.TO_CONTACT).count() == 1


# --- bulk, assignment, tags, notes, reminders ---------------------------------------------------------


def test_bulk_move_moves_each_with_its_own_log_and_reports_the_rest(project, alice, bob, make_user):
    mine = make_prospects(project, "a.com", "b.com", "c.com", by=alice)
    already = make_prospects(project, "d.com", by=alice, stage=Stage.TO_CONTACT)[0]
    other = make_prospects(make_project("Other", alice), "e.com", by=alice)[0]
    result = prospects_bulk_move(
        project=project,
        prospect_ids=[p.pk for p in mine] + [already.pk, other.pk],
        to_stage=Stage.TO_CONTACT,
        actor=bob,
        reason="contacts found",
    )
    assert result.done == [p.pk for p in mine]
    assert dict(result.skipped) == {
        already.pk: "already in To Contact",
        other.pk: "not a prospect of this project",
    }
    logged = StageChange.objects.filter(prospect__in=mine, to_stage=Stage.TO_CONTACT)
    assert sorted(logged.values_list("prospect_id", "actor_id", "reason")) == [
        (p.pk, bob.pk, "contacts found") for p in mine
    ]
    other.refresh_from_db()
    assert other.stage == Stage.IN_PROGRESS


def test_bulk_assign_gives_prospects_to_a_member_only(project, alice, bob, outsider):
    prospects = make_prospects(project, "a.com", "b.com", by=alice)
    result = prospects_assign(project=project, prospect_ids=[p.pk for p in prospects], assignee=bob)
    assert result.done == [p.pk for p in prospects]
    assert set(Prospect.objects.values_list("assignee", flat=True)) == {bob.pk}
    with pytest.raises(PipelineError, match="not an active member"):
        prospects_assign(project=project, prospect_ids=[prospects[0].pk], assignee=outsider)
    prospects_assign(project=project, prospect_ids=[prospects[0].pk], assignee=None)
    assert Prospect.objects.get(pk=prospects[0].pk).assignee is None


def test_tags_are_normalised_and_added_without_losing_existing_ones(project, alice):
    one, two = make_prospects(project, "a.com", "b.com", by=alice)
    assert tags_parse(" Guest Post; blog,,BLOG ") == ["guest post", "blog"]
    prospect_set_tags(prospect=one, tags=["Outdoor", "blog"])
    assert prospects_add_tags(project=project, prospect_ids=[one.pk, two.pk], tags=["blog", "tier 1"]) == 2
    assert Prospect.objects.get(pk=one.pk).tags == ["outdoor", "blog", "tier 1"]
    assert Prospect.objects.get(pk=two.pk).tags == ["blog", "tier 1"]
    with pytest.raises(PipelineError, match="longer than 50"):
        tags_parse("x" * 51)


def test_notes_and_reminders(prospect, alice, bob):
    note_add(prospect=prospect, author=alice, body="  Editor is Jane.  ")
    assert Note.objects.get().body == "Editor is Jane."
    with pytest.raises(PipelineError):
        note_add(prospect=prospect, author=alice, body="   ")
    due = timezone.now() + timedelta(days=2)
    reminder = reminder_add(prospect=prospect, due_at=due, text="Follow up", created_by=alice, assignee=bob)
    assert (reminder.assignee, reminder.created_by, reminder.due_at) == (bob, alice, due)
    assert reminder_done(reminder=reminder) is True
    assert reminder_done(reminder=Reminder.objects.get()) is False  # a second click changes nothing


def test_a_reminder_goes_to_the_prospects_assignee_by_default(prospect, alice, bob, outsider):
    prospects_assign(project=prospect.project, prospect_ids=[prospect.pk], assignee=bob)
    prospect.refresh_from_db()
    reminder = reminder_add(prospect=prospect, due_at=timezone.now(), text="Call", created_by=alice)
    assert reminder.assignee == bob
    with pytest.raises(PipelineError, match="not an active member"):
        reminder_add(
            prospect=prospect, due_at=timezone.now(), text="Call", created_by=alice, assignee=outsider
        )
