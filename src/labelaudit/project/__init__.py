"""The project: configuration, embedded store, batch ingest and status.

A project is a folder with ``labelaudit.toml`` (:mod:`~labelaudit.project.config`) and the
DuckDB store ``labelaudit.duckdb`` (:mod:`~labelaudit.project.store`).
:func:`init_project` creates it, :func:`find_project` locates it, :func:`ingest_batch`
validates and stores a batch with its per-batch results, :func:`project_status` lists what
the store holds.
"""

from __future__ import annotations

from labelaudit.project.config import Gate, ProjectConfig, load_config
from labelaudit.project.ingest import IngestResult, ReadOptions, ingest_batch
from labelaudit.project.layout import Project, find_project, init_project
from labelaudit.project.status import StatusReport, project_status
from labelaudit.project.store import Store, StoreLockedError
from labelaudit.project.validate import Reject, RejectedRowsError

__all__ = [
    "Gate",
    "IngestResult",
    "Project",
    "ProjectConfig",
    "ReadOptions",
    "Reject",
    "RejectedRowsError",
    "StatusReport",
    "Store",
    "StoreLockedError",
    "find_project",
    "ingest_batch",
    "init_project",
    "load_config",
    "project_status",
]
