"""A deliberately small HTTP layer for the simulators: requests in, responses out, routing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes = b""
    path_params: dict[str, str] = field(default_factory=dict)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """A query-string value; for form posts, the body's value when the query lacks it."""
        values = self.query.get(name) or self.form().get(name)
        return values[0] if values else default

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def form(self) -> dict[str, list[str]]:
        if "application/x-www-form-urlencoded" in (self.header("content-type") or ""):
            return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {}

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds to stall before answering; the server drops the connection after a stall,
    # which is what a client sees when its read timeout fires.
    stall_seconds: float = 0.0

    @classmethod
    def json(cls, payload: Any, status: int = 200, **headers: str) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        return cls(status, body, {"Content-Type": "application/json;charset=UTF-8", **headers})

    @classmethod
    def empty(cls, status: int) -> Response:
        return cls(status, b"", {})


Handler = Callable[[Request], Response]


class Router:
    """Maps (method, path pattern) to handlers; `{name}` segments become path parameters."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern)
        self._routes.append((method.upper(), re.compile(f"^{regex}$"), handler))

    def resolve(self, request: Request) -> Handler | None:
        allowed = False
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if match:
                allowed = True
                if method == request.method:
                    request.path_params = match.groupdict()
                    return handler
        return _method_not_allowed if allowed else None

    def handles(self, path: str) -> bool:
        return any(regex.match(path) for _, regex, _ in self._routes)


def _method_not_allowed(request: Request) -> Response:
    return Response.json({"message": "method not allowed"}, status=405)
