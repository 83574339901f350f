"""Site writes: registrable domains only, terms, and deletion guarded by projects."""

from __future__ import annotations

import pytest

from audit.models import Backlink, Site
from audit.services import SiteInUse, site_delete, site_get_or_create, site_update_terms
from linkcrm.lib.domains import DomainError
from prospects.models import Project

pytestmark = pytest.mark.django_db


def test_a_site_is_named_by_its_registrable_domain():
    assert site_get_or_create(domain_or_url="https://www.Blog.Example.co.uk/x").domain == "example.co.uk"
    assert Site.objects.count() == 1


@pytest.mark.parametrize("bad", ["co.uk", "localhost", "192.0.2.1", "http://10.0.0.1/"])
def test_what_is_not_a_registrable_domain_is_refused_saying_why(bad):
    with pytest.raises(DomainError, match="public suffix|IP address"):
        site_get_or_create(domain_or_url=bad)
    assert not Site.objects.exists()


def test_terms_are_stored():
    site = site_get_or_create(domain_or_url="example.com")
    site_update_terms(site_pk=site.pk, brand_terms=["Example"], money_terms=["tents"])
    site.refresh_from_db()
    assert (site.brand_terms, site.money_terms) == (["Example"], ["tents"])


def test_deleting_a_site_takes_its_links_along():
    site = site_get_or_create(domain_or_url="example.com")
    Backlink.objects.create(
        site=site, url_key="00000000-0000-0000-0000-000000000001", source_url="https://a.com/",
        source_host="a.com", source_domain="a.com", target_url="https://example.com/",
    )
    site_delete(site_pk=site.pk)
    assert not Site.objects.exists() and not Backlink.objects.exists()


def test_a_site_a_project_uses_is_kept_and_the_project_named():
    site = site_get_or_create(domain_or_url="example.com")
    Project.objects.create(name="Shop", site=site)
    with pytest.raises(SiteInUse, match="Shop"):
        site_delete(site_pk=site.pk)
    assert Site.objects.filter(pk=site.pk).exists()
