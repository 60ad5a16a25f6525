"""Serve one or more simulated APIs on a local port, in a background thread.

Tests start a server per test session (or per test) and point the clients' base URLs at
`server.url`; `manage.py run_simulator` serves the same objects for the demo and benchmarks.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, urlsplit

from simulator.faults import Fault, FaultPlan
from simulator.http import Request, Response, Router


class SimulatedApi:
    """Base for a simulated service: its routes, its fault plan and its error bodies."""

    name = "api"

    def __init__(self) -> None:
        self.router = Router()
        self.faults = FaultPlan()

    def render_fault(self, fault: Fault, request: Request) -> Response:
        """How this service answers when a fault is injected; services override the bodies."""
        if fault is Fault.RATE_LIMITED:
            return Response.json(
                {"message": "too many requests"},
                status=429,
                **{"Retry-After": str(self.faults.retry_after_seconds)},
            )
        if fault is Fault.RATE_LIMITED_NO_RETRY_AFTER:
            return Response.json({"message": "too many requests"}, status=429)
        if fault is Fault.SERVER_ERROR:
            return Response.json({"message": "internal error"}, status=500)
        if fault is Fault.UNAVAILABLE:
            return Response.json({"message": "service unavailable"}, status=503)
        if fault is Fault.UNAUTHORIZED:
            return Response.json({"message": "unauthorized"}, status=401)
        if fault is Fault.MALFORMED:
            return Response(200, b'{"data": [{"id": ', {"Content-Type": "application/json"})
        return Response(stall_seconds=self.faults.stall_seconds)  # Fault.TIMEOUT


@dataclass(frozen=True)
class LoggedCall:
    method: str
    path: str
    status: int | None  # None: the connection was dropped (a simulated timeout)


class SimulatorServer:
    """A threaded HTTP server that routes each request to the simulated API that owns its path."""

    def __init__(self, apis: Iterable[SimulatedApi], *, host: str = "127.0.0.1", port: int = 0):
        self.apis = list(apis)
        self.calls: list[LoggedCall] = []
        self._calls_lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._httpd.timeout = 0  # handle_request() below only runs when a client is waiting
        self._thread: threading.Thread | None = None
        # stop() writes to this pair to wake the serving loop at once. socketserver's own
        # serve_forever() notices shutdown() only at its next 0.5 s poll, which every test
        # with a simulator used to wait for.
        self._wake_up, self._wake_up_call = socket.socketpair()
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._serve_until_stopped, name=f"simulator on {self.url}", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until stop() or Ctrl-C."""
        self._serve_until_stopped()

    def _serve_until_stopped(self) -> None:
        """Answer requests until stop(); the loop sleeps in select() between them."""
        with selectors.DefaultSelector() as selector:
            selector.register(self._httpd, selectors.EVENT_READ)
            selector.register(self._wake_up, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._httpd and not self._stopping.is_set():
                        self._httpd.handle_request()  # accepts; a thread answers

    def stop(self) -> None:
        """Stop serving and close the port; returns once the serving thread has ended."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._wake_up_call.send(b"\0")
        if self._thread:
            self._thread.join(timeout=5)
        self._httpd.server_close()
        self._wake_up.close()
        self._wake_up_call.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def calls_to(self, path_prefix: str) -> list[LoggedCall]:
        with self._calls_lock:
            return [call for call in self.calls if call.path.startswith(path_prefix)]

    def reset_calls(self) -> None:
        with self._calls_lock:
            self.calls.clear()

    # --- request handling --------------------------------------------------------------------

    def _respond(self, request: Request) -> Response:
        for api in self.apis:
            handler = api.router.resolve(request)
            if handler is None:
                continue
            if api.faults.latency_seconds:
                time.sleep(api.faults.latency_seconds)
            fault = api.faults.next_fault(request.path, request.query)
            if fault is not None:
                return api.render_fault(fault, request)
            return handler(request)
        return Response.json({"message": f"no simulated API serves {request.path}"}, status=404)

    def _log(self, request: Request, status: int | None) -> None:
        with self._calls_lock:
            self.calls.append(LoggedCall(request.method, request.path, status))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs do

            def _dispatch(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={name.lower(): value for name, value in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                response = server._respond(request)
                if response.stall_seconds:
                    time.sleep(response.stall_seconds)
                    server._log(request, None)
                    self.close_connection = True
                    return
                server._log(request, response.status)
                self.send_response(response.status)
                for name, value in response.headers.items():
                    self.send_header(name, value)
                if response.status not in (204, 304):
                    self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                if response.status not in (204, 304) and self.command != "HEAD":
                    self.wfile.write(response.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _dispatch

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the call log above is what tests and benchmarks read."""

        return Handler
