"""``labelaudit pull``: what is new in a running Label Studio project, as one batch.

A pull reads the project's label config and an export snapshot (every task with its
annotations, annotator emails and predictions) through the API
(:class:`labelaudit.io.label_studio_api.LabelStudioAPI`), then compares each annotation
with the store's ledger of earlier pulls (table ``label_studio_pulls``, one row per
revision):

- an annotation not seen before is **new**; one whose ``updated_at`` (or cancelled state)
  changed is **updated** and stored again as its next revision (the newer batch holds the
  latest answer);
- a cancelled (skipped) annotation is recorded as ``cancelled``, never as a label; an
  annotation seen before and gone from the server is recorded as ``deleted``;
- unchanged annotations are left alone, so pulling twice adds nothing.

New and updated submitted annotations are written as a Label Studio JSON file under
``<project>/pulls/`` and ingested as one batch (named by the pull time unless given)
together with the ledger rows, in one transaction. With ``as_decisions`` the annotations
are an adjudicator's decisions on a review project: they go to the ``decisions`` table
(item, label, who, when), kept apart from batches and from honeypot gold.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from labelaudit.exceptions import InputError, UsageError
from labelaudit.io import ExportOptions, read_export
from labelaudit.project.decisions import refresh_decision_results
from labelaudit.project.ingest import IngestResult, ingest_batch
from labelaudit.project.layout import Project
from labelaudit.project.store import Store, utc_now

__all__ = [
    "PullPlan",
    "PullResult",
    "decisions_at",
    "known_records",
    "plan_pull",
    "pull_label_studio",
    "read_decisions",
]

#: Ledger columns after ``source`` (see migration 4).
_LEDGER = ("record_id", "revision", "task_id", "annotator", "updated_at", "status")


@dataclass
class PullPlan:
    """What a pull changes, decided from the snapshot and the ledger (no I/O).

    Attributes
    ----------
    tasks : list of dict
        Label Studio tasks holding only the new and updated submitted annotations (and,
        when models are included, new and updated predictions).
    ledger : list of tuple
        Ledger rows ``(record_id, revision, task_id, annotator, updated_at, status)``.
    counts : dict of str to int
        ``new``, ``updated``, ``unchanged``, ``cancelled``, ``deleted``.
    """

    tasks: list[dict[str, Any]] = field(default_factory=list)
    ledger: list[tuple[Any, ...]] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("new", "updated", "unchanged", "cancelled", "deleted"), 0
        )
    )

    @property
    def n_rows(self) -> int:
        """Submitted annotations (and predictions) to ingest."""
        return sum(len(t["annotations"]) + len(t.get("predictions", [])) for t in self.tasks)


def _who(record: dict[str, Any]) -> str | None:
    who = record.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    if who is None:
        who = record.get("model_version")
    return None if who is None else str(who)


def _records(task: dict[str, Any], include_models: bool) -> Iterator[tuple[str, dict[str, Any]]]:
    for annotation in task.get("annotations") or []:
        if isinstance(annotation, dict):
            yield f"a{annotation.get('id')}", annotation
    if include_models:
        for prediction in task.get("predictions") or []:
            if isinstance(prediction, dict):
                yield f"p{prediction.get('id')}", prediction


def plan_pull(
    tasks: list[dict[str, Any]],
    known: dict[str, tuple[int, str | None, str]],
    *,
    since: str | None = None,
    include_models: bool = False,
) -> PullPlan:
    """Compare a snapshot with the ledger: what is new, updated, cancelled, deleted.

    Parameters
    ----------
    tasks : list of dict
        Label Studio tasks of an export snapshot.
    known : dict
        ``record_id -> (revision, updated_at, status)`` of the latest ledger revisions
        (:func:`known_records`); ``record_id`` is ``a<id>`` or ``p<id>`` (prediction).
    since : str, optional
        ISO-8601 time: annotations updated at or before it are not considered.
    include_models : bool
        Pull predictions too (rows of model annotators).

    Returns
    -------
    PullPlan
    """
    plan = PullPlan()
    seen: set[str] = set()
    for task in tasks:
        kept: dict[str, list[dict[str, Any]]] = {"annotations": [], "predictions": []}
        for key, record in _records(task, include_models):
            seen.add(key)
            updated = record.get("updated_at") or record.get("created_at")
            if since is not None and (updated or "") <= since:
                continue
            status = "cancelled" if record.get("was_cancelled") else "submitted"
            previous = known.get(key)
            if previous is not None and previous[1:] == (updated, status):
                plan.counts["unchanged"] += 1
                continue
            revision = 1 if previous is None else previous[0] + 1
            plan.counts["new" if previous is None else "updated"] += 1
            plan.ledger.append((key, revision, task.get("id"), _who(record), updated, status))
            if status == "cancelled":
                plan.counts["cancelled"] += 1
                continue
            kept["annotations" if key.startswith("a") else "predictions"].append(record)
        if kept["annotations"] or kept["predictions"]:
            plan.tasks.append({**task, **kept})
    for key, (revision, updated, status) in known.items():
        if key not in seen and status != "deleted" and (include_models or key.startswith("a")):
            plan.counts["deleted"] += 1
            plan.ledger.append((key, revision + 1, None, None, updated, "deleted"))
    return plan


def known_records(store: Store, source: str) -> dict[str, tuple[int, str | None, str]]:
    """Latest ledger revision of each record pulled from ``source``."""
    rows = store.execute(
        "SELECT record_id, revision, updated_at, status FROM label_studio_pulls p "
        "WHERE source = ? AND revision = (SELECT max(revision) FROM label_studio_pulls q "
        "WHERE q.source = p.source AND q.record_id = p.record_id)",
        (source,),
    ).fetchall()
    return {row[0]: (int(row[1]), row[2], row[3]) for row in rows}


def _write_ledger(store: Store, source: str, plan: PullPlan, batch: str | None, table: str) -> None:
    now = utc_now()
    for row in plan.ledger:
        store.execute(
            f"INSERT INTO label_studio_pulls (source, {', '.join(_LEDGER)}, batch_name, "
            "pulled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (source, *row, batch if table == "batch" else None, now),
        )


@dataclass(frozen=True)
class PullResult:
    """What ``pull`` did. ``to_dict()`` is the ``--format json`` contract."""

    source: str
    outcome: str
    counts: dict[str, int]
    batch: str | None = None
    file: str | None = None
    n_rows: int = 0
    n_decisions: int = 0
    ingest: IngestResult | None = None
    recomputed: tuple[str, ...] = ()

    def message(self) -> str:
        """One line for people."""
        counts = ", ".join(f"{n} {k}" for k, n in self.counts.items() if n)
        where = f"{self.source}: "
        if self.outcome == "up to date":
            return where + f"nothing new since the last pull ({counts or 'no annotations'})"
        if self.outcome == "decisions":
            again = (
                f"; recomputed the decisions figures of {len(self.recomputed)} batch(es)"
                if self.recomputed
                else ""
            )
            return where + f"stored {self.n_decisions} decisions ({counts}){again}"
        if self.outcome == "written":
            return where + f"wrote {self.file} ({self.n_rows} annotations)"
        if self.outcome == "recorded":
            return where + f"no new labels; recorded {counts}"
        assert self.ingest is not None
        return where + f"{counts} -> " + self.ingest.message()

    def to_dict(self) -> dict[str, Any]:
        """``{"source", "outcome", "counts", "batch", "file", "n_rows", "n_decisions",
        "recomputed", "ingest"}`` (``recomputed``: the batches whose ``decisions`` figures
        were recomputed; ``ingest``: the ingest result's dict, or null)."""
        out = {k: v for k, v in self.__dict__.items() if k != "ingest"}
        out["ingest"] = self.ingest.to_dict() if self.ingest is not None else None
        return out


def _commit_batch(
    store: Store,
    source: str,
    plan: PullPlan,
    batch: str,
    record_version: Callable[[Store, str], None] | None,
) -> None:
    """Inside the ingest transaction: the pull ledger, then the batch's guideline version."""
    _write_ledger(store, source, plan, batch, "batch")
    if record_version is not None:
        record_version(store, batch)


def _batch_name(project_id: int) -> str:
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return f"ls{project_id}-{now}"


def pull_label_studio(
    api: Any,
    ls_project: int,
    *,
    project: Project | None = None,
    out: Path | None = None,
    export: ExportOptions | None = None,
    batch: str | None = None,
    since: str | None = None,
    as_decisions: bool = False,
    record_version: Callable[[Store, str], None] | None = None,
) -> PullResult:
    """Pull a Label Studio project into a labelaudit project (or a file).

    Parameters
    ----------
    api : LabelStudioAPI
        The connected client.
    ls_project : int
        Label Studio project id.
    project : Project, optional
        The labelaudit project receiving the batch (or the decisions).
    out : Path, optional
        Without a project: write the snapshot (annotations updated after ``since``) here
        as a Label Studio JSON export that every command reads.
    export : ExportOptions, optional
        ``control``, ``task_key``, ``include_models``, ``users`` as for any export.
    batch : str, optional
        Batch name (default ``ls<ID>-<pull time>``).
    since : str, optional
        ISO-8601 time; only annotations updated after it.
    as_decisions : bool
        The project is a review project: store its annotations as expert decisions.
    record_version : callable, optional
        ``record(store, batch)`` called inside the batch's transaction: records the
        guideline version the batch was labelled under
        (``labelaudit.guidelines.project.version_recorder``).

    Returns
    -------
    PullResult

    Raises
    ------
    InputError
        Unreachable server, refused token, unknown project; nothing is stored then.
    UsageError
        Neither ``project`` nor ``out``.
    """
    if project is None and out is None:
        raise UsageError("pull needs a labelaudit project (--project DIR) or --out FILE")
    export = export or ExportOptions()
    if as_decisions and export.task_key is None:
        export = replace(export, task_key="data.labelaudit_item")  # set by review tasks
    source = f"{api.url}/projects/{ls_project}"
    config = str(api.project(ls_project).get("label_config") or "")
    tasks = api.snapshot(ls_project)
    if project is None:
        assert out is not None
        plan = plan_pull(tasks, {}, since=since, include_models=True)
        _write_json(out, plan.tasks)
        return PullResult(source, "written", plan.counts, file=str(out), n_rows=plan.n_rows)
    with project.open_store() as store:
        known = known_records(store, source)
    plan = plan_pull(tasks, known, since=since, include_models=export.include_models)
    folder = project.root / "pulls"
    folder.mkdir(exist_ok=True)
    config_path = export.label_config or folder / f"label-studio-{ls_project}.xml"
    if export.label_config is None:
        config_path.write_text(config, encoding="utf-8")
    if not plan.ledger:
        return PullResult(source, "up to date", plan.counts)
    if plan.n_rows == 0:
        with project.open_store() as store, store.transaction():
            _write_ledger(store, source, plan, None, "none")
        return PullResult(source, "recorded", plan.counts)
    name = batch or _batch_name(ls_project)
    path = folder / f"{_safe(name)}.json"
    _write_json(path, plan.tasks)
    table, _ = read_export(
        path,
        from_="label-studio",
        **{**export.read_kwargs(), "label_config": config_path},
        level=project.config.task.level,
        categories=project.config.task.categories,
    )
    if as_decisions:
        return _store_decisions(project, source, plan, table, path)
    result = ingest_batch(
        project,
        path,
        batch=name,
        table=table,
        on_commit=lambda store: _commit_batch(store, source, plan, name, record_version),
    )
    if result.outcome == "duplicate":
        with project.open_store() as store, store.transaction():
            _write_ledger(store, source, plan, result.batch, "batch")
    return PullResult(
        source, "ingested", plan.counts, batch=result.batch, file=str(path),
        n_rows=table.n_ratings, ingest=result,
    )  # fmt: skip


def _store_decisions(
    project: Project, source: str, plan: PullPlan, table: Any, path: Path
) -> PullResult:
    """The review project's annotations as expert decisions (not a batch)."""
    data = table.data
    ids = data.column("annotation_id").to_pylist()
    revisions = {row[0]: row[1] for row in plan.ledger}
    rows = zip(
        data.column("item").to_pylist(),
        data.column("label").to_pylist(),
        data.column("annotator").to_pylist(),
        ids,
        strict=True,
    )
    created = data.column("created_at").to_pylist() if "created_at" in data.column_names else []
    now = utc_now()
    with project.open_store() as store, store.transaction():
        for index, (item, label, who, annotation) in enumerate(rows):
            key = f"a{annotation}"
            when = created[index].isoformat() if index < len(created) and created[index] else None
            store.execute(
                "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (item, label, who, source, key, revisions.get(key, 1), when, now),
            )
        _write_ledger(store, source, plan, None, "decisions")
        items = [str(item) for item in data.column("item").to_pylist()]
        recomputed = refresh_decision_results(store, project.config, items, source=source)
    return PullResult(
        source, "decisions", plan.counts, file=str(path), n_decisions=table.n_ratings,
        recomputed=recomputed,
    )  # fmt: skip


def read_decisions(project: Project) -> tuple[list[str], list[str]]:
    """The latest decision on each item: ``(items, labels)``, items sorted.

    When several adjudicators decided one item, the most recently pulled revision wins.
    """
    with project.open_store() as store:
        rows = store.execute(
            "SELECT item, label FROM (SELECT item, label, row_number() OVER (PARTITION BY "
            "item ORDER BY pulled_at DESC, revision DESC) AS k FROM decisions) WHERE k = 1 "
            "ORDER BY item"
        ).fetchall()
    return [r[0] for r in rows], [r[1] for r in rows]


def decisions_at(source: Path) -> tuple[list[str], list[str], str]:
    """The adjudicators' decisions at ``source``: ``(items, labels, name)``.

    ``source`` is a labelaudit project folder (the latest decision on each item,
    :func:`read_decisions`; ``name`` is ``"SOURCE (decisions)"``) or a table file with
    ``item`` and ``label`` columns (CSV, TSV, JSONL, JSON or Parquet, loaded by
    :func:`labelaudit.table.load_source`; ``name`` is the path). Values are read as text.

    Raises
    ------
    InputError
        A file without an ``item`` or a ``label`` column (names the file, the column and
        the columns the file has), or a file that cannot be read.
    """
    if (source / "labelaudit.toml").is_file():
        from labelaudit.project.layout import find_project

        items, labels = read_decisions(find_project(source))
        return items, labels, f"{source} (decisions)"
    from labelaudit.table import load_source

    raw, _ = load_source(source, None)
    for column in ("item", "label"):
        if column not in raw.column_names:
            raise InputError(
                "not a decisions file", source=str(source), field=column,
                expected="columns item and label", actual=", ".join(raw.column_names),
            )  # fmt: skip
    items = [str(v) for v in raw.column("item").to_pylist()]
    labels = [str(v) for v in raw.column("label").to_pylist()]
    return items, labels, str(source)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _write_json(path: Path, tasks: list[dict[str, Any]]) -> None:
    text = json.dumps(tasks, ensure_ascii=False, indent=1)
    Path(path).write_text(text + "\n", encoding="utf-8")
