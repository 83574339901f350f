"""Email templates over the API: everyone reads and previews; admins create and edit (versioned)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from linkcrm.choices import Role
from linkcrm.permissions import HasRole
from outreach.models import EmailTemplate, TemplateVersion
from outreach.preview import preview_context
from outreach.rendering import TemplateRenderError, render_email
from outreach.selectors import mailboxes_sendable_by, visible_prospects
from outreach.services.templates import TemplateInvalid, template_save


class TemplateVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(read_only=True, slug_field="username")

    class Meta:
        model = TemplateVersion
        fields = ["number", "subject", "text", "html", "created_by", "created_at"]
        read_only_fields = fields


class TemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = EmailTemplate
        fields = ["id", "name", "subject", "text", "html", "version", "archived", "created_at", "updated_at"]
        read_only_fields = ["id", "version", "archived", "created_at", "updated_at"]
        extra_kwargs = {"html": {"required": False, "allow_blank": True, "trim_whitespace": False},
                        "text": {"trim_whitespace": False}}


class PreviewRequestSerializer(serializers.Serializer):
    subject = serializers.CharField(allow_blank=True, trim_whitespace=False)
    text = serializers.CharField(allow_blank=True, trim_whitespace=False)
    html = serializers.CharField(allow_blank=True, required=False, default="", trim_whitespace=False)
    prospect = serializers.IntegerField(required=False, allow_null=True, default=None,
                                        help_text="Render with this prospect's real context; else the sample.")


class TemplateErrorSerializer(serializers.Serializer):
    part = serializers.CharField()
    line = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()


class PreviewSerializer(serializers.Serializer):
    rendered_for = serializers.CharField()
    subject = serializers.CharField(allow_null=True)
    text = serializers.CharField(allow_null=True)
    html = serializers.CharField(allow_null=True)
    errors = TemplateErrorSerializer(many=True)


def _invalid(exc: TemplateInvalid) -> Response:
    """400 with every error as {part, line, message} (line stays a number, unlike ValidationError)."""
    return Response({"errors": TemplateErrorSerializer(exc.errors, many=True).data},
                    status=status.HTTP_400_BAD_REQUEST)


class TemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Templates with their current text; ``versions`` lists every saved text."""

    serializer_class = TemplateSerializer
    permission_classes = [HasRole]
    required_role = Role.OUTREACH
    queryset = EmailTemplate.objects.order_by("name")

    def get_permissions(self):
        self.required_role = Role.ADMIN if self.action in ("create", "partial_update", "update") else Role.OUTREACH
        return super().get_permissions()

    def create(self, request: Request) -> Response:
        """Create a template (validated against the sample context; errors by part and line)."""
        data = TemplateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            template = template_save(template=None, by=request.user, **data.validated_data)
        except TemplateInvalid as exc:
            return _invalid(exc)
        return Response(TemplateSerializer(template).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Change name/subject/text/html; a changed text becomes a new version."""
        template = self.get_object()
        data = TemplateSerializer(template, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = {"name": template.name, "subject": template.subject, "text": template.text,
                  "html": template.html, **data.validated_data}
        try:
            template = template_save(template=template, by=request.user, **fields)
        except TemplateInvalid as exc:
            return _invalid(exc)
        return Response(TemplateSerializer(template).data)

    @extend_schema(responses=TemplateVersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str | None = None) -> Response:
        versions = self.get_object().versions.select_related("created_by").order_by("-number")
        return Response(TemplateVersionSerializer(versions, many=True).data)

    @extend_schema(request=PreviewRequestSerializer, responses=PreviewSerializer)
    @action(detail=False, methods=["post"])
    def preview(self, request: Request) -> Response:
        """Render unsaved subject/text/html against the sample context or a prospect the caller can see."""
        data = PreviewRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        prospect = None
        if fields["prospect"] is not None:
            prospect = get_object_or_404(visible_prospects(request.user), pk=fields["prospect"])
        source = preview_context(prospect, mailboxes_sendable_by(request.user).first())
        answer = {"rendered_for": source.label, "subject": None, "text": None, "html": None, "errors": []}
        try:
            rendered = render_email({k: fields[k] for k in ("subject", "text", "html")}, source.context)
            answer.update(subject=rendered.subject, text=rendered.text, html=rendered.html)
        except TemplateRenderError as exc:
            answer["errors"] = exc.errors
        return Response(PreviewSerializer(answer).data)


def register(router: SimpleRouter) -> None:
    router.register("outreach/templates", TemplateViewSet, basename="outreach-template")
