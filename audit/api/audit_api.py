"""The API of the toxicity audit, the review and the disavow file; ``{pk}`` is the site's id.

Same roles as the pages (audit.views_audit): any role reads and re-runs the audit, checks a
file and downloads versions; decisions, imports, exports and removals need Role.MANAGER.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from audit import audit_selectors, review, toxicity
from audit.api.serializers import page_data, page_serializer
from audit.audit_selectors import FindingsQuery
from audit.choices import ReviewStatus, ToxicityBand
from audit.disavow import DisavowCheck, DisavowRefused, parse_disavow
from audit.models import DisavowEntry, DisavowVersion, ReviewDecision, Site, ToxicityRun
from linkcrm.choices import Role
from linkcrm.permissions import HasRole

# --- serializers -------------------------------------------------------------------------------


class MarkerSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    weight = serializers.IntegerField()
    reason = serializers.CharField()


class FindingSerializer(serializers.Serializer):
    domain = serializers.CharField()
    backlink_id = serializers.IntegerField(allow_null=True)
    source_url = serializers.CharField()
    anchor = serializers.CharField()
    score = serializers.IntegerField()
    band = serializers.CharField()
    markers = MarkerSerializer(many=True)
    status = serializers.CharField()
    links = serializers.IntegerField()
    toxic_links = serializers.IntegerField()


class FindingsQuerySerializer(serializers.Serializer):
    by = serializers.ChoiceField(choices=["domains", "links"], default="domains")
    band = serializers.ChoiceField(choices=ToxicityBand.values, required=False)
    status = serializers.ChoiceField(choices=ReviewStatus.values, required=False)
    marker = serializers.ChoiceField(choices=[m.code for m in toxicity.MARKERS], required=False)
    q = serializers.CharField(required=False, max_length=253)
    page = serializers.IntegerField(required=False, min_value=1, default=1)


class RunSerializer(serializers.ModelSerializer):
    class Meta:
        model = ToxicityRun
        fields = ["id", "status", "step", "steps_done", "steps_total", "links_scored", "domains_scored", "error",
                  "created_at", "started_at", "finished_at"]  # fmt: skip


class SummarySerializer(serializers.Serializer):
    links = serializers.DictField(child=serializers.IntegerField())
    domains = serializers.DictField(child=serializers.IntegerField())
    run = RunSerializer(allow_null=True)
    markers = MarkerSerializer(many=True)


class DecisionSerializer(serializers.ModelSerializer):
    decided_by = serializers.StringRelatedField()

    class Meta:
        model = ReviewDecision
        fields = ["id", "domain", "backlink_id", "source_url", "status", "reason", "decided_by", "decided_at"]


class DecisionCreateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ReviewStatus.values)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    domains = serializers.ListField(child=serializers.CharField(max_length=253), required=False, default=list)
    links = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs["domains"] and not attrs["links"]:
            raise serializers.ValidationError("Give domains and/or links.")
        return attrs


class EntrySerializer(serializers.ModelSerializer):
    line = serializers.CharField(source="__str__")
    added_by = serializers.StringRelatedField()

    class Meta:
        model = DisavowEntry
        fields = ["id", "line", "kind", "value", "domain", "reason", "origin", "added_by", "added_at"]


class VersionSerializer(serializers.ModelSerializer):
    created_by = serializers.StringRelatedField()

    class Meta:
        model = DisavowVersion
        fields = ["number", "lines", "size", "created_by", "created_at", "content"]


class IssueSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    severity = serializers.CharField()
    message = serializers.CharField()


class CheckSerializer(serializers.Serializer):
    google_would_reject = serializers.BooleanField()
    lines = serializers.IntegerField()
    entries = serializers.IntegerField()
    issues = IssueSerializer(many=True)


class DisavowUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    accept_warnings = serializers.BooleanField(required=False, default=False)


class DiffSerializer(serializers.Serializer):
    added = serializers.ListField(child=serializers.CharField())
    removed = serializers.ListField(child=serializers.CharField())
    unified = serializers.ListField(child=serializers.CharField())


FindingPage = page_serializer("FindingPage", FindingSerializer)


def _check_data(check: DisavowCheck) -> dict[str, Any]:
    issues = [{"line": i.line, "severity": str(i.severity), "message": i.message} for i in check.issues]
    return {"google_would_reject": check.google_would_reject, "lines": check.lines,
            "entries": len(check.entries), "issues": issues}  # fmt: skip


def _finding(row: audit_selectors.Finding) -> dict[str, Any]:
    return {**row.__dict__, "band": str(row.band), "markers": [m.__dict__ for m in row.markers]}


# --- viewsets ----------------------------------------------------------------------------------


class _SiteScoped(viewsets.ViewSet):
    """Detail routes keyed by a site id; writes (``manager_actions``) need Role.MANAGER."""

    permission_classes = [HasRole]
    required_role = Role.OUTREACH
    manager_actions: frozenset[str] = frozenset()
    queryset = Site.objects.all()  # tells the schema that {pk} is a site's integer id

    def get_permissions(self):
        write = self.action in self.manager_actions and self.request.method not in ("GET", "HEAD", "OPTIONS")
        self.required_role = Role.MANAGER if write else Role.OUTREACH
        return super().get_permissions()

    def site(self, pk: str | None) -> Site:
        return get_object_or_404(Site, pk=pk)


class ToxicityViewSet(_SiteScoped):
    """A site's toxicity: band counts and the latest run, findings, re-run, review decisions."""

    manager_actions = frozenset({"decisions"})

    @extend_schema(responses=SummarySerializer)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        summary = audit_selectors.audit_summary(self.site(pk))
        body = {"links": summary.links, "domains": summary.domains, "run": summary.run,
                "markers": [m.__dict__ for m in toxicity.MARKERS]}  # fmt: skip
        return Response(SummarySerializer(body).data)

    @extend_schema(parameters=[FindingsQuerySerializer], responses=FindingPage)
    @action(detail=True)
    def findings(self, request: Request, pk: str | None = None) -> Response:
        """Scored referring domains (``by=domains``) or links, worst first, with markers and status."""
        query = FindingsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = audit_selectors.findings_page(self.site(pk), FindingsQuery(**query.validated_data))
        body = page_data(page, FindingSerializer)
        body["results"] = FindingSerializer([_finding(row) for row in page.rows], many=True).data
        return Response(body)

    @extend_schema(request=None, responses={202: RunSerializer})
    @action(detail=True, methods=["post"])
    def rerun(self, request: Request, pk: str | None = None) -> Response:
        """Queue a fresh scoring; follow it through this resource's ``run``."""
        run = toxicity.toxicity_run_queue(site=self.site(pk), requested_by=request.user)
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(methods=["GET"], responses=DecisionSerializer(many=True))
    @extend_schema(methods=["POST"], request=DecisionCreateSerializer, responses={201: DecisionSerializer(many=True)})
    @action(detail=True, methods=["get", "post"])
    def decisions(self, request: Request, pk: str | None = None) -> Response:
        """The decision history (newest first); POST records a decision on domains and/or links."""
        site = self.site(pk)
        if request.method == "GET":
            return Response(DecisionSerializer(audit_selectors.decision_history(site), many=True).data)
        data = DecisionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            made = review.review_decide(site=site, status=data.validated_data["status"], user=request.user,
                                        reason=data.validated_data["reason"], domains=data.validated_data["domains"],
                                        backlink_ids=data.validated_data["links"])  # fmt: skip
        except review.ReviewError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(DecisionSerializer(made, many=True).data, status=status.HTTP_201_CREATED)


