"""Contacts and do-not-contact lists over the API (registered by prospects/api/urls.py).

Reads are scoped by project membership through the selectors; writes go through the
services. Like the pages: members add and edit contacts, run discovery and add to their
project's list; removing entries and anything global needs a manager.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from linkcrm.choices import Role
from linkcrm.permissions import HasRole, has_role
from prospects.choices import SuppressionKind
from prospects.models import Contact, Project, Suppression
from prospects.selectors.contacts import (
    contact_list_for_user,
    prospect_for_contacts,
    suppression_list_for_user,
)
from prospects.selectors.projects import project_list_for_user
from prospects.services.contacts import (
    ContactError,
    contact_add,
    contact_delete,
    contact_set_primary,
    contact_update,
    contacts_discover_enqueue,
)
from prospects.services.suppression import (
    SuppressionError,
    suppression_add,
    suppression_import,
    suppression_match,
    suppression_remove,
)

# --- serializers -------------------------------------------------------------------------


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = ["id", "prospect", "email", "name", "role", "source", "source_url", "email_status",
                  "is_primary", "created_at"]
        read_only_fields = ["id", "prospect", "source", "source_url", "email_status", "is_primary",
                            "created_at"]


class ContactCreateSerializer(serializers.Serializer):
    prospect = serializers.IntegerField()
    email = serializers.CharField(max_length=254)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    role = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    make_primary = serializers.BooleanField(required=False, default=False)


class ContactUpdateSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254, required=False)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    role = serializers.CharField(max_length=100, required=False, allow_blank=True)


class DiscoverSerializer(serializers.Serializer):
    prospect = serializers.IntegerField()


class SuppressionSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(read_only=True, slug_field="username")

    class Meta:
        model = Suppression
        fields = ["id", "project", "kind", "value", "reason", "created_by", "created_at"]
        read_only_fields = fields


class SuppressionCreateSerializer(serializers.Serializer):
    project = serializers.IntegerField(allow_null=True, required=False, default=None,
                                       help_text="Project id; null or absent for the global list.")
    value = serializers.CharField(max_length=2048, help_text="An email address, a domain or a URL.")
    kind = serializers.ChoiceField(choices=SuppressionKind.choices, required=False, allow_null=True,
                                   default=None, help_text="Forces the reading; else guessed from the value.")
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class SuppressionImportSerializer(serializers.Serializer):
    project = serializers.IntegerField(allow_null=True, required=False, default=None)
    text = serializers.CharField(help_text="One email or domain per line, optionally followed by ,reason.")
    skip_invalid = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class SuppressionImportResultSerializer(serializers.Serializer):
    added = serializers.IntegerField()
    existing = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())


class SuppressionCheckSerializer(serializers.Serializer):
    suppressed = serializers.BooleanField()
    entry = SuppressionSerializer(allow_null=True)


def _contact_error(exc: ContactError) -> ValidationError:
    return ValidationError({exc.field: [str(exc)]})


# --- contacts ------------------------------------------------------------------------------


class ContactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Contacts of prospects in the caller's projects. Filter with ``?prospect=`` or ``?project=``."""

    serializer_class = ContactSerializer
    permission_classes = [HasRole]
    required_role = Role.OUTREACH

    def get_queryset(self):
        contacts = contact_list_for_user(self.request.user).order_by("prospect_id", "-is_primary", "email")
        for parameter, lookup in (("prospect", "prospect_id"), ("project", "prospect__project_id")):
            value = self.request.query_params.get(parameter)
            if value is not None:
                if not value.isdigit():
                    raise ValidationError({parameter: ["must be a number"]})
                contacts = contacts.filter(**{lookup: int(value)})
        return contacts

    @extend_schema(request=ContactCreateSerializer, responses={201: ContactSerializer})
    def create(self, request: Request) -> Response:
        """Add a contact (checked: valid address, not on a do-not-contact list, not a duplicate)."""
        data = ContactCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        prospect = prospect_for_contacts(request.user, fields.pop("prospect"))
        try:
            contact = contact_add(prospect=prospect, **fields)
        except ContactError as exc:
            raise _contact_error(exc) from None
        return Response(ContactSerializer(contact).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ContactUpdateSerializer, responses=ContactSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        contact = self.get_object()
        data = ContactUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            contact = contact_update(contact_id=contact.pk, **data.validated_data)
        except ContactError as exc:
            raise _contact_error(exc) from None
        return Response(ContactSerializer(contact).data)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        contact_delete(contact_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=ContactSerializer)
    @action(detail=True, methods=["post"])
    def primary(self, request: Request, pk: str | None = None) -> Response:
        """Make this contact its prospect's primary contact."""
        contact_set_primary(contact_id=self.get_object().pk)
        return Response(ContactSerializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(request=DiscoverSerializer, responses={202: DiscoverSerializer})
    @action(detail=False, methods=["post"])
    def discover(self, request: Request) -> Response:
        """Queue a search for contacts on the prospect's site; new contacts appear when it is done."""
        data = DiscoverSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        prospect = prospect_for_contacts(request.user, data.validated_data["prospect"])
        contacts_discover_enqueue(prospect_id=prospect.pk)
        return Response({"prospect": prospect.pk}, status=status.HTTP_202_ACCEPTED)


# --- do-not-contact ------------------------------------------------------------------------


class SuppressionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Do-not-contact entries: the global list and those of the caller's projects.

    ``?project=<id>`` lists one project's entries, ``?project=global`` the global ones.
    """

    serializer_class = SuppressionSerializer
    permission_classes = [HasRole]
    required_role = Role.OUTREACH

    def get_permissions(self):
        self.required_role = Role.MANAGER if self.action == "destroy" else Role.OUTREACH
        return super().get_permissions()

    def get_queryset(self):
        entries = suppression_list_for_user(self.request.user).order_by("kind", "value", "id")
        scope = self.request.query_params.get("project")
        if scope == "global":
            return entries.filter(project__isnull=True)
        if scope is not None:
            if not scope.isdigit():
                raise ValidationError({"project": ["a project id or 'global'"]})
            return entries.filter(project_id=int(scope))
        return entries

    def _target_project(self, project_id: int | None) -> Project | None:
        """The project to write to (the caller must see it), or None for global (managers only)."""
        if project_id is None:
            if not has_role(self.request.user, Role.MANAGER):
                raise PermissionDenied("Only managers change the global do-not-contact list.")
            return None
        return get_object_or_404(project_list_for_user(self.request.user), pk=project_id)

    @extend_schema(request=SuppressionCreateSerializer,
                   responses={201: SuppressionSerializer, 200: SuppressionSerializer})
    def create(self, request: Request) -> Response:
        """Add an email or domain (normalised); an existing entry is returned with 200."""
        data = SuppressionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = self._target_project(data.validated_data["project"])
        try:
            entry, created = suppression_add(
                project=project, value=data.validated_data["value"], kind=data.validated_data["kind"],
                reason=data.validated_data["reason"], created_by=request.user,
            )
        except SuppressionError as exc:
            raise ValidationError({"value": [str(exc)]}) from None
        return Response(SuppressionSerializer(entry).data, status=201 if created else 200)

    def destroy(self, request: Request, pk: str | None = None) -> Response:
        suppression_remove(suppression_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=SuppressionImportSerializer, responses=SuppressionImportResultSerializer)
    @action(detail=False, methods=["post"], url_path="import")
    def import_lines(self, request: Request) -> Response:
        """Add many entries; any bad line makes it 400 with nothing written, unless ``skip_invalid``."""
        data = SuppressionImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = self._target_project(data.validated_data["project"])
        options = data.validated_data
        result = suppression_import(project=project, text=options["text"], created_by=request.user,
                                    reason=options["reason"], skip_invalid=options["skip_invalid"])
        body = {"added": result.added, "existing": result.existing,
                "errors": [{"line": line, "text": text, "why": why} for line, text, why in result.errors]}
        failed = result.errors and not options["skip_invalid"]
        return Response(body, status=status.HTTP_400_BAD_REQUEST if failed else status.HTTP_200_OK)

    @extend_schema(
        parameters=[OpenApiParameter("project", int, required=False),
                    OpenApiParameter("email", str, required=False),
                    OpenApiParameter("domain", str, required=False)],
        responses=SuppressionCheckSerializer,
    )
    @action(detail=False, methods=["get"])
    def check(self, request: Request) -> Response:
        """Whether ``email``/``domain`` is on ``project``'s or the global list, and which entry says so."""
        project_id = request.query_params.get("project")
        project = self._readable_project(project_id)
        entry = suppression_match(project=project, email=request.query_params.get("email"),
                                  domain=request.query_params.get("domain"))
        return Response({"suppressed": entry is not None,
                         "entry": SuppressionSerializer(entry).data if entry else None})

    def _readable_project(self, project_id: str | None) -> Project | None:
        if project_id in (None, ""):
            return None
        if not project_id.isdigit():
            raise ValidationError({"project": ["must be a number"]})
        return get_object_or_404(project_list_for_user(self.request.user), pk=int(project_id))


def register(router: SimpleRouter) -> None:
    """Add this module's viewsets to the API router."""
    router.register("contacts", ContactViewSet, basename="contact")
    router.register("suppressions", SuppressionViewSet, basename="suppression")
