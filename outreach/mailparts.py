"""Tolerant reading of raw email: headers, addresses, Message-IDs, the readable text.

Everything here accepts real-world mail as it is (broken headers, unknown charsets, missing
MIME boundaries) and never raises on bad input: a header that the modern email policy cannot
parse is read again from its raw (compat32-style) value, and a body that cannot be decoded
with its declared charset is decoded as UTF-8 with replacement characters.
"""

from __future__ import annotations

import email
import email.header
import email.policy
import email.utils
import functools
import html
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta, timezone, tzinfo
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage, Message
from email.parser import HeaderParser
from typing import Any

# Text beyond this many characters is not looked at: signals sit at the top of a message,
# and the regular expressions must stay cheap on a 20 MB attachment-laden mail.
TEXT_LIMIT = 200_000

_CHARSET_ALIASES = {"unicode-1-1-utf-7": "utf-7", "utf7": "utf-7", "x-unknown": "utf-8", "unknown": "utf-8"}
_MSGID_RE = re.compile(r"<([^<>\s]+)>")
_ATTACHED_TYPES = frozenset({"message/rfc822", "text/rfc822-headers", "message/rfc822-headers"})


class _MemoisedHeaderRegistry(HeaderRegistry):
    """A header registry that parses each (name, value) once per process.

    ``Message.get_content_type()`` and friends build a header object from the raw value on
    every call, through the registry's full RFC 5322 parser (about 20 parses of the same
    Content-Type per classified message). Header objects are immutable strings, so the same
    object can serve every message with that header line: mail repeats Content-Type,
    MIME-Version and most structured values a great deal.
    """

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one registry lives as long as the process
    def __call__(self, name: str, value: str) -> BaseHeader:
        return super().__call__(name, value)


_MISSING = object()


class ParsedMessage(EmailMessage):
    """A message as ``parse_message`` reads it: once sealed, what it is asked is remembered.

    The classifier asks every part its content type, its parameters, its headers and its
    text again and again (about 34 content types and 45 header reads per message), and the
    email package answers each time by walking every header line, lower-casing each name,
    and parsing the Content-Type once more: a third of classifying a whole message. After
    parsing, ``seal`` gives the message and its parts a memo; any change to a sealed part
    (``_UNSEALING``) drops its memo first, so an answer is never stale.
    """

    _memo: dict[tuple[str, ...], Any] | None = None  # None: not sealed, every call computes

    def remembered(self, key: tuple[str, ...], compute: Callable[[], Any]) -> Any:
        """``compute()``, once per ``key`` while the message is sealed (its answers must be immutable)."""
        memo = self._memo
        if memo is None:
            return compute()
        value = memo.get(key, _MISSING)
        if value is _MISSING:
            value = memo[key] = compute()
        return value

    def get_content_type(self) -> str:
        return self.remembered(("content-type",), super().get_content_type)

    def get_param(self, param: str, failobj: Any = None, header: str = "content-type", unquote: bool = True) -> Any:
        found = self.remembered(
            ("param", param, header, str(unquote)), lambda: super(ParsedMessage, self).get_param(
                param, _MISSING, header, unquote)
        )  # fmt: skip
        return failobj if found is _MISSING else found


