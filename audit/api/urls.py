from rest_framework.routers import SimpleRouter

from audit.api import audit_api
from audit.api.views import LinkImportViewSet, SiteViewSet

router = SimpleRouter()
router.register("audit/sites", SiteViewSet, basename="audit-site")
router.register("audit/imports", LinkImportViewSet, basename="audit-import")
audit_api.register(router)
urlpatterns = router.urls
