"""Outreach templates: the sandbox holds, errors say where, runaway templates stop within limits."""

from __future__ import annotations

import itertools

import pytest

from outreach.rendering import (
    ContactInfo,
    ProjectInfo,
    ProspectInfo,
    SenderInfo,
    TemplateRenderError,
    build_context,
    domain,
    first_name,
    render_email,
    render_part,
    sample_context,
    validate_template,
)


def _error(part: str, source: str, context: dict | None = None):
    with pytest.raises(TemplateRenderError) as failure:
        render_part(part, source, sample_context() if context is None else context)
    [error] = failure.value.errors
    return error


def test_it_renders_the_documented_context():
    context = build_context(
        prospect=ProspectInfo(domain="blog.example.org", url="https://blog.example.org/links/"),
        contact=ContactInfo(email="ann@example.org", name="Dr. Ann Lee", role="Editor"),
        project=ProjectInfo(name="Acme", site="https://acme.example.com/"),
        sender=SenderInfo(name="Sam", email="sam@acme.example.com", signature="-- Sam"),
        target_page=None,
        unsubscribe_url="https://crm.example.com/u/t/",
    )
    source = (
        "Hi {{ contact.first_name }} ({{ contact.role }}) at {{ prospect.domain }}, "
        "title={{ prospect.title }}|"
        "{{ project.name }} {{ sender.signature }} [{{ target_page.url }}] {{ unsubscribe_url }}"
    )
    assert render_part("text", source, context) == (
        "Hi Ann (Editor) at blog.example.org, title=|Acme -- Sam [] https://crm.example.com/u/t/"
    )


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ contact.__class__ }}",
        "{{ contact._private }}",
        "{{ contact['_private'] }}",
        "{{ contact.name.__len__() }}",
        "{{ 'a'.replace('a', 'b') }}",
        "{{ '{0.__class__}'.format(1) }}",
        "{{ '%s' % contact }}",
    ],
)
def test_sandbox_escapes_and_unsafe_calls_are_forbidden(source):
    error = _error("text", source)
    assert error.message.startswith("forbidden:"), error.message
    assert error.line == 1


@pytest.mark.parametrize(
    "name", ["safe", "center", "indent", "wordwrap", "format", "batch", "pprint", "sum"]
)
def test_risky_filters_do_not_exist(name):
    error = _error("html", f"{{{{ contact.name|{name} }}}}")
    assert error.message.startswith("syntax error: No filter named")


def test_globals_beyond_range_are_gone():
    for name in ("cycler", "joiner", "namespace", "lipsum", "dict"):
        assert _error("text", f"{{{{ {name}() }}}}").message.startswith("undefined:")


def test_an_undefined_variable_is_an_error_with_its_line():
    error = _error("text", "Hi {{ contact.first_name }},\n\nWe loved {{ prospect.titel }}.\n")
    assert (error.part, error.line) == ("text", 3)
    assert "titel" in error.message


def test_default_is_the_fallback_for_missing_or_empty_values():
    context = sample_context()
    context["contact"] = {**context["contact"], "first_name": ""}
    source = "Hi {{ contact.first_name|default('there', true) }} {{ contact.nickname|default('friend') }}"
    assert render_part("text", source, context) == "Hi there friend"


def test_syntax_errors_carry_their_line():
    error = _error("html", "<p>ok</p>\n<p>{% if contact.name %}</p>\n")
    assert error.part == "html"
    assert error.message.startswith("syntax error:")
    assert error.line in (2, 3)  # Jinja reports the end of the unclosed block


def test_html_is_autoescaped_and_subject_and_text_are_not():
    prospect = {"title": "<script>x()</script> & co", "domain": "", "url": ""}
    context = {**sample_context(), "prospect": prospect}
    title = "{{ prospect.title }}"
    parts = {"subject": title, "text": title, "html": f"<p>{title}</p>"}
    rendered = render_email(parts, context)
    assert rendered.subject == rendered.text == "<script>x()</script> & co"
    assert rendered.html == "<p>&lt;script&gt;x()&lt;/script&gt; &amp; co</p>"
    assert _error("html", "{{ prospect.title|safe }}", context).message.startswith("syntax error:")


def test_a_subject_that_renders_to_two_lines_is_an_error_not_stripped():
    prospect = {"title": "Hello\r\nBcc: victim@example.net", "domain": "", "url": ""}
    context = {**sample_context(), "prospect": prospect}
    error = _error("subject", "About {{ prospect.title }}", context)
    assert error.part == "subject"
    assert "one line" in error.message