class DisavowViewSet(_SiteScoped):
    """A site's disavow list: entries, check or import a file, export versions, diff two."""

    manager_actions = frozenset({"import_file", "export", "remove"})
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(responses=EntrySerializer(many=True))
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(EntrySerializer(audit_selectors.disavow_entries(self.site(pk)), many=True).data)

    @extend_schema(request={"multipart/form-data": DisavowUploadSerializer}, responses=CheckSerializer)
    @action(detail=True, methods=["post"])
    def check(self, request: Request, pk: str | None = None) -> Response:
        """Check a file line by line without importing it."""
        data = DisavowUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        own, tracked = review.disavow_domains_for(self.site(pk))
        check = parse_disavow(data.validated_data["file"].read(), own_domains=own, tracked_domains=tracked)
        return Response(CheckSerializer(_check_data(check)).data)

    @extend_schema(request={"multipart/form-data": DisavowUploadSerializer}, responses={201: CheckSerializer})
    @action(detail=True, methods=["post"], url_path="import")
    def import_file(self, request: Request, pk: str | None = None) -> Response:
        """Import a file's entries; 400 with every issue (nothing imported) on errors or unconfirmed warnings."""
        data = DisavowUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        try:
            result = review.disavow_import(site=self.site(pk), data=upload.read(), user=request.user,
                                           accept_warnings=data.validated_data["accept_warnings"],
                                           file_name=upload.name or "")  # fmt: skip
        except review.DisavowFileRefused as exc:
            return Response({"detail": str(exc), **_check_data(exc.check)}, status=status.HTTP_400_BAD_REQUEST)
        body = {**_check_data(result.check), "added": result.added, "already": result.already}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: VersionSerializer})
    @action(detail=True, methods=["post"])
    def export(self, request: Request, pk: str | None = None) -> Response:
        """Store the current list as the next version (400 past Google's limits)."""
        try:
            version = review.disavow_export(site=self.site(pk), user=request.user)
        except DisavowRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(VersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, parameters=[OpenApiParameter("entry", int, description="The entry's id.")],
                   responses={204: None})  # fmt: skip
    @action(detail=True, methods=["post"])
    def remove(self, request: Request, pk: str | None = None) -> Response:
        """Take one entry (``?entry=<id>``) off the list."""
        entry = str(request.query_params.get("entry") or request.data.get("entry") or "")
        if not entry.isdigit():
            return Response({"entry": ["An entry id."]}, status=status.HTTP_400_BAD_REQUEST)
        if not review.disavow_entry_remove(site=self.site(pk), entry_id=int(entry), user=request.user):
            return Response({"detail": "not on the list"}, status=status.HTTP_404_NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=VersionSerializer(many=True))
    @action(detail=True)
    def versions(self, request: Request, pk: str | None = None) -> Response:
        """Every stored version, newest first, with its content."""
        return Response(VersionSerializer(audit_selectors.disavow_versions(self.site(pk)), many=True).data)

    @extend_schema(parameters=[OpenApiParameter("a", int, required=True), OpenApiParameter("b", int, required=True)],
                   responses=DiffSerializer)  # fmt: skip
    @action(detail=True)
    def diff(self, request: Request, pk: str | None = None) -> Response:
        """Entries added and removed from version ``a`` to version ``b``, and the unified text diff."""
        from audit.disavow import diff_disavow

        site = self.site(pk)
        numbers = [request.query_params.get(name, "") for name in ("a", "b")]
        if not all(n.isdigit() for n in numbers):
            return Response({"detail": "give two version numbers as a and b"}, status=status.HTTP_400_BAD_REQUEST)
        old, new = (get_object_or_404(DisavowVersion, site=site, number=int(n)) for n in numbers)
        diff = diff_disavow(old.content, new.content, old_label=f"version {old.number}",
                            new_label=f"version {new.number}")  # fmt: skip
        return Response(DiffSerializer(diff.__dict__).data)


def register(router: Any) -> None:
    router.register("audit/toxicity", ToxicityViewSet, basename="audit-toxicity")
    router.register("audit/disavow", DisavowViewSet, basename="audit-disavow")
