"""Project-level API endpoints: who am I."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from linkcrm.permissions import user_role


class MeView(APIView):
    """The authenticated user and their role."""

    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "id": serializers.IntegerField(),
                "username": serializers.CharField(),
                "email": serializers.EmailField(),
                "role": serializers.CharField(),
            },
        )
    )
    def get(self, request: Request) -> Response:
        user = request.user
        role = user_role(user)
        return Response({"id": user.pk, "username": user.get_username(), "email": user.email, "role": role})