def _unsealing(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def unsealed(self: ParsedMessage, *args: Any, **kwargs: Any) -> Any:
        self._memo = None
        return method(self, *args, **kwargs)

    return unsealed


# Every public way to change a message (the private helpers that write headers directly are
# only reached through these).
_UNSEALING = (
    "__setitem__", "__delitem__", "set_raw", "replace_header", "add_header", "set_payload", "attach",
    "set_param", "del_param", "set_type", "set_default_type", "set_boundary", "set_charset",
    "set_unixfrom", "set_content", "clear", "clear_content", "make_related", "make_alternative",
    "make_mixed", "add_related", "add_alternative", "add_attachment",
)  # fmt: skip
for _name in _UNSEALING:
    setattr(ParsedMessage, _name, _unsealing(getattr(EmailMessage, _name)))


def seal(msg: Message) -> Message:
    """Give ``msg`` and each of its parts (attached messages too) a memo; returns ``msg``."""
    for part in msg.walk():
        if isinstance(part, ParsedMessage):
            part._memo = {}
    return msg


# The default policy with the memoised registry and sealable messages: same parsing, same
# results, fewer parses.
POLICY = email.policy.default.clone(header_factory=_MemoisedHeaderRegistry(), message_factory=ParsedMessage)


def parse_message(raw: bytes) -> Message:
    """Parse raw bytes with the modern policy (sealed), falling back to compat32 if that raises."""
    try:
        return seal(email.message_from_bytes(raw, policy=POLICY))
    except Exception:  # a parser bug on hostile input must not take the classifier down
        return email.message_from_bytes(raw, policy=email.policy.compat32)


_MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
           "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}  # fmt: skip


def datetime_from_fields(day: str, month: str, year: str, hour: str, minute: str, second: str,
                         sign: str, offset_hours: str, offset_minutes: str) -> datetime | None:  # fmt: skip
    """An aware datetime from the fields of a mail or IMAP date (``21``, ``Nov``, ``2026``, ``10``, ``00``,
    ``19``, ``+``, ``01``, ``30``); None when they name no real moment (31 Feb, month "Foo")."""
    number = _MONTHS.get(month.lower())
    if number is None:
        return None
    try:
        return datetime(int(year), number, int(day), int(hour), int(minute), int(second),
                        tzinfo=_utc_offset(sign, int(offset_hours), int(offset_minutes)))  # fmt: skip
    except ValueError:
        return None


@functools.cache
def _utc_offset(sign: str, hours: int, minutes: int) -> tzinfo:
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if sign == "-" else delta)


def collapse(text: str) -> str:
    """Unfold and squeeze whitespace: ``"a\\n  b"`` → ``"a b"``."""
    # str.split() cuts at runs of exactly what \s matches (str.isspace), several times faster than re.sub.
    return " ".join(text.split())


def _decode_words(value: str) -> str:
    if "=?" not in value:  # no RFC 2047 encoded word: nothing to decode (the common case)
        return value
    try:
        return str(email.header.make_header(email.header.decode_header(value)))
    except Exception:  # undecodable encoded-words: keep the raw text
        return value


def header_values(msg: Message | HeaderBlock, name: str) -> list[str]:
    """Every value of header ``name``, decoded and unfolded ([] if absent).

    ``msg`` may be a :class:`HeaderBlock`, so header rules read a header block alike.

    Read from the raw header lines, RFC 2047 words decoded here (as compat32 would): going
    through ``msg.get_all`` would run the default policy's structured parser on every call,
    which costs more than the rest of classification and can raise on malformed headers.
    """
    if isinstance(msg, HeaderBlock):
        return msg.values(name)
    wanted = name.lower()
    if isinstance(msg, ParsedMessage):  # a copy of the remembered answer: callers may change their list
        return list(msg.remembered(("header", wanted), lambda: tuple(_decoded_values(msg, wanted))))
    return _decoded_values(msg, wanted)


def _decoded_values(msg: Message, wanted: str) -> list[str]:
    return [collapse(_decode_words(str(v))) for k, v in _raw_items(msg) if k.lower() == wanted]


def _raw_items(msg: Message) -> Iterable[tuple[str, str]]:
    raw_items = getattr(msg, "raw_items", None)
    return raw_items() if raw_items else msg.items()


def header_text(msg: Message | HeaderBlock, name: str) -> str:
    """The first value of header ``name``, decoded and unfolded ("" if absent)."""
    values = header_values(msg, name)
    return values[0] if values else ""


def addresses(value: str) -> list[str]:
    """The lower-cased email addresses in an address-list header value, in order."""
    return list(_addresses(value))


@functools.lru_cache(maxsize=4096)
def _addresses(value: str) -> tuple[str, ...]:
    # Memoised: a mailbox hears from the same senders again and again, and parsing an
    # address list is among the dearest steps of classifying a message.
    try:
        pairs = email.utils.getaddresses([value])
    except Exception:  # getaddresses can raise on pathological input in old Pythons
        return ()
    return tuple(addr.strip().lower() for _, addr in pairs if "@" in addr)


