"""Tiny loopback servers for the ``ayolinx doctor`` failure tests: an HTML page (what a proxy
or firewall answers) and a real simulator whose clock, and ``Date`` header, are off."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import uvicorn

from ayolinx_async.simulator import Simulator

HTML_PAGE = b"<html><body><h1>Access denied</h1>Blocked by the corporate proxy.</body></html>"


class _HtmlHandler(BaseHTTPRequestHandler):
    """Answers every request (including a proxied one) with ``200 text/html``."""

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(HTML_PAGE)))
        self.end_headers()
        self.wfile.write(HTML_PAGE)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output is the CLI's."""


@contextmanager
def html_server() -> Iterator[str]:
    """A loopback HTTP server answering an HTML page to everything; yields its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HtmlHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _with_date(app: Any, clock: Callable[[], float]) -> Any:
    """Wrap an ASGI app so every answer carries a ``Date`` header from ``clock``."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        async def send_dated(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                date = formatdate(clock(), usegmt=True).encode("ascii")
                message = {**message, "headers": [*message.get("headers", []), (b"date", date)]}
            await send(message)

        await app(scope, receive, send_dated)

    return wrapped


@contextmanager
def serve_in_thread(sim: Simulator, clock: Callable[[], float]) -> Iterator[str]:
    """Serve ``sim`` on a loopback port (uvicorn in a thread, Date from ``clock``)."""
    config = uvicorn.Config(
        _with_date(sim, clock),
        host="127.0.0.1",
        port=0,
        lifespan="on",
        log_level="warning",
        date_header=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive(), "the server stopped"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        [listener] = server.servers[0].sockets
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
