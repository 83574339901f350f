from django.urls import path

from outreach import views

app_name = "outreach"
urlpatterns = [
    path("", views.home, name="home"),
]

# Mounted at /reports/ under the "reports" namespace: reports are their own nav section.
reports_urlpatterns = (
    [path("", views.reports, name="home")],
    "reports",
)
