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
is cached under the store's *version*: the size and modification time of the store file,
its write-ahead log and ``labelaudit.toml``, read before the store is. Any write (a CLI
ingest, a decision) changes the version, so a new batch is seen without a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from labelaudit.exceptions import LabelAuditError, StoreLockedError
from labelaudit.project.layout import Project
from labelaudit.project.store import Store

__all__ = ["MISSING", "RETRY_SECONDS", "StoreAccess", "StoreBusy"]

#: How long a request waits for another process to release the store.
RETRY_SECONDS = 3.0
_BUSY = "the project store is busy (another labelaudit command holds it); try again in a moment"
#: Cached computations kept per store version.
_CACHE_SIZE = 256

T = TypeVar("T")
#: What :meth:`StoreAccess.peek` gives for a value not cached.
MISSING = object()


class StoreBusy(LabelAuditError):
    """The store stayed locked by another process for :data:`RETRY_SECONDS`."""


class StoreAccess:
    """Short-lived connections to one project's store, and a cache keyed by its version."""

    def __init__(self, root: Path, *, retry_seconds: float = RETRY_SECONDS) -> None:
        self.root = Path(root).resolve()
        self.retry_seconds = retry_seconds
        self._lock = threading.RLock()
        self._cache: dict[Hashable, Any] = {}
        self._version: tuple[Any, ...] | None = None
        self._project: tuple[tuple[Any, ...], Project] | None = None

    # ------------------------------------------------------------------ versions
    def _stat(self, name: str) -> tuple[int, int]:
        try:
            info = (self.root / name).stat()
        except FileNotFoundError:
            return (0, -1)
        return (info.st_mtime_ns, info.st_size)

    def version(self) -> tuple[Any, ...]:
        """(mtime, size) of the store, its WAL and the configuration: changes on any write."""
        from labelaudit.project.config import CONFIG_NAME
        from labelaudit.project.store import STORE_NAME

        return (
            self._stat(STORE_NAME),
            self._stat(STORE_NAME + ".wal"),
            self._stat(CONFIG_NAME),
        )

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
        return self._cache.get(key, MISSING)

    async def cached_async(self, key: Hashable, compute: Callable[[], T]) -> T:
        """:meth:`cached` for the event loop: a hit answers at once, a miss computes in a
        worker thread."""
        import asyncio

        value = self.peek(key)
        if value is not MISSING:
            return value
        return await asyncio.to_thread(self.cached, key, compute)

    def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``'s value for ``key`` at the current store version (computed once per
        version even under concurrent requests)."""
        version = self.version()  # before reading: a later write makes a newer version
        with self._lock:
            if version != self._version:
                self._cache.clear()
                self._version = version
            if key in self._cache:
                return self._cache[key]
            value = compute()
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            if self.version() == version:  # not changed while computing
                self._cache[key] = value
            return value
