"""The seeded synthetic Semrush export: realistic, reproducible, readable by the real importer."""

from __future__ import annotations

import csv
import io
from collections import Counter

from audit.importers import detect
from audit.importers.base import LineError
from audit.importers.reader import open_export
from audit.synthetic import SEMRUSH_BACKLINKS_HEADER, iter_semrush_backlinks, write_semrush_backlinks
from linkcrm.lib.domains import domain_of_url


def generate(rows: int, **options: object) -> str:
    out = io.StringIO(newline="")
    assert write_semrush_backlinks(out, rows=rows, **options) == rows
    return out.getvalue()


def test_the_header_is_exactly_semrushs(samples_dir):
    with (samples_dir / "semrush" / "acceleratinght.org-backlinks.csv").open(newline="") as handle:
        real_header = next(csv.reader(handle))
    assert real_header == SEMRUSH_BACKLINKS_HEADER
    assert generate(1).splitlines()[0] == ",".join(real_header)


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not():
    assert generate(500, seed=3) == generate(500, seed=3)
    assert generate(500, seed=3) != generate(500, seed=4)


def test_the_profile_looks_like_a_real_one():
    rows = list(iter_semrush_backlinks(rows=20_000, seed=1))
    share = Counter()
    for row in rows:
        share["nofollow"] += row[7] == "true"
        share["lost"] += row[18] == "true"
        share["image"] += row[13] == "true"
        share["sitewide"] += row[14] == "true"
    assert 0.26 < share["nofollow"] / len(rows) < 0.34
    assert 0.03 < share["lost"] / len(rows) < 0.07
    assert 0.05 < share["image"] / len(rows) < 0.11
    assert 0 < share["sitewide"] / len(rows) < 0.2
    per_domain = Counter(domain_of_url(row[2]) for row in rows)
    assert 0.15 < len(per_domain) / len(rows) < 0.35  # 0.2 at a million rows
    assert per_domain.most_common(1)[0][1] > 50  # a power law has giants...
    assert sum(1 for count in per_domain.values() if count == 1) > len(per_domain) / 3  # ...and a long tail
    tlds = Counter(domain.split(".", 1)[1] for domain in per_domain)
    assert len(tlds) > 15 and tlds.most_common(1)[0][0] == "com"
    years = Counter(row[15][:4] for row in rows)
    assert len(years) >= 3
    anchors = Counter(row[4] for row in rows)
    assert {"Northwind Outdoor", "click here", "hiking boots", "https://www.northwind-outdoor.com/"} <= set(
        anchors
    )


def test_every_row_passes_the_real_semrush_importer():
    content = generate(3000, seed=9).encode()
    reader = open_export(io.BytesIO(content), max_bytes=len(content))
    spec = detect.detect_format(reader.normalized_header)
    converter = detect.importer_for(spec.format).converter(reader.header)
    items = list(detect.iter_normalised(reader, converter))
    assert spec.format == "semrush_backlinks"
    assert len(items) == 3000
    assert not [item for item in items if isinstance(item, LineError)]


def test_overlapping_domain_ranges_share_referring_domains():
    def domains(offset: int) -> set[str]:
        return {
            domain_of_url(row[2])
            for row in iter_semrush_backlinks(rows=2000, seed=offset, domain_offset=offset)
        }

    shared = domains(1) & domains(300)
    assert shared and shared != domains(1)
