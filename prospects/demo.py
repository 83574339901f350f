"""The prospects part of the demo workspace: the demo project on the audit demo's sites.

The project promotes the audit demo's own site (``audit.demo.DEMO_SITE``) against its
competitors (``audit.demo.COMPETITORS``), whose imported profiles overlap, so every gap tab
has rows. It has the site's brand, topic keywords and a few target pages, and its best gap
rows (Best, then Missing) become scored prospects, as a user would create them from the gap;
``prospects.demo_pipeline`` then spreads the best of them over every stage of the pipeline.
``load()`` is idempotent: run it again and nothing changes; it returns the Project.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from audit import demo as audit_demo
from prospects import demo_pipeline
from prospects.choices import ProspectSource
from prospects.models import Project, Prospect
from prospects.selectors.gap import GapQuery, GapTab, gap_domains
from prospects.services.gap_prospects import prospects_create_from_gap_rows
from prospects.services.projects import (
    project_add_competitors,
    project_add_member,
    project_add_target_page,
    project_create,
    project_set_brand_terms,
    project_set_keywords,
    project_set_site,
)

DEMO_PROJECT = "Demo: Northwind Outdoor Gear"
KEYWORDS = ("hiking", "camping", "tents", "trail", "outdoor", "gear", "boots", "jackets")
TARGET_PAGES = (
    ("hiking-boots/", "Hiking boots"), ("tents/", "Tents"), ("blog/layering-guide/", "Layering guide"),
)  # fmt: skip
GAP_PROSPECTS = 80  # enough for every stage of the demo pipeline, few enough to read


@transaction.atomic
def load() -> Project:
    project = Project.objects.filter(is_demo=True, name=DEMO_PROJECT).first()
    if project is None:
        project = project_create(
            name=DEMO_PROJECT,
            created_by=None,
            description="A sample project to explore LinkCRM: our shop against two competitors.",
            is_demo=True,
        )
    for admin in get_user_model().objects.filter(is_superuser=True, is_active=True):
        project_add_member(project=project, user=admin, added_by=None)
    _compare(project)
    _prospects_from_gap(project)
    demo_pipeline.load(project)  # the best of them move through every stage (once)
    return project


def _compare(project: Project) -> None:
    """Site, competitors, terms and target pages from the audit demo (set once, left as edited)."""
    site = audit_demo.DEMO_SITE
    if project.site_id is None:
        project_set_site(project=project, domain_or_url=site.domain)
    if not project.competitors.exists():
        project_add_competitors(project=project, values=[rival.domain for rival in audit_demo.COMPETITORS])
    if not project.brand_terms:
        project_set_brand_terms(project=project, terms=[site.brand])
    if not project.keywords:
        project_set_keywords(project=project, keywords=KEYWORDS)
    if not project.target_pages.exists():
        for path, label in TARGET_PAGES:
            project_add_target_page(project=project, url=f"https://{site.domain}/{path}", label=label)


def _prospects_from_gap(project: Project) -> None:
    """The best gap rows as prospects, once (a project that has gap prospects is left alone)."""
    if Prospect.objects.filter(project=project, source=ProspectSource.GAP).exists():
        return
    best = gap_domains(project, GapQuery(tab=GapTab.BEST), limit=GAP_PROSPECTS)
    missing = gap_domains(project, GapQuery(tab=GapTab.MISSING, min_competitors=1), limit=GAP_PROSPECTS)
    domains = list(dict.fromkeys([*best, *missing]))[:GAP_PROSPECTS]
    if domains:
        prospects_create_from_gap_rows(project=project, domains=domains, created_by=None)
