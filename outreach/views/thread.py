"""Actions of the prospect's thread block (``{% prospect_thread %}`` on the prospect page): stop
an enrollment, and in DEBUG only "simulate a reply" through the local mail sandbox."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from linkcrm.choices import Role
from linkcrm.permissions import role_required
from outreach.models import Enrollment
from outreach.selectors import enrollments_for_user, visible_prospects
from outreach.services.enrollments import enrollment_stop_by_person
from outreach.services.simulate import SimulationUnavailable, simulate_reply
from prospects.models import Prospect


@role_required(Role.OUTREACH)
@require_POST
def simulate(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a sandbox reply from the prospect's contact, sync the mailbox, back to the prospect."""
    if not settings.DEBUG:
        raise Http404("Only in DEBUG")
    try:
        prospect = visible_prospects(request.user).get(pk=pk)
    except Prospect.DoesNotExist:
        raise Http404("No such prospect") from None
    try:
        result = simulate_reply(prospect=prospect)
    except SimulationUnavailable as exc:
        messages.error(request, f"No reply simulated: {exc}.")
    except OSError as exc:
        messages.error(request, f"The sandbox SMTP server did not answer ({type(exc).__name__}): is the stack up?")
    else:
        messages.success(request, f"A reply from {result.answered.to_address} was delivered (synced).")
    url = reverse("prospects:prospect-detail", args=[prospect.project_id, prospect.pk])
    return HttpResponseRedirect(f"{url}#outreach-thread")


@role_required(Role.OUTREACH)
@require_POST
def enrollment_stop(request: HttpRequest, pk: int) -> HttpResponse:
    """Stop a running enrollment from the prospect's thread; its unsent messages are withdrawn."""
    try:
        enrollment = enrollments_for_user(request.user).get(pk=pk)
    except Enrollment.DoesNotExist:
        raise Http404("No such enrollment") from None
    if enrollment_stop_by_person(enrollment_id=enrollment.pk, by=request.user):
        messages.success(request, f"Stopped '{enrollment.sequence}' for {enrollment.prospect.domain}.")
    else:
        messages.info(request, "That sequence had already ended.")
    url = reverse("prospects:prospect-detail", args=[enrollment.prospect.project_id, enrollment.prospect_id])
    return HttpResponseRedirect(f"{url}#outreach-thread")


urlpatterns = [
    path("prospects/<int:pk>/simulate-reply/", simulate, name="simulate-reply"),
    path("enrollments/<int:pk>/stop/", enrollment_stop, name="enrollment-stop"),
]
