"""Sequences: managers build them step by step (add, reorder, remove); staff only read."""

from __future__ import annotations

import pytest

from outreach.models import Sequence, SequenceStep
from outreach.services.sequences import SequenceError, StepSpec, sequence_steps_save
from tests.outreach.world import make_project, make_sequence, make_template, prospect_with_contact

pytestmark = pytest.mark.django_db


def steps_of(sequence: Sequence) -> list[tuple]:
    return list(sequence.steps.order_by("position").values_list("position", "template__name", "delay_days",
                                                                 "business_days"))


def row(index: int, template, order: int, delay: int, *, step=None, business=False, remove=False) -> dict:
    data = {f"steps-{index}-template": str(template.pk), f"steps-{index}-order": str(order),
            f"steps-{index}-delay": str(delay)}
    if step is not None:
        data[f"steps-{index}-id"] = str(step.pk)
    if business:
        data[f"steps-{index}-business"] = "on"
    if remove:
        data[f"steps-{index}-remove"] = "on"
    return data


def test_a_manager_creates_a_sequence_with_its_steps(manager, client_for):
    intro, nudge = make_template("Intro"), make_template("Nudge")
    data = {"name": "Guest posts", "description": "", "steps-count": "3",
            **row(0, intro, 1, 0), **row(1, nudge, 2, 3, business=True)}
    response = client_for(manager).post("/outreach/sequences/new/", data)
    sequence = Sequence.objects.get(name="Guest posts")
    assert response.status_code == 302
    assert steps_of(sequence) == [(1, "Intro", 0, False), (2, "Nudge", 3, True)]


def test_reordering_removing_and_adding_keeps_the_surviving_step_rows(manager, client_for):
    a, b, c, d = (make_template(name) for name in "ABCD")
    sequence = make_sequence("Seq", (a, 0), (b, 2), (c, 4))
    step_a, step_b, step_c = sequence.steps.order_by("position")
    data = {"name": "Seq", "description": "", "steps-count": "4",
            **row(0, a, 2, 5, step=step_a), **row(1, b, 9, 2, step=step_b, remove=True),
            **row(2, c, 1, 0, step=step_c), **row(3, d, 3, 7)}
    client_for(manager).post(f"/outreach/sequences/{sequence.pk}/edit/", data)
    assert steps_of(sequence) == [(1, "C", 0, False), (2, "A", 5, False), (3, "D", 7, False)]
    assert set(sequence.steps.values_list("pk", flat=True)) >= {step_a.pk, step_c.pk}
    assert not SequenceStep.objects.filter(pk=step_b.pk).exists()


def test_a_follow_up_without_a_delay_is_refused_and_nothing_changes(manager, client_for):
    a, b = make_template("A"), make_template("B")
    sequence = make_sequence("Seq", (a, 0), (b, 2))
    before = steps_of(sequence)
    step_a, step_b = sequence.steps.order_by("position")
    data = {"name": "Renamed", "description": "", "steps-count": "2",
            **row(0, a, 1, 0, step=step_a), **row(1, b, 2, 0, step=step_b)}
    page = client_for(manager).post(f"/outreach/sequences/{sequence.pk}/edit/", data).content.decode()
    assert "waits at least one day" in page
    sequence.refresh_from_db()
    assert (sequence.name, steps_of(sequence)) == ("Seq", before)


def test_outreach_staff_read_sequences_but_do_not_edit_them(alice, client_for):
    a = make_template("A")
    sequence = make_sequence("Seq", (a, 0))
    client = client_for(alice)
    assert "Seq" in client.get("/outreach/sequences/").content.decode()
    assert client.get(f"/outreach/sequences/{sequence.pk}/").status_code == 200
    assert client.get(f"/outreach/sequences/{sequence.pk}/edit/").status_code == 403
    assert client.post("/outreach/sequences/new/", {"name": "X"}).status_code == 403


def test_steps_must_use_existing_unarchived_templates(manager):
    a = make_template("A")
    old = make_template("Old")
    old.archived = True
    old.save()
    sequence = make_sequence("Seq", (a, 0))
    with pytest.raises(SequenceError, match="archived"):
        sequence_steps_save(sequence=sequence, steps=[StepSpec(a.pk), StepSpec(old.pk, 2)])
    with pytest.raises(SequenceError, match="at least one step"):
        sequence_steps_save(sequence=sequence, steps=[])
    assert steps_of(sequence) == [(1, "A", 0, False)]


def test_a_step_of_another_sequence_cannot_be_taken_over(manager):
    a = make_template("A")
    mine, theirs = make_sequence("Mine", (a, 0)), make_sequence("Theirs", (a, 0))
    foreign = theirs.steps.get()
    with pytest.raises(SequenceError, match="does not belong"):
        sequence_steps_save(sequence=mine, steps=[StepSpec(a.pk, step_id=foreign.pk)])
    assert theirs.steps.get().pk == foreign.pk


def test_an_archived_sequence_is_not_offered_when_enrolling(manager, alice, client_for):
    sequence = make_sequence("Old pitch", (make_template("A"), 0))
    assert client_for(alice).post(f"/outreach/sequences/{sequence.pk}/archive/", {"archived": "1"}).status_code == 403
    client_for(manager).post(f"/outreach/sequences/{sequence.pk}/archive/", {"archived": "1"})
    sequence.refresh_from_db()
    assert sequence.archived
    prospect, _ = prospect_with_contact(make_project("Shop", manager), "blog.com", by=manager)
    enroll_page = client_for(manager).post("/outreach/enroll/", {"ids": [prospect.pk]}).content.decode()
    assert "blog.com" in enroll_page and "Old pitch" not in enroll_page
    client_for(manager).post(f"/outreach/sequences/{sequence.pk}/archive/", {"archived": "0"})
    enroll_page = client_for(manager).post("/outreach/enroll/", {"ids": [prospect.pk]}).content.decode()
    assert "Old pitch" in enroll_page
