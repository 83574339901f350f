"""Root URL configuration: the one place that composes every app's pages and API."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from audit.api.urls import router as audit_router
from linkcrm import views
from linkcrm.api import MeView
from outreach.api.urls import router as outreach_router
from outreach.urls import reports_urlpatterns
from prospects.api.urls import router as prospects_router
from prospects.views.projects import dashboard

api_router = DefaultRouter()
api_router.registry.extend(prospects_router.registry)
api_router.registry.extend(audit_router.registry)
api_router.registry.extend(outreach_router.registry)

urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("account/", views.account, name="account"),
    path("account/token/", views.account_token, name="account-token"),
    path("users/", views.users, name="users"),
    path("users/<int:pk>/", views.user_edit, name="user-edit"),
    path("", include("prospects.urls")),
    path("outreach/", include("outreach.urls")),
    path("reports/", include(reports_urlpatterns)),
    path("audit/", include("audit.urls")),
    path("admin/", admin.site.urls),
    path("api/me/", MeView.as_view(), name="api-me"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include(api_router.urls)),
]

handler403 = "linkcrm.views.permission_denied"
