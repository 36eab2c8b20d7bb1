"""Streaming JSON parsing, auto-detection, and every malformed input -> InputError or a skip."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelaudit.exceptions import InputError
from labelaudit.io import _stream, detect_format, read_export
from labelaudit.io._stream import iter_records

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from gen_label_studio import generate

DATA = Path(__file__).parent / "data" / "formats"
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


@given(records=st.lists(st.dictionaries(st.text(max_size=6), JSON, max_size=4), max_size=6))
def test_stream_equals_json_load_at_every_chunk_size(records: list[Any]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        array, lines = Path(folder) / "a.json", Path(folder) / "b.jsonl"
        array.write_text(json.dumps(records, indent=1, ensure_ascii=False), encoding="utf-8")
        lines.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        for chunk in (1, 3, 64):
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(_stream, "CHUNK", chunk)
                assert [r.value for r in iter_records(array)] == records
                if records:
                    parsed = list(iter_records(lines))
                    assert [r.value for r in parsed] == records
                    assert [r.line for r in parsed] == list(range(1, len(records) + 1))


def _json_load_reader(path: Path) -> list[tuple[str, str, str]]:
    """An independent, non-streaming reader of the generated export (choices only)."""
    rows = []
    for task in json.loads(path.read_text()):
        for annotation in task["annotations"]:
            for region in annotation["result"]:
                if region["from_name"] == "sentiment":
                    label = region["value"]["choices"][0]
                    rows.append((str(task["id"]), str(annotation["completed_by"]), label))
    return sorted(rows)


def test_streaming_reader_equals_json_load_reader(tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "ls.json"
    generate(path, size_mb=0.3, seed=3)
    monkeypatch.setattr(_stream, "CHUNK", 4096)  # many chunk boundaries inside records
    table, report = read_export(path, control="sentiment")
    got = sorted(
        zip(
            *(table.data.column(c).to_pylist() for c in ("item", "annotator", "label")), strict=True
        )
    )
    assert got == _json_load_reader(path)
    spans, _ = read_export(path, control="label")
    expected = {
        (str(t["id"]), str(a["completed_by"])): sorted(
            (r["value"]["start"], r["value"]["end"], r["value"]["labels"][0])
            for r in a["result"]
            if r["from_name"] == "label"
        )
        for t in json.loads(path.read_text())
        for a in t["annotations"]
    }
    keys = zip(
        spans.data.column("item").to_pylist(),
        spans.data.column("annotator").to_pylist(),
        strict=True,
    )
    got_spans = {
        k: [(s["start"], s["end"], s["label"]) for s in v]
        for k, v in zip(keys, spans.payload.to_pylist(), strict=True)
    }
    assert got_spans == expected and report.n_skipped == 0


GOOD = json.dumps(
    [{"id": 1, "data": {"text": "a"}, "annotations": [{"completed_by": 1, "result": []}]}]
)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"hello", "malformed JSON"),
        (GOOD.encode()[:-30], "truncated file"),
        (GOOD.encode()[:-1], "truncated file"),
        (GOOD.encode() + b' {"x": 1}', "malformed JSON"),
        (b'[{"id": 1, "data": {"text": "unterminated', "truncated file"),
        (b'[{"id": 1} {"id": 2}]', "malformed JSON"),
        (b"", "empty input"),
        (b"  \n ", "empty input"),
        (b'[{"id": 1, "data": {"text": "\xff\xfe"}}]', "not UTF-8"),
        (b"[1, 2, 3]", "no usable annotations"),
        (b'[{"data_row": {"id": "x"}, "projects": {}}]', "no usable annotations"),
    ],
    ids=[
        "not-json",
        "truncated",
        "no-closing-bracket",
        "extra-data",
        "cut-in-string",
        "missing-comma",
        "empty",
        "blank",
        "not-utf8",
        "not-objects",
        "wrong-format",
    ],
)
def test_file_level_defects_raise_input_error(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=problem) as error:
        read_export(path, from_="label-studio")
    assert error.value.source is not None and str(path) in str(error.value)
    if problem == "truncated file":
        assert " record " in str(error.value)


def _task(annotation: dict[str, Any], text: str = "Apple buys.") -> dict[str, Any]:
    return {"id": 1, "data": {"text": text}, "annotations": [annotation]}


def _span(start: Any, end: Any, label: Any = "ORG") -> dict[str, Any]:
    value = {"start": start, "end": end, "labels": [label] if label else []}
    return {"from_name": "ner", "to_name": "text", "type": "labels", "value": value}


def _box(x: float, w: float, **extra: Any) -> dict[str, Any]:
    value = {"x": x, "y": 0, "width": w, "height": 10, "rectanglelabels": ["Car"], **extra}
    region = {"from_name": "ner", "type": "rectanglelabels", "value": value}
    return region | {"original_width": 100, "original_height": 100}


OK = {"completed_by": 9, "result": [_span(0, 5)]}


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"completed_by": 1, "result": [_span(5, 2)]}, "span end before start"),
        ({"completed_by": 1, "result": [_span(3, 3)]}, "empty span"),
        ({"completed_by": 1, "result": [_span(0, 99)]}, "span outside the text"),
        ({"completed_by": 1, "result": [_span("a", 2)]}, "start is not a number"),
        ({"completed_by": 1, "result": [_span(0, 5, label=None)]}, "region without label"),
        ({"completed_by": 1}, "missing result"),
        ({"completed_by": 1, "result": "x"}, "result is not a list"),
        ({"completed_by": 1, "result": [42]}, "malformed result region"),
        ({"result": [_span(0, 5)]}, "missing completed_by"),
        ({"completed_by": 1, "result": [], "was_cancelled": True}, "cancelled"),
        ("not an annotation", "malformed annotation"),
    ],
)
def test_record_level_defects_are_counted_skips(tmp_path: Path, bad: Any, reason: str) -> None:
    path = tmp_path / "export.json"
    path.write_text(json.dumps([_task(OK), _task(bad) | {"id": 2}]))
    table, report = read_export(path, control="ner")
    assert report.skipped == {reason: 1}
    assert report.examples[0].record == 2 and report.examples[0].reason == reason
    assert table.n_ratings == 1


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (_box(95, 10), "box outside the image"),
        (_box(-5, 10), "box outside the image"),
        (_box(10, 0), "box with no area"),
        (_box(10, 10, rotation=30), "rotated box"),
        ({k: v for k, v in _box(1, 2).items() if k != "original_width"}, "original_width"),
    ],
)
def test_box_defects_are_counted_skips(tmp_path: Path, bad: dict[str, Any], reason: str) -> None:
    path = tmp_path / "export.json"
    good = {"completed_by": 9, "result": [_box(10, 10)]}
    path.write_text(json.dumps([_task(good), _task({"completed_by": 1, "result": [bad]})]))
    table, report = read_export(path, control="ner")
    assert table.n_ratings == 1 and report.n_skipped == 1
    assert reason in next(iter(report.skipped))


def test_unknown_label_with_config(tmp_path: Path) -> None:
    config = (
        '<View><Text name="text" value="$text"/>'
        '<Labels name="ner" toName="text"><Label value="ORG"/></Labels></View>'
    )
    path = tmp_path / "export.json"
    path.write_text(
        json.dumps([_task(OK), _task({"completed_by": 1, "result": [_span(0, 5, "PER")]})])
    )
    _, report = read_export(path, label_config=config)
    assert report.skipped == {"unknown label": 1}
    assert "'PER' not in the label config" in report.examples[0].detail


def test_examples_capped_at_20_counts_complete(tmp_path: Path) -> None:
    tasks = [_task(OK)] + [_task({"completed_by": 1, "result": [_span(5, 1)]}) for _ in range(30)]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks))
    _, report = read_export(path)
    assert report.skipped == {"span end before start": 30} and len(report.examples) == 20
    assert report.to_dict()["n_skipped"] == 30


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("label_studio/lse_export_choices_with_history.json", "label-studio"),
        ("label_studio/ls_all_types_min.json", "label-studio-min"),
        ("labelbox/export_v2_image_bbox.ndjson", "labelbox"),
        ("doccano/sequence_labeling_export_example.jsonl", "doccano"),
        ("doccano/relation_extraction_example.jsonl", "doccano"),
        ("argilla/records_flat.json", "argilla"),
    ],
)
def test_detection_on_bundled_real_files(name: str, expected: str) -> None:
    assert detect_format(DATA / name) == expected


def test_detection_leaves_plain_tables_alone(tmp_path: Path) -> None:
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps([{"item": "a", "annotator": "x", "label": "pos"}]))
    csv = tmp_path / "plain.csv"
    csv.write_text("item,annotator,label\na,x,pos\n")
    assert detect_format(plain) is None and detect_format(csv) is None


def test_shared_formats_read(shared_dir: Path) -> None:
    """The research folder's real exports read (the bundled copies are these files)."""
    formats = shared_dir / "formats"
    table, _ = read_export(formats / "label_studio" / "lse_export_choices_with_history.json")
    assert table.n_ratings == 1
    table, _ = read_export(formats / "labelbox" / "export_v2_image_bbox.ndjson")
    assert table.task == "boxes"
    for path in sorted((formats / "doccano").glob("*.jsonl")):
        assert read_export(path)[0].task == "spans"
