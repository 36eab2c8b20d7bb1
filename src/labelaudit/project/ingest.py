"""``ingest``: validate a batch file, store its rows and per-batch results in one transaction.

The steps, in order:

1. Open the store (a second process gets a clear "in use" error) and hash the file's
   bytes (on a worker thread beside the opening). A file already ingested byte for byte
   with the same reading options and schema is a no-op at once (fast path; no parsing).
2. Read it through the table boundary (:func:`labelaudit.table.read_annotations` with the
   project's schema). If the reader refuses it, :func:`~labelaudit.project.validate.validate_rows`
   collects *every* invalid row; more than ``max_rejects`` (default 0) fails the ingest
   listing the first 20, else the valid rows are read again and the rejects are kept.
3. ``sha256`` of the rows sorted by (item, annotator), every stored column included
   (:func:`labelaudit.table.content_sha256`): content already held by a batch, under any
   name, is a no-op naming that batch; a name holding other content (even a corrected
   extra column) is an error saying what differs, unless ``replace``. The hash is
   computed before the results only when a stored batch has the same numbers of
   annotations, items and annotators (else no batch can hold the content, and the
   agreement result's ``input.sha256`` is used: one hash, not two).
4. Compute the per-batch results (:mod:`labelaudit.project.results`) inside the
   transaction of step 5: first the agreement (which keeps both cores busy itself), then
   the others and the item profiles while a worker thread inserts the annotations (DuckDB
   inserts off the GIL, taking it only between tasks to check for an interrupt).
5. One DuckDB transaction writes the run, the batch, its annotations, its rejects and its
   results. Any failure, or a killed process, leaves the store exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from labelaudit.exceptions import InputError, UsageError
from labelaudit.project.config import InputConfig
from labelaudit.project.layout import Project
from labelaudit.project.results import ANALYSES, BatchResult, compute_results
from labelaudit.project.statistics import batch_profile_rows, store_profiles
from labelaudit.project.store import BatchRecord, Store, utc_now
from labelaudit.project.validate import Reject, RejectedRowsError, Validation, validate_rows
from labelaudit.table import format_of, narrow_codes, split_names
from labelaudit.table.table import AnnotationTable

__all__ = ["IngestResult", "ReadOptions", "ingest_batch"]

_CANONICAL = ("item", "annotator", "label")


@dataclass(frozen=True)
class ReadOptions(InputConfig):
    """How a batch file is read: the ``[input]`` settings, overridden per call."""

    @classmethod
    def from_config(cls, project: Project, **overrides: Any) -> ReadOptions:
        """``[input]`` of the project, with the non-None ``overrides`` applied."""
        base = project.config.input
        values = {k: getattr(base, k) for k in cls.__dataclass_fields__}
        values.update({k: v for k, v in overrides.items() if v is not None})
        for key in ("annotator_cols", "na_values"):
            values[key] = split_names(values[key])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``na_values`` left out while unset: older batches keep their key)."""
        out = dict(self.__dict__)
        out["annotator_cols"] = list(self.annotator_cols) if self.annotator_cols else None
        if self.na_values is None:
            out.pop("na_values")
        else:
            out["na_values"] = list(self.na_values)
        return out


