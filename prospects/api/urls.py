"""Prospects' API routes. Each API module registers its own viewsets through ``register(router)``."""

from rest_framework.routers import SimpleRouter

from prospects.api import board, contacts, gap, monitoring, projects, removal

router = SimpleRouter()
for module in (projects, gap, board, contacts, monitoring, removal):
    module.register(router)
urlpatterns = router.urls
