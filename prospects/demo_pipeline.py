"""The demo pipeline: ~60 prospects of the demo project spread over every stage.

``load(project)`` takes the project's best prospects (the gap ones part of the demo creates)
or, when there are too few, the competitors' referring domains, or failing that a fixed list
of FAKE domain names. Every move goes through ``prospect_move_stage`` — people and
automations (``email.sent``, ``email.reply``, ``email.bounce`` …) — and is then dated back
over the last weeks so the timelines read like real work. Two demo colleagues (who cannot
log in: no usable password) share the work with the workspace's admins; there are notes and
reminders, some overdue, so the dashboard has something to show. Idempotent: a project
whose pipeline has already moved is left alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from audit.models import Backlink
from linkcrm.choices import Role
from linkcrm.services import user_create
from prospects import demo_monitoring
from prospects.choices import ProspectSource, RejectReason, Stage
from prospects.models import Project, ProjectCompetitor, Prospect, StageChange
from prospects.services.creation import prospects_create
from prospects.services.pipeline import (
    note_add,
    prospect_move_stage,
    prospects_assign,
    reminder_add,
    tags_normalise,
)
from prospects.services.projects import project_add_member

SIZE = 60
SEED = 11
DEMO_STAFF = (("anna.demo", "Anna", "Lindqvist"), ("ben.demo", "Ben", "Okafor"))
# How many prospects end in each stage (sums to SIZE).
PLAN = (
    (Stage.IN_PROGRESS, 14), (Stage.TO_CONTACT, 12), (Stage.CONTACTED, 12), (Stage.REPLY_RECEIVED, 8),
    (Stage.LINK_ACQUIRED, 6), (Stage.REJECTED, 8),
)  # fmt: skip
REJECTIONS = (
    (RejectReason.NOT_RELEVANT, Stage.IN_PROGRESS, None),
    (RejectReason.BOUNCED, Stage.CONTACTED, "email.bounce"),
    (RejectReason.UNRESPONSIVE, Stage.CONTACTED, "sequence.finished"),
    (RejectReason.DECLINED, Stage.REPLY_RECEIVED, None),
)
TAGS = ("blog", "review site", "guide", "forum", "news", "club", "gear list", "tier 1")
NOTES = (
    "Editor is Maja; prefers short pitches with one data point.",
    "They updated their tent guide last spring — our 4-season range fits the gap.",
    "Contact form only; the about page lists a press address.",
    "Asked for product samples before linking. Checking with marketing.",
    "Links out generously to shops in their gear lists.",
    "Replied: will add us in the next update of the packing checklist.",
)
REMINDERS = (
    ("Follow up on the pitch", -3), ("Send the samples they asked for", -1),
    ("Check whether the link is live", 0.1), ("Second follow-up", 1),
    ("Ask about the autumn gear list", 3), ("Propose a guest post topic", 6),
)  # fmt: skip
FAKE_WORDS = (
    "trail", "summit", "ridge", "canyon", "alpine", "camp", "hike", "forest", "river", "peak", "wild",
    "north", "pack", "boot", "tent", "fjord",
)  # fmt: skip
FAKE_ENDINGS = ("notes", "journal", "review", "guide", "blog", "weekly", "log", "talk")


@dataclass
class _Clock:
    """Simulated time, moving forward per prospect: the demo's history happened over six weeks."""

    now: datetime

    def at(self, days_ago: float) -> datetime:
        return self.now - timedelta(days=days_ago)


def load(project: Project) -> int:
    """Seed the demo pipeline of ``project``; returns how many prospects it placed (0: already there)."""
    if Prospect.objects.filter(project=project).exclude(stage=Stage.IN_PROGRESS).exists():
        return 0
    with transaction.atomic():
        staff = _staff(project)
        prospects = _prospects(project)
        rng = random.Random(SEED)
        clock = _Clock(timezone.now())
        plan = [stage for stage, count in PLAN for _ in range(count)]
        for index, (prospect, stage) in enumerate(zip(prospects, plan, strict=False)):
            _work(prospect, stage, index=index, staff=staff, rng=rng, clock=clock)
        _reminders(prospects, staff=staff, clock=clock)
        demo_monitoring.load(project, now=clock.now)
    return min(len(prospects), len(plan))


