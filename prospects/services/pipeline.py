"""The pipeline's writes: stage moves, assignment, tags, notes and reminders.

``prospect_move_stage`` is the only writer of ``Prospect.stage``. Every move is a guarded
``UPDATE … WHERE id = … AND stage = <expected>`` plus a ``StageChange`` row in the same
transaction, so two people moving the same card at once cannot both win, and the log never
misses a move.

People may move a prospect anywhere; a stale expectation raises ``StageConflict``.
Automation (``automation="email.reply"``, no actor) only moves forward by ``STAGE_RANK``,
never out of Rejected, never takes back an acquired link, and quietly does nothing (returns
None) when a person moved the prospect after the event it reports (``person_moved_at >
event_at``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from linkcrm.lib.domains import DomainError, domain_of_url
from prospects.choices import STAGE_RANK, ActorKind, PipelineKind, RejectReason, Stage
from prospects.models import Note, Project, ProjectMembership, Prospect, Reminder, StageChange
from prospects.services.acquired import acquired_links_sync

MAX_TAG_LENGTH = 50
MAX_TAGS = 20
# An automation retries its read-check-update when a concurrent move beat it, this often.
_AUTOMATION_ATTEMPTS = 3


class PipelineError(ValueError):
    """The request itself is wrong (unknown stage, missing reason, bad evidence URL ...)."""


class StageConflict(Exception):
    """A person's expected stage is stale: the prospect moved (or vanished) meanwhile."""

    def __init__(self, *, prospect_id: int, expected: str, actual: str | None) -> None:
        self.prospect_id = prospect_id
        self.expected = expected
        self.actual = actual
        now = Stage(actual).label if actual else "deleted"
        super().__init__(f"prospect {prospect_id} is no longer in {Stage(expected).label} (now: {now})")


@dataclass(frozen=True)
class BulkResult:
    """What a bulk action did: the ids it changed, and the ones it left alone with why."""

    done: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


# --- stage moves ----------------------------------------------------------------------------


def prospect_move_stage(
    *,
    prospect_id: int,
    to_stage: str,
    expected_from: str | None = None,
    actor: AbstractBaseUser | None = None,
    automation: str = "",
    reason: str = "",
    reject_reason: str = "",
    event_at: datetime | None = None,
    linking_page_url: str = "",
) -> StageChange | None:
    """Move one prospect; returns its StageChange, or None when nothing had to change.

    Exactly one of ``actor`` (a person) and ``automation`` (a name such as ``email.reply``)
    is given. ``reject_reason`` is required for Rejected and refused otherwise; leaving
    Rejected clears it. ``linking_page_url`` (evidence of an acquired link, a page on the
    prospect's own domain) is only accepted with Link Acquired, and Link Acquired needs it:
    given with the move, or already on the prospect (e.g. re-acquired after a reclaim).

    A person moving from ``expected_from`` (the stage the screen showed; the current stage
    when None) gets ``StageConflict`` if the prospect is elsewhere now. Automation returns
    None instead of moving backwards, out of Rejected, out of Link Acquired, or over a
    person's move made after ``event_at`` (default: now).
    """
    _check_move_request(to_stage=to_stage, actor=actor, automation=automation, reject_reason=reject_reason)
    if actor is not None:
        return _person_move(
            prospect_id=prospect_id,
            to_stage=to_stage,
            expected_from=expected_from,
            actor=actor,
            reason=reason,
            reject_reason=reject_reason,
            linking_page_url=linking_page_url,
        )
    return _automation_move(
        prospect_id=prospect_id,
        to_stage=to_stage,
        automation=automation,
        reason=reason,
        reject_reason=reject_reason,
        event_at=event_at or timezone.now(),
        linking_page_url=linking_page_url,
    )


