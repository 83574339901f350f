"""Prospects' pages. Each views module owns its own ``urlpatterns``; this file only joins them."""

from prospects.views import board, contacts, gap, monitoring, projects, removal

app_name = "prospects"
urlpatterns = [
    *projects.urlpatterns,
    *gap.urlpatterns,
    *board.urlpatterns,
    *contacts.urlpatterns,
    *removal.urlpatterns,
    *monitoring.urlpatterns,
]