def _staff(project: Project) -> list[AbstractBaseUser]:
    """The admins who are members, plus two demo colleagues who cannot log in."""
    users = get_user_model().objects
    staff = list(users.filter(memberships__project=project, is_active=True).order_by("username"))
    for username, first, last in DEMO_STAFF:
        user = users.filter(username=username).first()
        if user is None:
            user, _ = user_create(username=username, role=Role.OUTREACH, first_name=first, last_name=last)
            user.set_unusable_password()  # a colleague to assign work to, never an account
            user.save(update_fields=["password"])
        project_add_member(project=project, user=user, added_by=None)
        if user not in staff:
            staff.append(user)
    return staff


def _prospects(project: Project) -> list[Prospect]:
    """SIZE prospects of the project, best first, creating the missing ones."""
    chosen = list(Prospect.objects.filter(project=project).order_by("-score", "id")[:SIZE])
    competitors = ProjectCompetitor.objects.filter(project=project).values("site_id")
    referrers = list(
        Backlink.objects.filter(site_id__in=competitors).order_by("source_domain")
        .values_list("source_domain", flat=True).distinct()[: SIZE * 2]
    )  # fmt: skip
    for source, candidates in ((ProspectSource.GAP, referrers), (ProspectSource.MANUAL, _fake_domains(SIZE))):
        missing = SIZE - len(chosen)
        if missing <= 0:
            break
        taken = set(
            Prospect.objects.filter(project=project, domain__in=candidates).values_list("domain", flat=True)
        )
        fresh = [domain for domain in candidates if domain not in taken][:missing]
        created = prospects_create(
            project=project, domains=fresh, source=source, created_by=None, automation="demo.seed"
        )
        chosen += list(Prospect.objects.filter(pk__in=created.created_ids).order_by("id"))
    return chosen[:SIZE]


def _fake_domains(count: int) -> list[str]:
    """FAKE names on .com: nobody is contacted, nothing is fetched."""
    rng = random.Random(SEED)
    names: list[str] = []
    while len(names) < count:
        name = f"{rng.choice(FAKE_WORDS)}{rng.choice(FAKE_WORDS)}-{rng.choice(FAKE_ENDINGS)}.com"
        if name not in names:
            names.append(name)
    return names


def _path(stage: str, index: int) -> tuple[list[str], tuple[str, str, str | None] | None]:
    """The forward stages to walk through, and the rejection at the end (reason, from, automation)."""
    order = [Stage.TO_CONTACT, Stage.CONTACTED, Stage.REPLY_RECEIVED, Stage.LINK_ACQUIRED]
    if stage == Stage.REJECTED:
        reason, before, automation = REJECTIONS[index % len(REJECTIONS)]
        steps = order[: order.index(before) + 1] if before != Stage.IN_PROGRESS else []
        return steps, (reason, before, automation)
    return (order[: order.index(stage) + 1] if stage != Stage.IN_PROGRESS else []), None


