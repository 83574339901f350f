"""Walk every URL pattern of a URLconf and build a concrete path for each."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

# A sample value for every URL keyword the project uses. A new keyword without one fails the
# walk with its name, so whoever adds it also says how to build a URL for it.
SAMPLE_KWARGS: dict[str, str] = {
    "pk": "999999",
    "id": "999999",
    "project_pk": "999999",
    "site_pk": "999999",
    "object_id": "999999",
    "content_type_id": "999999",
    "app_label": "auth",
    "format": "json",
    "url": "x",
    "token": "x",
    "slug": "x",
    "uidb64": "x",
    "table": "funnel",
    "fmt": "csv",
}


@dataclass(frozen=True)
class Route:
    path: str
    name: str
    callback: Callable[..., Any]


def _fill(pattern: Any) -> str:
    if isinstance(pattern, RoutePattern):
        route = str(pattern._route)

        def sub(match: re.Match[str]) -> str:
            converter, name = match.group(1), match.group(2)
            if converter == "drf_format_suffix":  # DRF's route converter includes the dot
                return ".json"
            if name not in SAMPLE_KWARGS:
                raise KeyError(f"no sample value for URL keyword {name!r} in route {route!r}")
            return SAMPLE_KWARGS[name]

        return re.sub(r"<(?:(\w+):)?(\w+)>", sub, route)
    if isinstance(pattern, RegexPattern):
        regex = pattern._regex

        def sub_group(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in SAMPLE_KWARGS:
                raise KeyError(f"no sample value for URL keyword {name!r} in regex {regex!r}")
            return SAMPLE_KWARGS[name]

        text = re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", sub_group, regex)
        text = text.lstrip("^").rstrip("$")
        text = text.replace("\\.", ".").replace("/?", "/").replace("\\Z", "")
        return text
    raise TypeError(f"unknown pattern type {type(pattern)}")


def walk(urlconf: str | None = None) -> Iterator[Route]:
    def visit(resolver: URLResolver, prefix: str, namespace: str) -> Iterator[Route]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from visit(entry, prefix + _fill(entry.pattern), ns)
            elif isinstance(entry, URLPattern):
                yield Route(
                    path="/" + prefix + _fill(entry.pattern),
                    name=f"{namespace}{entry.name or '<unnamed>'}",
                    callback=entry.callback,
                )

    yield from visit(get_resolver(urlconf), "", "")