def first_address(value: str) -> str | None:
    """The first address in a header value, lower-cased, or None."""
    found = addresses(value)
    return found[0] if found else None


def message_ids(value: str) -> tuple[str, ...]:
    """The Message-IDs in a header value, in header form ``<id@host>``, without duplicates.

    A bare ``id@host`` without angle brackets (seen from broken mailers) is accepted too.
    """
    found = [f"<{m}>" for m in _MSGID_RE.findall(value)]
    if not found:
        bare = value.strip()
        if "@" in bare and not any(c.isspace() for c in bare):
            found = [f"<{bare.strip('<>')}>"]
    return tuple(dict.fromkeys(found))


def bare_id(message_id: str) -> str:
    """A Message-ID without its angle brackets, for comparisons."""
    return message_id.strip().strip("<>").strip()


def own_parts(msg: Message) -> Iterator[Message]:
    """The leaf parts of ``msg`` itself, not descending into attached messages or headers."""
    if msg.get_content_type() in _ATTACHED_TYPES:
        return
    # message/delivery-status and message/feedback-report hold header blocks, not text.
    if not msg.is_multipart() or msg.get_content_maintype() == "message":
        yield msg
        return
    payload = msg.get_payload()
    for part in payload if isinstance(payload, list) else []:
        if isinstance(part, Message):
            yield from own_parts(part)


def part_text(part: Message) -> str:
    """The decoded text of a leaf part ("" for binary or undecodable parts).

    A part that names no charset is read as UTF-8 (the email package would read it as ASCII
    and lose every 8-bit character), so a message reads the same whatever policy parsed it.
    """
    try:
        content = part.get_content() if part.get_param("charset") else None  # type: ignore[attr-defined]
    except Exception:  # unknown charset or broken transfer encoding: decode by hand below
        content = None
    if isinstance(content, str):
        return content[:TEXT_LIMIT]
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # a payload the parser could not even split
        return ""
    if not isinstance(payload, bytes):
        return ""
    try:
        charset = (part.get_content_charset() or "utf-8").lower()
        return payload[:TEXT_LIMIT].decode(_CHARSET_ALIASES.get(charset, charset), errors="replace")
    except (LookupError, ValueError, TypeError, UnicodeError):  # unknown or garbled charset name
        return payload[:TEXT_LIMIT].decode("utf-8", errors="replace")


def html_to_text(markup: str) -> str:
    """Crude HTML → text: drop style/script and quoted blocks, tags, decode entities."""
    markup = re.sub(r"(?is)<(style|script|head)\b.*?</\1\s*>", " ", markup)
    markup = re.sub(r"(?is)<blockquote\b.*?</blockquote\s*>", "\n", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</p\s*>|</div\s*>", "\n", markup)
    return html.unescape(re.sub(r"(?s)<[^>]*>", " ", markup))


def readable_text(msg: Message) -> str:
    """The message's own text: its text/plain parts, or its HTML as text if it has none."""
    if isinstance(msg, ParsedMessage):
        return msg.remembered(("readable-text",), lambda: _readable_text(msg))
    return _readable_text(msg)


def _readable_text(msg: Message) -> str:
    parts = list(own_parts(msg))
    plain = [part_text(p) for p in parts if p.get_content_type() == "text/plain"]
    text = "\n".join(t for t in plain if t.strip())
    if text:
        return text
    markup = [part_text(p) for p in parts if p.get_content_type() == "text/html"]
    return html_to_text("\n".join(markup))


# Lines where quoted or forwarded text begins, in the mail clients people use.
_QUOTE_START = re.compile(
    r"""^\s*(?:
        -{2,}\s*(?:original\s+message|ursprüngliche\s+nachricht|message\s+d'origine|mensaje\s+original)\s*-{2,}
      | _{10,}
      | begin\s+forwarded\s+message:?
      | on\s.{0,250}\bwrote:?
      | am\s.{0,250}\bschrieb\b.{0,80}
      | le\s.{0,250}\ba\s+écrit\s*:?
      | el\s.{0,250}\bescribió\s*:?
      | (?:from|von|de):\s.+\n\s*(?:sent|gesendet|envoyé|enviado|date|datum):\s
    )""",
    re.IGNORECASE | re.VERBOSE | re.MULTILINE,
)


def unquoted(text: str) -> str:
    """What the sender wrote themselves: text before the first quote header, '>' lines dropped."""
    text = text[:TEXT_LIMIT]
    match = _QUOTE_START.search(text)
    if match:
        text = text[: match.start()]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))


