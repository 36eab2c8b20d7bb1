"""A project folder: ``labelaudit.toml`` beside the store ``labelaudit.duckdb``.

:func:`init_project` creates one; :func:`find_project` locates it for every other command
(``--project DIR``, else the nearest parent folder of the working directory that holds
``labelaudit.toml``, the way git finds ``.git``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from labelaudit.exceptions import UsageError
from labelaudit.project.config import (
    CONFIG_NAME,
    ProjectConfig,
    default_config_text,
    load_config,
)
from labelaudit.project.store import STORE_NAME, Store, StoreOutdatedError, utc_now
from labelaudit.table.schema import TaskSchema

__all__ = ["Project", "find_project", "init_project"]


@dataclass(frozen=True)
class Project:
    """A project folder and its validated configuration."""

    root: Path
    config: ProjectConfig

    @property
    def config_path(self) -> Path:
        """``ROOT/labelaudit.toml``."""
        return self.root / CONFIG_NAME

    @property
    def store_path(self) -> Path:
        """``ROOT/labelaudit.duckdb``."""
        return self.root / STORE_NAME

    def open_store(self, *, read_only: bool = False, wait: float | None = None) -> Store:
        """Open the store (created and migrated on first write); ``wait`` as in
        :meth:`Store.open`.

        A read-only open of a store that is missing or not yet migrated first opens it for
        writing to create or migrate it.
        """
        if read_only and self.store_path.is_file():
            try:
                return Store.open(self.store_path, read_only=True, wait=wait)
            except StoreOutdatedError:
                pass
        if read_only:
            Store.open(self.store_path, wait=wait).close()  # create or migrate, then reopen
            return Store.open(self.store_path, read_only=True, wait=wait)
        return Store.open(self.store_path, wait=wait)

    @classmethod
    def load(cls, root: Path) -> Project:
        """The project in ``root`` (its ``labelaudit.toml`` is read and validated)."""
        root = Path(root).resolve()
        return cls(root=root, config=load_config(root / CONFIG_NAME))


def find_project(explicit: Path | None = None, *, start: Path | None = None) -> Project:
    """Locate the project: ``explicit`` if given, else the nearest parent holding the config.

    Parameters
    ----------
    explicit : Path, optional
        A project folder (``--project DIR``); it must hold ``labelaudit.toml``.
    start : Path, optional
        Where the upward search starts (default: the working directory).

    Raises
    ------
    UsageError
        No project found, with the command that creates one.
    """
    if explicit is not None:
        folder = Path(explicit)
        if not (folder / CONFIG_NAME).is_file():
            raise UsageError(
                f"{folder} is not a labelaudit project (no {CONFIG_NAME}). "
                f"Fix: run `labelaudit init {folder}` first, or pass the right --project"
            )
        return Project.load(folder)
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return Project.load(folder)
    raise UsageError(
        f"no labelaudit project in {here} or any parent folder (no {CONFIG_NAME}). "
        "Fix: run `labelaudit init DIR` to create one, or pass --project DIR"
    )


def init_project(
    directory: Path,
    *,
    name: str | None = None,
    level: str = "nominal",
    categories: tuple[str, ...] | None = None,
    task: str | None = None,
) -> Project:
    """Create a project: ``labelaudit.toml`` (commented defaults) and a migrated store.

    Parameters
    ----------
    directory : Path
        The project folder (created if missing).
    name : str, optional
        Project name shown in reports (default: the folder name).
    level, categories, task
        The task schema written into ``[task]`` (``task``: None or ``categorical``, or a
        structured type: spans, boxes, polygons, cuboids, keypoints, multilabel, ranking,
        text).

    Returns
    -------
    Project

    Raises
    ------
    UsageError
        The folder already holds a project, or the schema is invalid.
    """
    started = utc_now()
    root = Path(directory).resolve()
    config_path = root / CONFIG_NAME
    if config_path.exists():
        raise UsageError(
            f"{root} is already a labelaudit project ({CONFIG_NAME} exists). "
            f"Fix: edit {config_path}, or remove it to start over"
        )
    if (root / STORE_NAME).exists():
        raise UsageError(
            f"{root / STORE_NAME} exists without {CONFIG_NAME}. "
            "Fix: move the old store away, or pick another folder"
        )
    TaskSchema.create(level, categories, task or "categorical")  # fail before writing anything
    root.mkdir(parents=True, exist_ok=True)
    text = default_config_text(name or root.name, level=level, categories=categories, task=task)
    config_path.write_text(text, encoding="utf-8")
    project = Project.load(root)
    with project.open_store() as store, store.transaction():
        store.record_run(
            "init",
            started_at=started,
            config_sha256=project.config.sha256,
            config_json=json.dumps(project.config.to_dict(), ensure_ascii=False),
            outcome="created",
        )
    return project
