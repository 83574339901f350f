"""Outreach URLs, composed from the view modules (each owns its own ``urlpatterns``)."""

from django.urls import path

from outreach.views import pages

app_name = "outreach"
urlpatterns = [
    path("", pages.home, name="home"),
]

# Mounted at /reports/ under the "reports" namespace: reports are their own nav section.
reports_urlpatterns = (
    [path("", pages.reports, name="home")],
    "reports",
)
