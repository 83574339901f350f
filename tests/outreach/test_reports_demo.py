"""The demo workspace's reports show real numbers computed from the demo pipeline."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from prospects.models import Project

pytestmark = pytest.mark.django_db


def test_a_manager_sees_a_non_zero_funnel_on_the_demo_workspace(admin_user, manager, client_for):
    call_command("load_demo", stdout=io.StringIO())
    project = Project.objects.get(is_demo=True)
    client = client_for(manager)
    for query in ("", f"?project={project.pk}"):
        response = client.get("/reports/" + query)
        assert response.status_code == 200
        rows = {row.stage: row for row in response.context["data"].funnel}
        assert rows["in_progress"].entered > 0 and rows["contacted"].entered > 0
        assert rows["link_acquired"].entered > 0 and rows["contacted"].converted > 0
        assert response.context["data"].acquisition.acquired == rows["link_acquired"].entered
        funnel_csv = client.get("/reports/export/funnel.csv" + query).content.decode("utf-8-sig")
        assert re.search(r"^Link Acquired,[1-9]", funnel_csv, re.MULTILINE)
    # The project's own site against its competitors, from the demo link profiles.
    growth = response.context["data"].growth
    assert len(growth.sites) >= 3 and growth.sites[0].is_own
