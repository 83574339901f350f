from rest_framework.routers import SimpleRouter

from audit.api.views import LinkImportViewSet, SiteViewSet

router = SimpleRouter()
router.register("audit/sites", SiteViewSet, basename="audit-site")
router.register("audit/imports", LinkImportViewSet, basename="audit-import")
urlpatterns = router.urls
