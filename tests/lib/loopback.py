"""A real HTTP server on 127.0.0.1 for tests of code that fetches URLs (safehttp, discovery).

Routes are set per test: a page (status, body, headers), a redirect, or a function that
writes the response itself. Every request is recorded, so a test can prove what was (and
what was never) asked for. Use with ``SafeClient(allow=[server.hostport])``.
"""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]


class LoopbackServer:
    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[Seen] = []
        self.release = threading.Event()  # streaming handlers wait on it; set on close
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def hostport(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [seen.path for seen in self.requests]

    def page(self, path: str, body: str | bytes, *, status: int = 200,
             content_type: str = "text/html; charset=utf-8", headers: dict[str, str] | None = None) -> None:
        data = body.encode() if isinstance(body, str) else body

        def handle(request: http.server.BaseHTTPRequestHandler) -> None:
            request.send_response(status)
            request.send_header("Content-Type", content_type)
            request.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                request.send_header(name, value)
            request.end_headers()
            if request.command != "HEAD":
                request.wfile.write(data)

        self.routes[path] = handle

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.page(path, b"", status=status, headers={"Location": location})

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler_class(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class RequestHandler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                server.requests.append(Seen(self.command, self.path, dict(self.headers.items())))
                handler = server.routes.get(self.path)
                if handler is None:
                    body = b"not found"
                    self.send_response(404)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                # The client may hang up on purpose (size cap): not a test failure.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    handler(self)

            do_GET = _serve
            do_HEAD = _serve

            def log_message(self, format: str, *args: object) -> None:
                return

        return RequestHandler


def serve() -> Iterator[LoopbackServer]:
    """Body of a ``server`` fixture: a started server, closed after the test.

    Test modules declare ``@pytest.fixture def server(): yield from serve()``.
    """
    started = LoopbackServer()
    try:
        yield started
    finally:
        started.close()
