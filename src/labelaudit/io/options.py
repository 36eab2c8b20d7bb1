"""Options shared by everything that reads an annotation-platform export.

:class:`ExportOptions` is the one home of the export options every command takes
(``--control``, ``--task-key``, ``--label-config``, ``--include-models``,
``--ground-truth-as-gold``, ``--users``); :func:`read_users` reads a user map.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelaudit.exceptions import InputError

__all__ = ["ExportOptions", "read_users"]

_NAME_COLUMNS = ("name", "email", "username")


@dataclass(frozen=True)
class ExportOptions:
    """How an export is read, beyond its format.

    Attributes
    ----------
    control : str, optional
        The labelling control (question) to analyse when the export has several.
    task_key : str, optional
        Dotted path of the item key (``data.item``); default: the platform's task id.
    label_config : Path, optional
        Label Studio labelling config (XML file).
    include_models : bool
        Read predictions as rows of model annotators (``annotator_kind`` ``model``);
        default: left out of human agreement.
    ground_truth_as_gold : bool
        Annotations marked ``ground_truth`` serve as gold labels (and are not an
        annotator's rows); the quality commands apply it.
    users : Path, optional
        CSV mapping exported user ids to names (columns ``id`` and ``name``, ``email`` or
        ``username``).
    """

    control: str | None = None
    task_key: str | None = None
    label_config: Path | None = None
    include_models: bool = False
    ground_truth_as_gold: bool = False
    users: Path | None = None

    def read_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`labelaudit.io.read_export` these options set."""
        return {
            "control": self.control,
            "task_key": self.task_key,
            "label_config": self.label_config,
            "include_models": self.include_models,
            "users": self.users,
        }


def read_users(path: str | Path) -> dict[str, str]:
    """A user map: exported id -> name, from a CSV with ``id`` and a name column.

    Parameters
    ----------
    path : str or Path
        CSV (UTF-8, header line) with ``id`` and one of ``name``, ``email``, ``username``
        (the first present is used). ``labelaudit pull`` writes such a file.

    Returns
    -------
    dict of str to str

    Raises
    ------
    InputError
        Missing file or columns, an empty id or name, or an id listed twice.
    """
    source = str(path)
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
            header = rows[0].keys() if rows else []
    except OSError as error:
        raise InputError(
            "cannot read the user map", source=source, expected="a CSV file", actual=str(error)
        ) from None
    name = next((c for c in _NAME_COLUMNS if c in header), None)
    if "id" not in header or name is None:
        raise InputError(
            "not a user map",
            source=source,
            line=1,
            expected="columns id and one of name, email, username",
            actual=", ".join(header) or "no rows",
        )
    users: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        key, value = (row.get("id") or "").strip(), (row.get(name) or "").strip()
        if not key or not value or key in users:
            problem = "id listed twice" if key in users else f"empty id or {name}"
            raise InputError(
                problem, source=source, line=line, expected=f"a unique id and {name}",
                actual=f"id={key!r}, {name}={value!r}",
            )  # fmt: skip
        users[key] = value
    return users
