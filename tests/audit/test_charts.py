"""SVG charts: structure (one shape per value), escaping, accessibility and scaling."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from audit.charts import Series, bar_chart, hbar_chart, line_chart, nice_max

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    """The chart must be well-formed XML (so escaping is right) with a viewBox and no fixed size."""
    root = ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check it
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox", "").startswith("0 0 ")
    assert root.get("width") is None and root.get("height") is None
    assert root.get("role") == "img"
    return root


def test_bar_chart_draws_one_bar_per_value_with_titles():
    root = parse(bar_chart([("0–9", 3), ("10–19", 0), ("20–29", 7)], title="Authority"))
    bars = root.findall(f"{SVG}rect[@class='bar']")
    assert len(bars) == 3
    assert [bar.find(f"{SVG}title").text for bar in bars] == ["0–9: 3", "10–19: 0", "20–29: 7"]
    heights = [float(bar.get("height")) for bar in bars]
    assert heights[1] == 0 and heights[2] > heights[0] > 0
    assert root.find(f"{SVG}title").text == "Authority"
    assert root.get("aria-label") == "Authority"


def test_labels_and_titles_are_escaped():
    hostile = '<script>alert("x")</script>&'
    svg = hbar_chart([(hostile, 5)], title=f"Top {hostile}")
    assert "<script>" not in svg
    root = parse(svg)
    assert root.find(f"{SVG}text[@class='y-label']").text == hostile
    assert root.find(f"{SVG}title").text == f"Top {hostile}"
    svg = line_chart([hostile], [Series(hostile, [1])], title="t")
    assert "<script>" not in svg
    parse(svg)


def test_hbar_chart_has_a_row_per_item_and_the_longest_bar_is_the_biggest():
    root = parse(hbar_chart([("com", 10), ("org", 5), ("de", 1)], title="TLDs"))
    bars = root.findall(f"{SVG}rect[@class='bar']")
    assert len(bars) == 3
    widths = [float(bar.get("width")) for bar in bars]
    assert widths[0] > widths[1] > widths[2] > 0
    assert [t.text for t in root.findall(f"{SVG}text[@class='y-label']")] == ["com", "org", "de"]


def test_line_chart_draws_each_series_with_a_point_per_label():
    labels = ["2024-01", "2024-02", "2024-03", "2024-04"]
    series = [Series("New", [1, 4, 2, 0]), Series("Lost", [0, 1, 3, 2])]
    root = parse(line_chart(labels, series, title="New & lost"))
    groups = root.findall(f"{SVG}g[@class='series']")
    assert [g.get("data-series") for g in groups] == ["New", "Lost"]
    for group in groups:
        assert len(group.findall(f"{SVG}circle")) == 4
        assert group.find(f"{SVG}polyline") is not None
        assert group.find(f"{SVG}polygon") is not None  # the filled area
    titles = [c.find(f"{SVG}title").text for c in groups[1].findall(f"{SVG}circle")]
    assert titles[2] == "Lost, 2024-03: 3"
    assert [g.find(f"{SVG}text").text for g in root.findall(f"{SVG}g[@class='legend']")] == ["New", "Lost"]


def test_many_x_labels_are_thinned_so_they_do_not_overlap():
    labels = [f"w{i}" for i in range(100)]
    root = parse(line_chart(labels, [Series("New", list(range(100)))], title="t", width=720))
    shown = root.findall(f"{SVG}text[@class='x-label']")
    assert 1 < len(shown) <= 11


def test_mismatched_series_are_refused():
    with pytest.raises(ValueError, match="one value per label"):
        line_chart(["a", "b"], [Series("x", [1])], title="t")


def test_empty_data_says_so_instead_of_drawing_nothing():
    for svg in (bar_chart([], title="t"), bar_chart([("a", 0)], title="t"), hbar_chart([], title="t"),
                line_chart([], [], title="t")):
        root = parse(svg)
        assert "No data yet" in "".join(root.itertext())
        assert root.findall(f"{SVG}rect[@class='bar']") == []


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (450, 500), (1000, 1000)]
)
def test_axis_top_is_a_round_number(value, expected):
    assert nice_max(value) == expected
