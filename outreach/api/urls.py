"""Outreach's API routes. Each API module registers its own viewsets through ``register(router)``."""

from rest_framework.routers import SimpleRouter

from outreach.api import enrollments, inbox, mailboxes, messages, sequences, templates

router = SimpleRouter()
for module in (mailboxes, templates, sequences, enrollments, messages, inbox):
    module.register(router)
urlpatterns = router.urls
