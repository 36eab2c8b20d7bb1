"""Group commit of webhook deliveries: one store connection and transaction for many.

Opening the store for writing and closing it (DuckDB checkpoints on close) costs far more
than storing one delivery, so deliveries arriving together are written together: each
request validates its delivery, hands the rows to :class:`Inbox` and waits until the
transaction holding them has committed. An acknowledged delivery is therefore stored; a
failed transaction (e.g. the store stayed busy) fails every delivery in it, and Label
Studio sends them again.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any

from labelaudit.server.access import StoreAccess

__all__ = ["MAX_GROUP", "Inbox"]

#: Most deliveries written in one transaction.
MAX_GROUP = 200


class Inbox:
    """A writer thread that stores queued deliveries in groups."""

    def __init__(self, access: StoreAccess) -> None:
        self.access = access
        self._queue: queue.Queue[tuple[list[tuple[Any, ...]], Future[int]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def submit(self, rows: list[tuple[Any, ...]]) -> Future[int]:
        """Queue one delivery's rows; the future gives how many were new once committed."""
        with self._start:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="webhook-inbox", daemon=True)
                self._thread.start()
        future: Future[int] = Future()
        self._queue.put((rows, future))
        return future

    def _run(self) -> None:
        from labelaudit.project.webhooks import store_deliveries

        while True:
            group = [self._queue.get()]
            while len(group) < MAX_GROUP:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                with self.access.writing() as store:
                    stored = store_deliveries(store, [rows for rows, _ in group])
            except Exception as error:  # every delivery of the group fails with it
                for _, future in group:
                    future.set_exception(error)
                continue
            for (_, future), count in zip(group, stored, strict=True):
                future.set_result(count)
