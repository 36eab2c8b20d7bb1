"""Label Studio JSON / JSON_MIN reader: real exports, every result type, defects, merging."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from labelaudit.exceptions import InputError, UsageError
from labelaudit.io import read_export

DATA = Path(__file__).parent / "data" / "formats" / "label_studio"
ALL = DATA / "ls_all_types.json"
MIN = DATA / "ls_all_types_min.json"
CONFIG = DATA / "ls_config.xml"


def rows(table: Any, *columns: str) -> list[tuple[Any, ...]]:
    names = columns or ("item", "annotator", "label")
    return [tuple(r[c] for c in names) for r in table.data.select(list(names)).to_pylist()]


def test_real_enterprise_export_completed_by_object() -> None:
    table, report = read_export(DATA / "lse_export_choices_with_history.json")
    assert report.format == "label-studio" and table.task == "categorical"
    assert rows(table) == [("6141", "sergei@heartex.test", "Positive")]
    assert table.data.column("duration_s").to_pylist() == [1.849]
    assert str(table.data.column("created_at").type) == "timestamp[us, tz=UTC]"


def test_real_box_export_percent_to_pixels() -> None:
    table, report = read_export(
        DATA / "export_rect_polygon_keypoint.json", control="rectangle_label"
    )
    (box,) = table.payload.to_pylist()[0]
    assert box["x"] == pytest.approx(31.941923774954628 * 500 / 100)
    assert box["y"] == pytest.approx(4.113475177304964 * 320 / 100)
    assert box["width"] == pytest.approx(6.352087114337568 * 5)
    assert box["height"] == pytest.approx(9.929078014184398 * 3.2)
    assert table.data.column("image_width").to_pylist() == [500.0]
    assert rows(table, "annotator") == [("308",)]  # no completed_by: last_created_by
    assert any("last_created_by" in note for note in report.notes)


@pytest.mark.parametrize("path", [ALL, MIN], ids=["json", "json_min"])
def test_choices_single_and_multi(path: Path) -> None:
    table, _ = read_export(path, control="sentiment", label_config=CONFIG)
    assert table.task == "categorical"
    assert list(table.categories) == ["Positive", "Negative", "Neutral"]  # config order
    assert ("2", "bo@example.test", "Neutral") in rows(table)
    multi, _ = read_export(path, control="topics", label_config=CONFIG)
    assert multi.task == "multilabel" and multi.schema.categories == ("tech", "business", "sport")
    assert multi.payload.to_pylist()[0] == ["business", "tech"]
    assert str(multi.payload.type) == "list<item: string>"


def test_cancelled_and_missing_result_counted() -> None:
    table, report = read_export(ALL, control="sentiment")
    assert report.skipped == {"cancelled": 1, "missing result": 1}
    assert {(e.record, e.reason) for e in report.examples} == {
        (1, "cancelled"),
        (2, "missing result"),
    }
    assert table.n_ratings == 6 and report.n_annotations == 6  # 8 - cancelled - no result


def test_spans_and_record_level_skips() -> None:
    table, report = read_export(ALL, control="ner", label_config=CONFIG)
    assert table.task == "spans" and table.schema.categories == ("ORG", "PER", "LOC")
    payload = dict(zip(rows(table, "item", "annotator"), table.payload.to_pylist(), strict=True))
    assert payload[("1", "1")] == [
        {"start": 0, "end": 5, "label": "ORG"},
        {"start": 24, "end": 30, "label": "LOC"},
    ]
    assert payload[("2", "1")] == []  # answered, marked no entity
    assert report.skipped["span end before start"] == 1
    assert report.skipped["unknown label"] == 2  # MONEY, MISC not in the config
    text = table.data.column("text").to_pylist()
    assert text[0] == "Apple buys a startup in London."
    without_config, report2 = read_export(ALL, control="ner")
    assert without_config.schema.categories == ("LOC", "MISC", "MONEY", "ORG")
    assert "unknown label" not in report2.skipped


def test_boxes_rating_text_taxonomy_pairwise() -> None:
    boxes, report = read_export(ALL, control="objects", label_config=CONFIG)
    first = boxes.payload.to_pylist()[0]
    assert first == [{"x": 20.0, "y": 20.0, "width": 60.0, "height": 40.0, "label": "Car"}]
    assert report.skipped["box outside the image"] == 1
    rating, _ = read_export(ALL, control="quality", label_config=CONFIG)
    assert rating.task == "categorical" and rating.level == "ordinal"
    assert list(rating.categories) == ["1", "2", "3", "4", "5"]
    text, _ = read_export(ALL, control="comment")
    assert text.task == "text" and text.payload.to_pylist()[0] == "looks fine"
    assert rows(text)[0] == ("1", "1", '"looks fine"')
    taxonomy, _ = read_export(ALL, control="taxonomy", label_config=CONFIG)
    assert taxonomy.payload.to_pylist()[:2] == [["Tech/AI"], ["Finance", "Tech"]]
    assert taxonomy.schema.categories == ("Tech", "Tech/AI", "Tech/Chips", "Finance")
    pair, _ = read_export(ALL, control="pw", label_config=CONFIG)
    assert pair.payload.to_pylist()[1] == {
        "first": "Reply A1",
        "second": "Reply B1",
        "choice": "second",
    }


@pytest.mark.parametrize("control", ["sentiment", "topics", "quality", "comment", "taxonomy", "pw"])
def test_json_min_matches_json(control: str) -> None:
    """JSON_MIN written by label-studio-sdk's converter reads to the same table."""
    full, _ = read_export(ALL, control=control, label_config=CONFIG)
    minimal, report = read_export(MIN, control=control, label_config=CONFIG)
    assert report.format == "label-studio-min"
    assert rows(full) == rows(minimal)