def _check_move_request(
    *, to_stage: str, actor: AbstractBaseUser | None, automation: str, reject_reason: str
) -> None:
    if to_stage not in Stage.values:
        raise PipelineError(f"unknown stage {to_stage!r}")
    if (actor is None) == (not automation):
        raise PipelineError(
            "a move is made either by a person (actor) or by an automation, not both or neither"
        )
    if to_stage == Stage.REJECTED and reject_reason not in RejectReason.values:
        choices = ", ".join(label.lower() for label in RejectReason.labels)
        raise PipelineError(f"rejecting needs a reason: one of {choices}")
    if to_stage != Stage.REJECTED and reject_reason:
        raise PipelineError("a reject reason goes only with the Rejected stage")


def _person_move(
    *,
    prospect_id: int,
    to_stage: str,
    expected_from: str | None,
    actor: AbstractBaseUser,
    reason: str,
    reject_reason: str,
    linking_page_url: str,
) -> StageChange | None:
    current = Prospect.objects.filter(pk=prospect_id).values("stage", "domain", "linking_page_url", "pipeline").first()
    if current is None:
        raise Prospect.DoesNotExist(f"prospect {prospect_id} does not exist")
    expected = expected_from or current["stage"]
    if expected not in Stage.values:
        raise PipelineError(f"unknown stage {expected!r}")
    if current["stage"] != expected:
        raise StageConflict(prospect_id=prospect_id, expected=expected, actual=current["stage"])
    if expected == to_stage:
        return None
    evidence = _checked_evidence(linking_page_url, to_stage=to_stage, current=current)
    change = _guarded_move(
        prospect_id=prospect_id,
        from_stage=expected,
        to_stage=to_stage,
        reject_reason=reject_reason,
        linking_page_url=evidence,
        actor=actor,
        automation="",
        reason=reason,
        person=True,
    )
    if change is None:  # moved between our read and our update
        actual = Prospect.objects.filter(pk=prospect_id).values_list("stage", flat=True).first()
        raise StageConflict(prospect_id=prospect_id, expected=expected, actual=actual)
    return change


def _automation_move(
    *,
    prospect_id: int,
    to_stage: str,
    automation: str,
    reason: str,
    reject_reason: str,
    event_at: datetime,
    linking_page_url: str,
) -> StageChange | None:
    for _ in range(_AUTOMATION_ATTEMPTS):
        current = (
            Prospect.objects.filter(pk=prospect_id)
            .values("stage", "person_moved_at", "domain", "linking_page_url", "pipeline")
            .first()
        )
        if current is None or not automation_may_move(
            from_stage=current["stage"],
            to_stage=to_stage,
            person_moved_at=current["person_moved_at"],
            event_at=event_at,
        ):
            return None
        evidence = _checked_evidence(linking_page_url, to_stage=to_stage, current=current)
        change = _guarded_move(
            prospect_id=prospect_id,
            from_stage=current["stage"],
            to_stage=to_stage,
            reject_reason=reject_reason,
            linking_page_url=evidence,
            actor=None,
            automation=automation,
            reason=reason,
            person=False,
            person_moved_before=event_at,
        )
        if change is not None:
            return change
        # Someone moved it between our read and our update: judge the move again.
    return None


@dataclass(frozen=True)
class AutomationMove:
    """One event asking automation to move a prospect: which prospect, why, and when it happened."""

    prospect_id: int
    reason: str
    event_at: datetime


