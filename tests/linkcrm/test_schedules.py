"""The schedule registry converges the django-q2 Schedule table and leaves hand-made rows alone."""

import pytest
from django_q.models import Schedule

from linkcrm.schedules import PREFIX, SCHEDULES, Periodic, schedules_sync

pytestmark = pytest.mark.django_db


def test_it_creates_updates_and_removes_declared_schedules() -> None:
    Schedule.objects.create(name="by-hand", func="math.floor", schedule_type=Schedule.HOURLY)
    schedules_sync([Periodic("a", "math.floor", 5), Periodic("b", "math.ceil", 10)])
    schedules_sync([Periodic("a", "math.floor", 7)])

    rows = {s.name: s for s in Schedule.objects.all()}
    assert set(rows) == {"by-hand", PREFIX + "a"}
    assert rows[PREFIX + "a"].minutes == 7
    assert rows[PREFIX + "a"].schedule_type == Schedule.MINUTES


def test_every_declared_schedule_names_an_importable_function() -> None:
    from django.utils.module_loading import import_string

    for entry in SCHEDULES:
        assert callable(import_string(entry.func)), entry.name
