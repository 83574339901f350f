"""Toxicity audit: each marker fires on the fact it names, scores add up and clamp, bands follow
the settings, domains take their worst live link, runs publish their outcome, imports queue one."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit import services, toxicity
from audit.choices import ImportStatus, ToxicityBand, ToxicityRunStatus
from audit.models import LinkToxicity, RefDomainToxicity, Site, ToxicityRun
from tests.audit.profile_world import link, refdomain

pytestmark = pytest.mark.django_db


def _site() -> Site:
    return Site.objects.create(domain="acme.com", brand_terms=["acme"], money_terms=["blue widgets"])


def _scored(backlink) -> LinkToxicity:
    """The link's score row; a link scoring 0 has none (a row-less stand-in with no markers)."""
    return LinkToxicity.objects.filter(backlink_id=backlink.id).first() or LinkToxicity(score=0, markers=0)


def _codes(mask: int) -> set[str]:
    return {marker.code for marker in toxicity.markers_of(mask)}


def test_it_fires_each_link_marker_on_its_fact():
    site = _site()
    refdomain(site, "plain.com", semrush_ascore=40)
    plain = link(site, "https://plain.com/a", anchor="Acme")
    money = link(site, "https://plain.com/b", anchor=" Blue Widgets ")
    compound = link(site, "https://plain.com/c", anchor="acme great stuff")
    sitewide = link(site, "https://plain.com/d", sitewide=True)
    crowded = link(site, "https://plain.com/e", external_links=500)
    casino = link(site, "https://plain.com/best-casino-bonus", source_title="Reviews")
    flagged = link(site, "https://plain.com/g", ahrefs_is_spam=True, semrush_toxic_score=75)
    nofollow = link(site, "https://plain.com/h", nofollow=True)
    lost = link(site, "https://plain.com/i", lost_at=date(2025, 1, 1))
    image = link(site, "https://plain.com/j", anchor="blue widgets", link_type="image")

    result = toxicity.toxicity_score_site(site=site)

    assert result.links == 10
    assert _scored(plain).markers == 0 and _scored(plain).score == 0
    assert _codes(_scored(money).markers) == {"money_anchor"}
    assert _scored(money).score == toxicity.MARKERS_BY_CODE["money_anchor"].weight
    assert _codes(_scored(compound).markers) == {"compound_anchor"}
    assert _codes(_scored(sitewide).markers) == {"sitewide"}
    assert _codes(_scored(crowded).markers) == {"many_external"}
    assert _codes(_scored(casino).markers) == {"spam_words"}
    assert _codes(_scored(flagged).markers) == {"provider_spam", "provider_toxic"}
    assert _scored(flagged).score == 80
    # Negative weights never go below 0, and a link scoring 0 is not stored (nothing to review).
    assert not LinkToxicity.objects.filter(backlink_id__in=[nofollow.id, lost.id, plain.id]).exists()
    assert _scored(image).markers == 0  # an image's "anchor" is alt text
    assert LinkToxicity.objects.filter(site=site).count() == 6


def test_it_fires_domain_markers_from_referring_domain_facts():
    site = _site()
    for n in range(3):  # three domains on one /24: a network
        refdomain(site, f"net{n}.com", ip=f"203.0.113.{n + 1}", semrush_ascore=30)
        link(site, f"https://net{n}.com/p")
    refdomain(site, "cheap.xyz", tld="xyz", semrush_ascore=30)
    refdomain(site, "best-cheap-links-4you.com", semrush_ascore=30)
    refdomain(site, "nobody.com", semrush_ascore=2)
    refdomain(site, "alone.com", ip="198.51.100.7", semrush_ascore=30)
    tld = link(site, "https://cheap.xyz/p")
    pattern = link(site, "https://best-cheap-links-4you.com/p")
    weak = link(site, "https://nobody.com/p")
    alone = link(site, "https://alone.com/p")

    toxicity.toxicity_score_site(site=site)

    assert _codes(LinkToxicity.objects.get(backlink_id=site.backlinks.get(source_domain="net0.com").id).markers) == {
        "link_network"
    }
    assert _codes(_scored(tld).markers) == {"spam_tld"}
    assert _codes(_scored(pattern).markers) == {"domain_pattern"}
    assert _codes(_scored(weak).markers) == {"low_authority"}
    assert _scored(alone).markers == 0


