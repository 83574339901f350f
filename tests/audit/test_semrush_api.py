"""The Semrush Backlinks API client, against a local server that answers like the API."""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from audit.choices import ImportFormat
from audit.importers.base import BacklinkRow, LineError
from audit.importers.detect import detect_format, importer_for, iter_normalised
from audit.importers.reader import open_export
from audit.importers.semrush_api import SemrushApiError, SemrushClient

KEY = "sk-test-0123456789abcdef"
HEADER = (
    "page_ascore;source_title;source_url;target_url;anchor;external_num;internal_num;first_seen;last_seen;"
    "nofollow;form;frame;image;sitewide;newlink;lostlink"
)
DAY = 86400
JAN_1_2024 = 1704067200


def api_row(n: int) -> str:
    """Backlink ``n`` as the API writes it: ``;``-separated, Unix-second dates, true/false flags."""
    lost = "true" if n % 5 == 0 else "false"
    image = "true" if n % 7 == 0 else "false"
    nofollow = "true" if n % 2 else "false"
    first, last = str(JAN_1_2024 + n * DAY), str(JAN_1_2024 + (n + 30) * DAY)
    cells = [str(n % 90), f"Page {n}", f"https://ref{n}.example/post", "https://site.test/", f"anchor {n}"]
    cells += [str(n), "3", first, last, nofollow, "false", "false", image, "false", "false", lost]
    return ";".join(cells)


