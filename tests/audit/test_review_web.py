"""Pages and API of the toxicity audit, the review and the disavow file (and the removal action)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit import toxicity
from audit.choices import ReviewStatus
from audit.models import DisavowEntry, DisavowVersion, ReviewDecision, Site, ToxicityRun
from prospects.choices import PipelineKind
from prospects.models import Project, Prospect
from tests.audit.profile_world import link, refdomain

pytestmark = pytest.mark.django_db


@pytest.fixture
def site() -> Site:
    site = Site.objects.create(domain="acme.com", money_terms=["blue widgets"])
    refdomain(site, "spam.org", semrush_ascore=1)
    link(site, "https://spam.org/casino", anchor="blue widgets")
    refdomain(site, "fine.com", semrush_ascore=50)
    link(site, "https://fine.com/post")
    toxicity.toxicity_score_site(site=site)
    return site


def test_the_findings_page_shows_scores_bands_markers_and_reasons(site, client_for, alice):
    response = client_for(alice).get(reverse("audit:site-toxicity", args=[site.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-domain="spam.org"' in html and "Toxic" in html
    assert "Spam words in URL or title" in html
    assert "authority is below 5 of 100" in html  # the reason, in plain words
    assert "Apply to ticked" not in html  # outreach staff may look, not decide
    links = client_for(alice).get(reverse("audit:site-toxicity", args=[site.pk]), {"by": "links", "band": "toxic"})
    assert "https://spam.org/casino" in links.content.decode() and "fine.com/post" not in links.content.decode()


def test_a_manager_decides_outreach_staff_cannot(site, client_for, manager, alice):
    url = reverse("audit:review-decide", args=[site.pk])
    form = {"status": ReviewStatus.DISAVOWED, "reason": "casino farm", "domain": ["spam.org"]}
    assert client_for(alice).post(url, form).status_code == 403
    response = client_for(manager).post(url, form)
    assert response.status_code == 302
    decision = ReviewDecision.objects.get()
    assert (decision.domain, decision.status, decision.decided_by) == ("spam.org", ReviewStatus.DISAVOWED, manager)
    page = client_for(alice).get(reverse("audit:site-disavow", args=[site.pk])).content.decode()
    assert "domain:spam.org" in page and "casino farm" in page


def test_rerun_queues_a_run_and_progress_shows_it(site, client_for, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        client_for(alice).post(reverse("audit:toxicity-rerun", args=[site.pk]))
    assert ToxicityRun.objects.get(site=site).status == "queued" and len(callbacks) == 1
    fragment = client_for(alice).get(reverse("audit:toxicity-progress", args=[site.pk])).content.decode()
    assert 'data-status="queued"' in fragment and "hx-get" in fragment


def test_importing_a_bad_file_shows_each_problem_by_line(site, client_for, manager):
    upload = SimpleUploadedFile("old.txt", b"domain:ok.org\ndomain:bad.org/sub\n")
    response = client_for(manager).post(reverse("audit:disavow-import", args=[site.pk]), {"file": upload})
    html = response.content.decode()
    assert response.status_code == 400
    assert "a subpath cannot be disavowed" in html and '<td class="num">2</td>' in html
    assert not DisavowEntry.objects.exists()


def test_export_downloads_a_stored_version_and_versions_can_be_compared(site, client_for, manager, alice):
    manager_client = client_for(manager)
    manager_client.post(reverse("audit:disavow-import", args=[site.pk]),
                        {"file": SimpleUploadedFile("a.txt", b"# farm\ndomain:one.org\n")})
    first = manager_client.post(reverse("audit:disavow-export", args=[site.pk]))
    assert first["Content-Disposition"] == 'attachment; filename="acme.com-disavow-v1.txt"'
    assert "# farm\ndomain:one.org\n" in first.content.decode()
    manager_client.post(reverse("audit:disavow-import", args=[site.pk]),
                        {"file": SimpleUploadedFile("b.txt", b"domain:two.org\n")})
    manager_client.post(reverse("audit:disavow-export", args=[site.pk]))
    assert DisavowVersion.objects.filter(site=site).count() == 2
    download = client_for(alice).get(reverse("audit:disavow-version", args=[site.pk, 1]))
    assert download.content.decode() == DisavowVersion.objects.get(number=1).content
    diff = client_for(alice).get(reverse("audit:disavow-diff", args=[site.pk]), {"a": 1, "b": 2}).content.decode()
    assert "<code>domain:two.org</code>" in diff.split('id="diff-added"')[1].split("</ul>")[0]


def test_request_removal_from_the_audit_page_creates_removal_prospects(site, client_for, manager):
    project = Project.objects.create(name="Acme", site=site)
    response = client_for(manager).post(reverse("prospects:removal-request", args=[site.pk]),
                                        {"domain": ["spam.org"], "reason": "paid link"})
    assert response.status_code == 302
    prospect = Prospect.objects.get(project=project)
    assert (prospect.domain, prospect.pipeline) == ("spam.org", PipelineKind.REMOVAL)
    assert ReviewDecision.objects.get().status == ReviewStatus.REMOVAL_REQUESTED


def test_the_api_reads_findings_and_managers_decide_import_export(site, client_for, manager, alice):
    api = client_for(alice)
    findings = api.get(f"/api/audit/toxicity/{site.pk}/findings/", {"by": "links", "marker": "spam_words"}).json()
    assert [r["source_url"] for r in findings["results"]] == ["https://spam.org/casino"]
    assert {m["code"] for m in findings["results"][0]["markers"]} >= {"spam_words", "money_anchor"}
    body = {"status": "disavowed", "reason": "farm", "domains": ["spam.org"]}
    decisions = f"/api/audit/toxicity/{site.pk}/decisions/"
    assert api.post(decisions, body, content_type="application/json").status_code == 403
    made = client_for(manager).post(decisions, body, content_type="application/json")
    assert made.status_code == 201 and made.json()[0]["status"] == "disavowed"
    bad = client_for(manager).post(f"/api/audit/disavow/{site.pk}/import/",
                                   {"file": SimpleUploadedFile("x.txt", b"domain:org.br\n")})
    assert bad.status_code == 400 and bad.json()["issues"][0]["line"] == 1
    version = client_for(manager).post(f"/api/audit/disavow/{site.pk}/export/").json()
    assert version["number"] == 1 and "domain:spam.org" in version["content"]
    removal = client_for(manager).post("/api/removal-requests/", {"site": site.pk, "domains": ["fine.com"]},
                                       content_type="application/json")
    assert removal.status_code == 400 and "no project promotes" in removal.json()["detail"]


def test_the_disavow_api_checks_removes_lists_versions_and_diffs_them(site, client_for, manager, alice):
    api, boss = client_for(alice), client_for(manager)
    disavow = f"/api/audit/disavow/{site.pk}"
    checked = api.post(f"{disavow}/check/", {"file": SimpleUploadedFile("x.txt", b"domain:a.com\ndomain:x.com/p\n")})
    assert checked.status_code == 200
    body = checked.json()
    assert (body["google_would_reject"], body["lines"], body["entries"]) == (True, 2, 1)
    assert [(i["line"], i["severity"]) for i in body["issues"]] == [(2, "error")]
    assert not DisavowEntry.objects.filter(site=site).exists()  # a check imports nothing
    imported = boss.post(f"{disavow}/import/", {"file": SimpleUploadedFile("x.txt", b"domain:a.com\ndomain:b.com\n")})
    assert imported.status_code == 201 and imported.json()["added"] == 2
    assert boss.post(f"{disavow}/export/").status_code == 201
    entry = DisavowEntry.objects.get(site=site, value="a.com")
    assert api.post(f"{disavow}/remove/?entry={entry.pk}").status_code == 403
    assert boss.post(f"{disavow}/remove/?entry={entry.pk}").status_code == 204
    assert boss.post(f"{disavow}/remove/?entry={entry.pk}").status_code == 404
    assert [e["value"] for e in api.get(f"{disavow}/").json()] == ["b.com"]
    assert boss.post(f"{disavow}/export/").json()["number"] == 2
    assert [v["number"] for v in api.get(f"{disavow}/versions/").json()] == [2, 1]
    diff = api.get(f"{disavow}/diff/", {"a": 1, "b": 2}).json()
    assert (diff["added"], diff["removed"]) == ([], ["domain:a.com"])
    assert api.get(f"{disavow}/diff/", {"a": 1}).status_code == 400


def test_the_toxicity_api_summarises_and_reruns(site, client_for, alice, django_capture_on_commit_callbacks):
    api = client_for(alice)
    summary = api.get(f"/api/audit/toxicity/{site.pk}/").json()
    assert {m["code"] for m in summary["markers"]} == {m.code for m in toxicity.MARKERS}
    assert sum(summary["domains"].values()) == 2
    with django_capture_on_commit_callbacks() as callbacks:
        queued = api.post(f"/api/audit/toxicity/{site.pk}/rerun/")
    assert queued.status_code == 202 and queued.json()["status"] == "queued" and len(callbacks) == 1
    assert api.get(f"/api/audit/toxicity/{site.pk}/").json()["run"]["status"] == "queued"
