"""The embedded project store ``labelaudit.duckdb``: a small repository over DuckDB.

One :class:`Store` holds one DuckDB connection: the single writer of the file. DuckDB
locks the file, so a second process that opens it waits up to :data:`LOCK_WAIT_SECONDS`
(``LABELAUDIT_LOCK_WAIT``, default 5 s: e.g. while ``labelaudit serve`` answers a request)
and then gets :class:`StoreLockedError` (a :class:`~labelaudit.exceptions.UsageError`)
instead of a corrupted store.

Rules kept here:

- Every statement is a constant string; values travel as ``?`` parameters, and Arrow
  tables are registered under constant view names. User content (labels, annotators,
  items, file and batch names) is never interpolated into SQL.
- The schema changes only through :data:`MIGRATIONS`: named, numbered, each applied in
  its own transaction and recorded in ``schema_migrations``; applying them again is a no-op.
- A write spans one :meth:`Store.transaction`: an exception (or a killed process) leaves
  the store exactly as it was.

Tables (migration 1): ``runs``, ``configs``, ``batches``, ``annotations`` (since
migration 11 a view over ``annotation_codes`` and ``annotation_names``: each batch's rows
as integer codes plus the batch's names; since migration 12 ``annotation_codes`` is a view
over ``annotation_codes_plain``, the rows of batches without extra columns, and
``annotation_codes_extra``; since migration 13 also over ``annotation_items``, batches
stored one row per item, whose item names ``annotation_names``, now a view over
``annotation_field_names`` and those rows, reads from them), ``rejected_rows``,
``batch_results`` (one JSON result per batch and kind), ``batch_metrics`` (typed headline
values, one row per batch, kind and metric) and ``annotator_metrics`` (per-annotator
figures). New kinds of results are new rows, not new columns.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from labelaudit.exceptions import InputError, StoreLockedError, StoreOutdatedError, UsageError
from labelaudit.project._migrations import (
    BOOTSTRAP,
    CODED_ANNOTATIONS,
    MIGRATIONS,
    Migration,
)

__all__ = [
    "LOCK_WAIT_SECONDS",
    "MIGRATIONS",
    "ROWS_OF_ITEMS",
    "STORE_NAME",
    "BatchRecord",
    "Migration",
    "Store",
    "StoreLockedError",
    "StoreOutdatedError",
    "names_join",
    "utc_now",
]

STORE_NAME = "labelaudit.duckdb"


#: Tables of one batch's content, cleared by :meth:`Store.delete_batch_content`.
BATCH_TABLES = (
    "annotation_codes_plain",
    "annotation_codes_extra",
    "annotation_items",
    "annotation_field_names",
    "rejected_rows",
    "batch_results",
    "batch_metrics",
    "annotator_metrics",
    "batch_profiles",
)
# SQL built from these module constants only (table and column names), never from user content.
_DELETE = {name: f"DELETE FROM {name} WHERE batch_id = ?" for name in BATCH_TABLES}
#: A batch's profiles leave the running totals (migration 10) before its rows are deleted.
_SUBTRACT_PROFILES = (
    "UPDATE project_profiles SET items = project_profiles.items - b.items "
    "FROM batch_profiles b WHERE b.batch_id = ? AND b.profile = project_profiles.profile"
)
#: The canonical columns, stored as codes (``annotation_codes``) plus names
#: (``annotation_names.field``).
_CODED = ("item", "annotator", "label")
_INSERT_CODES = {  # with an extra column, without (migration 12: no column of empty maps)
    True: "INSERT INTO annotation_codes_extra SELECT ?, item, annotator, label, extra "
    "FROM incoming_codes",
    False: "INSERT INTO annotation_codes_plain SELECT ?, item, annotator, label "
    "FROM incoming_codes",
}
_INSERT_NAMES = "INSERT INTO annotation_field_names SELECT ?, ?, code, name FROM incoming_names"
_INSERT_ITEMS = "INSERT INTO annotation_items SELECT ?, item, name, ?, pairs FROM incoming_items"
_ALIAS = re.compile(r"[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)?")


def names_join(alias: str, field: str, batch: str, code: str) -> str:
    """SQL ``JOIN annotation_names {alias}`` on one coded column: ``{alias}.name`` is the
    name of code ``code`` (a column of ``field`` codes, e.g. ``c.item``) in batch ``batch``
    (a column, e.g. ``c.batch_id``).

    The readers' way to ``annotations`` (migration 11): filter, group and join on the
    integer codes of ``annotation_codes`` and decode only the rows returned; a filter on
    ``{alias}.name`` turns a name into its code first (within a batch and field, code and
    name are one-to-one).
    Arguments are identifiers of the calling query (checked), never user values.
    """
    if field not in _CODED or not all(_ALIAS.fullmatch(x) for x in (alias, batch, code)):
        raise ValueError(f"names_join({alias!r}, {field!r}, {batch!r}, {code!r})")
    return (
        f" JOIN annotation_names {alias} ON {alias}.batch_id = {batch} "
        f"AND {alias}.field = '{field}' AND {alias}.code = {code} "
    )


#: ``FROM`` and ``WHERE`` of the stored rows (``annotation_codes c``) of the items named in
#: the one ``?`` parameter (a list of names); ``i.name`` is each row's item name.
ROWS_OF_ITEMS = (
    "FROM annotation_codes c"
    + names_join("i", "item", "c.batch_id", "c.item")
    + "WHERE list_contains(?::VARCHAR[], i.name) "
)


_BATCH_COLUMNS = (
    "batch_id, name, sha256, source, input_sha256, read_sha256, n_annotations, n_items, "
    "n_annotators, n_rejected, task_schema, ingested_at, run_id"
)
#: Column names and Arrow types of the result tables, in table order (batch inserts).
_RESULT_COLUMNS: dict[str, tuple[tuple[str, ...], tuple[pa.DataType, ...]]] = {
    "batch_results": (
        ("batch_id", "kind", "schema_version", "result", "computed_at", "run_id"),
        (pa.int64(), pa.string(), pa.int64(), pa.string(), pa.timestamp("us"), pa.int64()),
    ),
    "batch_metrics": (
        ("batch_id", "kind", "metric", "value", "se", "ci_low", "ci_high", "reason"),
        (pa.int64(), pa.string(), pa.string(), *(pa.float64(),) * 4, pa.string()),
    ),
    "annotator_metrics": (
        ("batch_id", "kind", "annotator", "metric", "value", "n", "reason"),
        (pa.int64(), pa.string(), pa.string(), pa.string(), pa.float64(), pa.int64(), pa.string()),
    ),
}
_INSERT_RESULT_ROWS = {
    name: f"INSERT INTO {name} SELECT {', '.join(columns)} FROM incoming_result_rows"
    for name, (columns, _) in _RESULT_COLUMNS.items()
}
#: How long :meth:`Store.open` waits for another process to release the file (seconds;
#: the environment variable ``LABELAUDIT_LOCK_WAIT`` overrides it).
LOCK_WAIT_SECONDS = 5.0
_LOCK_PAUSE = 0.05
_LOCK = re.compile(r"Conflicting lock is held in (?P<program>.*?) \(PID (?P<pid>\d+)\)")


def utc_now() -> datetime:
    """Current UTC time, naive (the store keeps every timestamp in UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class BatchRecord:
    """One row of ``batches``; ``ingested_at`` is naive UTC."""

    batch_id: int
    name: str
    sha256: str
    source: str
    input_sha256: str
    read_sha256: str
    n_annotations: int
    n_items: int
    n_annotators: int
    n_rejected: int
    task_schema: str
    ingested_at: datetime
    run_id: int

    def to_dict(self) -> dict[str, Any]:
        """JSON form; ``ingested_at`` as ISO-8601 UTC (``...Z``)."""
        return {
            "name": self.name,
            "n_annotations": self.n_annotations,
            "n_items": self.n_items,
            "n_annotators": self.n_annotators,
            "n_rejected": self.n_rejected,
            "ingested_at": self.ingested_at.isoformat(timespec="microseconds") + "Z",
            "sha256": self.sha256,
            "source": self.source,
        }


class Store:
    """The project's DuckDB store. Build it with :meth:`Store.open`; close it (or use ``with``).

    Not thread-safe: one Store per process is the single writer of the file.
    """

    def __init__(self, connection: Any, path: Path, read_only: bool) -> None:
        self.connection = connection
        self.path = path
        self.read_only = read_only
        # False only while migrations before CODED_ANNOTATIONS run on an older store
        self._coded = True

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def open(
        cls,
        path: Path,
        *,
        read_only: bool = False,
        migrate: bool = True,
        wait: float | None = None,
    ) -> Store:
        """Open (creating it if needed, unless ``read_only``) and migrate the store.

        ``wait`` seconds (default :data:`LOCK_WAIT_SECONDS`) are spent retrying while
        another process holds the file.

        Raises
        ------
        StoreLockedError
            Another process held the file for the whole wait.
        InputError
            The file is not a DuckDB database, or was written by a newer labelaudit.
        """
        import duckdb

        path = Path(path)
        if read_only and not path.is_file():
            raise UsageError(f"no project store at {path}; run `labelaudit init` first")
        if wait is None:
            wait = float(os.environ.get("LABELAUDIT_LOCK_WAIT", LOCK_WAIT_SECONDS))
        deadline = time.monotonic() + wait
        while True:
            try:
                connection = duckdb.connect(str(path), read_only=read_only)
                break
            except duckdb.IOException as error:
                problem = _open_error(path, error)
                if not isinstance(problem, StoreLockedError) or time.monotonic() >= deadline:
                    raise problem from None
                time.sleep(_LOCK_PAUSE)
            except duckdb.Error as error:
                raise _damaged(path, error) from None
        store = cls(connection, path, read_only)
        try:
            if migrate and not read_only:
                store.migrate()
            store.check_schema()
        except duckdb.Error as error:  # e.g. a truncated file: the header reads, pages do not
            store.close()
            raise _damaged(path, error) from None
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        """Close the connection (DuckDB checkpoints the file; a damaged file is left as is)."""
        self.connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit: COMMIT on success, ROLLBACK on any exception (re-raised)."""
        self.connection.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    @contextmanager
    def registered(self, name: str, table: pa.Table) -> Iterator[None]:
        """``table`` readable as the view ``name`` by the statements inside (an Arrow table
        handed to DuckDB without a copy); ``name`` is a constant of the caller, never user
        content."""
        self.connection.register(name, table)
        try:
            yield
        finally:
            self.connection.unregister(name)

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        """Run one constant statement with ``?`` parameters; returns the DuckDB cursor.

        A file that cannot be read (truncated, damaged) is an InputError naming it."""
        import duckdb

        try:
            return self.connection.execute(sql, list(parameters))
        except duckdb.IOException as error:
            raise _damaged(self.path, error) from None

    # ----------------------------------------------------------------- migrations
    def migrate(self, migrations: Sequence[Migration] = MIGRATIONS) -> list[str]:
        """Apply the migrations not yet recorded, each in its own transaction.

        Returns
        -------
        list of str
            Names of the migrations applied now (empty when the schema was current).
        """
        from labelaudit import __version__

        self.execute(BOOTSTRAP)
        done = {row[0] for row in self.execute("SELECT version FROM schema_migrations").fetchall()}
        applied = []
        for migration in sorted(migrations, key=lambda m: m.version):
            if migration.version in done:
                continue
            self._coded = CODED_ANNOTATIONS in done  # earlier migrations read the old table
            with self.transaction():
                for statement in migration.statements:
                    self.execute(statement)
                if migration.apply is not None:
                    migration.apply(self)
                self.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?, ?)",
                    (migration.version, migration.name, utc_now(), __version__),
                )
            applied.append(migration.name)
            done.add(migration.version)
        self._coded = True
        return applied

    def migrations(self) -> list[dict[str, Any]]:
        """Recorded migrations: ``{"version", "name", "applied_at", "tool_version"}``."""
        rows = self.execute(
            "SELECT version, name, applied_at, tool_version FROM schema_migrations ORDER BY version"
        ).fetchall()
        keys = ("version", "name", "applied_at", "tool_version")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def check_schema(self) -> None:
        """Refuse a store whose schema is newer than this labelaudit, or not migrated."""
        import duckdb

        known = max(m.version for m in MIGRATIONS)
        try:
            row = self.execute(
                "SELECT max(version), list(version) FROM schema_migrations"
            ).fetchone()
        except duckdb.Error:  # no migrations table: not (yet) a labelaudit store
            row = (None, None)
        version = row[0] if row else None
        # versions are numbered on branches: a store can hold a later one and miss an earlier
        missing = {m.version for m in MIGRATIONS} - set(row[1] or ()) if row else set()
        if version is None or version < known or missing:
            raise StoreOutdatedError(
                f"the store {self.path} has schema version {version or 0} (missing "
                f"{', '.join(map(str, sorted(missing)))}), this labelaudit needs {known}; run "
                "any writing command (e.g. `labelaudit ingest`) to migrate"
            )
        if version > known:
            raise InputError(
                "store written by a newer labelaudit",
                source=str(self.path),
                field="schema_migrations.version",
                expected=f"at most {known}",
                actual=version,
                hint="upgrade labelaudit (pip install -U labelaudit)",
            )

    # -------------------------------------------------------------------- records
    def next_id(self, table: str) -> int:
        """Next free id of ``runs`` or ``batches`` (max + 1; the single writer makes it safe)."""
        statement = {
            "runs": "SELECT coalesce(max(run_id), 0) + 1 FROM runs",
            "batches": "SELECT coalesce(max(batch_id), 0) + 1 FROM batches",
        }[table]
        return int(self.execute(statement).fetchall()[0][0])  # the result finished

    def record_run(
        self,
        command: str,
        *,
        started_at: datetime,
        config_sha256: str,
        config_json: str,
        outcome: str,
        input_path: str | None = None,
        input_sha256: str | None = None,
        batch_name: str | None = None,
        details_json: str | None = None,
    ) -> int:
        """Insert a ``runs`` row (and the config, once per hash); returns the run id."""
        from labelaudit import __version__

        run_id = self.next_id("runs")
        now = utc_now()
        self.execute(
            "INSERT INTO configs SELECT ?, ?, ? WHERE NOT EXISTS "
            "(SELECT 1 FROM configs WHERE config_sha256 = ?)",
            (config_sha256, config_json, now, config_sha256),
        )
        self.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                command,
                started_at,
                now,
                __version__,
                config_sha256,
                input_path,
                input_sha256,
                batch_name,
                outcome,
                details_json,
            ),
        )
        return run_id

    def runs(self) -> list[dict[str, Any]]:
        """Every recorded run, oldest first."""
        cursor = self.execute("SELECT * FROM runs ORDER BY run_id")
        keys = [column[0] for column in cursor.description]
        return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]

    # -------------------------------------------------------------------- batches
    def batch(self, *, name: str | None = None, sha256: str | None = None) -> BatchRecord | None:
        """The batch with this name, or holding this content hash; None if absent."""
        if name is not None:
            cursor = self.execute(f"SELECT {_BATCH_COLUMNS} FROM batches WHERE name = ?", (name,))
        else:
            cursor = self.execute(
                f"SELECT {_BATCH_COLUMNS} FROM batches WHERE sha256 = ?", (sha256,)
            )
        row = cursor.fetchone()
        return BatchRecord(*row) if row else None

    def batch_by_input(self, input_sha256: str, read_sha256: str) -> BatchRecord | None:
        """The batch read from identical file bytes with identical reading options."""
        row = self.execute(
            f"SELECT {_BATCH_COLUMNS} FROM batches WHERE input_sha256 = ? AND read_sha256 = ?",
            (input_sha256, read_sha256),
        ).fetchone()
        return BatchRecord(*row) if row else None

    def has_batch_of_size(self, n_annotations: int, n_items: int, n_annotators: int) -> bool:
        """Whether a stored batch has these sizes (only such a batch can hold the same rows)."""
        row = self.execute(
            "SELECT count(*) FROM batches WHERE n_annotations = ? AND n_items = ? "
            "AND n_annotators = ?",
            (n_annotations, n_items, n_annotators),
        ).fetchone()
        return bool(row[0])

    def batches(self) -> list[BatchRecord]:
        """Every batch in history order (batch id; a replaced batch keeps its place)."""
        rows = self.execute(f"SELECT {_BATCH_COLUMNS} FROM batches ORDER BY batch_id").fetchall()
        return [BatchRecord(*row) for row in rows]

    def delete_batch_content(self, batch_id: int) -> None:
        """Remove a batch's rows from every table (used by ``--replace``, inside a transaction);
        its profiles leave the project's running totals (``project_profiles``) too."""
        self.execute(_SUBTRACT_PROFILES, (batch_id,))
        self.execute("DELETE FROM project_profiles WHERE items = 0")
        for statement in _DELETE.values():
            self.execute(statement, (batch_id,))
        self.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))

    def insert_batch(self, record: BatchRecord) -> None:
        """Insert a ``batches`` row."""
        self.execute(
            f"INSERT INTO batches ({_BATCH_COLUMNS}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            tuple(record.__dict__.values()),
        )

    def insert_annotations(self, batch_id: int, rows: pa.Table) -> None:
        """Append rows with columns ``item, annotator, label`` and optional map ``extra``.

        The canonical columns may be dictionary arrays (ingest passes the table's own codes
        and names) or plain ones (encoded here); each goes in as its integer codes plus the
        batch's names, which :meth:`annotations` decodes. Rows grouped by item and without
        an ``extra`` column (what ingest writes) are stored one row per item
        (``annotation_items``, migration 13); other rows one row each
        (``annotation_codes_extra`` with an ``extra`` column, else
        ``annotation_codes_plain``). Either way ``annotation_codes`` and
        ``annotation_names`` read them back in the given order.
        """
        import pyarrow.compute as pc

        from labelaudit.project._item_rows import rows_per_item

        coded = {}
        for name in _CODED:
            column = rows.column(name)
            if not pa.types.is_dictionary(column.type):
                column = pc.dictionary_encode(column)
            column = column.combine_chunks()  # one dictionary (the chunks' unified)
            if not pa.types.is_string(column.type.value_type):  # e.g. integer item ids
                column = pa.DictionaryArray.from_arrays(
                    column.indices, column.dictionary.cast(pa.string())
                )
            coded[name] = column
        extra = "extra" in rows.column_names
        items = None if extra else rows_per_item(coded)
        if items is not None:
            self._insert_items(batch_id, *items)
            fields: tuple[str, ...] = ("annotator", "label")
        else:
            self._insert_codes(batch_id, coded, rows.column("extra") if extra else None)
            fields = _CODED
        for name in fields:
            self._insert_names(batch_id, name, coded[name].dictionary)

    def _insert_codes(
        self, batch_id: int, coded: dict[str, pa.DictionaryArray], extra: Any
    ) -> None:
        """One row per annotation (``annotation_codes_plain`` or ``_extra``)."""
        codes: dict[str, Any] = {name: coded[name].indices for name in _CODED}
        if extra is not None:
            codes["extra"] = extra
        with self.registered("incoming_codes", pa.table(codes)):
            self.execute(_INSERT_CODES[extra is not None], (batch_id,))

    def _insert_items(self, batch_id: int, items: pa.Table, label_bits: int) -> None:
        """One row per item (``annotation_items``: see :func:`rows_per_item`)."""
        with self.registered("incoming_items", items):
            self.execute(_INSERT_ITEMS, (batch_id, label_bits))

    def _insert_names(self, batch_id: int, field: str, names: pa.Array) -> None:
        """One field's names of a batch (strings): code i is ``names[i]``."""
        import numpy as np

        data = pa.table({"code": pa.array(np.arange(len(names), dtype=np.int32)), "name": names})
        with self.registered("incoming_names", data):
            self.execute(_INSERT_NAMES, (batch_id, field))

    def insert_rejects(self, batch_id: int, rejects: pa.Table) -> None:
        """Append rejected rows (columns as in ``rejected_rows`` without ``batch_id``)."""
        with self.registered("incoming_rejects", rejects):
            self.execute(
                "INSERT INTO rejected_rows SELECT ?, entry, source, line, unit, field, problem, "
                "expected, actual, item, annotator, label FROM incoming_rejects",
                (batch_id,),
            )

    def annotations(self, batch_id: int) -> pa.Table:
        """A batch's stored annotations (item, annotator, label as strings, the ``extra``
        map) in stored order: its codes decoded with its names, in Arrow."""
        if not self._coded:  # a migration before CODED_ANNOTATIONS: the old table
            return self.arrow(
                "SELECT item, annotator, label, extra FROM annotations WHERE batch_id = ?",
                (batch_id,),
            )
        import numpy as np

        codes = self.arrow(
            "SELECT item, annotator, label, extra FROM annotation_codes WHERE batch_id = ?",
            (batch_id,),
        )
        columns = {}
        for field in _CODED:
            found = self.arrow(
                "SELECT code, name FROM annotation_names WHERE batch_id = ? AND field = ?",
                (batch_id, field),
            )
            code = found.column("code").to_numpy()
            names = found.column("name").combine_chunks()
            if np.any(code[1:] < code[:-1]):  # codes are 0 .. n - 1; put them in order
                names = names.take(pa.array(np.argsort(code, kind="stable")))
            columns[field] = names.take(codes.column(field))
        columns["extra"] = codes.column("extra")
        return pa.table(columns)

    def labels_seen(self, batch_id: int) -> list[str]:
        """The distinct labels of a batch's stored annotations (``SELECT DISTINCT label FROM
        annotations WHERE batch_id = ?``, read from the codes: no join of every row)."""
        rows = self.execute(
            "SELECT name FROM annotation_names WHERE batch_id = ? AND field = 'label' AND code "
            "IN (SELECT DISTINCT label FROM annotation_codes WHERE batch_id = ?) ORDER BY name",
            (batch_id, batch_id),
        ).fetchall()
        return [str(row[0]) for row in rows]

    def arrow(self, sql: str, parameters: Sequence[Any] = ()) -> pa.Table:
        """Run one constant query with ``?`` parameters; its rows as an Arrow table.

        DuckDB >= 2.0 refuses a relation while an earlier ``execute()`` result on the
        connection is unread (``fetchone`` leaves it so: ``check_schema`` on every open),
        so that result is run to its end first (``complete``)."""
        finish = getattr(self.connection, "complete", None)  # DuckDB >= 2.0
        if finish is not None:
            finish()
        relation = self.connection.sql(sql, params=list(parameters))
        # DuckDB >= 1.4 names it to_arrow_table; older releases call it arrow
        fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
        return fetch()

    def rejects(self, batch_id: int | None = None, limit: int | None = None) -> list[dict]:
        """Rejected rows (all batches, or one), in batch then input order."""
        cursor = self.execute(
            "SELECT b.name AS batch, r.entry, r.source, r.line, r.unit, r.field, r.problem, "
            "r.expected, r.actual, r.item, r.annotator, r.label FROM rejected_rows r "
            "JOIN batches b USING (batch_id) WHERE ? IS NULL OR r.batch_id = ? "
            "ORDER BY r.batch_id, r.entry, r.field LIMIT ?",
            (batch_id, batch_id, limit),
        )
        keys = [column[0] for column in cursor.description]
        return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]

    def rejected_count(self) -> int:
        """Number of rejected input rows (entries) kept in the store."""
        row = self.execute(
            "SELECT count(*) FROM (SELECT DISTINCT batch_id, entry FROM rejected_rows)"
        ).fetchone()
        return int(row[0])

    # -------------------------------------------------------------------- results
    def insert_result(
        self,
        batch_id: int,
        kind: str,
        result_json: str,
        metrics: Sequence[tuple[Any, ...]],
        *,
        run_id: int,
        annotators: Sequence[tuple[Any, ...]] = (),
        schema_version: int = 1,
    ) -> None:
        """Store one result of a batch: its JSON and its typed headline rows.

        ``metrics`` rows are ``(metric, value, se, ci_low, ci_high, reason)``;
        ``annotators`` rows are ``(annotator, metric, value, n, reason)``.
        """
        self.insert_results(
            batch_id, [(kind, schema_version, result_json, metrics, annotators)], run_id=run_id
        )

    def insert_results(
        self,
        batch_id: int,
        results: Sequence[
            tuple[str, int, str, Sequence[tuple[Any, ...]], Sequence[tuple[Any, ...]]]
        ],
        *,
        run_id: int,
    ) -> None:
        """Store several results of a batch in three statements (one per table, each an
        Arrow table registered under a constant name: no per-row round trip).

        Each result is ``(kind, schema_version, result_json, metrics, annotators)``, rows as
        in :meth:`insert_result`.
        """
        now = utc_now()
        own = [
            (batch_id, kind, version, text, now, run_id) for kind, version, text, _, _ in results
        ]
        metrics = [(batch_id, r[0], *row) for r in results for row in r[3]]
        annotators = [(batch_id, r[0], *row) for r in results for row in r[4]]
        for name, rows in (
            ("batch_results", own),
            ("batch_metrics", metrics),
            ("annotator_metrics", annotators),
        ):
            if rows:
                self._insert_rows(name, rows)

    def _insert_rows(self, name: str, rows: list[tuple[Any, ...]]) -> None:
        """Append ``rows`` (tuples in column order) to one of the result tables."""
        columns, types = _RESULT_COLUMNS[name]
        data = pa.table(
            {
                column: pa.array(values, type=kind)
                for column, values, kind in zip(
                    columns, zip(*rows, strict=True), types, strict=True
                )
            }
        )
        with self.registered("incoming_result_rows", data):
            self.execute(_INSERT_RESULT_ROWS[name])

    def result(self, batch_id: int, kind: str) -> str | None:
        """The stored JSON text of one result, or None."""
        row = self.execute(
            "SELECT result FROM batch_results WHERE batch_id = ? AND kind = ?", (batch_id, kind)
        ).fetchall()  # fetchone would leave the result open on the connection
        return None if not row else str(row[0][0])

    def metric_history(self, kind: str, metric: str) -> list[tuple[str, float | None]]:
        """``(batch name, value)`` of one metric over the batches, in history order."""
        return self.execute(
            "SELECT b.name, m.value FROM batches b LEFT JOIN batch_metrics m "
            "ON m.batch_id = b.batch_id AND m.kind = ? AND m.metric = ? ORDER BY b.batch_id",
            (kind, metric),
        ).fetchall()


def _open_error(path: Path, error: Exception) -> Exception:
    text = str(error)
    match = _LOCK.search(text)
    if match is None and "lock" not in text.lower():
        return InputError(
            "cannot open the project store",
            source=str(path),
            expected="a readable DuckDB file",
            actual=text.splitlines()[0],
        )
    holder = f" (process {match['pid']}: {match['program']})" if match else ""
    return StoreLockedError(
        f"the project store {path} is in use by another process{holder}. "
        "Fix: wait until that labelaudit command (an ingest or a report) has finished, "
        "then run this one again"
    )


def _damaged(path: Path, error: Exception) -> InputError:
    return InputError(
        "unreadable project store",
        source=str(path),
        expected="a DuckDB database written by labelaudit",
        actual=(str(error).splitlines() or [type(error).__name__])[0],
        hint="restore the file from a backup, or move it away and re-ingest",
    )
