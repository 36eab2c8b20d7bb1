"""The items a judge runs on: JSONL or CSV with an ``item`` column and the template's fields.

Validated once here: every row has an item id (string or integer), ids are unique, and
every field the template (and the mode) needs is present; errors name the file, the line,
the field, the expected and the actual value.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelaudit.exceptions import InputError
from labelaudit.jsonio import iter_jsonl, require_file

__all__ = ["Items", "read_items", "read_rows", "required_fields"]


@dataclass(frozen=True)
class Items:
    """Rows of a DATA file.

    Attributes
    ----------
    records : list of dict
        One dict of fields per item, in file order; ``record["item"]`` is a str.
    lines : list of int
        Line of each record in the file (1-based; a CSV header is line 1).
    source : str
    """

    records: list[dict[str, Any]]
    lines: list[int]
    source: str

    @property
    def ids(self) -> list[str]:
        """Item ids in file order."""
        return [record["item"] for record in self.records]

    def __len__(self) -> int:
        return len(self.records)


def required_fields(template_fields: set[str], extra: tuple[str, ...] = ()) -> list[str]:
    """Fields every row needs: ``item``, the template's fields and the mode's ``extra``."""
    return sorted({"item", *template_fields, *extra})


def _csv_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    require_file(path)
    rows = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            for record in reader:
                line = reader.line_num
                if None in record:
                    raise InputError(
                        "more cells than header columns",
                        source=str(path),
                        line=line,
                        expected=f"{len(reader.fieldnames or [])} cells",
                        actual=len(record) - 1 + len(record[None]),
                    )
                rows.append((line, dict(record)))
    except UnicodeDecodeError as error:
        raise InputError(
            "not UTF-8 text", source=str(path), expected="a UTF-8 CSV file", actual=str(error)
        ) from None
    return rows


def read_rows(path: str | Path) -> list[tuple[int, dict[str, Any]]]:
    """``(line, record)`` of every row of a JSONL (``.jsonl``, ``.ndjson``, ``.jsonl.gz``) or
    CSV file; InputError for another extension or an unreadable file."""
    path = Path(path)
    name = path.name.lower()
    if name.endswith((".jsonl", ".ndjson", ".jsonl.gz")):
        return list(iter_jsonl(path))
    if name.endswith(".csv"):
        return _csv_rows(path)
    raise InputError(
        "unknown file format",
        source=str(path),
        expected="a .jsonl or .csv file",
        actual=path.suffix or "no extension",
        hint="convert the file to JSONL or CSV",
    )


def read_items(path: str | Path, *, fields: list[str]) -> Items:
    """Read DATA (``.jsonl``/``.ndjson``, ``.csv``; ``.jsonl.gz`` too) and validate it.

    Parameters
    ----------
    path : str or Path
    fields : list of str
        Fields every row must have (see :func:`required_fields`).

    Returns
    -------
    Items

    Raises
    ------
    InputError
        Unknown extension, unreadable file, a missing field or empty item id, a repeated
        item id (both lines named), or no rows.
    """
    path = Path(path)
    rows = read_rows(path)
    if not rows:
        raise InputError("empty input", source=str(path), expected="at least one item", actual=0)
    seen: dict[str, int] = {}
    records, lines = [], []
    for line, record in rows:
        for key in fields:
            if record.get(key) is None:
                raise InputError(
                    "missing field",
                    source=str(path),
                    line=line,
                    field=key,
                    expected=f"the fields {', '.join(fields)}",
                    actual=", ".join(sorted(record)) or "no fields",
                )
        item = record["item"]
        if isinstance(item, bool) or not isinstance(item, (str, int)) or str(item).strip() == "":
            raise InputError(
                "bad item id",
                source=str(path),
                line=line,
                field="item",
                expected="a non-empty string or an integer",
                actual=item,
            )
        item = str(item)
        if item in seen:
            raise InputError(
                "repeated item id",
                source=str(path),
                line=line,
                field="item",
                expected=f"unique ids (first seen on line {seen[item]})",
                actual=item,
            )
        seen[item] = line
        records.append({**record, "item": item})
        lines.append(line)
    return Items(records, lines, str(path))
