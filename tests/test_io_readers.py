"""Prodigy, Labelbox, doccano, SageMaker, Argilla and Hugging Face readers."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from labelaudit.exceptions import InputError
from labelaudit.io import detect_format, read_export

DATA = Path(__file__).parent / "data" / "formats"


def jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def pairs(table: Any) -> dict[tuple[str, str], Any]:
    items, annotators = table.data.column("item"), table.data.column("annotator")
    keys = zip(items.to_pylist(), annotators.to_pylist(), strict=True)
    column = table.payload if table.payload is not None else table.data.column("label")
    return dict(zip(keys, column.to_pylist(), strict=True))


# ------------------------------------------------------------------ Prodigy
TOKENS = [
    {"text": "Apple", "start": 0, "end": 5, "id": 0, "ws": True},
    {"text": "buys", "start": 6, "end": 10, "id": 1, "ws": True},
    {"text": "New", "start": 11, "end": 14, "id": 2, "ws": True},
    {"text": "York", "start": 15, "end": 19, "id": 3, "ws": False},
]


def _ner(annotator: str, spans: list[Any], answer: str = "accept") -> dict[str, Any]:
    return {
        "text": "Apple buys New York",
        "tokens": TOKENS,
        "spans": spans,
        "answer": answer,
        "_view_id": "ner_manual",
        "_input_hash": 5,
        "_task_hash": 9,
        "_annotator_id": annotator,
        "_session_id": annotator,
        "_timestamp": 1714557600,
    }


def test_prodigy_ner_token_end_inclusive(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path / "ner.jsonl",
        [
            _ner(
                "ner-alex",
                [{"start": 0, "end": 5, "token_start": 0, "token_end": 0, "label": "ORG"}],
            ),
            _ner("ner-bo", [{"token_start": 2, "token_end": 3, "label": "GPE"}]),  # tokens only
            _ner("ner-cy", [], answer="ignore"),
            _ner("ner-di", [{"start": 9, "end": 3, "label": "ORG"}]),
            {**_ner("", []), "_annotator_id": None, "_session_id": None},
        ],
    )
    assert detect_format(path) == "prodigy"
    table, report = read_export(path)
    assert table.task == "spans" and report.unit == "line"
    payload = pairs(table)
    assert payload[("5", "ner-alex")] == [{"start": 0, "end": 5, "label": "ORG"}]
    assert payload[("5", "ner-bo")] == [{"start": 11, "end": 19, "label": "GPE"}]  # "New York"
    assert report.skipped == {
        "answer ignore": 1,
        "span end before start": 1,
        "missing _annotator_id": 1,
    }
    assert table.data.column("tokens").to_pylist()[0][3] == {"start": 15, "end": 19}
    assert str(table.data.column("created_at").to_pylist()[0]).startswith("2024-05-01")


def test_prodigy_choice_binary_and_image(tmp_path: Path) -> None:
    options = [{"id": "POS", "text": "Positive"}, {"id": "NEG", "text": "Negative"}]
    choice = {"text": "I loved it", "options": options, "_view_id": "choice", "_input_hash": 11}
    path = jsonl(
        tmp_path / "c.jsonl",
        [
            {**choice, "accept": ["POS"], "answer": "accept", "_annotator_id": "a"},
            {**choice, "accept": ["NEG"], "answer": "accept", "_annotator_id": "b"},
            {**choice, "accept": ["POS"], "answer": "reject", "_annotator_id": "c"},
            {**choice, "accept": ["MAYBE"], "answer": "accept", "_annotator_id": "d"},
        ],
    )
    table, report = read_export(path)
    assert table.task == "categorical" and sorted(table.data.column("label").to_pylist()) == [
        "NEG",
        "POS",
    ]
    assert report.skipped == {"answer reject": 1, "unknown label": 1}
    binary = {"text": "I loved it", "label": "POSITIVE", "_view_id": "classification"}
    path = jsonl(
        tmp_path / "b.jsonl",
        [
            {
                **binary,
                "answer": "accept",
                "_task_hash": 21,
                "_input_hash": 1,
                "_annotator_id": "a",
            },
            {
                **binary,
                "answer": "reject",
                "_task_hash": 21,
                "_input_hash": 1,
                "_annotator_id": "b",
            },
        ],
    )
    table, _ = read_export(path)
    assert pairs(table) == {("21", "a"): "accept", ("21", "b"): "reject"}
    image = {"image": "img1.jpg", "width": 640, "height": 480, "_view_id": "image_manual"}
    rect = {"label": "CAR", "type": "rect", "x": 64, "y": 96, "width": 192, "height": 72}
    path = jsonl(
        tmp_path / "i.jsonl",
        [
            {**image, "spans": [rect], "answer": "accept", "_input_hash": 3, "_annotator_id": "a"},
            {
                **image,
                "spans": [{**rect, "x": 600}],
                "answer": "accept",
                "_input_hash": 3,
                "_annotator_id": "b",
            },
        ],
    )
    table, report = read_export(path)
    assert table.task == "boxes" and report.skipped == {"box outside the image": 1}
    assert table.payload.to_pylist()[0][0]["width"] == 192.0


# ------------------------------------------------------------------ Labelbox
def test_labelbox_real_fixture() -> None:
    table, report = read_export(DATA / "labelbox" / "export_v2_image_bbox.ndjson")
    assert report.format == "labelbox" and table.task == "boxes"
    assert table.payload.to_pylist()[0][0] == {
        "x": 75.0,
        "y": 198.0,
        "width": 6.0,
        "height": 15.0,
        "label": "bicycle with space",
    }
    assert table.data.column("image_width").to_pylist()[0] == 640.0


def _lb_label(who: str, objects: list[Any], classifications: list[Any]) -> dict[str, Any]:
    return {
        "id": f"l-{who}",
        "label_kind": "Default",
        "label_details": {"created_by": who, "created_at": "2024-05-01T10:00:00Z"},
        "performance_details": {"seconds_to_create": 12, "consensus_score": 0.8},
        "annotations": {
            "objects": objects,
            "classifications": classifications,
            "relationships": [],
        },
    }


def test_labelbox_text_entities_inclusive_end_and_classifications(tmp_path: Path) -> None:
    entity = {"name": "org", "annotation_kind": "TextEntity", "location": {"start": 0, "end": 4}}
    radio = {"name": "sentiment", "radio_answer": {"name": "positive"}}
    check = {"name": "topics", "checklist_answers": [{"name": "tech"}, {"name": "biz"}]}
    free = {"name": "note", "text_answer": {"content": "nice"}}
    skipped = _lb_label("cy@x.test", [], [])
    skipped["performance_details"]["skipped"] = True
    row = {
        "data_row": {"id": "dr1", "global_key": "doc-1", "row_data": "Apple buys a startup."},
        "projects": {
            "p1": {
                "name": "ner",
                "labels": [
                    _lb_label("alice@x.test", [entity], [radio, check, free]),
                    _lb_label(
                        "bo@x.test", [{**entity, "location": {"start": 5, "end": 2}}], [radio]
                    ),
                    skipped,
                ],
            }
        },
    }
    path = jsonl(tmp_path / "lb.ndjson", [row])
    spans, report = read_export(path, control="spans")
    assert pairs(spans) == {("doc-1", "alice@x.test"): [{"start": 0, "end": 5, "label": "org"}]}
    assert report.skipped == {"skipped": 1, "span end before start": 1}
    assert spans.data.column("duration_s").to_pylist() == [12.0]
    radio_table, _ = read_export(path, control="sentiment")
    assert radio_table.task == "categorical" and radio_table.n_ratings == 2
    topics, _ = read_export(path, control="topics")
    assert topics.payload.to_pylist() == [["biz", "tech"]]
    note, _ = read_export(path, control="note")
    assert note.payload.to_pylist() == ["nice"]


# ------------------------------------------------------------------ doccano
def test_doccano_real_files() -> None:
    table, report = read_export(DATA / "doccano" / "sequence_labeling_export_example.jsonl")
    assert table.task == "spans" and report.n_records == 3
    assert table.payload.to_pylist()[2] == [{"start": 10, "end": 15, "label": "PERSON"}]
    relation, _ = read_export(DATA / "doccano" / "relation_extraction_example.jsonl")
    assert len(relation.payload.to_pylist()[0]) == 4


def test_doccano_per_user_zip_and_1x_user_ids(tmp_path: Path) -> None:
    alice = [
        {"id": 1, "text": "Great price.", "label": ["positive"]},
        {"id": 2, "text": "Meh.", "label": ["negative"]},
    ]
    bob = [
        {"id": 1, "text": "Great price.", "label": ["positive"]},
        {"id": 2, "text": "Meh.", "label": []},
    ]
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("alice.jsonl", "\n".join(json.dumps(r) for r in alice))
        handle.writestr("bob.jsonl", "\n".join(json.dumps(r) for r in bob))
    assert detect_format(archive) == "doccano"
    table, report = read_export(archive)
    assert pairs(table) == {
        ("1", "alice"): "positive",
        ("2", "alice"): "negative",
        ("1", "bob"): "positive",
    }
    assert report.skipped == {"no choice selected": 1}
    old = {
        "id": 3,
        "text": "EU rejects it",
        "annotations": [
            {"label": "ORG", "start_offset": 0, "end_offset": 2, "user": 1},
            {"label": "ORG", "start_offset": 0, "end_offset": 2, "user": 2},
            {"label": "MISC", "start_offset": 3, "end_offset": 10, "user": 2},
        ],
    }
    table, _ = read_export(jsonl(tmp_path / "old.jsonl", [old]), from_="doccano")
    assert pairs(table)[("3", "2")] == [
        {"start": 0, "end": 2, "label": "ORG"},
        {"start": 3, "end": 10, "label": "MISC"},
    ]


# ------------------------------------------------------------------ SageMaker
def test_sagemaker_worker_responses(tmp_path: Path) -> None:
    root = tmp_path / "annotations" / "worker-response" / "iteration-1"

    def answer(worker: str, label: str) -> dict[str, Any]:
        return {
            "acceptanceTime": "2024-05-01T10:00:00.000Z",
            "answerContent": {"crowd-image-classifier": {"label": label}},
            "submissionTime": "2024-05-01T10:00:09.000Z",
            "timeSpentInSeconds": 9.1,
            "workerId": worker,
            "workerMetadata": {"identityData": {"identityProviderType": "Cognito", "sub": worker}},
        }

    for index, labels in enumerate([("cat", "cat"), ("dog", "cat")]):
        folder = root / str(index)
        folder.mkdir(parents=True)
        answers = [answer(f"private.w{k}", label) for k, label in enumerate(labels)]
        (folder / "2024-05-01_10:00:09.json").write_text(json.dumps({"answers": answers}))
    assert detect_format(tmp_path / "annotations") == "sagemaker"
    table, _ = read_export(tmp_path / "annotations")
    assert pairs(table) == {
        ("0", "private.w0"): "cat",
        ("0", "private.w1"): "cat",
        ("1", "private.w0"): "dog",
        ("1", "private.w1"): "cat",
    }
    assert table.data.column("duration_s").to_pylist()[0] == 9.1


def test_sagemaker_output_manifest(tmp_path: Path) -> None:
    meta = {
        "type": "groundtruth/object-detection",
        "class-map": {"0": "Cat"},
        "job-name": "labeling-job/boxes",
    }
    box = {
        "image_size": [{"width": 601, "height": 453, "depth": 3}],
        "annotations": [{"class_id": 0, "left": 237, "top": 165, "width": 164, "height": 157}],
    }
    ner_meta = {"type": "groundtruth/text-span", "job-name": "labeling-job/ner"}
    lines = [
        {"source-ref": "s3://b/0002.jpg", "box": box, "box-metadata": meta},
        {
            "source-ref": "s3://b/0003.jpg",
            "box": {
                **box,
                "annotations": [{"class_id": 0, "left": 500, "top": 1, "width": 164, "height": 10}],
            },
            "box-metadata": meta,
        },
    ]
    table, report = read_export(jsonl(tmp_path / "output.manifest", lines))
    assert table.task == "boxes" and report.skipped == {"box outside the image": 1}
    assert table.payload.to_pylist()[0][0]["label"] == "Cat"
    assert table.data.column("annotator").to_pylist() == ["labeling-job/boxes"]
    ner = {
        "source": "Diego Ramirez is an engineer.",
        "ner": {
            "annotations": {"entities": [{"startOffset": 0, "endOffset": 13, "label": "ENGINEER"}]}
        },
        "ner-metadata": ner_meta,
    }
    table, _ = read_export(jsonl(tmp_path / "ner.manifest", [ner]), from_="sagemaker")
    assert table.payload.to_pylist() == [[{"start": 0, "end": 13, "label": "ENGINEER"}]]


# ------------------------------------------------------------------ Argilla
@pytest.mark.parametrize("name", ["records_nested.json", "records_flat.json"])
def test_argilla_records(name: str) -> None:
    path = DATA / "argilla" / name
    assert detect_format(path) == "argilla"
    sentiment, _ = read_export(path, control="sentiment")
    user_a = "00000000-0000-0000-0000-00000000000a"
    assert pairs(sentiment)[("r2", user_a)] == "negative"
    entities, _ = read_export(path, control="entities")
    assert pairs(entities)[("r2", user_a)][1] == {"start": 11, "end": 17, "label": "ORG"}
    ranking, _ = read_export(path, control="preference", task="ranking")
    assert pairs(ranking)[("r1", user_a)][0] == {"id": "reply-2", "rank": 1.0}
    quality, report = read_export(path, control="quality")
    assert quality.level == "ordinal"
    if name == "records_flat.json":  # only the flattened form keeps the status
        assert report.skipped == {"response discarded": 3} and quality.n_ratings == 3


# ------------------------------------------------------------------ Hugging Face
class FakeDataset:
    """The surface labelaudit uses: ``features`` and ``data.table`` (no ``datasets``)."""

    def __init__(self, table: pa.Table, features: dict[str, Any]) -> None:
        self.features = features
        self.data = type("T", (), {"table": table})()


class ClassLabel:
    def __init__(self, names: list[str]) -> None:
        self.names = names


def test_huggingface_long_and_nested_duck_typed() -> None:
    long = pa.table({"comment_id": [1, 1, 2], "annotator_id": [7, 8, 7], "label": [0, 2, 1]})
    table, report = read_export(FakeDataset(long, {"label": ClassLabel(["no", "maybe", "yes"])}))
    assert report.format == "huggingface" and list(table.categories) == ["no", "maybe", "yes"]
    assert table.data.column("label").to_pylist() == ["no", "yes", "maybe"]
    nested = pa.table(
        {
            "id": ["a", "b"],
            "annotators": [
                {"label": [0, 1, 1], "annotator_id": [1, 2, 3]},
                {"label": [2, 2, 0], "annotator_id": [1, 2, 4]},
            ],
        }
    )
    features = {"annotators": {"label": ClassLabel(["hate", "normal", "offensive"])}}
    table, report = read_export(FakeDataset(nested, features))
    assert table.n_ratings == 6 and table.n_annotators == 4
    assert pairs(table)[("b", "4")] == "hate"


def test_huggingface_real_dataset() -> None:
    datasets = pytest.importorskip("datasets")
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "annotators": {
                "label": datasets.List(datasets.ClassLabel(names=["hate", "normal", "offensive"])),
                "annotator_id": datasets.List(datasets.Value("int32")),
            },
        }
    )
    ds = datasets.Dataset.from_dict(
        {
            "id": ["a", "b"],
            "annotators": [
                {"label": [0, 1, 1], "annotator_id": [1, 2, 3]},
                {"label": [2, 2, 0], "annotator_id": [1, 2, 4]},
            ],
        },
        features=features,
    )
    table, _ = read_export(ds.select([1]))  # a selection: the indices mapping is honoured
    assert table.n_ratings == 3 and pairs(table)[("b", "1")] == "offensive"


def test_unrecognised_file(tmp_path: Path) -> None:
    path = jsonl(tmp_path / "x.jsonl", [{"foo": 1}])
    with pytest.raises(InputError, match="not a recognised annotation-platform export"):
        read_export(path)