def attached_headers(msg: Message) -> Message | None:
    """The headers of the message a report carries (message/rfc822 or text/rfc822-headers)."""
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else payload
            if isinstance(inner, Message) and len(inner.keys()) > 0:
                return inner
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers"):
            headers = seal(HeaderParser(policy=POLICY).parsestr(part_text(part), headersonly=True))
            if len(headers.keys()) > 0:
                return headers
    return None


# --- a header block read without the email package ---------------------------------------------

# A header field as the email package's feed parser reads it: a printable name, a colon, the
# value and its folded continuation lines (each starting with a space or tab); a block is only
# such fields. Lines end in "\n" here (the block's CRLFs are made LFs first).
_FIELD_RE = re.compile(r"([\x21-\x39\x3b-\x7e]+):[ \t]*([^\n]*(?:\n[ \t][^\n]*)*)\n")
_FIELDS_RE = re.compile(r"(?:[\x21-\x39\x3b-\x7e]+:[^\n]*\n(?:[ \t][^\n]*\n)*)*")


class HeaderBlock:
    """The header fields of a message read straight from its bytes (a fast, narrow parser).

    ``parse`` accepts only what the email package reads the same way: 7-bit header lines,
    each a ``Name: value`` line or a folded continuation. Values are unfolded and RFC 2047
    words decoded exactly as :func:`header_values` does on a parsed message (when first
    asked for: most fields of a real message, such as Received or DKIM-Signature, never
    are), so ``values`` and ``text`` answer what ``header_values``/``header_text`` would.
    """

    __slots__ = ("_decoded", "_raw")

    def __init__(self, raw: dict[str, list[str]]) -> None:
        self._raw = raw
        self._decoded: dict[str, list[str]] = {}

    @classmethod
    def parse(cls, head: bytes) -> HeaderBlock | None:
        """The fields of ``head`` (a header block, or a message whose header ends at a blank line).

        None for anything unusual (8-bit bytes, a bare CR, a line that is neither a field nor a
        continuation, an mbox ``From `` line): such a message is left to the email package.
        """
        end = head.find(b"\r\n\r\n")
        block = head[: end + 2] if end >= 0 else head
        if not block.isascii():
            return None
        text = block.decode("ascii")
        if "\r" in text:
            text = text.replace("\r\n", "\n")
            if "\r" in text:  # a bare CR
                return None
        if text and not text.endswith("\n"):
            text += "\n"
        # One pass checks the whole block is fields, a second takes them apart (both in C: a
        # loop over match objects cost more than the rest of judging a plain message).
        if _FIELDS_RE.fullmatch(text) is None:
            return None
        raw: dict[str, list[str]] = {}
        for name, value in _FIELD_RE.findall(text):
            # As the email package keeps a value: folded lines joined with their line ends.
            key = name.lower()
            if key in raw:
                raw[key].append(value)
            else:
                raw[key] = [value]
        return cls(raw)

    def values(self, name: str) -> list[str]:
        """Every value of header ``name``, decoded and unfolded ([] if absent)."""
        key = name.lower()
        decoded = self._decoded.get(key)
        if decoded is None:
            raw = self._raw.get(key)
            if raw is None:
                return []
            decoded = self._decoded[key] = [collapse(_decode_words(v)) for v in raw]
        return decoded

    def text(self, name: str) -> str:
        """The first value of header ``name`` ("" if absent)."""
        values = self.values(name)
        return values[0] if values else ""

    def has(self, name: str) -> bool:
        """Whether header ``name`` is present at all (even empty)."""
        return name.lower() in self._raw

    def has_any(self, lower_names: frozenset[str]) -> bool:
        """Whether any of ``lower_names`` (lower-case header names) is present."""
        return not lower_names.isdisjoint(self._raw)
