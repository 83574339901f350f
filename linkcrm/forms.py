"""Forms for accounts and user administration."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from linkcrm.choices import Role

User = get_user_model()

ROLE_FIELD_CHOICES = [("", "No role (no access)"), *Role.choices]


class UserCreateForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField(required=False)
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.OUTREACH)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("A user with this name already exists.")
        return username


class UserEditForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_FIELD_CHOICES, required=False)
    is_active = forms.BooleanField(required=False, label="Active (may log in)")