def _work(
    prospect: Prospect,
    stage: str,
    *,
    index: int,
    staff: list[AbstractBaseUser],
    rng: random.Random,
    clock: _Clock,
) -> None:
    """Walk one prospect to ``stage`` the way the product would, dating each move back."""
    # Everything past In Progress has an owner; a third of In Progress waits unassigned.
    assigned = bool(staff) and (stage != Stage.IN_PROGRESS or index % 3 != 0)
    owner = staff[index % len(staff)] if assigned else None
    if owner is not None:
        prospects_assign(project=prospect.project, prospect_ids=[prospect.pk], assignee=owner)
    prospect.tags = tags_normalise([*prospect.tags, rng.choice(TAGS)])
    Prospect.objects.filter(pk=prospect.pk).update(tags=prospect.tags)
    steps, rejection = _path(stage, index)
    # Worked prospects were found five or six weeks ago; the untouched ones recently.
    day = 40 - rng.random() * 10 if steps or rejection else 1 + rng.random() * 12
    _date_creation(prospect, clock.at(day + 1))
    for step in steps:
        day -= 2 + rng.random() * 6
        _step(prospect, step, owner=owner, when=clock.at(day))
    if rejection is not None:
        reason, _, automation = rejection
        day -= 3 + rng.random() * 4
        _move(prospect, Stage.REJECTED, when=clock.at(day), actor=None if automation else owner,
              automation=automation or "", reject_reason=reason,
              reason="" if automation else "Not a fit for outdoor gear.")  # fmt: skip
    if index % 4 == 0 and owner is not None:
        note_add(prospect=prospect, author=owner, body=NOTES[index // 4 % len(NOTES)])
    if index == 30:  # an auto-responder read as a reply, put back by a person
        _move(prospect, Stage.REPLY_RECEIVED, when=clock.at(2), automation="email.reply",
              reason="Reply from the editor's address")  # fmt: skip
        _move(
            prospect,
            Stage.CONTACTED,
            when=clock.at(1),
            actor=owner,
            reason="That was an out-of-office reply.",
        )


def _date_creation(prospect: Prospect, when: datetime) -> None:
    """Date the prospect's creation (and its first timeline row) back to ``when`` (demo history only)."""
    StageChange.objects.filter(prospect=prospect, from_stage="").update(created_at=when)
    Prospect.objects.filter(pk=prospect.pk).update(created_at=when, stage_changed_at=when)


def _step(prospect: Prospect, step: str, *, owner: AbstractBaseUser | None, when: datetime) -> None:
    """One forward move, by whoever does it in real life."""
    if step == Stage.TO_CONTACT:
        _move(prospect, step, when=when, actor=owner, automation="" if owner else "contacts.found",
              reason="Found the editor's address.")  # fmt: skip
    elif step == Stage.CONTACTED:
        _move(prospect, step, when=when, automation="email.sent", reason="Sequence step 1 sent.")
    elif step == Stage.REPLY_RECEIVED:
        _move(prospect, step, when=when, automation="email.reply", reason="Reply received.")
    elif owner is not None:
        _move(prospect, step, when=when, actor=owner, reason="They published it.",
              linking_page_url=f"https://{prospect.domain}/best-outdoor-gear")  # fmt: skip
    else:
        _move(prospect, step, when=when, automation="link.verified", reason="Link found live on their page.",
              linking_page_url=f"https://{prospect.domain}/gear-we-love")  # fmt: skip


def _move(prospect: Prospect, to_stage: str, *, when: datetime, actor: AbstractBaseUser | None = None,
          automation: str = "", **extra: str) -> None:  # fmt: skip
    """A real move through the service, then dated back to ``when`` (demo history only)."""
    if actor is None and not automation:
        automation = "demo.seed"
    change = prospect_move_stage(
        prospect_id=prospect.pk, to_stage=to_stage, actor=actor, automation=automation, event_at=when, **extra
    )
    if change is None:
        return
    StageChange.objects.filter(pk=change.pk).update(created_at=when)
    dated = {"stage_changed_at": when, **({"person_moved_at": when} if actor is not None else {})}
    Prospect.objects.filter(pk=prospect.pk).update(**dated)


def _reminders(prospects: list[Prospect], *, staff: list[AbstractBaseUser], clock: _Clock) -> None:
    """For every colleague, reminders on their open prospects: one overdue, one today, some ahead."""
    open_ones = (
        Prospect.objects.filter(pk__in=[p.pk for p in prospects])
        .exclude(stage__in=[Stage.REJECTED, Stage.LINK_ACQUIRED])
        .select_related("assignee", "project")
        .order_by("id")
    )
    for person in staff:
        for index, prospect in enumerate(open_ones.filter(assignee=person)[:4]):
            text, days = REMINDERS[index]
            reminder_add(prospect=prospect, due_at=clock.at(-days), text=text, created_by=person)
