"""The audit API: sites and their link profiles, imports with progress. Thin over selectors/services.

Any role may read every site (project scoping comes later); creating sites and imports and
cancelling imports needs Role.OUTREACH, the least role, like the pages.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from audit import selectors, services
from audit.api import serializers as s
from audit.importers.base import ImportRefused
from audit.models import LinkImport
from linkcrm.choices import Role
from linkcrm.lib.domains import DomainError
from linkcrm.permissions import HasRole

RefDomainPage = s.page_serializer("RefDomainPage", s.RefDomainSerializer)
TopPagePage = s.page_serializer("TopPagePage", s.TopPageSerializer)


def _query(serializer_class: type[serializers.Serializer], request: Request) -> serializers.Serializer:
    """Validated query parameters (400 with the reasons when they are not valid)."""
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query


def _refused(exc: ImportRefused) -> Response:
    """400 with why the file was refused and, when one line is to blame, which (a number)."""
    body: dict[str, Any] = {"detail": exc.message}
    if exc.line is not None:
        body["line"] = exc.line
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


class SiteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sites with their live counts; each site's link-profile figures as detail actions."""

    serializer_class = s.SiteSerializer
    permission_classes = [HasRole]
    required_role = Role.OUTREACH

    def get_queryset(self):
        return selectors.site_list_with_stats()

    @extend_schema(request=s.SiteCreateSerializer, responses={201: s.SiteSerializer})
    def create(self, request: Request) -> Response:
        """Add a site by domain or URL (folded to its registrable domain); existing ones are returned."""
        data = s.SiteCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            site = services.site_get_or_create(domain_or_url=data.validated_data["domain_or_url"])
        except DomainError as exc:
            raise ValidationError({"domain_or_url": [str(exc)]}) from None
        services.site_update_terms(site_pk=site.pk, brand_terms=data.validated_data["brand_terms"],
                        money_terms=data.validated_data["money_terms"])
        return Response(self.get_serializer(self.get_queryset().get(pk=site.pk)).data, status=201)

    @extend_schema(request=s.SiteTermsSerializer, responses=s.SiteSerializer)
    @action(detail=True, methods=["put", "patch"])
    def terms(self, request: Request, pk: str | None = None) -> Response:
        """Replace the brand and/or money terms the anchor categories are judged against."""
        site = self.get_object()
        data = s.SiteTermsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        terms = {"brand_terms": site.brand_terms, "money_terms": site.money_terms, **data.validated_data}
        services.site_update_terms(site_pk=site.pk, **terms)
        return Response(self.get_serializer(self.get_queryset().get(pk=site.pk)).data)

    @extend_schema(responses=s.OverviewSerializer)
    @action(detail=True)
    def overview(self, request: Request, pk: str | None = None) -> Response:
        return Response(s.OverviewSerializer(selectors.site_overview(self.get_object())).data)

    @extend_schema(parameters=[s.RefDomainQuerySerializer], responses=RefDomainPage)
    @action(detail=True)
    def refdomains(self, request: Request, pk: str | None = None) -> Response:
        """Referring domains, filtered, sorted and paginated exactly like the page's table."""
        query = _query(s.RefDomainQuerySerializer, request).to_query()
        page = selectors.refdomain_page(self.get_object(), query)
        return Response(s.page_data(page, s.RefDomainSerializer))

    @extend_schema(parameters=[s.AnchorQuerySerializer], responses=s.AnchorProfileSerializer)
    @action(detail=True)
    def anchors(self, request: Request, pk: str | None = None) -> Response:
        query = _query(s.AnchorQuerySerializer, request).validated_data
        site = self.get_object()
        profile = selectors.anchor_profile(site, category=query.get("category"), limit=query["limit"])
        return Response(s.AnchorProfileSerializer(profile).data)

    @extend_schema(parameters=[s.NewLostQuerySerializer], responses=s.NewLostSerializer)
    @action(detail=True, url_path="new-lost")
    def new_lost(self, request: Request, pk: str | None = None) -> Response:
        query = _query(s.NewLostQuerySerializer, request).validated_data
        series = selectors.new_lost_series(self.get_object(), period=query["period"], of=query["of"])
        points = [{"start": start, "new": new, "lost": lost} for start, new, lost in series.rows]
        body = {"period": series.period, "of": query["of"], "points": points}
        return Response(s.NewLostSerializer(body).data)

    @extend_schema(responses=s.DistributionSerializer)
    @action(detail=True)
    def tlds(self, request: Request, pk: str | None = None) -> Response:
        shares, others = selectors.tld_distribution(self.get_object(), limit=100)
        return Response(s.DistributionSerializer({"results": shares, "others": others}).data)

    @extend_schema(responses=s.DistributionSerializer)
    @action(detail=True)
    def countries(self, request: Request, pk: str | None = None) -> Response:
        shares, others = selectors.country_distribution(self.get_object(), limit=300)
        return Response(s.DistributionSerializer({"results": shares, "others": others}).data)

    @extend_schema(parameters=[s.TopPagesQuerySerializer], responses=TopPagePage)
    @action(detail=True, url_path="top-pages")
    def top_pages(self, request: Request, pk: str | None = None) -> Response:
        query = _query(s.TopPagesQuerySerializer, request).validated_data
        page = selectors.top_pages(self.get_object(), **query)
        return Response(s.page_data(page, s.TopPageSerializer))

    @extend_schema(parameters=[s.IpQuerySerializer], responses=s.IpDiversitySerializer)
    @action(detail=True, url_path="ip-subnets")
    def ip_subnets(self, request: Request, pk: str | None = None) -> Response:
        query = _query(s.IpQuerySerializer, request).validated_data
        diversity = selectors.ip_diversity(self.get_object(), min_domains=query["min_domains"])
        return Response(s.IpDiversitySerializer(diversity).data)


class LinkImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Imports of backlink exports: upload one (multipart), follow its progress, cancel it."""

    permission_classes = [HasRole]
    required_role = Role.OUTREACH
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self):
        imports = LinkImport.objects.select_related("created_by").order_by("-created_at", "-id")
        site = self.request.query_params.get("site")
        if self.action == "list" and site:
            if not site.isdigit():
                raise ValidationError({"site": ["A site id."]})
            imports = imports.filter(site_id=int(site))
        return imports

    def get_serializer_class(self):
        return s.LinkImportDetailSerializer if self.action == "retrieve" else s.LinkImportSerializer

    @extend_schema(parameters=[OpenApiParameter("site", int, description="Only this site's imports.")])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(request={"multipart/form-data": s.LinkImportCreateSerializer},
                   responses={201: s.LinkImportSerializer})
    def create(self, request: Request) -> Response:
        """Store the file, detect its format from the header and queue the import (400 if refused)."""
        data = s.LinkImportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            link_import = services.link_import_create(
                site=data.validated_data["site"], uploaded_file=data.validated_data["file"],
                created_by=request.user, column_mapping=data.validated_data["column_mapping"] or None,
                full_snapshot=data.validated_data["full_snapshot"],
            )
        except ImportRefused as exc:
            return _refused(exc)
        return Response(s.LinkImportSerializer(link_import).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.LinkImportSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Ask the import to stop: a queued one is cancelled at once, a running one rolls back."""
        link_import = self.get_object()
        services.link_import_cancel(link_import=link_import)
        return Response(s.LinkImportSerializer(link_import).data)

