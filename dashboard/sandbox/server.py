"""Serve the sandbox from a background thread with HTTP/1.1 keep-alive."""

from __future__ import annotations

import functools
import io
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import create_app
from .clock import Clock
from .config import SandboxConfig
from .store import Store

logger = logging.getLogger(__name__)

IDLE_CONNECTION_TIMEOUT_S = 120
POLL_INTERVAL_S = 0.02
JOIN_TIMEOUT_S = 5.0
Headers = list[tuple[str, str]]
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding"})
ARRIVED_KEY = "sandbox.arrived"


class ConnectionRegistry:
    """The open client connections and the threads serving them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[threading.Thread, socket.socket] = {}

    def add(self, connection: socket.socket) -> None:
        """Remember the connection served by the current thread."""
        with self._lock:
            self._open[threading.current_thread()] = connection

    def discard(self) -> None:
        """Forget the connection served by the current thread."""
        with self._lock:
            self._open.pop(threading.current_thread(), None)

    def close_all(self, timeout: float) -> None:
        """Shut every open connection down and wait for its thread to end."""
        with self._lock:
            opened = list(self._open.items())

        for _, connection in opened:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread, _ in opened:
            thread.join(timeout)
            if thread.is_alive():
                logger.warning("Connection thread %s did not stop", thread.name)


def _buffer_body(environ: dict[str, Any]) -> None:
    """Read the whole request body first, so the next request starts cleanly."""
    stream = environ["wsgi.input"]
    if environ.pop("wsgi.input_terminated", False):
        data = stream.read()
    else:
        length = environ.get("CONTENT_LENGTH") or "0"
        data = stream.read(int(length)) if length.isdigit() and int(length) else b""

    environ["wsgi.input"] = io.BytesIO(data)
    environ["CONTENT_LENGTH"] = str(len(data))


def _call_app(
    app: Callable[..., Iterable[bytes]], environ: dict[str, Any]
) -> tuple[str, Headers, bytes]:
    """Run the WSGI app and collect its status, headers and whole body."""
    started: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: Headers, exc_info: Any = None) -> Any:
        started["status"] = status
        started["headers"] = headers
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return started["status"], started["headers"], b"".join(chunks)


class KeepAliveRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler, answering with Content-Length and keeping connections.

    Werkzeug's own handler closes every connection after one response; clients
    such as a requests.Session would reconnect for every call.
    """

    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_TIMEOUT_S
    registry: ConnectionRegistry | None = None

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.registry is not None:
            self.registry.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            if self.registry is not None:
                self.registry.discard()

    def run_wsgi(self) -> None:
        """Answer one request; the connection stays open unless asked to close."""
        if self.headers.get("Expect", "").lower().strip() == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")

        arrived = time.monotonic()
        self.environ = environ = self.make_environ()
        environ[ARRIVED_KEY] = arrived  # the latency counts from here
        _buffer_body(environ)
        try:
            status, headers, body = _call_app(self.server.app, environ)
        except Exception:
            logger.exception("Sandbox app crashed")
            self.close_connection = True
            status, headers, body = "500 INTERNAL SERVER ERROR", [], b""

        self._answer(status, headers, body, environ["REQUEST_METHOD"] == "HEAD")

    def _answer(self, status: str, headers: Headers, body: bytes, head: bool) -> None:
        """Write the status line, headers and a length-delimited body."""
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason)

        declared = None
        for name, value in headers:
            if name.lower() == "content-length":
                declared = value
            elif name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        length = declared if head and declared else str(len(body))
        self.send_header("Content-Length", length)
        self.send_header(
            "Connection", "close" if self.close_connection else "keep-alive"
        )
        self.end_headers()

        if body and not head:
            self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        logger.debug("%s %s -> %s", self.command, self.path, code)

    def log_error(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)


class SandboxServer:
    """A local Plugg.to API served from background threads."""

    def __init__(self, config: SandboxConfig | None = None, clock: Clock | None = None):
        self.config = config or SandboxConfig()
        self.store = Store(self.config) if clock is None else Store(self.config, clock)
        self._stop_event = threading.Event()
        self._registry = ConnectionRegistry()
        self._server: BaseWSGIServer | None = None
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        """Return the base URL, like http://127.0.0.1:8765."""
        if self._server is None:
            raise RuntimeError("The sandbox is not running")

        host = self.config.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        return f"http://{host}:{self._server.port}"

    def start(self) -> None:
        """Start listening and serving; return once the socket accepts connections."""
        if self._server is not None:
            raise RuntimeError("The sandbox is already running")

        handler = type(
            "SandboxRequestHandler",
            (KeepAliveRequestHandler,),
            {"registry": self._registry},
        )
        app = create_app(self.store, self._stop_event)
        self._stop_event.clear()
        self._server = make_server(
            self.config.host,
            self.config.port,
            app,
            threaded=True,
            request_handler=handler,
        )
        serve = functools.partial(
            self._server.serve_forever, poll_interval=POLL_INTERVAL_S
        )
        self._spawn("sandbox-http", serve)
        if self.config.demo_orders:
            self._spawn("sandbox-demo-orders", self._run_demo_orders)

        logger.info("Plugg.to sandbox listening on %s", self.url)

    def stop(self) -> None:
        """Stop serving, close every connection and join the threads."""
        server = self._server
        if server is None:
            return

        self._stop_event.set()
        server.shutdown()
        self._registry.close_all(JOIN_TIMEOUT_S)
        for thread in self._threads:
            thread.join(JOIN_TIMEOUT_S)
        server.server_close()

        self._threads.clear()
        self._server = None
        logger.info("Plugg.to sandbox stopped")

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        """Start a named daemon thread."""
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _run_demo_orders(self) -> None:
        """Call the demo order step every interval until stopped."""
        interval = self.config.demo_interval_s
        while not self._stop_event.wait(interval):
            try:
                self.store.demo_tick()
            except Exception:
                logger.exception("Demo order step failed")
