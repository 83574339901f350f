from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from prospects.models import Project

User = get_user_model()


class ProjectSerializer(serializers.ModelSerializer):
    members = serializers.SlugRelatedField(many=True, read_only=True, slug_field="username")
    created_by = serializers.SlugRelatedField(read_only=True, slug_field="username")

    class Meta:
        model = Project
        fields = ["id", "name", "description", "members", "created_by", "created_at", "is_demo"]
        read_only_fields = ["id", "members", "created_by", "created_at", "is_demo"]


class MembersSerializer(serializers.Serializer):
    usernames = serializers.ListField(child=serializers.CharField(), allow_empty=True)

    def validate_usernames(self, value: list[str]) -> list:
        users = list(User.objects.filter(username__in=value, is_active=True))
        missing = sorted(set(value) - {user.username for user in users})
        if missing:
            raise serializers.ValidationError(f"unknown or inactive users: {', '.join(missing)}")
        return users