def test_ranker(tmp_path: Path) -> None:
    task = {
        "id": 9,
        "data": {"text": "q"},
        "annotations": [
            {
                "completed_by": 1,
                "result": [
                    {
                        "from_name": "rank",
                        "to_name": "list",
                        "type": "ranker",
                        "value": {"ranker": {"rank": ["r2", "r1", "r3"]}},
                    }
                ],
            },
            {
                "completed_by": 2,
                "result": [
                    {
                        "from_name": "rank",
                        "type": "ranker",
                        "value": {"ranker": {"best": ["r1"], "worst": ["r2"]}},
                    }
                ],
            },
        ],
    }
    path = tmp_path / "rank.json"
    path.write_text(json.dumps([task]))
    table, report = read_export(path)
    assert table.task == "ranking"
    assert table.payload.to_pylist() == [
        [{"id": "r2", "rank": 1.0}, {"id": "r1", "rank": 2.0}, {"id": "r3", "rank": 3.0}]
    ]
    assert report.skipped == {"bucketed ranking (several buckets)": 1}


def test_merge_projects_on_task_key(tmp_path: Path) -> None:
    one = [
        {"id": 1, "data": {"text": "a"}, "annotations": [{"completed_by": 1, "result": [_c("x")]}]},
        {"id": 2, "data": {"text": "b"}, "annotations": [{"completed_by": 1, "result": [_c("y")]}]},
    ]
    two = [
        {"id": 7, "data": {"text": "b"}, "annotations": [{"completed_by": 2, "result": [_c("y")]}]},
        {"id": 8, "data": {"text": "a"}, "annotations": [{"completed_by": 2, "result": [_c("z")]}]},
    ]
    paths = [tmp_path / "p1.json", tmp_path / "p2.json"]
    for path, tasks in zip(paths, (one, two), strict=True):
        path.write_text(json.dumps(tasks))
    table, report = read_export(paths, task_key="data.text")
    assert sorted(rows(table)) == [
        ("a", "1", "x"),
        ("a", "2", "z"),
        ("b", "1", "y"),
        ("b", "2", "y"),
    ]
    assert sorted(set(table.data.column("batch").to_pylist())) == ["p1.json", "p2.json"]
    assert len(report.files) == 2
    with pytest.raises(UsageError, match="task key"):
        read_export(paths)


def _c(label: str) -> dict[str, Any]:
    return {"from_name": "c", "to_name": "t", "type": "choices", "value": {"choices": [label]}}


def test_several_controls_need_a_choice() -> None:
    with pytest.raises(InputError, match="several labelling controls") as error:
        read_export(ALL)
    assert "sentiment (choices)" in str(error.value)
    with pytest.raises(InputError, match="no such labelling control"):
        read_export(ALL, control="nope")
    with pytest.raises(UsageError, match="does not fit"):
        read_export(ALL, control="ner", task="boxes")
    with pytest.raises(InputError, match="keypoints without the label config"):
        read_export(DATA / "export_rect_polygon_keypoint.json", control="keypoint_label")


def test_forced_multilabel_on_single_choices() -> None:
    table, _ = read_export(ALL, control="sentiment", task="multilabel")
    assert table.task == "multilabel" and table.payload.to_pylist()[0] == ["Positive"]


def test_malformed_label_config() -> None:
    with pytest.raises(InputError, match="malformed label config"):
        read_export(ALL, control="sentiment", label_config="<View><Choices></View>")
