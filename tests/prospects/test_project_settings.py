"""The project settings page: site, any number of competitors, terms, target pages, score weights."""

from __future__ import annotations

import pytest

from audit.models import Site
from audit.services import site_get_or_create
from prospects.models import Project, ProjectCompetitor, TargetPage
from prospects.services.projects import (
    ProjectSettingsError,
    project_add_competitors,
    project_add_member,
    project_set_site,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(cast) -> Project:
    project = Project.objects.create(name="Shop")
    project_add_member(project=project, user=cast["alice"], added_by=None)
    return project


def settings_url(project: Project) -> str:
    return f"/projects/{project.pk}/settings/"


def post(client, project: Project, **data: object):
    return client.post(settings_url(project), data, follow=True)


def test_only_managers_open_the_settings(project, cast, client_for):
    assert client_for(cast["alice"]).get(settings_url(project)).status_code == 403
    change = {"action": "site", "site": "x.com"}
    assert client_for(cast["alice"]).post(settings_url(project), change).status_code == 403
    assert client_for(cast["outsider"]).get(settings_url(project)).status_code == 403
    assert client_for(cast["manager"]).get(settings_url(project)).status_code == 200
    assert client_for(cast["manager"]).get("/projects/999999/settings/").status_code == 404
    project.refresh_from_db()
    assert project.site is None


def test_setting_the_site_folds_to_the_registrable_domain(project, cast, client_for):
    page = post(client_for(cast["manager"]), project, action="site", site="https://www.Shop.co.uk/boots").content
    project.refresh_from_db()
    assert project.site.domain == "shop.co.uk"
    assert "Your site is now shop.co.uk." in page.decode()
    post(client_for(cast["manager"]), project, action="site", site="")
    project.refresh_from_db()
    assert project.site is None


def test_a_public_suffix_is_not_a_site(project, cast, client_for):
    response = client_for(cast["manager"]).post(settings_url(project), {"action": "site", "site": "co.uk"})
    assert response.status_code == 400 and "not a registrable domain" in response.content.decode()
    assert not Site.objects.filter(domain="co.uk").exists()


def test_any_number_of_competitors_are_added_and_removed(project, cast, client_for):
    manager = client_for(cast["manager"])
    rivals = "\n".join(f"https://rival{n}.com/" for n in range(15)) + "\nrival3.com, www.rival4.com"
    page = post(manager, project, action="competitors", competitors=rivals).content.decode()
    assert project.competitors.count() == 15
    assert "Already competitors: rival3.com, rival4.com." in page
    rival = Site.objects.get(domain="rival7.com")
    post(manager, project, action="remove_competitor", site=str(rival.pk))
    assert project.competitors.count() == 14 and Site.objects.filter(domain="rival7.com").exists()
    page = post(manager, project, action="remove_competitor", site=str(rival.pk)).content.decode()
    assert "not a competitor of this project" in page


def test_the_own_site_cannot_be_a_competitor_and_the_reverse(project):
    project_set_site(project=project, domain_or_url="shop.com")
    values = ["shop.com", "www.alpha.com", "alpha.com", "", "org.br"]
    result = project_add_competitors(project=project, values=values)
    assert result.added == ["alpha.com"] and result.already == ["alpha.com"]
    assert [value for value, _ in result.refused] == ["shop.com", "org.br"]
    with pytest.raises(ProjectSettingsError, match="is a competitor"):
        project_set_site(project=project, domain_or_url="alpha.com")


def test_brand_terms_and_keywords(project, cast, client_for):
    post(client_for(cast["manager"]), project, action="terms", brand_terms="Shop\nShop Co, shop",
         keywords="hiking  boots\ntents\nHIKING BOOTS")  # fmt: skip
    project.refresh_from_db()
    assert project.brand_terms == ["Shop", "Shop Co"] and project.keywords == ["hiking boots", "tents"]


def test_a_term_too_long_changes_nothing(project, cast, client_for):
    response = client_for(cast["manager"]).post(
        settings_url(project), {"action": "terms", "brand_terms": "Shop", "keywords": "x" * 101}
    )
    assert response.status_code == 400 and "longer than 100 characters" in response.content.decode()
    project.refresh_from_db()
    assert project.brand_terms == [] and project.keywords == []


def test_target_pages_of_the_site(project, cast, client_for):
    site_get_or_create(domain_or_url="shop.com")
    project_set_site(project=project, domain_or_url="shop.com")
    manager = client_for(cast["manager"])
    post(manager, project, action="target_page", url="https://shop.com/boots/", label="Boots")
    response = manager.post(settings_url(project), {"action": "target_page", "url": "https://other.com/"})
    assert response.status_code == 400 and "not a page of shop.com" in response.content.decode()
    page = TargetPage.objects.get(project=project)
    assert (page.url, page.label) == ("https://shop.com/boots/", "Boots")
    post(manager, project, action="remove_target_page", target_page=str(page.pk))
    assert not TargetPage.objects.exists()


def test_score_weights(project, cast, client_for):
    weights = {"authority": 50, "competitors": 20, "freshness": 0, "follow": 10, "relevance": 10, "spam": 10}
    post(client_for(cast["manager"]), project, action="weights", **weights)
    project.refresh_from_db()
    assert project.score_weights == weights
    bad = {**weights, "authority": 101}
    response = client_for(cast["manager"]).post(settings_url(project), {"action": "weights", **bad})
    assert response.status_code == 400
    zeros = dict.fromkeys(weights, 0)
    response = client_for(cast["manager"]).post(settings_url(project), {"action": "weights", **zeros})
    assert "At least one weight must be above 0." in response.content.decode()
    project.refresh_from_db()
    assert project.score_weights == weights


def test_the_project_page_shows_what_it_compares(project, cast, client_for):
    project_set_site(project=project, domain_or_url="shop.com")
    ProjectCompetitor.objects.create(project=project, site=site_get_or_create(domain_or_url="alpha.com"))
    page = client_for(cast["alice"]).get(f"/projects/{project.pk}/").content.decode()
    assert "shop.com" in page and "alpha.com" in page and f"/projects/{project.pk}/gap/" in page
    assert f"/projects/{project.pk}/settings/" not in page  # outreach staff do not manage settings