@dataclass(frozen=True)
class IngestResult:
    """What ``ingest`` did. ``to_dict()`` is the ``--format json`` contract.

    ``outcome`` is ``"stored"``, ``"replaced"`` or ``"duplicate"`` (a no-op: ``batch`` names
    the batch that already holds the content).
    """

    outcome: str
    batch: str
    requested: str
    sha256: str
    source: str
    n_annotations: int
    n_items: int
    n_annotators: int
    n_rejected: int = 0
    rejects: tuple[Reject, ...] = ()
    run_id: int | None = None
    results: tuple[str, ...] = field(default_factory=tuple)

    def message(self) -> str:
        """One line for people."""
        if self.outcome == "duplicate":
            return (
                f"{self.source}: already ingested as batch {self.batch!r} "
                f"(same content, sha256 {self.sha256[:12]}); nothing to do"
            )
        verb = "replaced" if self.outcome == "replaced" else "stored"
        text = (
            f"{self.source}: {verb} batch {self.batch!r}: {self.n_annotations:,} annotations, "
            f"{self.n_items:,} items, {self.n_annotators:,} annotators"
        )
        if self.n_rejected:
            text += f"; {self.n_rejected:,} rejected rows kept in the store"
        return text

    def to_document(self) -> Any:
        """What ingest did as a document (paths relative to the working folder)."""
        from labelaudit.project.documents import ingest_document

        return ingest_document(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """``{"outcome", "batch", "requested", "sha256", "source", "n_annotations",
        "n_items", "n_annotators", "n_rejected", "rejects": [first 20], "run_id",
        "results": [kinds]}``."""
        out = dict(self.__dict__)
        out["rejects"] = [reject.to_dict() for reject in self.rejects]
        out["results"] = list(self.results)
        return out


def ingest_batch(
    project: Project,
    file: Path,
    *,
    batch: str,
    replace_batch: bool = False,
    max_rejects: int = 0,
    options: ReadOptions | None = None,
    progress: Callable[[str], None] | None = None,
    table: AnnotationTable | None = None,
    on_commit: Callable[[Store], None] | None = None,
) -> IngestResult:
    """Validate ``file`` and store it as batch ``batch`` with its per-batch results.

    Parameters
    ----------
    project : Project
        The project (its schema, reading and agreement options apply).
    file : Path
        CSV, TSV, JSONL, JSON or Parquet annotations.
    batch : str
        Batch name (any text; stored verbatim).
    replace_batch : bool
        Allow ``batch`` to hold new content (its rows and results are replaced; it keeps
        its place in the history).
    max_rejects : int
        Invalid rows tolerated: the valid rows are stored, the rejected ones kept with
        their reasons. 0 (default) = all or nothing.
    options : ReadOptions, optional
        Reading options (default: the project's ``[input]``).
    progress : callable, optional
        Called with the name of each stage (``reading``, ``scoring``, ``writing``), e.g. to
        show a spinner on a terminal.
    table : AnnotationTable, optional
        The rows of ``file`` already read (an annotation-platform export read with
        :func:`labelaudit.io.read_export`); ``file`` is then only hashed.
    on_commit : callable, optional
        Called with the store inside the batch's transaction (e.g. ``labelaudit pull``
        records what it pulled), so both are written or neither.

    Returns
    -------
    IngestResult

    Raises
    ------
    RejectedRowsError
        More than ``max_rejects`` invalid rows (lists the first 20).
    InputError, UsageError
        Unreadable file, a name holding other content without ``replace_batch``, a store
        in use by another process.
    """
    path = _check_arguments(file, batch, max_rejects)
    started = utc_now()
    options = options or ReadOptions.from_config(project)
    schema = project.config.task.schema()
    read_sha = _sha256_text(json.dumps([options.to_dict(), schema.to_dict()], sort_keys=True))
    stage = progress or (lambda name: None)
    with ThreadPoolExecutor(max_workers=1) as pool:
        hashed = pool.submit(file_sha256, path)  # beside the store's opening (frees the GIL)
        store = project.open_store()
    with store:
        stage("reading")
        input_sha = hashed.result()
        known = store.batch_by_input(input_sha, read_sha)
        if known is not None:
            return _duplicate(known, batch, str(file))
        if table is None:
            table, validation = _read(path, project, options, max_rejects)
        else:
            table, validation = _as_project_task(table, project.config.task.kind), None
        sha, holder, previous = _check_content(store, table, batch, replace_batch)
        if holder is not None:
            return _duplicate(holder, batch, str(file))
        stage("scoring")
        facts = {"input_sha256": input_sha, "read_sha256": read_sha, "sha256": sha or ""}
        facts["source"] = str(path.resolve())
        run_id, results = _score_and_write(
            store, project, table, validation, (batch, previous, started, facts), on_commit, stage
        )
        sha = facts["sha256"]
    rejects = tuple(validation.first()) if validation is not None else ()
    return IngestResult(
        outcome="replaced" if previous is not None else "stored",
        batch=batch,
        requested=batch,
        sha256=sha,
        source=str(file),
        n_annotations=table.n_ratings,
        n_items=table.n_items,
        n_annotators=table.n_annotators,
        n_rejected=validation.n_rejected if validation is not None else 0,
        rejects=rejects,
        run_id=run_id,
        results=tuple(r.kind for r in results),
    )


def _check_arguments(file: Path, batch: str, max_rejects: int) -> Path:
    if not batch.strip():
        raise UsageError("the batch name must not be empty; pass --batch NAME")
    if max_rejects < 0:
        raise UsageError(f"max_rejects must be >= 0; got {max_rejects}")
    path = Path(file)
    if not path.is_file():
        raise InputError("file not found", source=str(file), expected="a readable file")
    return path


def _check_content(
    store: Store, table: AnnotationTable, batch: str, replace_batch: bool
) -> tuple[str | None, BatchRecord | None, BatchRecord | None]:
    """(sha256 if computed, the batch already holding the content, the batch named ``batch``).

    The content hash is computed here only when a stored batch has the same sizes (only
    then can it hold the same rows); a name holding other content fails before the
    per-batch results are computed.
    """
    previous = store.batch(name=batch)
    sha = None
    if store.has_batch_of_size(table.n_ratings, table.n_items, table.n_annotators):
        sha = _content_sha256(table)
        holder = store.batch(sha256=sha)
        if holder is not None:
            return sha, holder, previous
    if previous is not None and not replace_batch:
        from labelaudit.project.stored import describe_difference

        differs = describe_difference(store, previous.batch_id, previous.task_schema, table)
        raise UsageError(
            f"batch {batch!r} already holds other content (sha256 {previous.sha256[:12]}, "
            f"from {previous.source}): {differs}. Fix: pass --replace to overwrite it, or "
            "choose another --batch name"
        )
    return sha, None, previous


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (streamed in 4 MiB blocks)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(4 << 20):
            digest.update(block)
    return digest.hexdigest()


def _sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _content_sha256(table: AnnotationTable) -> str:
    from labelaudit.table import content_sha256

    return content_sha256(table)


def _batch_sha256(table: AnnotationTable, results: list[BatchResult]) -> str:
    """:func:`labelaudit.table.content_sha256` of the batch; the agreement result
    already holds it (``input.sha256``), which saves hashing 10M rows twice."""
    for result in results:
        if result.kind == "agreement":
            return str(result.result["input"]["sha256"])
    return _content_sha256(table)


def _duplicate(holder: BatchRecord, requested: str, source: str) -> IngestResult:
    return IngestResult(
        outcome="duplicate",
        batch=holder.name,
        requested=requested,
        sha256=holder.sha256,
        source=source,
        n_annotations=holder.n_annotations,
        n_items=holder.n_items,
        n_annotators=holder.n_annotators,
        n_rejected=holder.n_rejected,
    )


# ----------------------------------------------------------------------------- reading
def _read(
    path: Path, project: Project, options: ReadOptions, max_rejects: int
) -> tuple[AnnotationTable, Validation | None]:
    """The batch as a table, read through the front door every command uses
    (:func:`labelaudit.io.read_any`: platform exports detected, plain tables validated by
    the table boundary); on invalid rows of a plain table, every reject (and the valid
    rows if allowed)."""
    from labelaudit.io import read_any
    from labelaudit.io.front import platform_of
    from labelaudit.table import read_annotations

    task = project.config.task
    common: dict[str, Any] = {
        "level": task.level,
        "categories": task.categories,
        "on_duplicate": "error",
    }
    try:
        table, _ = read_any(
            path,
            from_=options.format,
            layout=options.layout,
            item_col=options.item_col,
            annotator_col=options.annotator_col,
            label_col=options.label_col,
            annotator_cols=options.annotator_cols,
            na_values=options.na_values,
            task=task.kind if task.kind != "categorical" else None,
            **common,
        )
        return _as_project_task(table, task.kind), None
    except InputError as first_error:
        if platform_of(path, options.format) is not None:
            raise  # platform readers skip bad records themselves and report them
        try:
            raw_table, raw, locator = _raw_columns(path, options)
        except InputError:
            raise first_error from None  # a file-level problem, told by the front door
        validation = validate_rows(
            raw,
            task.schema(),
            source=locator.source,
            unit=locator.unit,
            n_records=raw_table.num_rows,
            path=path,
            kind=options.format or format_of(path),
        )
        if validation.n_rejected == 0:
            raise first_error from None  # not a row problem (e.g. no ordinal order)
        if validation.n_rejected > max_rejects:
            raise RejectedRowsError(validation, locator.source, max_rejects) from None
        if validation.n_rejected == validation.n_entries:
            raise InputError(
                "no valid rows", source=locator.source, expected="at least one valid row"
            ) from None
    table = read_annotations(_valid_rows(raw, validation.valid), layout="long", **common)
    return replace(table, source=str(path)), validation


def _raw_columns(path: Path, options: ReadOptions) -> tuple[pa.Table, Any, Any]:
    """The reader's canonical columns before validation (same loading, same column rules)."""
    from labelaudit.table import load_source, raw_columns

    raw_table, locator = load_source(path, options.format, na_values=options.na_values)
    raw, _ = raw_columns(
        raw_table,
        locator,
        layout=options.layout,
        item_col=options.item_col,
        annotator_col=options.annotator_col,
        label_col=options.label_col,
        annotator_cols=options.annotator_cols,
    )
    return raw_table, raw, locator


def _valid_rows(raw: Any, valid: np.ndarray) -> pa.Table:
    """The valid entries as a long table (item, annotator, label, then the extra columns)."""
    keep = pa.array(valid)
    columns = {name: getattr(raw, name).filter(keep) for name in _CANONICAL}
    rows = pa.array(raw.rows[valid], type=pa.int64())
    for name, column in raw.extra.items():
        key = name if name not in _CANONICAL else f"{name}_original"
        columns[key] = column.take(rows)
    return pa.table(columns)


def _as_project_task(table: AnnotationTable, task: str) -> AnnotationTable:
    """The batch read as the project's task (JSON labels of a generic file parsed), or a
    UsageError when an export holds another task than the project's."""
    if table.task != task and table.schema.is_structured:
        raise UsageError(
            f"{table.source} holds {table.task} annotations but the project's task is "
            f"{task}: set task = {table.task!r} in [task] of labelaudit.toml (or "
            f"`labelaudit init --task {table.task}` a new project)"
        )
    if task == "categorical":
        return table  # before the imports: labelaudit.structured is not needed here
    from labelaudit.structured import payload_of
    from labelaudit.structured.api import as_task

    table = as_task(table, task)

    payload_of(table)  # parse and check every structured label now: bad input fails here
    return table


# ----------------------------------------------------------------------------- writing
def _score_and_write(
    store: Store,
    project: Project,
    table: AnnotationTable,
    validation: Validation | None,
    batch_facts: tuple[str, BatchRecord | None, Any, dict[str, str]],
    on_commit: Callable[[Store], None] | None,
    stage: Callable[[str], None],
) -> tuple[int, list[BatchResult]]:
    """Compute the batch's results (stage ``scoring``) and write everything in one
    transaction (stage ``writing``: what is left once the results are known); returns the
    run id and the results (``facts["sha256"]`` filled from them when it was empty).

    The agreement comes first (it runs on two threads itself); then the annotations go in
    on a worker thread while this thread computes the other results and the item
    profiles. DuckDB inserts off the GIL but takes it between tasks (to check for an
    interrupt), so Python work beside the insert slows it (docs/benchmarks.md); this
    order still measured fastest: started beside the agreement, the insert was slower.
    The profiles and rejects (small) go in after.
    The worker is the only user of the connection until it is joined; any failure
    (either side) is raised after the worker stopped, so the transaction rolls back with
    both done.
    """
    batch, previous, started, facts = batch_facts
    with store.transaction():
        if previous is not None:
            store.delete_batch_content(previous.batch_id)
        batch_id = previous.batch_id if previous is not None else store.next_id("batches")
        results = compute_results(table, project.config, ANALYSES[:1])  # agreement: 2 threads
        with ThreadPoolExecutor(max_workers=1) as pool:
            rows_written = pool.submit(_insert_rows, store, batch_id, table)
            results += compute_results(table, project.config, ANALYSES[1:])
            profiles = batch_profile_rows(table)
            rows_written.result()
        stage("writing")
        store_profiles(store, batch_id, table, profiles)  # incremental windows (issue 21)
        if validation is not None and validation.rejects.num_rows:
            store.insert_rejects(batch_id, validation.rejects)
        facts["sha256"] = facts["sha256"] or _batch_sha256(table, results)
        table = replace(table, source=facts["source"])
        run_id = _write(
            store, project, table, validation, results, (batch, batch_id, previous, started),
            facts, on_commit,
        )  # fmt: skip
    return run_id, results


def _insert_rows(store: Store, batch_id: int, table: AnnotationTable) -> None:
    """A batch's annotations (inside the caller's transaction; on the worker thread)."""
    store.insert_annotations(batch_id, _stored_rows(table))


def _write(
    store: Store,
    project: Project,
    table: AnnotationTable,
    validation: Validation | None,
    results: list[BatchResult],
    where: tuple[str, int, BatchRecord | None, Any],
    facts: dict[str, str],
    on_commit: Callable[[Store], None] | None = None,
) -> int:
    """The run, the batch record and its results (inside the caller's transaction, after
    :func:`_insert_rows`); returns the run id."""
    config = project.config
    batch, batch_id, previous, started = where
    run_id = store.record_run(
        "ingest",
        started_at=started,
        config_sha256=config.sha256,
        config_json=json.dumps(config.to_dict(), ensure_ascii=False),
        outcome="replaced" if previous is not None else "stored",
        input_path=table.source,
        input_sha256=facts["input_sha256"],
        batch_name=batch,
        details_json=json.dumps({"sha256": facts["sha256"], "n_annotations": table.n_ratings}),
    )
    store.insert_batch(
        BatchRecord(
            batch_id=batch_id,
            name=batch,
            sha256=facts["sha256"],
            source=table.source,
            input_sha256=facts["input_sha256"],
            read_sha256=facts["read_sha256"],
            n_annotations=table.n_ratings,
            n_items=table.n_items,
            n_annotators=table.n_annotators,
            n_rejected=validation.n_rejected if validation is not None else 0,
            task_schema=json.dumps(table.schema.to_dict(), ensure_ascii=False),
            ingested_at=utc_now(),
            run_id=run_id,
        )
    )
    store.insert_results(
        batch_id,
        [(r.kind, r.schema_version, r.result_json(), r.metrics, r.annotators) for r in results],
        run_id=run_id,
    )
    if on_commit is not None:
        on_commit(store)
    return run_id


def _stored_rows(table: AnnotationTable) -> pa.Table:
    """item, annotator, label as dictionary arrays (the table's own codes and its names,
    which the store keeps as ``annotation_codes`` and ``annotation_names``: no string
    column is built) and, when the file had other columns, a map ``extra`` of them.

    Rows go in (item, annotator) order: the item codes then run 0, 0, ..., 1, ..., so
    without extra columns the store keeps them one row per item (``annotation_items``,
    store migration 13), and with them the extra column compresses better sorted.
    """
    order = table.row_order
    annotators = narrow_codes(table.annotator_codes, table.n_annotators)
    columns = {
        # in (item, annotator) order the item codes are 0, 0, ..., 1, ...: no gather
        "item": (np.repeat(np.arange(table.n_items), table.ratings_per_item()), table.items),
        "annotator": (annotators[order], table.annotators),
        "label": (narrow_codes(table.label_codes, table.n_categories)[order], table.categories),
    }
    rows = pa.table(
        {
            name: pa.DictionaryArray.from_arrays(
                pa.array(narrow_codes(codes, len(v))),
                # the item names as the reader gave them in Arrow: no conversion
                _names(v, table.item_names if name == "item" else None),
            )
            for name, (codes, v) in columns.items()
        }
    )
    # the structured payload is stored as its canonical JSON, which the label column holds
    # and nested columns (task data structures) are not extra either
    data = table.data
    names = [
        n
        for n in data.column_names
        if n not in _CANONICAL and n != "payload" and not pa.types.is_nested(data.column(n).type)
    ]
    if not names:
        return rows
    from labelaudit.table import as_text

    data = table.data.select(names).take(pa.array(order))

    n, k = data.num_rows, len(names)
    values = pa.concat_arrays([as_text(data.column(c)).combine_chunks() for c in names])
    order = (np.arange(n)[:, None] + np.arange(k)[None, :] * n).ravel()
    keys = pa.array(names, type=pa.string()).take(pa.array(np.tile(np.arange(k), n)))
    offsets = pa.array(np.arange(0, n * k + 1, k, dtype=np.int32))
    extra = pa.MapArray.from_arrays(offsets, keys, values.take(pa.array(order)))
    return rows.append_column("extra", extra)


def _names(values: np.ndarray, arrow: pa.Array | None = None) -> pa.Array:
    """Code -> name of one canonical column, as Arrow strings (``arrow``: the same names
    already in Arrow, used as they are when they are strings)."""
    if arrow is not None and pa.types.is_string(arrow.type):
        return arrow
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array(values.astype(str), pa.string())
