"""Outreach email templates: a locked-down Jinja2 sandbox with hard limits.

Templates are written by users and rendered with data scraped from other people's sites,
so both sides are untrusted. The rules (docs/templates.md is the user-facing version):

* ``ImmutableSandboxedEnvironment`` with ``StrictUndefined``: a misspelt variable is an
  error with its line, never an empty string; ``default`` is the explicit fallback.
* Autoescape is on for the HTML body and off for the subject and the text body.
* The context is plain data built by :func:`build_context` (dicts of strings), so no
  product object and none of its methods is reachable. Attribute and item names starting
  with ``_`` are refused, and only an allow-list of callables may be called.
* Limits. The source size is checked before compiling. Every string or container a
  template builds (``~``, ``+``, ``*``, list/tuple/dict literals, ``replace``, ``join``) is
  weighed (characters plus items, nested references counted each time) and capped *before*
  it can be printed, and the output is produced with ``generate()`` and counted chunk by
  chunk, stopping as soon as it is too long. Tags that would buffer output out of sight of
  that count (macro, call, filter, block set, recursive loops) or load other templates are
  refused with their line. Render time is enforced without threads or signals: the sandbox hooks that
  every non-trivial step passes through (``call``, ``getattr``, ``getitem``, intercepted
  operators) and a guard wrapped around every ``{% for %}`` iterable (added by a custom
  code generator) check a deadline and a total loop-iteration budget. ``range`` is replaced
  by a capped version, so ``range(10**9)`` fails at once and nested loops run out of budget.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes, pass_eval_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from linkcrm.lib.domains import DomainError, host_of_url

PARTS = ("subject", "text", "html")


@dataclass(frozen=True)
class RenderLimits:
    """Hard limits for one template part. Defaults suit an outreach email."""

    max_source_chars: int = 20_000
    max_output_chars: int = 100_000
    # Wall-clock budget for one part; checked at every hook, so a runaway stops right after.
    max_seconds: float = 2.0
    # Total ``{% for %}`` iterations in one render, over all loops (nested loops multiply).
    max_iterations: int = 50_000
    # Largest ``range()``.
    max_range: int = 10_000


SUBJECT_LIMITS = RenderLimits(max_source_chars=1_000, max_output_chars=500)
BODY_LIMITS = RenderLimits()


class LimitExceeded(SecurityError):
    """A template went past one of its limits (size, time, iterations)."""


class ForbiddenConstruct(SecurityError):
    """A tag email templates may not use; ``lineno`` says where."""

    def __init__(self, message: str, lineno: int) -> None:
        super().__init__(message)
        self.lineno = lineno


# Tags that buffer output out of sight of the streaming size check (macros, call/filter blocks,
# block ``set``, recursive loops) or load other templates. An email template needs none of them.
_FORBIDDEN_NODES: dict[type[nodes.Node], str] = {
    nodes.Macro: "macro", nodes.CallBlock: "call", nodes.FilterBlock: "filter",
    nodes.AssignBlock: "block set", nodes.Import: "import", nodes.FromImport: "from ... import",
    nodes.Include: "include", nodes.Extends: "extends", nodes.Block: "block",
}  # fmt: skip


@dataclass
class TemplateError:
    """One problem in one part of a template, for showing next to the editor."""

    part: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.part}, line {self.line}" if self.line else self.part
        return f"{where}: {self.message}"


class TemplateRenderError(Exception):
    """Rendering failed; ``errors`` says where and why."""

    def __init__(self, errors: list[TemplateError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None


# --- the documented context ---------------------------------------------------------------


@dataclass(frozen=True)
class ProspectInfo:
    domain: str
    url: str
    title: str = ""


@dataclass(frozen=True)
class ContactInfo:
    email: str
    name: str = ""
    role: str = ""


@dataclass(frozen=True)
class ProjectInfo:
    name: str
    site: str


@dataclass(frozen=True)
class SenderInfo:
    name: str
    email: str
    signature: str = ""


@dataclass(frozen=True)
class TargetPageInfo:
    url: str
    label: str = ""


def build_context(
    *,
    prospect: ProspectInfo,
    contact: ContactInfo,
    project: ProjectInfo,
    sender: SenderInfo,
    target_page: TargetPageInfo | None,
    unsubscribe_url: str,
) -> dict[str, Any]:
    """The only context templates see: plain dicts of strings, nothing callable.

    * ``prospect``: ``domain`` (example.com), ``url`` (the page we found), ``title`` (may be "").
    * ``contact``: ``name`` (may be ""), ``first_name`` (derived, may be ""), ``email``, ``role``.
    * ``project``: ``name``, ``site`` (our site's URL).
    * ``sender``: ``name``, ``email``, ``signature`` (plain text, may be "").
    * ``target_page``: ``url``, ``label`` (our page we want linked); both "" when none is chosen.
    * ``unsubscribe_url``: the signed one-click opt-out link.
    """
    page = target_page or TargetPageInfo(url="", label="")
    return {
        "prospect": {"domain": prospect.domain, "url": prospect.url, "title": prospect.title},
        "contact": {
            "name": contact.name,
            "first_name": first_name(contact.name),
            "email": contact.email,
            "role": contact.role,
        },
        "project": {"name": project.name, "site": project.site},
        "sender": {"name": sender.name, "email": sender.email, "signature": sender.signature},
        "target_page": {"url": page.url, "label": page.label},
        "unsubscribe_url": unsubscribe_url,
    }


def sample_context() -> dict[str, Any]:
    """A realistic context for validating a template on save and for the live preview."""
    return build_context(
        prospect=ProspectInfo(domain="example.org", url="https://example.org/resources/", title="Resources"),
        contact=ContactInfo(email="jane.doe@example.org", name="Jane Doe", role="Editor"),
        project=ProjectInfo(name="Acme Tools", site="https://acme.example.com/"),
        sender=SenderInfo(name="Sam Sender", email="sam@acme.example.com", signature="Sam\nAcme Tools"),
        target_page=TargetPageInfo(url="https://acme.example.com/guide/", label="our guide"),
        unsubscribe_url="https://crm.example.com/u/sample-token/",
    )


# --- filters -------------------------------------------------------------------------------

_HONORIFICS = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame"}


def first_name(name: object) -> str:
    """``"Dr. Jane Q. Doe"`` → ``"Jane"``; an empty or missing name gives ``""``."""
    words = [word for word in str(name or "").replace(",", " ").split() if word]
    while words and words[0].rstrip(".").lower() in _HONORIFICS:
        words.pop(0)
    return words[0] if words else ""


def domain(value: object) -> str:
    """The host of a URL or an e-mail address (``www.`` dropped); ``""`` when there is none."""
    text = str(value or "").strip()
    if "@" in text and "://" not in text:
        text = text.rsplit("@", 1)[1]
    if not text:
        return ""
    try:
        host = host_of_url(text)
    except DomainError:
        return ""
    # host_of_url lets some garbage through (e.g. spaces); a host never has whitespace.
    return "" if any(char.isspace() for char in host) else host


# Integers a template may build with * and ** (huge ints cost CPU to build and to print).
_MAX_INT_BITS = 4096

_SAFE_BUILTIN_FILTERS = (
    "abs", "capitalize", "count", "d", "default", "dictsort", "e", "escape", "first", "float",
    "int", "last", "length", "list", "lower", "map", "max", "min", "reject", "rejectattr",
    "round", "select", "selectattr", "sort", "string", "striptags", "title", "trim",
    "truncate", "unique", "upper", "urlencode", "wordcount",
)  # fmt: skip
# Left out on purpose: ``safe`` (would let scraped data into the HTML unescaped), and filters
# that can build huge values from small input (center, indent, wordwrap, format, batch, pprint, sum).

# Methods of plain data the templates may call; everything else (str.replace, str.center,
# str.format, ...) could build unbounded strings or is not needed.
_CALLABLE_METHODS = {
    "lower", "upper", "title", "capitalize", "strip", "lstrip", "rstrip", "startswith",
    "endswith", "split", "get", "items", "keys", "values", "cycle", "changed",
}  # fmt: skip


# --- per-render budget ----------------------------------------------------------------------


@dataclass
class _Budget:
    limits: RenderLimits
    clock: Callable[[], float]
    deadline: float
    iterations: int = 0

    def tick(self) -> None:
        if self.clock() > self.deadline:
            raise LimitExceeded(f"rendering took longer than {self.limits.max_seconds:g} s")

    def iterate(self) -> None:
        self.iterations += 1
        if self.iterations > self.limits.max_iterations:
            raise LimitExceeded(f"more than {self.limits.max_iterations} loop iterations")
        self.tick()


_BUDGET: ContextVar[_Budget | None] = ContextVar("outreach_template_budget", default=None)


def _tick() -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.tick()


def _check_size(size: int, limits: RenderLimits, what: str) -> None:
    if size > limits.max_output_chars:
        raise LimitExceeded(f"{what} would be longer than {limits.max_output_chars} characters")


def _weight(value: Any, limit: int) -> int:
    """Roughly what ``str(value)`` costs: characters plus container items, counted until past ``limit``.

    Nested references count every time they appear, as they would when printed, so a list
    of lists built by doubling is caught long before it is turned into text.
    """
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, list | tuple | set | frozenset | dict):
            total += len(item) + 1
            if total <= limit:
                stack.extend(item.items() if isinstance(item, dict) else item)
        else:
            total += 1
    return total


def _check_forbidden(template: nodes.Template) -> None:
    for node in template.find_all(tuple(_FORBIDDEN_NODES)):
        raise ForbiddenConstruct(f"the {_FORBIDDEN_NODES[type(node)]} tag is not allowed", node.lineno)
    for loop in template.find_all(nodes.For):
        if loop.recursive:
            raise ForbiddenConstruct("recursive loops are not allowed", loop.lineno)


class _GuardedCodeGenerator(CodeGenerator):
    """Compiles ``for x in ITER`` as ``for x in environment.guard_iter(ITER)`` and caps ``~``."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        guard = nodes.EnvironmentAttribute("guard_iter", lineno=node.lineno)
        node.iter = nodes.Call(guard, [node.iter], [], None, None, lineno=node.lineno)
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.guard_value(")
        super().visit_Concat(node, frame)
        self.write(")")

    def _guarded_literal(self, visit: Callable[[Any, Frame], None], node: Any, frame: Frame) -> None:
        if getattr(node, "ctx", "load") != "load":  # ``for a, b in ...`` targets are not values
            visit(node, frame)
            return
        self.write("environment.guard_value(")
        visit(node, frame)
        self.write(")")

    def visit_List(self, node: nodes.List, frame: Frame) -> None:
        self._guarded_literal(super().visit_List, node, frame)

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:
        self._guarded_literal(super().visit_Tuple, node, frame)

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:
        self._guarded_literal(super().visit_Dict, node, frame)


class LimitedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox used for every outreach template part."""

    code_generator_class = _GuardedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%", "//"})

    def __init__(self, *, autoescape: bool, limits: RenderLimits) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=autoescape, auto_reload=False, cache_size=0)
        self.limits = limits
        self.filters = {name: JINJA_FILTERS[name] for name in _SAFE_BUILTIN_FILTERS}
        self.filters.update(
            first_name=first_name, domain=domain, replace=self._replace, join=self._join
        )
        # No cycler/joiner/namespace/lipsum/dict: only a capped range.
        self.globals = {"range": self._range}

    # Sandbox hooks: every one of them checks the clock.
    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return not attr.startswith("_") and super().is_safe_attribute(obj, attr, value)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _tick()
        if attribute.startswith("_"):
            raise SecurityError(f"access to attribute {attribute!r} is not allowed")
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _tick()
        if isinstance(argument, str) and argument.startswith("_"):
            raise SecurityError(f"access to {argument!r} is not allowed")
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _tick()
        if not __self._may_call(__obj):
            name = getattr(__obj, "__name__", type(__obj).__name__)
            raise SecurityError(f"calling {name!r} is not allowed")
        return super().call(__context, __obj, *args, **kwargs)

    def _may_call(self, obj: Any) -> bool:
        if obj in (self._range, self.guard_iter):
            return True
        owner = getattr(obj, "__self__", None)
        if isinstance(owner, LoopContext):
            return obj.__name__ in {"cycle", "changed"}
        return isinstance(owner, str | dict) and getattr(obj, "__name__", "") in _CALLABLE_METHODS

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _tick()
        if operator == "%" and isinstance(left, str):
            raise SecurityError("string formatting with % is not allowed")
        if operator == "**" and (not isinstance(right, int | float) or abs(right) > 64):
            raise LimitExceeded("exponent larger than 64")
        if operator in {"*", "**"} and isinstance(left, int) and isinstance(right, int):
            # Upper bound of the result's size, known before computing it.
            if operator == "**":
                bits = left.bit_length() * max(right, 1)
            else:
                bits = left.bit_length() + right.bit_length()
            if bits > _MAX_INT_BITS:
                raise LimitExceeded(f"number larger than {_MAX_INT_BITS} bits")
        cap = self.limits.max_output_chars
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int):
                    _check_size(_weight(seq, cap) * times, self.limits, "a repeated value")
        if operator == "+" and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
            _check_size(_weight(left, cap) + _weight(right, cap), self.limits, "a joined value")
        return super().call_binop(context, operator, left, right)

    # Guards the code generator and the globals refer to.
    def guard_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        budget = _BUDGET.get()
        for item in iterable:
            if budget is not None:
                budget.iterate()
            yield item

    def guard_value(self, value: Any) -> Any:
        _check_size(_weight(value, self.limits.max_output_chars), self.limits, "a value")
        return value

    def _range(self, *args: int) -> range:
        numbers = range(*args)
        try:
            size = len(numbers)
        except OverflowError:  # more items than a C integer holds
            size = self.limits.max_range + 1
        if size > self.limits.max_range:
            raise LimitExceeded(f"range() larger than {self.limits.max_range}")
        return numbers

    @pass_eval_context
    def _replace(self, eval_ctx: Any, value: str, old: str, new: str, count: int | None = None) -> str:
        text, old_text, new_text = str(value), str(old), str(new)
        hits = text.count(old_text) if old_text else len(text) + 1
        _check_size(len(text) + hits * len(new_text), self.limits, "the replaced text")
        return JINJA_FILTERS["replace"](eval_ctx, value, old, new, count)

    @pass_eval_context
    def _join(self, eval_ctx: Any, value: Iterable[Any], d: str = "", attribute: Any = None) -> str:
        items = list(value)
        cap = self.limits.max_output_chars
        size = len(str(d)) * max(len(items) - 1, 0)
        for item in items if attribute is None else ():
            size += _weight(item, cap)
            _check_size(size, self.limits, "the joined text")
        return self.guard_value(JINJA_FILTERS["join"](eval_ctx, items, d, attribute))


# --- rendering -------------------------------------------------------------------------------


def _environment(part: str) -> LimitedEnvironment:
    limits = SUBJECT_LIMITS if part == "subject" else BODY_LIMITS
    return LimitedEnvironment(autoescape=(part == "html"), limits=limits)


def _template_line(exc: BaseException) -> int | None:
    """The template line an exception came from (Jinja rewrites tracebacks to template lines)."""
    if isinstance(exc, TemplateSyntaxError | ForbiddenConstruct):
        return exc.lineno
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _message(exc: BaseException) -> str:
    if isinstance(exc, TemplateSyntaxError):
        return f"syntax error: {exc.message}"
    if isinstance(exc, LimitExceeded):
        return f"limit exceeded: {exc}"
    if isinstance(exc, SecurityError):
        return f"forbidden: {exc}"
    if isinstance(exc, UndefinedError):
        return f"undefined: {exc.message}"
    if isinstance(exc, RecursionError):
        return "limit exceeded: too deeply nested"
    return f"{type(exc).__name__}: {exc}"


def render_part(
    part: str, source: str, context: Mapping[str, Any], *, clock: Callable[[], float] = time.monotonic
) -> str:
    """Render one part within its limits, or raise :class:`TemplateRenderError` for that part.

    ``clock`` is injectable so tests can make time pass without sleeping.
    """
    env = _environment(part)
    limits = env.limits
    if len(source) > limits.max_source_chars:
        raise TemplateRenderError([TemplateError(part, None, f"limit exceeded: template longer than "
                                                              f"{limits.max_source_chars} characters")])
    token = _BUDGET.set(_Budget(limits=limits, clock=clock, deadline=clock() + limits.max_seconds))
    try:
        return _generate(env, part, source, context)
    except TemplateRenderError:
        raise
    except Exception as exc:  # every failure becomes a located error; nothing escapes half-rendered
        raise TemplateRenderError([TemplateError(part, _template_line(exc), _message(exc))]) from exc
    finally:
        _BUDGET.reset(token)


def _generate(env: LimitedEnvironment, part: str, source: str, context: Mapping[str, Any]) -> str:
    tree = env.parse(source)
    _check_forbidden(tree)
    template = env.from_string(tree)
    chunks: list[str] = []
    size = 0
    stream = template.generate(dict(context))
    with contextlib.closing(stream):
        for chunk in stream:
            size += len(chunk)
            _check_size(size, env.limits, "the output")
            chunks.append(chunk)
    text = "".join(chunks)
    if part == "subject" and ("\n" in text or "\r" in text):
        raise TemplateRenderError([TemplateError(part, None, "the subject must be one line (it contains "
                                                             "a line break after rendering)")])
    return text


def render_email(template_parts: Mapping[str, str | None], context: Mapping[str, Any]) -> Rendered:
    """Render subject, text and (optional) HTML; raise :class:`TemplateRenderError` with every error."""
    results: dict[str, str | None] = {"html": None}
    errors: list[TemplateError] = []
    for part in PARTS:
        source = template_parts.get(part)
        if part == "html" and not source:
            continue
        try:
            results[part] = render_part(part, source or "", context)
        except TemplateRenderError as failure:
            errors.extend(failure.errors)
    if errors:
        raise TemplateRenderError(errors)
    return Rendered(subject=results["subject"] or "", text=results["text"] or "", html=results["html"])


def validate_template(
    subject: str, text: str, html: str | None, sample: Mapping[str, Any] | None = None
) -> list[TemplateError]:
    """Every error a template has against a sample context (empty list: it is valid).

    Checks syntax, undefined variables, forbidden operations, limits, an empty subject
    or text body, and a subject that renders to more than one line.
    """
    errors = [TemplateError(part, None, "must not be empty")
              for part, source in (("subject", subject), ("text", text)) if not (source or "").strip()]
    try:
        render_email({"subject": subject, "text": text, "html": html}, sample or sample_context())
    except TemplateRenderError as failure:
        errors.extend(failure.errors)
    return errors


__all__ = [
    "BODY_LIMITS", "SUBJECT_LIMITS", "ContactInfo", "LimitExceeded", "LimitedEnvironment", "ProjectInfo",
    "ProspectInfo", "RenderLimits", "Rendered", "SenderInfo", "TargetPageInfo", "TemplateError",
    "TemplateRenderError", "build_context", "render_email", "render_part", "sample_context",
    "validate_template",
]
