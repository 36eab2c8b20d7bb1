"""Reading a review sample (JSONL) and the reviewers' decisions (CSV or JSONL)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from labelaudit.exceptions import InputError

__all__ = ["read_decisions", "read_sample"]

_TRUE = {"true", "1", "yes", "correct", "right"}
_FALSE = {"false", "0", "no", "wrong", "incorrect", "error"}
_SAMPLE_KEYS = ("item", "annotator", "stratum", "stratum_size")


def read_sample(path: Path) -> list[dict[str, Any]]:
    """The rows written by ``labelaudit sample`` (InputError naming the line on bad input)."""
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise InputError("unreadable review sample", source=str(path), actual=str(error)) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(
                "malformed JSON", source=str(path), line=number, actual=str(error)
            ) from None
        for key in _SAMPLE_KEYS:
            if not isinstance(row, dict) or key not in row:
                raise InputError(
                    "missing field",
                    source=str(path),
                    line=number,
                    field=key,
                    expected="a row written by labelaudit sample",
                )
        rows.append(row)
    if not rows:
        raise InputError("empty review sample", source=str(path), expected="one row or more")
    return rows


def _verdict(raw: Any, source: str, line: int) -> bool:
    """True when the annotation is wrong."""
    text = str(raw).strip().lower()
    if text in _TRUE:
        return False
    if text in _FALSE:
        return True
    raise InputError(
        "unreadable decision",
        source=source,
        line=line,
        field="correct",
        expected="true/false (or correct/wrong)",
        actual=raw,
    )


def read_decisions(path: Path, sample: list[dict[str, Any]]) -> np.ndarray:
    """Wrong (True) / right verdicts aligned with ``sample``, from a CSV or JSONL file with
    ``item``, ``annotator`` and ``correct`` columns; every sampled row needs a verdict."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError("unreadable decisions", source=source, actual=str(error)) from None
    records: list[tuple[int, dict[str, Any]]] = []
    if path.suffix.lower() in (".jsonl", ".json"):
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    records.append((number, json.loads(line)))
                except json.JSONDecodeError as error:
                    raise InputError(
                        "malformed JSON", source=source, line=number, actual=str(error)
                    ) from None
    else:
        reader = csv.DictReader(text.splitlines())
        records = [(number, row) for number, row in enumerate(reader, start=2)]
    verdicts: dict[tuple[str, str], bool] = {}
    for number, row in records:
        for key in ("item", "annotator", "correct"):
            if not isinstance(row, dict) or key not in row:
                raise InputError(
                    "missing field",
                    source=source,
                    line=number,
                    field=key,
                    expected="item, annotator and correct",
                )
        verdicts[(str(row["item"]), str(row["annotator"]))] = _verdict(
            row["correct"], source, number
        )
    out = np.zeros(len(sample), dtype=bool)
    for i, row in enumerate(sample):
        wanted = (str(row["item"]), str(row["annotator"]))
        if wanted not in verdicts:
            raise InputError(
                "no decision for a sampled annotation",
                source=source,
                field="item",
                expected=f"a row for item {key[0]!r}, annotator {key[1]!r}",
            )
        out[i] = verdicts[wanted]
    return out
