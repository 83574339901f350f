"""Query-parameter parsing shared by outreach's API views."""

from __future__ import annotations

from collections.abc import Sequence

from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


def int_param(request: Request, name: str) -> int | None:
    """``?name=<digits>`` as an int; None when absent or empty; 400 when not a number."""
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise ValidationError({name: ["must be a number"]})
    return int(value)


def choice_param(request: Request, name: str, choices: Sequence[str]) -> str:
    """``?name=<one of choices>``; "" when absent or empty; 400 naming the choices otherwise."""
    value = request.query_params.get(name, "")
    if value and value not in choices:
        raise ValidationError({name: [f"one of {', '.join(choices)}"]})
    return value