@transaction.atomic
def prospects_automation_move(
    *, moves: Sequence[AutomationMove], to_stage: str, automation: str
) -> list[StageChange]:
    """``prospect_move_stage(prospect_id=…, to_stage=…, automation=…, reason=…, event_at=…)`` for each
    of ``moves`` in order, in four statements whatever their number; returns the moves made.

    The same rules (``automation_may_move``) and the same log: a prospect moves for the first
    of its events that may move it, and every move gets its StageChange. The prospects are
    locked as they are read, so nobody can move one between the check and the UPDATE.
    Rejected (needs a reason) and Link Acquired (needs evidence) are not bulk moves.
    """
    _check_move_request(to_stage=to_stage, actor=None, automation=automation, reject_reason="")
    if to_stage == Stage.LINK_ACQUIRED:
        raise PipelineError("Link Acquired needs the linking page URL: move it with prospect_move_stage")
    rows = Prospect.objects.select_for_update().filter(pk__in={m.prospect_id for m in moves}).order_by("pk")
    current = {row["pk"]: row for row in rows.values("pk", "stage", "person_moved_at")}
    chosen: dict[int, tuple[str, AutomationMove]] = {}
    for move in moves:
        row = current.get(move.prospect_id)
        if row is None or move.prospect_id in chosen:
            continue
        if automation_may_move(from_stage=row["stage"], to_stage=to_stage, person_moved_at=row["person_moved_at"],
                               event_at=move.event_at):  # fmt: skip
            chosen[move.prospect_id] = (row["stage"], move)
    if not chosen:
        return []
    guard = Q()
    for stage in {from_stage for from_stage, _ in chosen.values()}:
        guard |= Q(stage=stage, pk__in=[pk for pk, (from_stage, _) in chosen.items() if from_stage == stage])
    now = timezone.now()
    Prospect.objects.filter(guard).update(stage=to_stage, reject_reason="", stage_changed_at=now, updated_at=now)
    return StageChange.objects.bulk_create(
        StageChange(prospect_id=pk, from_stage=from_stage, to_stage=to_stage, actor_kind=ActorKind.AUTOMATION,
                    automation=automation, reason=move.reason.strip())
        for pk, (from_stage, move) in chosen.items()
    )  # fmt: skip


def automation_may_move(
    *, from_stage: str, to_stage: str, person_moved_at: datetime | None, event_at: datetime
) -> bool:
    """Automation rules: forward only, never out of Rejected or Link Acquired, never over a later person."""
    if person_moved_at is not None and person_moved_at > event_at:
        return False
    if from_stage in (Stage.REJECTED, Stage.LINK_ACQUIRED):
        return False
    if to_stage == Stage.REJECTED:  # e.g. a hard bounce: the end of the road, from any open stage
        return True
    return STAGE_RANK[to_stage] > STAGE_RANK[from_stage]


def _checked_evidence(url: str, *, to_stage: str, current: dict[str, Any]) -> str:
    """The linking page URL if it is acceptable evidence for this move; '' when none was given.

    ``current``: the prospect's stage, domain, stored linking page and pipeline. In link
    building, Link Acquired without a URL keeps the one already stored on the prospect, and
    is refused when there is none: an acquired link is monitored on its page. In link
    removal the same stage means the link was taken down: there is no page to monitor, and a
    URL, if given, records the page it was on.
    """
    url, domain = url.strip(), current["domain"]
    if not url:
        needed = current["pipeline"] == PipelineKind.ACQUISITION and not current["linking_page_url"]
        if to_stage == Stage.LINK_ACQUIRED and needed:
            raise PipelineError("Link Acquired needs the linking page URL (the page on the prospect's site)")
        return ""
    if to_stage != Stage.LINK_ACQUIRED:
        raise PipelineError("a linking page URL is evidence for Link Acquired only")
    try:
        URLValidator(schemes=["http", "https"])(url)
        page_domain = domain_of_url(url)
    except (ValidationError, DomainError):
        raise PipelineError(f"{url!r} is not a valid http(s) URL") from None
    if page_domain != domain:
        raise PipelineError(f"the linking page must be on {domain}, not on {page_domain}")
    return url


