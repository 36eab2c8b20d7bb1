"""Shared by the engine tests: published and generated tables, and report comparison."""

from __future__ import annotations

import ast
import math
from typing import Any

import numpy as np
import pyarrow as pa

from conftest import load_vectors
from labelaudit import read_annotations
from labelaudit.table import AnnotationTable


def vector_rows(vector: dict[str, Any]) -> list[tuple[str, str, str]] | None:
    """(item, annotator, label) rows of a published vector with rater-level data."""
    data = ast.literal_eval(vector["data"]) if isinstance(vector["data"], str) else vector["data"]
    layout = vector["layout"]
    if layout == "coders_x_units":
        return [
            (f"u{u:03d}", f"c{c}", str(v))
            for c, row in enumerate(data)
            for u, v in enumerate(row)
            if v is not None
        ]
    if layout == "units_x_raters":
        return [
            (f"u{u:03d}", f"r{c}", str(v))
            for u, row in enumerate(data)
            for c, v in enumerate(row)
            if v is not None
        ]
    if layout == "triples":
        return [(str(i), str(c), str(v)) for c, i, v in data]
    return None


def published_tables() -> dict[str, tuple[pa.Table, str]]:
    """Arrow tables (item, annotator, label) of every published vector with ratings."""
    out = {}
    for name, vector in load_vectors().items():
        rows = vector_rows(vector)
        if not rows:
            continue
        levels = vector.get("levels") or "['nominal']"
        level = ast.literal_eval(levels)[0] if isinstance(levels, str) else levels[0]
        items, annotators, labels = zip(*rows, strict=True)
        table = pa.table({"item": items, "annotator": annotators, "label": labels})
        out[name] = (table, level if level in ("nominal", "ordinal", "interval") else "nominal")
    return out


def generated(seed: int, n_items: int = 300, n_annotators: int = 4, q: int = 4) -> pa.Table:
    """A random table with missing ratings and repeated profiles."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, q, n_items)
    rows = []
    for a in range(n_annotators):
        rated = rng.random(n_items) < 0.8
        correct = rng.random(n_items) < 0.6 + 0.08 * a
        noise = rng.integers(0, q, n_items)
        label = np.where(correct, truth, noise)
        rows += [(f"i{i:04d}", f"a{a}", f"L{label[i]}") for i in np.flatnonzero(rated)]
    items, annotators, labels = zip(*rows, strict=True)
    return pa.table({"item": items, "annotator": annotators, "label": labels})


def read(table: pa.Table, level: str = "nominal") -> AnnotationTable:
    """The validated table of an Arrow table."""
    return read_annotations(table, level=level)


def assert_same(actual: Any, expected: Any, path: str = "", tol: float = 1e-12) -> None:
    """Equal JSON values, floats to ``tol`` (absolute or relative)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        assert sorted(actual) == sorted(expected), f"{path}: {sorted(actual)} != {sorted(expected)}"
        for key in expected:
            assert_same(actual[key], expected[key], f"{path}.{key}", tol)
    elif isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)) and len(actual) == len(expected), path
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{path}[{index}]", tol)
    elif isinstance(expected, float) and not isinstance(actual, bool):
        assert isinstance(actual, (int, float)), f"{path}: {actual!r} vs {expected!r}"
        if math.isnan(expected):
            assert math.isnan(actual), path
        else:
            assert math.isclose(actual, expected, rel_tol=tol, abs_tol=tol), (
                f"{path}: {actual!r} != {expected!r}"
            )
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """A report's dict without what names the input (source and its content hash)."""
    return {key: value for key, value in report.items() if key != "input"}
