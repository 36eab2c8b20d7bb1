"""The server's way into the project store: short connections, brief retries, a page cache.

DuckDB lets one process hold the file for writing, and any open connection blocks other
processes' writers. So the server never keeps the store open: every request that needs it
opens a connection, reads or writes, and closes it (:meth:`StoreAccess.reading`,
:meth:`StoreAccess.writing`). When another process (a CLI ``ingest``) holds the file, the
open is retried for :data:`RETRY_SECONDS` (library calls that open the store themselves
wait :data:`~labelaudit.project.store.LOCK_WAIT_SECONDS`); then :class:`StoreBusy`
tells the client to come back (HTTP 503 with ``Retry-After``).

Within the process, a lock serialises the short connections (DuckDB refuses a read-only
and a read-write connection to one file in one process). What pages compute from the store
is cached with the *parts* of the store it reads (:data:`PARTS`). The store's *version*
(size and modification time of the store file, its write-ahead log and
``labelaudit.toml``, three ``stat`` calls) tells that something was written; then one short
read takes a stamp of each part, and only the values of the parts that changed are
dropped: a decision drops what shows decisions and keeps the pipeline report and its
charts, a CLI ingest drops what shows batches, so a new batch is seen without a restart.
Whole answers (:mod:`labelaudit.server.answers`) are kept apart and dropped when any part
changes.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from labelaudit.exceptions import LabelAuditError, StoreLockedError
from labelaudit.project.layout import Project
from labelaudit.project.store import Store

__all__ = [
    "MISSING",
    "PAGE_PARTS",
    "PARTS",
    "RETRY_SECONDS",
    "StoreAccess",
    "StoreBusy",
    "read_stamps",
]

#: How long a request waits for another process to release the store.
RETRY_SECONDS = 3.0
_BUSY = "the project store is busy (another labelaudit command holds it); try again in a moment"
#: Cached computations kept per store version.
_CACHE_SIZE = 256
#: Whole answers kept per store version (apart, so they never push out a computation).
_ANSWERS_SIZE = 256

T = TypeVar("T")
#: What :meth:`StoreAccess.peek` gives for a value not cached.
MISSING = object()


#: The parts of the store a cached value can depend on: batches and their results other
#: than decisions (``results``), expert decisions and their results (``decisions``),
#: stored preference and judge audits (``audits``), guideline versions and calibration
#: scores (``guidelines``), the stored tokens (``tokens``) and ``labelaudit.toml``
#: (``config``). A new table that pages show needs a part here.
PARTS = ("results", "decisions", "audits", "guidelines", "tokens", "config")
#: What a page or a JSON answer depends on unless it says otherwise (all but the tokens).
PAGE_PARTS = ("results", "decisions", "audits", "guidelines", "config")
_STAMPS = {
    "results": "SELECT b.batch_id, b.sha256, r.kind, r.run_id, r.computed_at FROM batches b "
    "LEFT JOIN batch_results r ON r.batch_id = b.batch_id AND r.kind <> 'decisions' "
    "ORDER BY ALL",
    "decisions": "SELECT (SELECT count(*) FROM decisions), (SELECT max(pulled_at) FROM "
    "decisions), (SELECT list(run_id ORDER BY batch_id) FROM batch_results "
    "WHERE kind = 'decisions')",
    "audits": "SELECT count(*), max(audit_id) FROM audit_results",
    "guidelines": "SELECT (SELECT list((batch_id, version, recorded_at) ORDER BY batch_id) "
    "FROM batch_guidelines), (SELECT count(*) FROM calibration_scores), "
    "(SELECT max(scored_at) FROM calibration_scores)",
    "tokens": "SELECT token_sha256, role FROM api_tokens ORDER BY ALL",
}


class StoreBusy(LabelAuditError):
    """The store stayed locked by another process for :data:`RETRY_SECONDS`."""


class StoreAccess:
    """Short-lived connections to one project's store, and a cache keyed by its version."""

    def __init__(self, root: Path, *, retry_seconds: float = RETRY_SECONDS) -> None:
        self.root = Path(root).resolve()
        self.retry_seconds = retry_seconds
        self._lock = threading.RLock()
        self._cache: dict[Hashable, tuple[frozenset[str], Any]] = {}
        self._answers: dict[Hashable, Any] = {}
        self._version: tuple[Any, ...] | None = None
        self._stamps: dict[str, Hashable] = {}
        self._project: tuple[tuple[Any, ...], Project] | None = None
        from labelaudit.project.config import CONFIG_NAME
        from labelaudit.project.store import STORE_NAME

        names = (STORE_NAME, STORE_NAME + ".wal", CONFIG_NAME)
        self._files = tuple(str(self.root / name) for name in names)

    # ------------------------------------------------------------------ versions
    @staticmethod
    def _stat(path: str) -> tuple[int, int]:
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return (0, -1)
        return (info.st_mtime_ns, info.st_size)

    def version(self) -> tuple[Any, ...]:
        """(mtime, size) of the store, its WAL and the configuration: changes on any write."""
        return tuple(self._stat(path) for path in self._files)

    def project(self) -> Project:
        """The project, its configuration re-read when ``labelaudit.toml`` changed."""
        key = self.version()[2:]
        with self._lock:
            if self._project is None or self._project[0] != key:
                self._project = (key, Project.load(self.root))
            return self._project[1]

    # -------------------------------------------------------------- connections
    def _open(self, read_only: bool) -> Store:
        try:
            return self.project().open_store(read_only=read_only, wait=self.retry_seconds)
        except StoreLockedError as error:
            raise StoreBusy(_BUSY) from error

    @contextmanager
    def reading(self) -> Iterator[Store]:
        """A read-only connection for the duration of the ``with`` block."""
        with self._lock:
            store = self._open(read_only=True)
            try:
                yield store
            finally:
                store.close()

    @contextmanager
    def writing(self) -> Iterator[Store]:
        """A read-write connection for the duration of the ``with`` block."""
        with self._lock:
            store = self._open(read_only=False)
            try:
                yield store
            finally:
                store.close()

    def call(self, function: Callable[[Project], T]) -> T:
        """``function(project)`` for library calls that open the store themselves, under the
        same lock (they wait for the store as :meth:`Store.open` does)."""
        with self._lock:
            try:
                return function(self.project())
            except StoreLockedError as error:
                raise StoreBusy(_BUSY) from error

    # -------------------------------------------------------------------- cache
    def peek(self, key: Hashable) -> Any:
        """The cached value of ``key`` at the current version, or :data:`MISSING` (no lock:
        a hit costs three ``stat`` calls and a dict look-up)."""
        if self.version() != self._version:
            return MISSING
        entry = self._cache.get(key)
        return MISSING if entry is None else entry[1]

    def answer(self, key: Hashable, version: tuple[Any, ...]) -> Any:
        """The whole answer kept under ``key`` (:meth:`keep_answer`) if ``version``, read by
        the caller just before, is the current one; else :data:`MISSING` (no lock)."""
        if version != self._version:
            return MISSING
        return self._answers.get(key, MISSING)

    def keep_answer(self, key: Hashable, value: Any, version: tuple[Any, ...]) -> bool:
        """Keep a whole answer, computed from the store at ``version``, until any part of
        the store changes, when that is still the current version. Never waits (it runs on
        the event loop): when another thread holds the cache (a page being computed) it
        keeps nothing and says so."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            if version != self._version or self.version() != version:
                return False
            if len(self._answers) >= _ANSWERS_SIZE:
                self._answers.pop(next(iter(self._answers)))
            self._answers[key] = value
            return True
        finally:
            self._lock.release()

    async def cached_async(
        self, key: Hashable, compute: Callable[[], T], parts: tuple[str, ...] = PAGE_PARTS
    ) -> T:
        """:meth:`cached` for the event loop: a hit answers at once, a miss computes in a
        worker thread."""
        import asyncio

        value = self.peek(key)
        if value is not MISSING:
            return value
        return await asyncio.to_thread(self.cached, key, compute, parts)

    def _refresh(self, version: tuple[Any, ...]) -> None:
        """After a write: read the parts' stamps and drop only the entries whose parts
        changed (a decision keeps the pipeline report and its charts)."""
        with self.reading() as store:
            stamps = read_stamps(store) | {"config": version[2]}
        changed = {part for part, stamp in stamps.items() if self._stamps.get(part) != stamp}
        if changed:
            self._cache = {
                key: entry for key, entry in self._cache.items() if not changed & entry[0]
            }
            self._answers = {}  # a whole answer may show any part
        self._stamps, self._version = stamps, version

    def cached(
        self, key: Hashable, compute: Callable[[], T], parts: tuple[str, ...] = PAGE_PARTS
    ) -> T:
        """``compute()``'s value for ``key``, kept until one of the store ``parts`` it reads
        changes (:data:`PARTS`); computed once even under concurrent requests."""
        version = self.version()  # before reading: a later write makes a newer version
        with self._lock:
            if version != self._version:
                self._refresh(version)
            entry = self._cache.get(key)
            if entry is not None:
                return entry[1]
            value = compute()
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            if self.version() == version:  # not changed while computing
                self._cache[key] = (frozenset(parts), value)
            return value


def read_stamps(store: Store) -> dict[str, Hashable]:
    """A value per part of the store that changes whenever that part is written."""
    import hashlib

    out: dict[str, Hashable] = {}
    for part, sql in _STAMPS.items():
        rows = store.execute(sql).fetchall()
        out[part] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return out
