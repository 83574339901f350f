"""Outreach URLs, composed from the view modules (each owns its own ``urlpatterns``)."""

from outreach.views import enroll, inbox, mailboxes, overview, sequences, templates, thread, unsubscribe
from outreach.views import reports as reports_views

app_name = "outreach"
urlpatterns = [
    *overview.urlpatterns,
    *mailboxes.urlpatterns,
    *templates.urlpatterns,
    *sequences.urlpatterns,
    *enroll.urlpatterns,
    *inbox.urlpatterns,
    *thread.urlpatterns,
    *unsubscribe.urlpatterns,
]

# Mounted at /reports/ under the "reports" namespace: reports are their own nav section.
reports_urlpatterns = (
    reports_views.urlpatterns,
    "reports",
)