@transaction.atomic
def _guarded_move(
    *,
    prospect_id: int,
    from_stage: str,
    to_stage: str,
    reject_reason: str,
    linking_page_url: str,
    actor: AbstractBaseUser | None,
    automation: str,
    reason: str,
    person: bool,
    person_moved_before: datetime | None = None,
) -> StageChange | None:
    """UPDATE … WHERE stage = from_stage, and log it; None when the row was not in that stage."""
    now = timezone.now()
    rows = Prospect.objects.filter(pk=prospect_id, stage=from_stage)
    if person_moved_before is not None:
        # Re-checked inside the UPDATE: a person's move that lands after our read still wins.
        rows = rows.filter(Q(person_moved_at__isnull=True) | Q(person_moved_at__lte=person_moved_before))
    values: dict[str, object] = {
        "stage": to_stage,
        "reject_reason": reject_reason,
        "stage_changed_at": now,
        "updated_at": now,
    }
    if person:
        values["person_moved_at"] = now
    if linking_page_url:
        values["linking_page_url"] = linking_page_url
    if rows.update(**values) != 1:
        return None
    if to_stage == Stage.LINK_ACQUIRED:  # monitored from now on (or again, after a reclaim)
        acquired_links_sync(prospect_ids=[prospect_id], now=now)
    return StageChange.objects.create(
        prospect_id=prospect_id,
        from_stage=from_stage,
        to_stage=to_stage,
        actor_kind=ActorKind.PERSON if person else ActorKind.AUTOMATION,
        actor=actor,
        automation=automation,
        reason=reason.strip(),
        reject_reason=reject_reason,
    )


def prospects_bulk_move(
    *,
    project: Project,
    prospect_ids: Iterable[int],
    to_stage: str,
    actor: AbstractBaseUser,
    reason: str = "",
    reject_reason: str = "",
) -> BulkResult:
    """A person moves many prospects of ``project``; each gets its own guarded update and log row.

    The expected stage of each is the one it has when the bulk action reads it: a prospect
    someone else moves in the meantime is skipped (and reported), never overwritten.
    """
    _check_move_request(to_stage=to_stage, actor=actor, automation="", reject_reason=reject_reason)
    ids = _unique_ids(prospect_ids)
    stages = dict(Prospect.objects.filter(project=project, pk__in=ids).values_list("pk", "stage"))
    result = BulkResult()
    for prospect_id in ids:
        stage = stages.get(prospect_id)
        if stage is None:
            result.skipped.append((prospect_id, "not a prospect of this project"))
        elif stage == to_stage:
            result.skipped.append((prospect_id, f"already in {Stage(to_stage).label}"))
        else:
            try:
                _person_move(
                    prospect_id=prospect_id,
                    to_stage=to_stage,
                    expected_from=stage,
                    actor=actor,
                    reason=reason,
                    reject_reason=reject_reason,
                    linking_page_url="",
                )
            except (StageConflict, Prospect.DoesNotExist, PipelineError) as exc:
                result.skipped.append((prospect_id, str(exc)))
            else:
                result.done.append(prospect_id)
    return result


def _unique_ids(values: Iterable[int]) -> list[int]:
    return list(dict.fromkeys(int(value) for value in values))


# --- assignment and tags ----------------------------------------------------------------------


def assignee_check(project: Project, assignee: AbstractBaseUser | None) -> None:
    """Raises PipelineError unless ``assignee`` is None or an active member of ``project``."""
    if assignee is None:
        return
    if (
        not assignee.is_active
        or not ProjectMembership.objects.filter(project=project, user=assignee).exists()
    ):
        raise PipelineError(f"{assignee.get_username()} is not an active member of {project.name}")


@transaction.atomic
def prospects_assign(
    *, project: Project, prospect_ids: Iterable[int], assignee: AbstractBaseUser | None
) -> BulkResult:
    """Give prospects of ``project`` to a member (None: unassign), in one UPDATE."""
    assignee_check(project, assignee)
    ids = _unique_ids(prospect_ids)
    rows = Prospect.objects.filter(project=project, pk__in=ids)
    found = set(rows.values_list("pk", flat=True))
    rows.update(assignee=assignee, updated_at=timezone.now())
    return BulkResult(
        done=[pk for pk in ids if pk in found],
        skipped=[(pk, "not a prospect of this project") for pk in ids if pk not in found],
    )


