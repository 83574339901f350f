"""The reports pages: the funnel, rates and breakdowns, velocity, referring domains; exports; digest opt-in.

Thin: parse the filter, ask ``outreach.reports`` (which applies the role scope in SQL), render.
Outreach staff see only their own numbers; managers and admins everyone's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from linkcrm.choices import Role
from linkcrm.permissions import has_role, role_required
from outreach.models import ReportSubscription
from outreach.reports import charts
from outreach.reports.digest import digest_setup, subscription_set
from outreach.reports.export import to_csv, to_xlsx
from outreach.reports.forms import DEFAULT_DAYS, ReportFilterForm
from outreach.reports.formulas import FORMULAS
from outreach.reports.selectors import ReportFilter, scope_user_id
from outreach.reports.tables import TABLE_KEYS, report_data, shown, table_for
from prospects.models import Project
from prospects.selectors.projects import project_get_for_user

EXPORT_TYPES = {
    "csv": (to_csv, "text/csv; charset=utf-8"),
    "xlsx": (to_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def _filter(request: HttpRequest) -> tuple[ReportFilterForm, ReportFilter, Project | None]:
    """The form (bound to GET), the filter it gives (defaults when invalid) and the chosen project."""
    today = timezone.localdate()
    data = request.GET.copy()
    if not data.get("start") and not data.get("end"):  # show the default period in the date fields
        data["start"], data["end"] = (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(), today.isoformat()
    form = ReportFilterForm(data, user=request.user, today=today)
    if form.is_valid():
        cleaned = form.cleaned_data
    else:  # show the errors, count with the defaults
        fallback = ReportFilterForm({}, user=request.user, today=today)
        fallback.is_valid()
        cleaned = fallback.cleaned_data
    project = project_get_for_user(request.user, cleaned["project"]) if cleaned.get("project") else None
    report = ReportFilter(start=cleaned["start"], end=cleaned["end"], project_id=project.pk if project else None,
                          user_id=scope_user_id(request.user))  # fmt: skip
    return form, report, project


@role_required(Role.OUTREACH)
def home(request: HttpRequest) -> HttpResponse:
    form, report, project = _filter(request)
    data = report_data(report, project, timezone.now())
    tables = {key: shown(table) for key, table in data.tables.items()}
    context: dict[str, Any] = {
        "form": form, "report": report, "project": project, "data": data, "shown": tables,
        "breakdowns": [tables[key] for key in data.rates.breakdowns],
        "own_only": report.user_id is not None, "formulas": FORMULAS, "query": request.GET.urlencode(),
        "funnel_chart": charts.funnel_chart(data.funnel),
        "velocity_chart": charts.velocity_chart(data.acquisition),
        "monthly_chart": charts.monthly_reply_chart(data.rates.breakdowns["month"]),
        "growth_chart": charts.growth_chart(data.growth) if data.growth.months else None,
    }  # fmt: skip
    if has_role(request.user, Role.MANAGER):
        subscription = ReportSubscription.objects.filter(user=request.user).first()
        context["digest"] = {"setup": digest_setup(), "on": bool(subscription and subscription.weekly_digest)}
    return render(request, "outreach/reports/home.html", context)


@role_required(Role.OUTREACH)
def export(request: HttpRequest, table: str, fmt: str) -> HttpResponse:
    """One table as a CSV or XLSX download, for the same filter (and scope) as the page."""
    if table not in TABLE_KEYS or fmt not in EXPORT_TYPES:
        raise Http404("No such report table or format")
    _form, report, project = _filter(request)
    writer, content_type = EXPORT_TYPES[fmt]
    response = HttpResponse(writer(table_for(table, report, project, timezone.now())), content_type=content_type)
    name = f"linkcrm-{table}-{report.start:%Y%m%d}-{report.end:%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@role_required(Role.MANAGER)
@require_POST
def digest(request: HttpRequest) -> HttpResponse:
    """Turn the weekly digest on (``weekly=on``) or off for the current manager."""
    on = request.POST.get("weekly") == "on"
    subscription_set(user=request.user, weekly_digest=on)
    messages.success(request, "Weekly digest turned on." if on else "Weekly digest turned off.")
    return redirect("reports:home")


urlpatterns = [
    path("", home, name="home"),
    path("export/<slug:table>.<slug:fmt>", export, name="export"),
    path("digest/", digest, name="digest"),
]
