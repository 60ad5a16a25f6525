"""The simulated org's deals and deletions, with sorted views cached until the next change."""

from __future__ import annotations

import bisect
import copy
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from simulator.clock import SimulatorClock
from simulator.dataset import CENT, INTEGRATION_USER, zoho_time

SORT_FIELDS = ("id", "Created_Time", "Modified_Time")
# How long Zoho lists deleted records.
RETENTION = {"recycle": timedelta(days=60), "permanent": timedelta(days=120)}

SortKey = tuple[int, ...]


@dataclass(frozen=True)
class View:
    """Live deals in one order, optionally only those modified after a moment."""

    keys: list[SortKey]
    records: list[dict[str, Any]]

    def index_after(self, cursor: SortKey) -> int:
        return bisect.bisect_right(self.keys, cursor)


def _epoch(value: object) -> int:
    if not isinstance(value, str):
        return 0
    try:
        return int(datetime.fromisoformat(value).timestamp())
    except ValueError:
        return 0  # an injected bad date still sorts somewhere


class DealStore:
    """Thread-safe: the simulator answers on many threads. Hands out copies, never its dicts."""

    def __init__(self, deals: Iterable[dict[str, Any]], *, clock: SimulatorClock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self._deals: dict[str, dict[str, Any]] = {}
        self._times: dict[str, tuple[int, int]] = {}  # id → (created, modified) epochs
        self._deleted: list[dict[str, Any]] = []
        self._recycled: dict[str, dict[str, Any]] = {}  # restorable: id → the record
        self._views: dict[tuple[str, str, int | None], View] = {}
        self.version = 0
        # Told of every change after it is made (operation, ids): Zoho's notifications.
        self.listeners: list[Callable[[str, list[str]], None]] = []
        self.add(deals)

    # --- reads -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._deals)

    def get(self, deal_id: str) -> dict[str, Any] | None:
        with self.lock:
            record = self._deals.get(deal_id)
            return copy.deepcopy(record) if record is not None else None

    def all(self) -> list[dict[str, Any]]:
        with self.lock:
            return copy.deepcopy(list(self._deals.values()))

    def select(self, wanted: Callable[[Mapping[str, Any]], bool]) -> list[str]:
        """The ids of the live deals `wanted` accepts, in id order (no copies are made)."""
        with self.lock:
            return sorted(
                (deal_id for deal_id, record in self._deals.items() if wanted(record)),
                key=lambda deal_id: (len(deal_id), deal_id),
            )

    def modified_epoch(self, deal_id: str) -> int:
        return self._times[deal_id][1]

    def view(self, sort_by: str, sort_order: str, since: datetime | None) -> View:
        """Call with the lock held; the records in the view are the store's own dicts."""
        since_epoch = int(since.timestamp()) if since else None
        key = (sort_by, sort_order, since_epoch)
        cached = self._views.get(key)
        if cached is not None:
            return cached
        sign = -1 if sort_order == "desc" else 1
        rows: list[tuple[SortKey, dict[str, Any]]] = []
        for deal_id, record in self._deals.items():
            created, modified = self._times[deal_id]
            if since_epoch is not None and modified <= since_epoch:
                continue
            number = int(deal_id) if deal_id.isdigit() else 0
            if sort_by == "Modified_Time":
                sort_key: SortKey = (sign * modified, sign * number)
            elif sort_by == "Created_Time":
                sort_key = (sign * created, sign * number)
            else:
                sort_key = (sign * number,)
            rows.append((sort_key, record))
        rows.sort(key=lambda row: row[0])
        view = View(keys=[row[0] for row in rows], records=[row[1] for row in rows])
        self._views[key] = view
        return view

    def deleted(
        self, deletion_type: str, since: datetime | None, *, newest_first: bool = True
    ) -> list[dict[str, Any]]:
        """Deleted records Zoho still lists (recycle bin 60 days, permanent 120), newest first
        (or oldest first: Zoho does not document its order)."""
        now = self.clock.now()
        with self.lock:
            rows = [
                row
                for row in self._deleted
                if deletion_type in ("all", row["type"])
                and now - datetime.fromisoformat(row["deleted_time"]) <= RETENTION[row["type"]]
            ]
        if since is not None:
            rows = [row for row in rows if datetime.fromisoformat(row["deleted_time"]) > since]
        return sorted(rows, key=lambda row: row["deleted_time"], reverse=newest_first)

    def deleted_count(self, deletion_type: str) -> int:
        return len(self.deleted(deletion_type, None))

    # --- changes -----------------------------------------------------------------------------

    def add(self, deals: Iterable[dict[str, Any]]) -> list[str]:
        added = []
        with self.lock:
            for record in deals:
                deal_id = str(record.get("id"))
                self._deals[deal_id] = record
                self._index(deal_id)
                added.append(deal_id)
            self._changed()
        self._tell("insert", added)
        return added

    def modify(
        self,
        deal_id: str,
        changes: Mapping[str, Any],
        *,
        by: Mapping[str, str] | None = None,
        bump: bool = True,
    ) -> dict[str, Any]:
        """Apply changes (API names → values); Modified_Time moves to the clock's now."""
        with self.lock:
            record = self._deals[deal_id]
            record.update(copy.deepcopy(dict(changes)))
            if "Amount" in changes or "Probability" in changes:
                amount, probability = record.get("Amount"), record.get("Probability")
                if isinstance(amount, Decimal) and isinstance(probability, int):
                    record["Expected_Revenue"] = (amount * probability / 100).quantize(CENT)
            if bump:
                now = zoho_time(self.clock.now())
                record["Modified_Time"] = now
                record["Last_Activity_Time"] = now
                record["Modified_By"] = dict(by or INTEGRATION_USER)
            self._index(deal_id)
            self._changed()
            changed = copy.deepcopy(record)
        self._tell("update", [deal_id])
        return changed

    def delete(self, deal_ids: Iterable[str], *, permanent: bool = False) -> None:
        deleted_time = zoho_time(self.clock.now())
        gone: list[str] = []
        with self.lock:
            for deal_id in deal_ids:
                record = self._deals.pop(deal_id, None)
                if record is None:
                    # Emptying the recycle bin makes a recycled deal a permanent deletion.
                    for row in self._deleted:
                        if row["id"] == deal_id and permanent:
                            row["type"], row["deleted_time"] = "permanent", deleted_time
                    if permanent:
                        self._recycled.pop(deal_id, None)
                    continue
                self._times.pop(deal_id, None)
                gone.append(deal_id)
                if not permanent:
                    self._recycled[deal_id] = record
                owner = record.get("Owner") or INTEGRATION_USER
                self._deleted.append(
                    {
                        "deleted_by": {"name": owner["name"], "id": owner["id"]},
                        "id": deal_id,
                        "display_name": record.get("Deal_Name") or deal_id,
                        "type": "permanent" if permanent else "recycle",
                        "created_by": {
                            "name": (record.get("Created_By") or owner)["name"],
                            "id": (record.get("Created_By") or owner)["id"],
                        },
                        "deleted_time": deleted_time,
                    }
                )
            self._changed()
        self._tell("delete", gone)

    def restore(self, deal_ids: Iterable[str]) -> list[str]:
        """Deals brought back from the recycle bin, as they were, modified now (a restore is
        a change: the next incremental listing returns them). Permanent deletions stay."""
        restored = []
        with self.lock:
            for deal_id in deal_ids:
                row = self._recycled.pop(deal_id, None)
                if row is None:
                    continue
                self._deleted = [
                    entry
                    for entry in self._deleted
                    if not (entry["id"] == deal_id and entry["type"] == "recycle")
                ]
                self._deals[deal_id] = row
                self._index(deal_id)
                restored.append(deal_id)
            self._changed()
        for deal_id in restored:
            self.modify(deal_id, {})
        return restored

    def _tell(self, operation: str, deal_ids: list[str]) -> None:
        if deal_ids:
            for listener in list(self.listeners):
                listener(operation, list(deal_ids))

    def _index(self, deal_id: str) -> None:
        record = self._deals[deal_id]
        self._times[deal_id] = (
            _epoch(record.get("Created_Time")),
            _epoch(record.get("Modified_Time")),
        )

    def _changed(self) -> None:
        self.version += 1
        self._views.clear()