def test_scores_clamp_at_100_and_bands_follow_the_settings(settings):
    site = _site()
    refdomain(site, "spam-site-99999.xyz", tld="xyz", semrush_ascore=0)
    worst = link(site, "https://spam-site-99999.xyz/casino", anchor="blue widgets", sitewide=True,
                 ahrefs_is_spam=True, semrush_toxic_score=100)
    toxicity.toxicity_score_site(site=site)
    assert _scored(worst).score == 100
    assert toxicity.band_of(60) == ToxicityBand.TOXIC
    assert toxicity.band_of(59) == ToxicityBand.POTENTIAL
    assert toxicity.band_of(44) == ToxicityBand.NON_TOXIC
    settings.LINKCRM_TOXIC_MIN = 80
    settings.LINKCRM_POTENTIALLY_TOXIC_MIN = 50
    assert toxicity.band_of(60) == ToxicityBand.POTENTIAL
    assert toxicity.band_range(ToxicityBand.POTENTIAL) == (50, 79)


def test_a_domain_scores_as_its_worst_live_link_and_rescoring_replaces():
    site = _site()
    refdomain(site, "two.com", semrush_ascore=30)
    link(site, "https://two.com/a", anchor="blue widgets")  # 20
    link(site, "https://two.com/b", anchor="blue widgets", sitewide=True, external_links=999,
         lost_at=date(2025, 1, 1))  # 20 + 10 + 15 - 20 = 25, but lost
    toxicity.toxicity_score_site(site=site)
    domain = RefDomainToxicity.objects.get(site=site, domain="two.com")
    assert (domain.score, domain.links) == (20, 2)
    assert _codes(domain.markers) == {"money_anchor", "sitewide", "many_external", "lost"}
    assert _scored(site.backlinks.get(source_url="https://two.com/b")).score == 25

    site.backlinks.filter(source_url="https://two.com/a").update(sitewide=True)
    toxicity.toxicity_score_site(site=site)
    assert LinkToxicity.objects.filter(site=site).count() == 2
    assert RefDomainToxicity.objects.get(site=site, domain="two.com").score == 30


def test_provider_flags_can_be_left_out():
    site = _site()
    flagged = link(site, "https://plain.com/g", ahrefs_is_spam=True, semrush_toxic_score=50)
    toxicity.toxicity_score_site(site=site, use_provider_flags=False)
    assert _scored(flagged).markers == 0


def test_a_run_publishes_its_outcome():
    site = _site()
    link(site, "https://plain.com/a", anchor="blue widgets")
    run = ToxicityRun.objects.create(site=site, steps_total=4)
    done = toxicity.toxicity_run(run_id=run.id)
    assert (done.status, done.links_scored, done.domains_scored) == (ToxicityRunStatus.SUCCEEDED, 1, 1)
    assert done.finished_at is not None
    assert toxicity.toxicity_run(run_id=run.id).finished_at == done.finished_at  # not run twice


def test_a_successful_import_queues_a_scoring_on_commit(django_capture_on_commit_callbacks, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    site = _site()
    csv = (b"Source url,Target url,Anchor,Nofollow\n"
           b"https://blog.example.org/a,https://acme.com/,blue widgets,false\n")
    upload = SimpleUploadedFile("links.csv", csv)
    mapping = {"source_url": "Source url", "target_url": "Target url", "anchor": "Anchor"}
    with django_capture_on_commit_callbacks():
        link_import = services.link_import_store(site=site, uploaded_file=upload, created_by=None,
                                                 column_mapping=mapping)
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.link_import_run(import_id=link_import.id).status == ImportStatus.SUCCEEDED
    run = ToxicityRun.objects.get(site=site)
    assert (run.status, run.link_import_id) == (ToxicityRunStatus.QUEUED, link_import.id)
    assert len(callbacks) == 1
