"""The demo's audit: every site scored; the demo site has decisions and two disavow versions."""

from __future__ import annotations

import pytest

from audit import demo, demo_audit
from audit.disavow import diff_disavow
from audit.models import DisavowVersion, LinkToxicity, ReviewDecision

pytestmark = pytest.mark.django_db


def test_the_demo_has_audit_findings_and_a_disavow_history(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    sites = demo.load(links_per_site=300)
    assert all(LinkToxicity.objects.filter(site=site).exists() for site in sites)
    versions = list(DisavowVersion.objects.filter(site=sites[0]).order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    diff = diff_disavow(versions[0].content, versions[1].content)
    assert len(diff.added) == demo_audit.SECOND_BATCH and len(diff.removed) == 1
    statuses = set(ReviewDecision.objects.filter(site=sites[0]).values_list("status", flat=True))
    assert statuses == {"disavowed", "whitelisted", "monitor", "for_review"}

    demo_audit.load(sites)  # a second load adds no history
    assert DisavowVersion.objects.filter(site=sites[0]).count() == 2
