"""Writes for sequences: name/description, and the whole ordered list of steps in one call.

Steps are saved as a list (the editor's rows in their new order): existing steps keep
their row (so sent messages keep pointing at them), removed ones are deleted, new ones
are added, and positions are renumbered 1..n. Positions are unique per sequence, so the
renumbering goes through temporary positions past the end first.
"""

from __future__ import annotations

from collections.abc import Sequence as Seq
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from outreach.models import EmailTemplate, Sequence, SequenceStep

MAX_STEPS = 20
MAX_DELAY_DAYS = 365


class SequenceError(Exception):
    """A sequence or one of its steps is not acceptable; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class StepSpec:
    """One step as the editor submits it; ``step_id`` None means a new step."""

    template_id: int
    delay_days: int = 0
    business_days: bool = False
    step_id: int | None = None


def sequence_save(
    *, sequence: Sequence | None, name: str, description: str = "", by: AbstractBaseUser | None
) -> Sequence:
    """Create (``sequence=None``) or rename/describe a sequence."""
    name = name.strip()
    if not name:
        raise SequenceError("name", "The name must not be empty.")
    sequence = sequence or Sequence(created_by=by)
    sequence.name, sequence.description = name, description
    try:
        with transaction.atomic():
            sequence.save()
    except IntegrityError:
        raise SequenceError("name", f"A sequence named '{name}' exists.") from None
    return sequence


def _check_steps(steps: Seq[StepSpec]) -> None:
    if not steps:
        raise SequenceError("steps", "A sequence needs at least one step.")
    if len(steps) > MAX_STEPS:
        raise SequenceError("steps", f"A sequence has at most {MAX_STEPS} steps.")
    for number, step in enumerate(steps, start=1):
        if not 0 <= step.delay_days <= MAX_DELAY_DAYS:
            raise SequenceError("steps", f"Step {number}: the delay must be 0–{MAX_DELAY_DAYS} days.")
        if number > 1 and step.delay_days == 0:
            raise SequenceError("steps", f"Step {number}: a follow-up waits at least one day.")
    wanted = {step.template_id for step in steps}
    found = set(EmailTemplate.objects.filter(pk__in=wanted, archived=False).values_list("pk", flat=True))
    if wanted - found:
        raise SequenceError("steps", "A step uses a template that does not exist or is archived.")


def sequence_steps_save(*, sequence: Sequence, steps: Seq[StepSpec]) -> list[SequenceStep]:
    """Make the sequence's steps exactly ``steps``, in that order; returns them.

    Step 1's delay is stored as 0 (it is sent at enrollment); later steps wait their delay.
    """
    steps = [StepSpec(s.template_id, 0 if i == 0 else s.delay_days, s.business_days, s.step_id)
             for i, s in enumerate(steps)]
    _check_steps(steps)
    with transaction.atomic():
        Sequence.objects.select_for_update().filter(pk=sequence.pk).first()
        current = {step.pk: step for step in SequenceStep.objects.filter(sequence=sequence)}
        keep = {spec.step_id for spec in steps if spec.step_id is not None}
        if keep - set(current):
            raise SequenceError("steps", "A step does not belong to this sequence.")
        SequenceStep.objects.filter(sequence=sequence).exclude(pk__in=keep).delete()
        offset = MAX_STEPS + len(current) + 1
        for index, step_id in enumerate(sorted(keep)):  # out of the way of the final numbering
            SequenceStep.objects.filter(pk=step_id).update(position=offset + index)
        return [_put_step(sequence, position, spec) for position, spec in enumerate(steps, start=1)]


def _put_step(sequence: Sequence, position: int, spec: StepSpec) -> SequenceStep:
    fields = {"position": position, "template_id": spec.template_id, "delay_days": spec.delay_days,
              "business_days": spec.business_days}
    if spec.step_id is None:
        return SequenceStep.objects.create(sequence=sequence, **fields)
    SequenceStep.objects.filter(pk=spec.step_id).update(**fields)
    return SequenceStep.objects.get(pk=spec.step_id)


def sequence_set_archived(*, sequence: Sequence, archived: bool) -> None:
    """Hide (or show again) a sequence in the enrollment picker; running enrollments go on."""
    Sequence.objects.filter(pk=sequence.pk).update(archived=archived)
    sequence.archived = archived
