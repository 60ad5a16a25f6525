"""Fault injection shared by the simulators: scripted faults for the next calls, or a rate."""

from __future__ import annotations

import enum
import random
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field


class Fault(enum.Enum):
    RATE_LIMITED = "429"  # with a Retry-After header
    RATE_LIMITED_NO_RETRY_AFTER = "429-bare"
    SERVER_ERROR = "500"
    UNAVAILABLE = "503"
    TIMEOUT = "timeout"  # stalls past the client's read timeout, then drops the connection
    MALFORMED = "malformed"  # 200 with a body that is not the documented JSON
    UNAUTHORIZED = "401"


@dataclass(frozen=True)
class _Scripted:
    fault: Fault
    path_prefix: str
    # Query arguments the call must carry too, e.g. {"page": "2"}: fail one chosen page.
    query: Mapping[str, str] = field(default_factory=dict)

    def matches(self, path: str, query: Mapping[str, list[str]]) -> bool:
        return path.startswith(self.path_prefix) and all(
            value in query.get(name, ()) for name, value in self.query.items()
        )


class FaultPlan:
    """What goes wrong next. Thread-safe: the server answers requests on many threads."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._scripted: deque[_Scripted] = deque()
        self._rate = 0.0
        self._rate_faults: tuple[Fault, ...] = ()
        self._rate_prefix = ""
        # Reproducible chaos, not security.
        self._random = random.Random(seed)  # nosec B311
        self.retry_after_seconds = 1
        self.stall_seconds = 3.0
        # Every answer this late, like a slow link (for tests that act mid-run).
        self.latency_seconds = 0.0
        self.injected: list[Fault] = []

    def fail_next(
        self, *faults: Fault, path_prefix: str = "", query: Mapping[str, str] | None = None
    ) -> None:
        """The next calls whose path starts with path_prefix (and whose query carries every
        argument of `query`, e.g. `{"page": "2"}`) fail with these faults, in order."""
        with self._lock:
            self._scripted.extend(
                _Scripted(fault, path_prefix, dict(query or {})) for fault in faults
            )

    def fail_randomly(
        self,
        rate: float,
        faults: tuple[Fault, ...] = (Fault.RATE_LIMITED, Fault.SERVER_ERROR, Fault.TIMEOUT),
        *,
        path_prefix: str = "",
        seed: int | None = None,
    ) -> None:
        """Each matching call fails with probability `rate`, with one of `faults`."""
        with self._lock:
            self._rate, self._rate_faults, self._rate_prefix = rate, faults, path_prefix
            if seed is not None:
                self._random.seed(seed)

    def clear(self) -> None:
        with self._lock:
            self._scripted.clear()
            self._rate = 0.0
            self.injected.clear()

    def next_fault(self, path: str, query: Mapping[str, list[str]] | None = None) -> Fault | None:
        with self._lock:
            for index, scripted in enumerate(self._scripted):
                if scripted.matches(path, query or {}):
                    del self._scripted[index]
                    self.injected.append(scripted.fault)
                    return scripted.fault
            if (
                self._rate
                and path.startswith(self._rate_prefix)
                and self._random.random() < self._rate
            ):
                fault = self._random.choice(self._rate_faults)
                self.injected.append(fault)
                return fault
        return None
