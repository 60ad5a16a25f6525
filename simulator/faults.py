"""Fault injection shared by the simulators: scripted faults for the next calls, or a rate."""

from __future__ import annotations

import enum
import random
import threading
from collections import deque
from dataclasses import dataclass


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

    def fail_next(self, *faults: Fault, path_prefix: str = "") -> None:
        """The next calls whose path starts with path_prefix fail with these faults, in order."""
        with self._lock:
            self._scripted.extend(_Scripted(fault, path_prefix) for fault in faults)

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

    def next_fault(self, path: str) -> Fault | None:
        with self._lock:
            for index, scripted in enumerate(self._scripted):
                if path.startswith(scripted.path_prefix):
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
