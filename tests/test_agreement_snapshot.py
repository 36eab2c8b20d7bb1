"""The whole agreement JSON of fixed files equals the one recorded before the issue-15
speed work (commit dd6195d): coefficients, SEs and CIs, pairwise, per-category,
confusion and worst-item diagnostics and the content SHA-256, for short ids (coded as
64-bit keys), long ids (hashed as strings) and numeric ids, as CSV and as Parquet."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from labelaudit.agreement import agreement_report
from labelaudit.table import read_annotations

SNAPSHOT = Path(__file__).parent / "data" / "agreement_snapshot.json"
#: Item ids of each file: short (a prefix plus at most 7 bytes), long, numbers.
ID_FORMATS = {"short": "item-{}", "long": "survey-2026/batch-{}/question-text", "numeric": "{}"}


def _table(id_format: str, n_items: int = 240, n_annotators: int = 5) -> pa.Table:
    """Deterministic long table (no random generator): labels 0-3 by arithmetic, about one
    cell in nine missing, rows in a scrambled order."""
    rows = [
        (id_format.format(i * 37 % 1000), f"annotator-{a}", (i * 7 + a * 3 + (i * a) % 5) % 4)
        for i in range(n_items)
        for a in range(n_annotators)
        if (i + 2 * a) % 9
    ]
    rows = [rows[k * 101 % len(rows)] for k in range(len(rows))]  # 101 is prime to len
    assert len({r[:2] for r in rows}) == len(rows)
    return pa.table(
        {
            "item": [r[0] for r in rows],
            "annotator": [r[1] for r in rows],
            "label": pa.array([r[2] for r in rows], pa.int64()),
        }
    )


def _reports(directory: Path) -> dict[str, Any]:
    """Every file's report dict (tool version and source path left out)."""
    out = {}
    for name, id_format in ID_FORMATS.items():
        table = _table(id_format)
        for kind in ("csv", "parquet"):
            path = directory / f"{name}.{kind}"
            if kind == "csv":
                pacsv.write_csv(table, path)
            else:
                pq.write_table(table, path)
            for level in ("nominal", "ordinal"):
                report = agreement_report(read_annotations(path, level=level), top=10)
                found = report.to_dict()
                found.pop("tool")
                found["input"].pop("source")
                out[f"{name}.{kind}.{level}"] = found
    return out


def _close(found: Any, expected: Any, where: str) -> None:
    """Equal, floats to 1e-12 relative (BLAS kernels differ between machines)."""
    if isinstance(expected, dict):
        assert isinstance(found, dict) and sorted(found) == sorted(expected), where
        for key in expected:
            _close(found[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(found, list) and len(found) == len(expected), where
        for index, (a, b) in enumerate(zip(found, expected, strict=True)):
            _close(a, b, f"{where}[{index}]")
    elif isinstance(expected, float) and not isinstance(found, bool):
        assert isinstance(found, float), where
        assert math.isclose(found, expected, rel_tol=1e-12, abs_tol=1e-15), where
    else:
        assert found == expected, where


def test_agreement_json_equals_the_recorded_one(tmp_path: Path) -> None:
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    found = json.loads(json.dumps(_reports(tmp_path)))
    assert sorted(found) == sorted(expected)
    for key in expected:
        _close(found[key], expected[key], key)
