"""Bounces: RFC 3464 delivery-status reports and the plain-text bounces of common servers.

``parse_bounce`` answers "is this a non-delivery report, for whom, and does it condemn the
recipient?". A recipient is condemned (``permanent=True``) only by a 5.x.x / 5xx failure that
is about the recipient; a full mailbox, a 4.x.x / 4xx code or an ``Action: delayed`` is
transient, and a rejection of *us* (blocklist, spam or content policy, rate limit, SPF/DKIM/
DMARC, a refused MAIL FROM) is ``infrastructure``: it says nothing about the address.
See docs/classification.md for the vendors recognised and the known limits.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

from outreach.mailparts import (
    TEXT_LIMIT,
    attached_headers,
    bare_id,
    collapse,
    header_text,
    header_values,
    message_ids,
    own_parts,
    part_text,
    readable_text,
)

DIAGNOSTIC_LIMIT = 500

_ENHANCED_RE = re.compile(r"(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?![\w]|\.\d)")
_BASIC_RE = re.compile(r"(?<![\w.=/-])([245][0-5]\d)(?![\w.:/])")
_ADDRESS_RE = re.compile(r"(?<![\w.%+/=@-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_MAIL_FROM_CONTEXT = re.compile(r"(?:mail\s+from|envelope-from|sender)\s*:?\s*<?\s*$", re.IGNORECASE)
_DAEMON_LOCALPARTS = frozenset(
    {"mailer-daemon", "mailer_daemon", "mailerdaemon", "mail-daemon", "postmaster"}
)

# Where a plain-text bounce starts quoting the returned message (vendor in the comment).
_RETURNED_MESSAGE_START = re.compile(
    r"""^[ \t]*(?:
        -+\s*this\s+is\s+a\s+copy\s+of\s+(?:the|your)\s+message            # Exim, Mail.ru
      | -+\s*below\s+this\s+line\s+is\s+a\s+copy\s+of\s+the\s+message     # qmail, Yahoo
      | -+\s*original\s+message\s*-+                                     # Gmail
      | original\s+message\s+headers:                                    # Exchange, Office 365
      | -+\s*the\s+header\s+of\s+the\s+original\s+message                # GMX
      | below\s+is\s+a\s+copy\s+of\s+the\s+original\s+message            # OpenSMTPD
      | -+\s*(?:returned|undelivered|original)\s+(?:message|mail)\b       # generic
      | (?:received|return-path|dkim-signature):                         # a header block (Zoho)
    )""",
    re.IGNORECASE | re.VERBOSE | re.MULTILINE,
)

BOUNCE_SUBJECT = re.compile(
    r"undelivered\s+mail|undeliverable|returned\s+mail|failure\s+notice|mail\s+delivery\s+fail"
    r"|delivery\s+status\s+notification|delivery\s+(?:has\s+)?failed|delivery\s+failure|mail\s+failure"
    r"|non[- ]?delivery|message\s+not\s+delivered|could\s+not\s+(?:send|deliver)|mail\s+delivery\s+status"
    r"|postmaster\s+notify|mail\s+system\s+error|delivery\s+(?:delayed|delay)|delayed\s+mail"
    r"|unzustellbar|nicht\s+zustellbar|non\s+remis|non\s+distribu|no\s+se\s+(?:pudo|puede)\s+entregar"
    r"|не\s*доставлен|недоставленное",
    re.IGNORECASE,
)
_FORWARD_OR_REPLY = re.compile(r"^\s*(?:re|fwd?|aw|wg|tr|rv|sv|vs)\s*:", re.IGNORECASE)
_BOUNCE_BODY = re.compile(
    r"could\s*n[o']t\s+be\s+delivered|cannot\s+be\s+delivered|could\s+not\s+deliver|unable\s+to\s+deliver"
    r"|was\s+not\s+(?:able\s+to\s+be\s+)?delivered|not\s+able\s+to\s+be\s+delivered|undeliverable"
    r"|delivery\s+(?:has\s+)?failed|delivery\s+to\s+the\s+following\s+recipients?\s+failed|failed\s+permanently"
    r"|permanent\s+fatal\s+errors?|wasn't\s+able\s+to\s+deliver|unable\s+to\s+deliver|returned\s+to\s+sender"
    r"|error\s+has\s+occurred\s+while\s+attempting\s+to\s+deliver|following\s+address(?:\(es\)|es)?\s+failed"
    r"|delivery\s+(?:is\s+)?delayed|has\s+not\s+yet\s+been\s+delivered",
    re.IGNORECASE,
)
DAEMON_SENDER = re.compile(
    r"mailer[-_]?daemon|postmaster|mail\s+delivery\s+(?:system|subsystem)|mail-daemon", re.I
)

# Texts that say the recipient address itself is bad.
_USER_UNKNOWN = re.compile(
    r"user\s+unknown|unknown\s+(?:user|recipient|address|mailbox|local[- ]part)"
    r"|no\s+such\s+(?:user|mailbox|recipient|address)|(?:recipient|address|user|mailbox)\s+not\s+found"
    r"|recip(?:ient)?notfound|(?:user|mailbox|address|account|recipient)\s+does\s*(?:not|n't)\s+exist"
    r"|invalid\s+(?:recipient|address|mailbox)|account\s+(?:is\s+|has\s+been\s+)?disabled"
    r"|no\s+longer\s+(?:exists|available|active|in\s+use)|not\s+a\s+valid\s+mailbox|no\s+mailbox\s+here"
    r"|account\s+that\s+you\s+tried\s+to\s+reach\s+(?:is\s+disabled|does\s+not\s+exist)",
    re.IGNORECASE,
)
# Texts that say *we* (our IP, domain, content, volume or authentication) were refused.
_INFRASTRUCTURE = re.compile(
    r"block\s?-?list|black\s?-?list|spamhaus|spamcop|barracuda|sorbs|\brbl\b|dnsbl|\blisted\s+(?:at|in|on|by)\b"
    r"|blocked\s+(?:using|by|because|for|due)|(?:ip|sender|domain|host|message|e-?mail|connection|server|network)"
    r"[^.\n]{0,40}\bblocked\b|reputation|\bpolicy\b|policies|\bspam\b|unsolicited|\bbulk\s+mail|content\s+rejected"
    r"|\bvirus\b|malware|rate\s+limit|rate\s+that\s+prevents|too\s+many\s+(?:messages|connections|recipients|mails)"
    r"|throttl|\bspf\b|\bdkim\b|\bdmarc\b|authentication\s+(?:failed|required)|not\s+authori[sz]ed\s+to\s+send"
    r"|relay(?:ing)?\s+(?:access\s+)?(?:denied|not\s+permitted)|smtp\s+server\s+of\s+your\s+isp|dynamic\s+ip"
    r"|dial-?up|residential|reverse\s+dns|\bptr\b|client\s+host\s+rejected|sender\s+address\s+rejected"
    r"|helo\s+command\s+rejected|(?:message|mail)\s+(?:size\s+exceeds|too\s+(?:large|big))|size\s+limit"
    r"|(?:after|in\s+reply\s+to)\s+(?:mail\s+from|helo|ehlo|initial\s+connection|connect)\b",
    re.IGNORECASE,
)
_MAILBOX_FULL = re.compile(
    r"mailbox\s+(?:is\s+)?full|over\s*quota|quota\s+exceeded|exceeded\s+(?:the\s+)?(?:storage|quota)"
    r"|insufficient\s+(?:storage|disk)|mailbox\s+size\s+limit|out\s+of\s+storage",
    re.IGNORECASE,
)
_TRANSIENT_TEXT = re.compile(
    r"temporar|try\s+again\s+later|will\s+(?:retry|be\s+retried|continue\s+trying)|greylist|graylist"
    r"|delivery\s+(?:is\s+)?delayed|has\s+not\s+yet\s+been\s+delivered|\(delay\)",
    re.IGNORECASE,
)
_PERMANENT_TEXT = re.compile(r"permanent(?:ly)?\s+(?:error|failure|fatal|failed)|failed\s+permanently", re.I)
# Enhanced codes (RFC 3463) about our side: x.7.x security/policy, x.1.7/x.1.8 bad sender,
# x.3.4 message too big.
_INFRASTRUCTURE_DETAIL = frozenset({"1.7", "1.8", "3.4"})
_MESSAGE_ID_LINE = re.compile(r"(?im)^[ \t]*message-id:[ \t]*(<[^<>\s]+>)")


@dataclass(frozen=True)
class BouncedRecipient:
    """One recipient a bounce reports as not delivered.

    ``address`` is the address we sent to (the DSN's Original-Recipient when given, else its
    Final-Recipient). ``permanent`` is True when the address itself should be suppressed,
    False for transient and infrastructure failures, None when the bounce does not tell.
    """

    address: str
    status_code: str | None
    permanent: bool | None
    infrastructure: bool
    diagnostic: str
    delayed: bool = False
    final_recipient: str | None = None


@dataclass(frozen=True)
class Bounce:
    """A non-delivery report: who failed, why it was recognised, and which message bounced."""

    recipients: tuple[BouncedRecipient, ...]
    reason: str
    original_message_id: str | None


def parse_bounce(
    msg: Message, *, exclude: Collection[str], our_message_ids: Collection[str]
) -> Bounce | None:
    """The bounce ``msg`` is, or None if it is not one.

    ``exclude`` holds lower-cased addresses that are never a failed recipient (ours, the
    bounce's own From and To). A delivery-status report whose recipients were all delivered
    is not a bounce (see ``success_report_action``).
    """
    notification = _notification_text(msg)
    part = _dsn_part(msg)
    blocks = _recipient_blocks(part) if part is not None else []
    failed = [r for r in (_dsn_recipient(b, notification) for b in blocks) if r is not None]
    if failed:
        state = "delayed" if failed[0].delayed else "failed"
        status = f", Status {failed[0].status_code}" if failed[0].status_code else ""
        reason = f"RFC 3464 delivery-status report ({state}{status})"
    elif blocks:  # a report whose recipients were all delivered, relayed or expanded
        return None
    else:
        signal = _bounce_signal(msg, notification)
        if signal is None:
            return None
        failed, reason = _text_recipients(msg, notification, exclude), f"non-standard bounce: {signal}"
    return Bounce(tuple(failed), reason, original_message_id(msg, our_message_ids=our_message_ids))


def success_report_action(msg: Message) -> str | None:
    """For a delivery-status report that reports no failure, its Action (e.g. "delivered")."""
    part = _dsn_part(msg)
    if part is None:
        return None
    actions = [header_text(b, "Action").lower() for b in _recipient_blocks(part)]
    good = [a for a in actions if a in ("delivered", "relayed", "expanded")]
    return good[0] if good and len(good) == len(actions) else None


# --- RFC 3464 ---------------------------------------------------------------------------


def _dsn_part(msg: Message) -> Message | None:
    for part in own_parts(msg):
        if part.get_content_type() == "message/delivery-status":
            return part
    return None


def _recipient_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, str):  # compat32 or an unparsed body: split the blocks ourselves
        payload = [HeaderParser().parsestr(block) for block in re.split(r"\r?\n\s*\r?\n", payload)]
    blocks = [b for b in payload if isinstance(b, Message)]
    return [b for b in blocks if header_text(b, "Final-Recipient") or header_text(b, "Original-Recipient")]


def _typed_address(value: str) -> str | None:
    """``rfc822; a@b`` → ``a@b`` (lower-cased), None when there is no address."""
    address = value.split(";", 1)[-1].strip().strip("<>").strip().lower()
    return address if "@" in address and " " not in address else None


def _dsn_recipient(block: Message, notification: str) -> BouncedRecipient | None:
    final = _typed_address(header_text(block, "Final-Recipient"))
    address = _typed_address(header_text(block, "Original-Recipient")) or final
    action = header_text(block, "Action").lower()
    status_field = header_text(block, "Status")
    diagnostic = header_text(block, "Diagnostic-Code").split(";", 1)[-1].strip()
    status = choose_status(status_field, diagnostic)
    failed = action.startswith(("failed", "delayed")) or (
        not action and status is not None and status[0] in "45"
    )
    if not failed or address is None:
        return None
    if not status and not diagnostic:  # an empty report: read the human part for this address
        diagnostic = _segment(notification, address, ())
        status = choose_status("", diagnostic)
    delayed = action.startswith("delayed")
    permanent, infrastructure = judge(status, diagnostic, delayed=delayed)
    return BouncedRecipient(
        address=address, status_code=status, permanent=permanent, infrastructure=infrastructure,
        diagnostic=_trim(diagnostic), delayed=delayed, final_recipient=final,
    )  # fmt: skip


def choose_status(status_field: str, diagnostic: str) -> str | None:
    """The most specific status code: the DSN Status, unless it is a generic X.0.0 and the
    diagnostic text names a specific code of the same class; else the diagnostic's enhanced
    code, else its SMTP reply code (e.g. ``"550"``)."""
    reported = _ENHANCED_RE.search(status_field)
    in_text = ["{}.{}.{}".format(*m.groups()) for m in _ENHANCED_RE.finditer(diagnostic)]
    if reported:
        code = "{}.{}.{}".format(*reported.groups())
        if code.endswith(".0.0"):
            specific = [c for c in in_text if c[0] == code[0] and not c.endswith(".0.0")]
            return specific[0] if specific else code
        return code
    if in_text:
        return in_text[0]
    basic = _BASIC_RE.search(diagnostic)
    return basic.group(1) if basic else None


def judge(status: str | None, text: str, *, delayed: bool = False) -> tuple[bool | None, bool]:
    """``(permanent, infrastructure)`` for one failure from its status code and text.

    Infrastructure (we were refused, not the address) never condemns the recipient; a full
    mailbox and 4.x.x / 4xx codes are transient; other 5.x.x / 5xx codes are permanent.
    """
    infrastructure = bool(_INFRASTRUCTURE.search(text)) or (
        _is_infrastructure_status(status) and not _USER_UNKNOWN.search(text)
    )
    if delayed or (status and status[0] == "4"):
        return False, infrastructure
    if infrastructure:
        return False, True
    mailbox_full = bool(_MAILBOX_FULL.search(text)) or bool(status and status.endswith(".2.2"))
    if status and status[0] == "5":
        return not (mailbox_full or _TRANSIENT_TEXT.search(text)), False
    if mailbox_full or _TRANSIENT_TEXT.search(text):
        return False, False
    if _PERMANENT_TEXT.search(text) or _USER_UNKNOWN.search(text):
        return True, False
    return None, False


def _is_infrastructure_status(status: str | None) -> bool:
    if not status or "." not in status:
        return False
    _, subject, detail = status.split(".")
    return subject == "7" or f"{subject}.{detail}" in _INFRASTRUCTURE_DETAIL


# --- non-standard bounces ---------------------------------------------------------------


def _notification_text(msg: Message) -> str:
    """The human-readable part of a bounce, cut where the returned message starts."""
    text = readable_text(msg)
    match = _RETURNED_MESSAGE_START.search(text)
    return text[: match.start()] if match else text


def _bounce_signal(msg: Message, notification: str) -> str | None:
    """Why ``msg`` looks like a plain-text bounce, or None."""
    if header_text(msg, "X-Failed-Recipients"):
        return "X-Failed-Recipients header"
    sender = header_text(msg, "From")
    subject = header_text(msg, "Subject")
    subject_hit = bool(BOUNCE_SUBJECT.search(subject)) and not _FORWARD_OR_REPLY.match(subject)
    body_hit = bool(_BOUNCE_BODY.search(notification))
    daemon = bool(DAEMON_SENDER.search(sender))
    if daemon and (subject_hit or body_hit):
        what = f"subject {subject!r}" if subject_hit else "delivery-failure text"
        return f"from {sender or 'a mail daemon'}, {what}"
    if subject_hit and body_hit:
        return f"subject {subject!r} and delivery-failure text"
    return None


def _text_recipients(msg: Message, notification: str, exclude: Collection[str]) -> list[BouncedRecipient]:
    """Failed recipients of a plain-text bounce: X-Failed-Recipients, else addresses in the text."""
    listed = [
        a.strip().strip("<>").lower() for v in header_values(msg, "X-Failed-Recipients") for a in v.split(",")
    ]
    found = [a for a in listed if "@" in a] or _addresses_in_text(notification, exclude)
    if not found:
        original = attached_headers(msg)
        to = header_text(original, "To") if original is not None else ""
        found = [a for a in _ADDRESS_RE.findall(to) if a.lower() not in exclude][:1]
    delayed = bool(re.search(r"\bdela(?:y|yed)\b", header_text(msg, "Subject"), re.IGNORECASE))
    result = []
    for address in dict.fromkeys(a.lower() for a in found):
        segment = _segment(notification, address, found)
        status = choose_status("", segment)
        permanent, infrastructure = judge(status, segment if status else notification, delayed=delayed)
        diagnostic = re.sub(rf"^{re.escape(address)}[\s>\"':,;]*", "", segment, flags=re.IGNORECASE)
        result.append(
            BouncedRecipient(address, status, permanent, infrastructure, _trim(diagnostic), delayed)
        )
    return result


def _addresses_in_text(text: str, exclude: Collection[str]) -> list[str]:
    found: list[str] = []
    for match in _ADDRESS_RE.finditer(text):
        address = match.group(0).lower()
        if address in exclude or address.split("@")[0] in _DAEMON_LOCALPARTS:
            continue
        if _MAIL_FROM_CONTEXT.search(text[max(0, match.start() - 20) : match.start()]):
            continue  # the envelope sender quoted in an SMTP transcript
        if address not in found:
            found.append(address)
    return found


def _segment(text: str, address: str, others: Collection[str]) -> str:
    """The text about ``address``: from its first mention to the next other recipient's."""
    lowered = text.lower()
    start = lowered.find(address)
    if start < 0:
        return collapse(text)
    end = len(text)
    for other in others:
        position = lowered.find(other.lower(), start + len(address)) if other.lower() != address else -1
        if 0 <= position < end:
            end = position
    return collapse(text[start:end])


def _trim(text: str) -> str:
    text = collapse(text)
    return text if len(text) <= DIAGNOSTIC_LIMIT else text[: DIAGNOSTIC_LIMIT - 1] + "…"


# --- the message that bounced -----------------------------------------------------------


def original_message_id(msg: Message, *, our_message_ids: Collection[str]) -> str | None:
    """The Message-ID of the message a report is about (bounce or complaint), or None.

    One of ``our_message_ids`` found anywhere in the report wins; then the attached
    message/rfc822 or text/rfc822-headers; then a ``Message-ID:`` line in the report's text
    (plain-text bounces quote the returned headers).
    """
    haystack = "\n".join(_report_texts(msg))
    for candidate in our_message_ids:
        if bare_id(candidate) and bare_id(candidate) in haystack:
            return f"<{bare_id(candidate)}>"
    own_id = header_text(msg, "Message-ID")
    attached = attached_headers(msg)
    if attached is not None:
        found = message_ids(header_text(attached, "Message-ID"))
        if found:
            return found[0]
    for match in _MESSAGE_ID_LINE.finditer(haystack):
        if bare_id(match.group(1)) != bare_id(own_id):
            return match.group(1)
    return None


def _report_texts(msg: Message) -> Iterator[str]:
    """Every header block and text of a report except its own top-level headers."""
    for index, part in enumerate(msg.walk()):
        if index > 0:
            yield "\n".join(f"{key}: {value}" for key, value in _safe_items(part))
        if not part.is_multipart() and part.get_content_maintype() in ("text", "message"):
            yield part_text(part)[:TEXT_LIMIT]
        if index == 0:
            yield "\n".join(
                f"{key}: {value}" for key, value in _safe_items(part) if key.lower() in _THREAD_HEADERS
            )


_THREAD_HEADERS = frozenset({"in-reply-to", "references", "x-original-message-id"})


def _safe_items(part: Message) -> list[tuple[str, str]]:
    raw_items = getattr(part, "raw_items", None)
    return [(str(k), str(v)) for k, v in (raw_items() if raw_items else part.items())]
