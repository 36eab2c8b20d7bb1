"""The guideline in a project: its file, gold answers as a map, versions of stored batches."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from labelaudit.exceptions import UsageError
from labelaudit.guidelines.model import Guideline, read_guideline

if TYPE_CHECKING:
    from labelaudit.project import Project
    from labelaudit.project.store import Store

__all__ = [
    "batch_version_recorder",
    "gold_map",
    "project_gold",
    "project_guideline",
    "version_recorder",
]


def project_guideline(project: Project) -> Guideline | None:
    """The guideline named by ``[guidelines] file`` (relative to the project), or None."""
    name = project.config.guidelines.file
    if name is None:
        return None
    return read_guideline(project.root / name)


def gold_map(
    path: str | Path, *, item_col: str = "item", label_col: str = "gold_label"
) -> dict[str, str]:
    """A gold file (CSV, TSV, JSONL, JSON, Parquet) as item -> gold label (text).

    Raises
    ------
    InputError
        Unreadable file or a missing column.
    """
    from labelaudit.quality.gold import gold_columns

    items_column, labels_column, _ = gold_columns(path, item_col=item_col, label_col=label_col)
    items = items_column.cast("string").to_pylist()
    labels = labels_column.cast("string").to_pylist()
    return {
        str(i): str(g)
        for i, g in zip(items, labels, strict=True)
        if i is not None and g is not None
    }


def project_gold(project: Project) -> dict[str, str] | None:
    """The project's ``[gold] file`` as item -> label, or None without one."""
    name = project.config.gold.file
    return None if name is None else gold_map(project.root / name)


def batch_version_recorder(
    project: Project, batch: str, explicit: str | None
) -> Callable[[Store], None] | None:
    """What ``ingest`` calls inside the batch's transaction to record its guideline version:
    ``explicit`` (``--guidelines-version``), else the version of the ``[guidelines]`` file,
    else None (the batch stays unversioned)."""
    record = version_recorder(project, explicit)
    if record is None:
        return None
    return lambda store: record(store, batch)


def version_recorder(project: Project, explicit: str | None) -> Callable[[Store, str], None] | None:
    """``record(store, batch)`` storing the guideline version a batch was labelled under,
    for callers that name the batch later (``pull``): ``explicit``, else the version of
    the ``[guidelines]`` file, else None (batches stay unversioned).

    Raises
    ------
    UsageError
        An empty ``explicit`` version.
    InputError
        The ``[guidelines]`` file cannot be read.
    """
    from labelaudit.guidelines.stored import record_batch_version

    if explicit is not None and not explicit.strip():
        raise UsageError("--guidelines-version must not be empty")
    guide = None if explicit is not None else project_guideline(project)
    if explicit is None and guide is None:
        return None
    version = explicit if explicit is not None else guide.version  # type: ignore[union-attr]
    source = None if guide is None else project.config.guidelines.file

    def record(store: Store, batch: str) -> None:
        record_batch_version(store, batch, version, source)

    return record
