"""docs/toxicity.md's agreement table is what the code computes on the Semrush sample, and its
marker table names every marker with its weight."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files import File
from django.core.management import call_command

from audit import toxicity
from audit.models import Site
from audit.services import link_import_run, link_import_store, site_get_or_create
from audit.toxicity_agreement import agreement, markdown

pytestmark = pytest.mark.django_db
DOCS = Path(__file__).resolve().parents[2] / "docs" / "toxicity.md"
SAMPLE = "semrush/backlink_audit_domains_27811604_2026-02-06.csv"


def test_the_documented_agreement_table_is_current(samples_dir, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    site = site_get_or_create(domain_or_url="caldea.com")
    with (samples_dir / SAMPLE).open("rb") as handle:
        stored = link_import_store(site=site, uploaded_file=File(handle, name="audit.csv"), created_by=None)
    assert link_import_run(import_id=stored.id).status == "succeeded"
    result = agreement(site)
    assert result.links == 13_250
    assert result.markers["provider_toxic"] == 0  # Semrush's verdict is left out of the comparison
    documented = DOCS.read_text().split("<!-- agreement:start -->\n")[1].split("<!-- agreement:end -->")[0]
    assert documented.strip() == markdown(result).strip()


def test_every_marker_is_documented_with_its_weight():
    text = DOCS.read_text()
    for marker in toxicity.MARKERS:
        assert f"| `{marker.code}` | {marker.name} | {marker.weight:+d} |" in text


def test_the_command_prints_the_documented_table_and_keeps_nothing(samples_dir, settings, tmp_path, capsys):
    settings.MEDIA_ROOT = str(tmp_path)
    call_command("toxicity_agreement", str(samples_dir / SAMPLE), "--site", "caldea.com")
    documented = DOCS.read_text().split("<!-- agreement:start -->\n")[1].split("<!-- agreement:end -->")[0]
    assert capsys.readouterr().out.strip() == documented.strip()
    assert not Site.objects.filter(domain="caldea.com").exists()  # a measurement, rolled back
