"""robots.txt as RFC 9309 says: groups by product token, longest match wins, Allow wins ties.

The standard library's ``urllib.robotparser`` takes the first matching rule and knows no
``*``/``$`` wildcards, so ``Disallow: /`` followed by ``Allow: /contact`` would wrongly keep
us off the contact page; hence this small parser. Fetching lives in ``linkcrm.lib.safehttp``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote, unquote, urlsplit

_LINE = re.compile(r"^\s*([A-Za-z-]+)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class Rule:
    """One Allow/Disallow line: the path pattern and whether it allows."""

    pattern: str
    allow: bool


@dataclass
class _Group:
    agents: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)


@dataclass(frozen=True)
class RobotsRules:
    """The rules that apply to one user agent on one host (empty: everything allowed)."""

    rules: tuple[Rule, ...] = ()
    note: str = ""  # why the rules are what they are when not from a parsed file

    @classmethod
    def allow_all(cls, note: str = "") -> RobotsRules:
        return cls((), note)

    @classmethod
    def disallow_all(cls, note: str = "") -> RobotsRules:
        return cls((Rule("/", allow=False),), note)

    def allows(self, url_or_path: str) -> bool:
        """True when the path (with its query) may be fetched. ``/robots.txt`` is always allowed."""
        path = _path_of(url_or_path)
        if path == "/robots.txt":
            return True
        best: Rule | None = None
        best_length = -1
        for rule in self.rules:
            if not _matches(rule.pattern, path):
                continue
            length = len(rule.pattern)
            # Longest pattern wins; on a tie the least restrictive (Allow) wins (RFC 9309 2.2.2).
            if length > best_length or (length == best_length and rule.allow):
                best, best_length = rule, length
        return best is None or best.allow


def product_token(user_agent: str) -> str:
    """``LinkCRM/1.0 (+https://…)`` → ``linkcrm``: the name robots.txt groups are matched on."""
    token = re.match(r"[A-Za-z_-]+", user_agent.strip())
    return token.group(0).lower() if token else ""


def parse_robots(text: str, user_agent: str) -> RobotsRules:
    """The rules for ``user_agent``: its own groups when any name it, else the ``*`` groups."""
    groups = _groups(text)
    token = product_token(user_agent)
    mine = [g for g in groups if token and token in g.agents]
    chosen = mine or [g for g in groups if "*" in g.agents]
    return RobotsRules(tuple(rule for group in chosen for rule in group.rules))


def _groups(text: str) -> list[_Group]:
    """Split the file into groups; consecutive user-agent lines share one group."""
    groups: list[_Group] = []
    current: _Group | None = None
    in_agents = False
    for raw in text.splitlines():
        match = _LINE.match(raw.split("#", 1)[0])
        if not match:
            continue
        key, value = match.group(1).lower(), match.group(2)
        if key == "user-agent":
            if current is None or not in_agents:
                current = _Group()
                groups.append(current)
            current.agents.append(value.lower() if value == "*" else product_token(value))
            in_agents = True
        elif key in ("allow", "disallow") and current is not None:
            in_agents = False
            # An empty Disallow means "nothing is disallowed": no rule at all.
            if value:
                current.rules.append(Rule(_normalise_pattern(value), allow=key == "allow"))
        # Other lines (Sitemap, Crawl-delay, unknown) neither open nor close a group.
    return groups


def _normalise_pattern(pattern: str) -> str:
    # Compare percent-encoded forms on both sides so /caf%C3%A9 and /café are the same path.
    return quote(unquote(pattern), safe="/*$?=&;:@+,!~'()%")


def _path_of(url_or_path: str) -> str:
    parts = urlsplit(url_or_path)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _normalise_pattern(path)


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(part) for part in body.split("*"))
    return re.compile(regex + ("$" if anchored else ""))


def _matches(pattern: str, path: str) -> bool:
    return _compiled(pattern).match(path) is not None