class FakeSemrush(BaseHTTPRequestHandler):
    """Behaves like api.semrush.com/analytics/v1/ for ``type=backlinks``.

    Targets: ``site.test`` has ``server.total`` backlinks; ``empty.test`` none; ``broke.test``
    has no API units; ``down.test`` answers HTTP 503; ``bad.test`` has a broken row.
    """

    server: FakeServer

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        query = {name: values[0] for name, values in parse_qs(urlsplit(self.path).query).items()}
        self.server.requests.append(query)
        if query.get("key") != KEY:
            return self._answer(200, "ERROR 120 :: WRONG KEY - ID PAIR")
        target = query.get("target")
        if target == "broke.test":
            return self._answer(200, "ERROR 132 :: API UNITS BALANCE IS ZERO")
        if target == "down.test":
            return self._answer(503, "<html>Service Unavailable</html>")
        offset, limit = int(query["display_offset"]), int(query["display_limit"])
        rows = (
            [api_row(n) for n in range(1, self.server.total + 1)]
            if target in ("site.test", "bad.test")
            else []
        )
        if target == "bad.test":
            rows[1] = rows[1].replace("https://ref2.example/post", "not a url")
        page = rows[offset : offset + limit]
        if not page:
            return self._answer(200, "ERROR 50 :: NOTHING FOUND")
        self._answer(200, "\r\n".join([HEADER, *page]) + "\r\n")

    def _answer(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


class FakeServer(ThreadingHTTPServer):
    requests: list[dict[str, str]]
    total: int


@pytest.fixture
def api() -> Iterator[FakeServer]:
    server = FakeServer(("127.0.0.1", 0), FakeSemrush)
    server.requests, server.total = [], 25
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def client(server: FakeServer, *, key: str = KEY, page_size: int = 10) -> SemrushClient:
    return SemrushClient(
        api_key=key,
        base_url=f"http://127.0.0.1:{server.server_address[1]}/analytics/v1/",
        page_size=page_size,
    )


def test_it_pages_through_every_backlink(api: FakeServer) -> None:
    rows = list(client(api).iter_backlinks("site.test", limit=1000))
    assert [row.source_url for row in rows] == [f"https://ref{n}.example/post" for n in range(1, 26)]
    assert [(q["display_offset"], q["display_limit"]) for q in api.requests] == [
        ("0", "10"),
        ("10", "10"),
        ("20", "10"),
    ]
    first = api.requests[0]
    assert (first["type"], first["target"], first["target_type"]) == ("backlinks", "site.test", "root_domain")
    assert first["export_columns"].split(",")[:3] == ["page_ascore", "source_title", "source_url"]


def test_rows_are_converted_like_an_export(api: FakeServer) -> None:
    rows = list(client(api).iter_backlinks("site.test", limit=1000))
    seventh = rows[6]
    assert seventh == BacklinkRow(
        8,
        "https://ref7.example/post",
        "https://site.test/",
        "anchor 7",
        "Page 7",
        "image",
        True,
        False,
        False,
        False,
        "2024-01-08",
        "2024-02-07",
        None,
        7,
        3,
        None,
        7,
        None,
        None,
        None,
    )
    assert [row.line for row in rows] == list(range(2, 27))
    assert sum(row.lost_at is not None for row in rows) == 5  # n = 5, 10, 15, 20, 25
    assert rows[4].lost_at == rows[4].last_seen == "2024-02-05"


def test_it_stops_at_the_limit(api: FakeServer) -> None:
    rows = list(client(api).iter_backlinks("site.test", limit=12))
    assert len(rows) == 12
    assert [(q["display_offset"], q["display_limit"]) for q in api.requests] == [("0", "10"), ("10", "2")]


def test_an_exact_multiple_of_the_page_size_ends_on_nothing_found(api: FakeServer) -> None:
    api.total = 20
    assert len(list(client(api).iter_backlinks("site.test", limit=1000))) == 20
    assert [q["display_offset"] for q in api.requests] == ["0", "10", "20"]


def test_nothing_found_on_the_first_page_means_no_backlinks(api: FakeServer) -> None:
    assert list(client(api).iter_backlinks("empty.test", limit=1000)) == []
    assert len(api.requests) == 1


def test_a_bad_row_is_a_line_error_not_the_end(api: FakeServer) -> None:
    rows = list(client(api).backlinks(target="bad.test", limit=5))
    assert rows[1] == LineError(3, "source_url", "not an http(s) URL: 'not a url'")
    assert [type(row) for row in rows] == [BacklinkRow, LineError, BacklinkRow, BacklinkRow, BacklinkRow]


def test_a_wrong_key_is_a_clear_error_without_the_key(api: FakeServer) -> None:
    with pytest.raises(SemrushApiError) as failed:
        list(client(api, key="sk-wrong-key-42").iter_backlinks("site.test", limit=10))
    assert failed.value.code == 120
    assert "rejected the API key" in failed.value.message and "WRONG KEY - ID PAIR" in failed.value.message
    assert "sk-wrong-key-42" not in str(failed.value) and "sk-wrong-key-42" not in repr(failed.value)
    assert failed.value.transient is False


def test_no_units_left_is_a_clear_error(api: FakeServer) -> None:
    with pytest.raises(SemrushApiError, match="no API units left") as failed:
        list(client(api).iter_backlinks("broke.test", limit=10))
    assert failed.value.code == 132


def test_a_server_error_is_transient(api: FakeServer) -> None:
    with pytest.raises(SemrushApiError, match="HTTP 503") as failed:
        list(client(api).iter_backlinks("down.test", limit=10))
    assert failed.value.transient is True


def test_an_unreachable_api_is_a_transient_error_without_the_key(api: FakeServer) -> None:
    port = api.server_address[1]
    api.shutdown()
    api.server_close()
    unreachable = SemrushClient(api_key=KEY, base_url=f"http://127.0.0.1:{port}/analytics/v1/", timeout=5)
    with pytest.raises(SemrushApiError, match="could not reach the Semrush API") as failed:
        list(unreachable.iter_backlinks("site.test", limit=10))
    assert failed.value.transient is True
    assert KEY not in str(failed.value)
    assert failed.value.__cause__ is None and failed.value.__suppress_context__


def test_the_key_stays_out_of_repr_and_logs(api: FakeServer, caplog: pytest.LogCaptureFixture) -> None:
    semrush = client(api)
    assert KEY not in repr(semrush)
    with caplog.at_level(logging.DEBUG):
        list(semrush.iter_backlinks("site.test", limit=10))
    assert any("key=***" in record.getMessage() for record in caplog.records)  # httpx logged the request
    assert all(KEY not in record.getMessage() for record in caplog.records)


def test_no_key_configured_is_refused_up_front() -> None:
    with pytest.raises(SemrushApiError, match="LINKCRM_SEMRUSH_API_KEY"):
        SemrushClient(api_key="")


def test_a_saved_pull_goes_through_the_file_pipeline(api: FakeServer) -> None:
    out = io.BytesIO()
    assert client(api).write_export("site.test", out, limit=1000) == 25
    reader = open_export(io.BytesIO(out.getvalue()), max_bytes=1024**2)
    spec = detect_format(reader.normalized_header)
    assert spec.format == ImportFormat.SEMRUSH_API
    from_file = list(iter_normalised(reader, importer_for(spec.format).converter(reader.header)))
    assert from_file == list(client(api).iter_backlinks("site.test", limit=1000))