@pytest.mark.parametrize(
    "source",
    [
        "{% for i in range(10**9) %}x{% endfor %}",
        "{% for i in range(2**64 * 2**64) %}x{% endfor %}",
        "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
        "{% set s = 'x' * 9000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
        "{{ 'x' * 10**9 }}",
        "{{ [1] * 10**9 }}",
        "{{ ((10**60)**60)**60 }}",
        "{% set a = 'x' * 60000 %}{% set b = a ~ a %}{{ b }}",
        "{% set a = 'x' * 60000 %}{{ a + a }}",
        "{{ range(10000)|join('x' * 1000) }}",
        "{{ ('x' * 50000)|replace('x', 'yyyy') }}",
        "{% for i in range(10000) %}{{ 'x' * 100 }}{% endfor %}",
        "{{ [[0] * 100000] * 100000 }}",
        "{% set a = [0] * 50000 %}{% set b = [a, a, a] %}{{ b|length }}",
        "{% set a = [0] * 20000 %}{% set b = (a, a) %}{% set c = {'x': b, 'y': b} %}{{ c|length }}",
        "{% set a = [0] * 60000 %}{{ (a + a)|length }}",
    ],
)
def test_runaway_templates_stop_at_a_limit(source):
    error = _error("text", source)
    assert error.message.startswith("limit exceeded:"), error.message


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("ok\n{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", 2),
        ("{% filter upper %}x{% endfilter %}", 1),
        ("{% call x() %}y{% endcall %}", 1),
        ("\n\n{% set body %}x{% endset %}", 3),
        ("{% for x in [1] recursive %}{{ loop([]) }}{% endfor %}", 1),
        ("{% include 'other.html' %}", 1),
        ("{% extends 'base.html' %}", 1),
    ],
)
def test_tags_that_buffer_output_or_load_templates_are_forbidden_with_their_line(source, line):
    error = _error("text", source)
    assert error.message.startswith("forbidden:"), error.message
    assert error.line == line


def test_deep_nesting_is_stopped():
    error = _error("text", "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}")
    assert error.message.startswith("limit exceeded:")


def test_the_source_size_is_limited():
    assert _error("text", "x" * 20_001).message.startswith("limit exceeded: template longer")
    assert _error("subject", "x" * 1_001).message.startswith("limit exceeded: template longer")


def test_the_time_limit_stops_a_render_using_the_injected_clock():
    """Each hook reads the clock; a clock that jumps 1 s per read trips the 2 s deadline."""
    ticks = itertools.count(start=0, step=1.0)
    source = "{% for i in range(100) %}{{ contact.name }}{% endfor %}"
    with pytest.raises(TemplateRenderError) as failure:
        render_part("text", source, sample_context(), clock=lambda: next(ticks))
    assert "longer than 2 s" in failure.value.errors[0].message
    assert render_part("text", source, sample_context(), clock=lambda: 0.0) == "Jane Doe" * 100


def test_allowed_constructs_still_work():
    source = (
        "{% for page in pages %}{{ loop.index }}. {{ page.label|title }}{{ loop.cycle(',', ';') }}"
        "{% endfor %}"
        " {{ contact.name.upper() }} {{ contact.email|domain }} {{ (2 ** 10) * 3 }}"
    )
    context = {**sample_context(), "pages": [{"label": "guide"}, {"label": "tools"}]}
    assert render_part("text", source, context) == "1. Guide,2. Tools; JANE DOE example.org 3072"


def test_unpacking_literals_and_join_still_work():
    source = (
        "{% for k, v in {'b': 2, 'a': 1}|dictsort %}{{ k }}={{ v }};{% endfor %}"
        "{% set x, y = 1, 2 %}{{ x + y }} {{ ['a', 'b']|join('-') }} {{ ('x' ~ 'y') * 2 }}"
    )
    assert render_part("text", source, sample_context()) == "a=1;b=2;3 a-b xyxy"


def test_filters_first_name_and_domain():
    assert first_name("Dr. Jane Q. Doe") == "Jane"
    assert first_name("") == first_name(None) == ""
    assert domain("https://www.example.co.uk/path?q=1") == "example.co.uk"
    assert domain("jane@Mail.Example.org") == "mail.example.org"
    assert domain("not a url at all ::") == ""


def test_validate_template_reports_every_part_with_lines():
    errors = validate_template(
        subject="Hi {{ contact.nope }}",
        text="Line one\n{{ sender.name }}\n{% for %}",
        html="<p>{{ ''.__class__ }}</p>",
        sample=sample_context(),
    )
    summary = {(error.part, error.line, error.message.split(":")[0]) for error in errors}
    assert summary == {("subject", 1, "undefined"), ("text", 3, "syntax error"), ("html", 1, "forbidden")}


def test_validate_template_accepts_a_good_template_and_refuses_empty_parts():
    assert validate_template("Hi {{ contact.first_name }}", "Hello\n{{ sender.signature }}", None) == []
    errors = validate_template("", " ", None)
    assert {(error.part, error.message) for error in errors} >= {
        ("subject", "must not be empty"), ("text", "must not be empty")
    }


def test_render_email_without_html():
    parts = {"subject": "S {{ contact.first_name }}", "text": "T", "html": ""}
    rendered = render_email(parts, sample_context())
    assert (rendered.subject, rendered.text, rendered.html) == ("S Jane", "T", None)
