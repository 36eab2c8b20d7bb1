"""The persistent judge cache: one DuckDB table of answers keyed by the request's hash.

- **Key**: ``request_sha256`` = SHA-256 of the canonical JSON (sorted keys, no spaces,
  UTF-8) of ``{"model", "messages", "params", "schema"}`` (:func:`request_sha256`); a
  repetition ``r >= 1`` of ``--repeats`` adds ``"repeat": r``, so each repetition is a
  fresh request with its own entry. The API key and the endpoint are not part of it.
- **Stored**: the answer text and the token usage (``content``, ``prompt_tokens``,
  ``completion_tokens``), the model and the time. Failed requests (HTTP errors, timeouts)
  are not stored; unparseable answers are (they are the model's answer).
- **Durability**: :class:`GroupWriter` commits answers in groups, one transaction per
  group: whatever arrived while the previous commit ran goes into the next one, so an
  answer is committed within about two commit times of its arrival (a few ms; the
  longest wait measured by ``benchmarks/bench_judge.py`` at 1,000+ requests/s stays
  under 100 ms). A caller awaits the commit of its own
  answer before it takes the next request, so a run killed at any point loses no committed
  answer and re-sends at most the requests that were in flight.
- **Location**: any DuckDB file and table name (:class:`JudgeCache`), e.g. a file given
  with ``--cache PATH``, the user's cache folder (:func:`default_cache_path`), or the
  project store ``labelaudit.duckdb`` (table ``judge_cache``, through
  :meth:`JudgeCache.from_connection`).

Every statement is a constant string with ``?`` parameters or a registered Arrow table;
the table name is checked to be a plain identifier.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from labelaudit.exceptions import InputError, UsageError

__all__ = [
    "CACHE_TABLE",
    "CacheEntry",
    "GroupWriter",
    "JudgeCache",
    "RequestKeys",
    "cache_ddl",
    "canonical_json",
    "default_cache_path",
    "open_cache",
    "request_sha256",
]

CACHE_TABLE = "judge_cache"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_COLUMNS = ("request_sha256", "model", "content", "prompt_tokens", "completion_tokens")
_TYPES = (pa.string(), pa.string(), pa.string(), pa.int64(), pa.int64())
_VIEW = "labelaudit_judge_incoming"


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces, non-ASCII kept (the hashed form of a request)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def request_sha256(
    model: str,
    messages: Sequence[Mapping[str, Any]],
    params: Mapping[str, Any],
    schema: Mapping[str, Any] | None,
    repeat: int = 0,
) -> str:
    """Cache key of one request: SHA-256 (hex) of the canonical JSON of its parts.

    Parameters
    ----------
    model : str
    messages : sequence of dict
        The chat messages sent.
    params : mapping
        Sampling parameters sent.
    schema : mapping or None
        The ``response_format`` sent (None without structured output).
    repeat : int
        Repetition number of ``--repeats`` (0 = the ordinary request).
    """
    key: dict[str, Any] = {"model": model, "messages": messages, "params": params, "schema": schema}
    if repeat:
        key["repeat"] = repeat
    return hashlib.sha256(canonical_json(key).encode("utf-8", "surrogatepass")).hexdigest()


class RequestKeys:
    """:func:`request_sha256` of many requests sharing model, parameters and schema.

    Gives the same keys, with the shared parts serialised once: the canonical JSON of the
    whole request is assembled from the canonical JSON of its parts in sorted key order
    (``messages``, ``model``, ``params``, ``repeat``, ``schema``).
    """

    def __init__(
        self, model: str, params: Mapping[str, Any], schema: Mapping[str, Any] | None
    ) -> None:
        self._middle = f',"model":{canonical_json(model)},"params":{canonical_json(params)}'
        self._tail = f',"schema":{canonical_json(schema)}}}'

    def keys(self, messages: Sequence[Mapping[str, Any]], repeats: int = 1) -> list[str]:
        """Keys of repetitions ``0 .. repeats - 1`` of one request."""
        head = '{"messages":' + canonical_json(messages) + self._middle
        texts = [head + (f',"repeat":{r}' if r else "") + self._tail for r in range(repeats)]
        return [hashlib.sha256(t.encode("utf-8", "surrogatepass")).hexdigest() for t in texts]


def cache_ddl(table: str = CACHE_TABLE) -> str:
    """``CREATE TABLE IF NOT EXISTS`` statement of a cache table (also for a store migration)."""
    _check_table(table)
    return (
        f"CREATE TABLE IF NOT EXISTS {table} (request_sha256 VARCHAR PRIMARY KEY, "
        "model VARCHAR NOT NULL, content VARCHAR, prompt_tokens BIGINT, "
        "completion_tokens BIGINT, created_at TIMESTAMP NOT NULL)"
    )


def _check_table(table: str) -> None:
    if not _IDENTIFIER.match(table):
        raise UsageError(f"cache table name must be a plain identifier; got {table!r}")


def default_cache_path() -> Path:
    """``$XDG_CACHE_HOME/labelaudit/judge-cache.duckdb`` (default ``~/.cache/...``)."""
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "labelaudit" / "judge-cache.duckdb"


@dataclass(frozen=True)
class CacheEntry:
    """One stored answer."""

    request_sha256: str
    model: str
    content: str | None
    prompt_tokens: int | None
    completion_tokens: int | None


class JudgeCache:
    """A cache table in a DuckDB file (one connection; the single writer of the file).

    Parameters
    ----------
    path : str or Path
        The DuckDB file (created with its folder when missing).
    table : str
        Table name (a plain identifier).

    Raises
    ------
    UsageError
        The file is locked by another process.
    InputError
        The file is not a DuckDB database.
    """

    def __init__(self, path: str | Path, *, table: str = CACHE_TABLE) -> None:
        import duckdb

        _check_table(table)
        self.path = Path(path)
        self.table = table
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = duckdb.connect(str(self.path))
        except duckdb.IOException as error:
            raise _open_error(self.path, error) from None
        except duckdb.Error as error:
            raise InputError(
                "unreadable judge cache",
                source=str(self.path),
                expected="a DuckDB database",
                actual=str(error).splitlines()[0],
                hint="pass another --cache file",
            ) from None
        self._owned = True
        self._on_close: Callable[[], None] | None = None
        self._setup(connection)

    @classmethod
    def from_connection(
        cls,
        connection: Any,
        *,
        table: str = CACHE_TABLE,
        path: str | Path = "<connection>",
        on_close: Callable[[], None] | None = None,
    ) -> JudgeCache:
        """A cache table inside an open DuckDB connection (e.g. the project store's).

        The connection stays the caller's: :meth:`close` calls ``on_close`` (if given)
        instead of closing it. ``path`` is only used in messages.
        """
        _check_table(table)
        cache = cls.__new__(cls)
        cache.path = Path(path)
        cache.table = table
        cache._owned = False
        cache._on_close = on_close
        cache._setup(connection)
        return cache

    def _setup(self, connection: Any) -> None:
        self.connection = connection
        self.connection.execute(cache_ddl(self.table))
        self._insert = (
            f"INSERT OR IGNORE INTO {self.table} SELECT request_sha256, model, content, "
            f"prompt_tokens, completion_tokens, ? FROM {_VIEW}"
        )
        self._lookup = (
            f"SELECT c.request_sha256, c.model, c.content, c.prompt_tokens, c.completion_tokens "
            f"FROM {self.table} c JOIN {_VIEW} w ON c.request_sha256 = w.request_sha256"
        )

    def close(self) -> None:
        """Close the connection (when this object opened it)."""
        if self._owned:
            self.connection.close()
        elif self._on_close is not None:
            self._on_close()

    def __enter__(self) -> JudgeCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return int(self.connection.execute(f"SELECT count(*) FROM {self.table}").fetchone()[0])

    def get_many(self, keys: Sequence[str]) -> dict[str, CacheEntry]:
        """The stored answers of ``keys`` (absent keys are left out); one join, no loop."""
        if not keys:
            return {}
        wanted = pa.table({"request_sha256": pa.array(list(keys), type=pa.string())})
        self.connection.register(_VIEW, wanted)
        try:
            rows = self.connection.execute(self._lookup).fetchall()
        finally:
            self.connection.unregister(_VIEW)
        return {row[0]: CacheEntry(*row) for row in rows}

    def put_many(self, entries: Sequence[CacheEntry]) -> None:
        """Store answers in one transaction (an existing key is kept as it is)."""
        if not entries:
            return
        columns = {
            name: pa.array([getattr(e, name) for e in entries], type=kind)
            for name, kind in zip(_COLUMNS, _TYPES, strict=True)
        }
        self.connection.register(_VIEW, pa.table(columns))
        try:
            self.connection.execute("BEGIN TRANSACTION")
            try:
                self.connection.execute(self._insert, [datetime.now(UTC).replace(tzinfo=None)])
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")
        finally:
            self.connection.unregister(_VIEW)


def open_cache(
    path: str | Path | None = None,
    *,
    project: str | Path | None = None,
    start: str | Path | None = None,
) -> JudgeCache:
    """The cache a run uses: ``path``; else the project store; else the user's cache folder.

    Parameters
    ----------
    path : str or Path, optional
        A DuckDB file (``--cache PATH``).
    project : str or Path, optional
        A project folder (``--project DIR``); it must hold ``labelaudit.toml``.
    start : str or Path, optional
        Where the search for an enclosing project starts (default: the working directory).

    Returns
    -------
    JudgeCache
        Inside a project: table ``judge_cache`` of its store ``labelaudit.duckdb`` (opened
        through :class:`labelaudit.project.Store`, which migrates it and holds the file
        lock); outside: :func:`default_cache_path`.
    """
    if path is not None:
        return JudgeCache(path)
    from labelaudit.project import find_project

    try:
        found = find_project(
            None if project is None else Path(project), start=None if start is None else Path(start)
        )
    except UsageError:
        if project is not None:
            raise
        return JudgeCache(default_cache_path())
    store = found.open_store()
    try:
        return JudgeCache.from_connection(
            store.connection, table=CACHE_TABLE, path=store.path, on_close=store.close
        )
    except BaseException:
        store.close()
        raise


def _open_error(path: Path, error: Exception) -> Exception:
    text = str(error)
    if "lock" in text.lower():
        return UsageError(
            f"the judge cache {path} is in use by another process. Fix: wait until that "
            "labelaudit command has finished, or pass another --cache file"
        )
    return InputError(
        "cannot open the judge cache",
        source=str(path),
        expected="a readable DuckDB file",
        actual=text.splitlines()[0],
    )


class GroupWriter:
    """Group commits of cache entries from many coroutines (see the module docstring).

    Use as ``async with GroupWriter(cache) as writer: await writer.store(entry)``;
    :meth:`store` returns once the entry is committed. A commit runs in the event loop
    (a group of 64 answers takes a few ms), while the answers that arrive meanwhile wait
    in their sockets; there is no second thread touching the DuckDB connection.
    """

    def __init__(self, cache: JudgeCache) -> None:
        self.cache = cache
        self.n_commits = 0
        self.max_group = 0
        self.max_latency_s = 0.0
        self._pending: list[tuple[CacheEntry, asyncio.Future[None], float]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    async def __aenter__(self) -> GroupWriter:
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing = True
        if self._wake is not None:
            self._wake.set()
        if self._task is not None:
            await self._task

    async def store(self, entry: CacheEntry) -> None:
        """Queue ``entry`` and wait until its group is committed."""
        if self._wake is None:
            raise UsageError("use the writer as `async with GroupWriter(cache) as writer:`")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((entry, future, time.perf_counter()))
        self._wake.set()
        await future

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            if not self._pending:
                if self._closing:
                    return
                await self._wake.wait()
                self._wake.clear()
                continue
            group, self._pending = self._pending, []
            try:
                self.cache.put_many([entry for entry, _, _ in group])
            except Exception as error:  # every waiter learns of the failure
                for _, future, _ in group:
                    if not future.done():
                        future.set_exception(error)
            else:
                for _, future, _ in group:
                    if not future.done():
                        future.set_result(None)
            self.n_commits += 1
            self.max_group = max(self.max_group, len(group))
            oldest = min(queued for _, _, queued in group)
            self.max_latency_s = max(self.max_latency_s, time.perf_counter() - oldest)

    def stats(self) -> dict[str, Any]:
        """``{"commits", "max_group", "max_latency_ms"}``: groups committed, the largest
        group, and the longest time an answer waited for its commit."""
        return {
            "commits": self.n_commits,
            "max_group": self.max_group,
            "max_latency_ms": round(1000 * self.max_latency_s, 3),
        }