def prospect_assign(*, prospect: Prospect, assignee: AbstractBaseUser | None) -> None:
    """Give one prospect to a project member, or unassign it (None)."""
    prospects_assign(project=prospect.project, prospect_ids=[prospect.pk], assignee=assignee)
    prospect.assignee = assignee


def tags_normalise(values: Iterable[str], *, limit: int | None = MAX_TAGS) -> list[str]:
    """Trimmed, lower-case, inner spaces collapsed, de-duplicated in order.

    Refuses a tag over MAX_TAG_LENGTH, and more than ``limit`` tags (None: no limit).
    """
    tags: list[str] = []
    for value in values:
        tag = " ".join(value.split()).lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            raise PipelineError(f"tag {tag[:20]!r}… is longer than {MAX_TAG_LENGTH} characters")
        if tag not in tags:
            tags.append(tag)
    if limit is not None and len(tags) > limit:
        raise PipelineError(f"at most {limit} tags per prospect")
    return tags


def tags_parse(text: str) -> list[str]:
    """``"blog, Guest post ,blog"`` → ``["blog", "guest post"]`` (comma or semicolon separated)."""
    return tags_normalise(text.replace(";", ",").split(","))


@transaction.atomic
def prospect_set_tags(*, prospect: Prospect, tags: Sequence[str]) -> list[str]:
    """Replace the prospect's tags; returns them normalised."""
    clean = tags_normalise(tags)
    Prospect.objects.filter(pk=prospect.pk).update(tags=clean, updated_at=timezone.now())
    prospect.tags = clean
    return clean


@transaction.atomic
def prospects_add_tags(*, project: Project, prospect_ids: Iterable[int], tags: Sequence[str]) -> int:
    """Add tags to many prospects of ``project`` (keeping their own); returns how many rows changed."""
    clean = tags_normalise(tags)
    changed = 0
    rows = Prospect.objects.filter(project=project, pk__in=_unique_ids(prospect_ids)).select_for_update()
    for prospect in rows.only("pk", "tags"):
        merged = tags_normalise([*prospect.tags, *clean])
        if merged != prospect.tags:
            Prospect.objects.filter(pk=prospect.pk).update(tags=merged, updated_at=timezone.now())
            changed += 1
    return changed


# --- notes and reminders ----------------------------------------------------------------------


@transaction.atomic
def note_add(*, prospect: Prospect, author: AbstractBaseUser | None, body: str) -> Note:
    body = body.strip()
    if not body:
        raise PipelineError("a note needs some text")
    return Note.objects.create(prospect=prospect, author=author, body=body)


@transaction.atomic
def reminder_add(
    *,
    prospect: Prospect,
    due_at: datetime,
    text: str,
    created_by: AbstractBaseUser | None,
    assignee: AbstractBaseUser | None = None,
) -> Reminder:
    """A reminder for ``assignee`` (default: the prospect's assignee, else its creator)."""
    text = " ".join(text.split())
    if not text:
        raise PipelineError("a reminder needs some text")
    who = assignee or prospect.assignee or created_by
    if who is None:
        raise PipelineError("a reminder needs someone to remind")
    assignee_check(prospect.project, who)
    if timezone.is_naive(due_at):
        due_at = timezone.make_aware(due_at)
    return Reminder.objects.create(
        prospect=prospect, assignee=who, due_at=due_at, text=text[:300], created_by=created_by
    )


@transaction.atomic
def reminder_done(*, reminder: Reminder) -> bool:
    """Mark a reminder done; False when it already was (so a double click changes nothing)."""
    now = timezone.now()
    done = Reminder.objects.filter(pk=reminder.pk, done_at__isnull=True).update(done_at=now) == 1
    if done:
        reminder.done_at = now
    return done
