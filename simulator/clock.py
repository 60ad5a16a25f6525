"""The simulators' clock: real time by default, or frozen and moved by hand in tests."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SimulatorClock:
    """What time it is on the simulated server (Modified_Time, token expiry, deletions)."""

    def __init__(self, start: datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("the simulator clock needs a timezone-aware start")
        self._lock = threading.Lock()
        self._frozen_at = start
        self._offset = timedelta()

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def now(self) -> datetime:
        """Whole seconds, as Zoho's timestamps are."""
        with self._lock:
            if self._frozen_at is not None:
                moment = self._frozen_at
            else:
                moment = datetime.now(tz=UTC) + self._offset
        return moment.replace(microsecond=0)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += delta
            else:
                self._offset += delta
        return self.now()

    def resume(self) -> None:
        """Run on real time again from now on (after a replay moved a frozen clock)."""
        with self._lock:
            self._frozen_at = None
            self._offset = timedelta()

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("the simulator clock needs a timezone-aware time")
        with self._lock:
            self._frozen_at = moment
