"""Fuzz every reader (issue 23): arbitrary bytes and structured records give a table or an
InputError/UsageError, never another exception. Fixed budget: the whole file runs in
well under 20 s (few examples per reader, no deadline)."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labelaudit.exceptions import InputError, UsageError
from labelaudit.io import read_export
from labelaudit.io.detect import PLATFORM_FORMATS
from labelaudit.table import read_annotations

BUDGET = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
TABLES = {"csv": ".csv", "tsv": ".tsv", "jsonl": ".jsonl", "json": ".json"}
_SEEDS = [
    b"item,annotator,label\ni1,a,x\n",
    b'{"item": "i", "annotator": "a", "label": 1}\n',
    b"\x1f\x8b\x08\x00",
    b"\xff\xfe",
    b'"',
    b"[",
]
_BYTES = st.one_of(
    st.binary(max_size=300),
    st.tuples(st.sampled_from(_SEEDS), st.binary(max_size=80)).map(lambda p: p[0] + p[1]),
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
_KEYS = st.sampled_from(
    [
        "item",
        "annotator",
        "label",
        "id",
        "data",
        "annotations",
        "completions",
        "result",
        "value",
        "choices",
        "text",
        "_input_hash",
        "_annotator_id",
        "answer",
        "accept",
        "spans",
        "label_details",
        "data_row",
        "projects",
        "responses",
        "answers",
        "workerId",
        "source-ref",
        "task_type",
    ]
)
_RECORD = st.dictionaries(_KEYS, _JSON, max_size=6)


def _check(call: Any) -> None:
    """Success, or one of labelaudit's own errors; anything else fails the test."""
    with contextlib.suppress(InputError, UsageError):
        call()


def _write(data: bytes, suffix: str) -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)  # noqa: SIM115
    handle.write(data)
    handle.close()
    return Path(handle.name)


@pytest.mark.parametrize("kind", sorted(TABLES))
@BUDGET
@given(data=_BYTES)
def test_table_readers_on_arbitrary_bytes(kind: str, data: bytes) -> None:
    path = _write(data, TABLES[kind])
    try:
        _check(lambda: read_annotations(path))
        _check(lambda: read_annotations(path, layout="wide"))
    finally:
        path.unlink()


@pytest.mark.parametrize("kind", ["jsonl", "json"])
@BUDGET
@given(records=st.lists(_RECORD, max_size=4))
def test_table_readers_on_structured_records(kind: str, records: list[dict[str, Any]]) -> None:
    text = (
        "".join(json.dumps(r) + "\n" for r in records) if kind == "jsonl" else json.dumps(records)
    )
    path = _write(text.encode(), TABLES[kind])
    try:
        _check(lambda: read_annotations(path, level="interval"))
    finally:
        path.unlink()


@pytest.mark.parametrize("platform", PLATFORM_FORMATS)
@BUDGET
@given(data=_BYTES)
def test_platform_readers_on_arbitrary_bytes(platform: str, data: bytes) -> None:
    path = _write(data, ".jsonl" if platform in ("prodigy", "labelbox", "doccano") else ".json")
    try:
        _check(lambda: read_export(path, from_=platform))
    finally:
        path.unlink()


@pytest.mark.parametrize("platform", PLATFORM_FORMATS)
@BUDGET
@given(records=st.lists(_RECORD, min_size=1, max_size=4))
def test_platform_readers_on_structured_records(
    platform: str, records: list[dict[str, Any]]
) -> None:
    lines = platform in ("prodigy", "labelbox", "doccano", "sagemaker")
    text = "".join(json.dumps(r) + "\n" for r in records) if lines else json.dumps(records)
    path = _write(text.encode(), ".jsonl" if lines else ".json")
    try:
        _check(lambda: read_export(path, from_=platform))
        _check(lambda: read_export(path))
    finally:
        path.unlink()
