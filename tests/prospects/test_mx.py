"""The MX check against a real DNS server the test runs on 127.0.0.1 (no outside DNS)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.rrset
import pytest

from prospects.mx import DnsMxChecker, NoMxCheck, StaticMx, mx_checker_from_settings

ZONE = {
    ("shop.test.", "MX"): ["10 mail.shop.test.", "20 backup.shop.test."],
    ("nullmx.test.", "MX"): ["0 ."],
    ("aonly.test.", "A"): ["192.0.2.10"],
    ("v6only.test.", "AAAA"): ["2001:db8::10"],
    ("empty.test.", "TXT"): ['"no mail here"'],
}


class LoopbackDns:
    """Answers from ZONE; unknown names get NXDOMAIN; names in ``silent`` get no reply at all."""

    def __init__(self, silent: frozenset[str] = frozenset({"slow.test."})) -> None:
        self.silent = silent
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.queries: list[tuple[str, str]] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                wire, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(wire)
            question = query.question[0]
            name, rdtype = question.name.to_text().lower(), dns.rdatatype.to_text(question.rdtype)
            self.queries.append((name, rdtype))
            if name in self.silent:
                continue
            self.sock.sendto(self._answer(query, name, rdtype).to_wire(), peer)

    def _answer(self, query: dns.message.Message, name: str, rdtype: str) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if not any(owner == name for owner, _ in ZONE):
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif (name, rdtype) in ZONE:
            response.answer.append(dns.rrset.from_text_list(name, 300, "IN", rdtype, ZONE[(name, rdtype)]))
        return response

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def dns_server() -> Iterator[LoopbackDns]:
    server = LoopbackDns()
    yield server
    server.close()


def checker_for(server: LoopbackDns, timeout: float = 2.0) -> DnsMxChecker:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = server.port
    return DnsMxChecker(timeout=timeout, resolver=resolver)


@pytest.mark.parametrize(
    "domain, expected",
    [
        ("shop.test", True),  # MX records
        ("SHOP.test.", True),
        ("nullmx.test", False),  # RFC 7505: takes no mail
        ("aonly.test", True),  # implicit MX from the A record
        ("v6only.test", True),  # ... or the AAAA record
        ("empty.test", False),  # exists, but neither MX nor address
        ("missing.test", False),  # NXDOMAIN
    ],
)
def test_it_reads_mx_null_mx_and_implicit_mx(dns_server, domain, expected):
    assert checker_for(dns_server).has_mail_server(domain) is expected


def test_a_dns_timeout_means_could_not_tell(dns_server):
    assert checker_for(dns_server, timeout=0.3).has_mail_server("slow.test") is None


def test_answers_are_cached_for_the_run(dns_server):
    checker = checker_for(dns_server)
    assert checker.has_mail_server("shop.test") and checker.has_mail_server("Shop.Test")
    assert dns_server.queries == [("shop.test.", "MX")]


def test_static_and_disabled_checkers():
    static = StaticMx({"shop.test": True, "dead.test": False}, default=None)
    answers = [static.has_mail_server(d) for d in ("shop.test", "DEAD.test", "other.test")]
    assert answers == [True, False, None]
    assert NoMxCheck().has_mail_server("shop.test") is None


def test_the_setting_switches_the_check_off(settings):
    settings.LINKCRM_MX_CHECK = False
    assert isinstance(mx_checker_from_settings(), NoMxCheck)
