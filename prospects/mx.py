"""Does a domain accept mail? The MX check behind one small interface.

``MxChecker.has_mail_server(domain)`` answers True (an MX, or an address record standing in
for one as RFC 5321 5.1 allows), False (no such domain, or a "null MX" saying it takes no
mail, RFC 7505) or None (could not tell: DNS timed out or failed). Product code takes a
checker as an argument; ``mx_checker_from_settings()`` builds the real one, and tests pass
``StaticMx`` or point ``DnsMxChecker`` at a DNS server they run on loopback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import dns.exception
import dns.resolver


class MxChecker(Protocol):
    def has_mail_server(self, domain: str) -> bool | None: ...


class DnsMxChecker:
    """Asks DNS (dnspython). Answers are cached for the life of the checker (one discovery run)."""

    def __init__(self, *, timeout: float = 5.0, resolver: dns.resolver.Resolver | None = None) -> None:
        self._resolver = resolver or dns.resolver.Resolver()
        self._resolver.lifetime = timeout
        self._resolver.timeout = timeout
        self._cache: dict[str, bool | None] = {}

    def has_mail_server(self, domain: str) -> bool | None:
        key = domain.strip().rstrip(".").lower()
        if key not in self._cache:
            self._cache[key] = self._lookup(key)
        return self._cache[key]

    def _lookup(self, domain: str) -> bool | None:
        try:
            answer = self._resolver.resolve(domain + ".", "MX")
        except dns.resolver.NXDOMAIN:
            return False
        except dns.resolver.NoAnswer:
            return self._has_address(domain)
        except dns.exception.DNSException:
            return None
        exchanges = [str(record.exchange) for record in answer]
        # RFC 7505 null MX: a single "0 ." record means "this domain takes no mail".
        return exchanges != ["."]

    def _has_address(self, domain: str) -> bool | None:
        """No MX: the domain's own A/AAAA record is its mail server (implicit MX)."""
        unknown = False
        for rdtype in ("A", "AAAA"):
            try:
                self._resolver.resolve(domain + ".", rdtype)
                return True
            except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
                continue
            except dns.exception.DNSException:
                unknown = True
        return None if unknown else False


class StaticMx:
    """A fixed answer per domain (tests, offline demos); ``default`` for the rest."""

    def __init__(self, answers: Mapping[str, bool | None], default: bool | None = True) -> None:
        self.answers = {name.lower(): value for name, value in answers.items()}
        self.default = default
        self.calls: list[str] = []

    def has_mail_server(self, domain: str) -> bool | None:
        self.calls.append(domain)
        return self.answers.get(domain.lower(), self.default)


class NoMxCheck:
    """MX checking switched off (LINKCRM_MX_CHECK=false): always "could not tell"."""

    def has_mail_server(self, domain: str) -> bool | None:
        return None


def mx_checker_from_settings() -> MxChecker:
    from django.conf import settings

    if not settings.LINKCRM_MX_CHECK:
        return NoMxCheck()
    try:
        return DnsMxChecker(timeout=float(settings.LINKCRM_MX_TIMEOUT))
    except dns.resolver.NoResolverConfiguration:
        return NoMxCheck()  # no /etc/resolv.conf: every answer would be "could not tell" anyway
