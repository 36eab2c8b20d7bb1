"""Reading exports saved from a real Label Studio 1.23.2 (``tests/ls_seed.py`` made them).

The files under ``tests/data/label_studio_live`` are what the server returned for the
seeded projects: JSON, JSON_MIN and CSV as a user downloads them, and a snapshot export
with annotator emails and full predictions. Expected rows come from the seed tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.exceptions import InputError
from labelaudit.io import read_export, read_users
from labelaudit.quality import ground_truth_gold
from labelaudit.table import read_annotations
from ls_seed import (
    ADJUDICATOR,
    ANNOTATORS,
    MODEL,
    NER_GOLD,
    NER_TEXTS,
    TEXTS,
    TRUTH,
    answer,
    utf16_offset,
)

LIVE = Path(__file__).parent / "data" / "label_studio_live"
USERS = LIVE / "users.csv"


def _expected_sentiment() -> set[tuple[str, str, str]]:
    """(item, annotator email, label) of every submitted sentiment annotation."""
    rows = {
        (f"s{i:02d}", email, answer(i, email))
        for i in range(len(TRUTH))
        for email in ANNOTATORS
        if not (email == ANNOTATORS[3] and i == 11)
    }
    return rows | {("s00", ADJUDICATOR, TRUTH[0])}


def _rows(table) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    data = table.data
    return set(
        zip(
            data.column("item").to_pylist(),
            data.column("annotator").to_pylist(),
            data.column("label").to_pylist(),
            strict=True,
        )
    )


@pytest.mark.parametrize("name", ["sentiment.json", "sentiment_snapshot.json"])
def test_two_controls_without_control_list_every_name_and_type(name: str) -> None:
    with pytest.raises(InputError) as error:
        read_export(LIVE / name)
    assert "sentiment (choices), comment (textarea)" in str(error.value)
    assert "--control sentiment" in str(error.value)


def test_misspelt_control_lists_the_controls_that_exist() -> None:
    with pytest.raises(InputError) as error:
        read_export(LIVE / "sentiment.json", control="sentimnt")
    message = str(error.value)
    assert "expected one of sentiment (choices), comment (textarea)" in message
    assert "'sentimnt'" in message


def test_textarea_control_counts_and_reads_as_text() -> None:
    table, report = read_export(LIVE / "sentiment.json", control="comment", task_key="data.item")
    assert table.task == "text"
    assert _rows(table) == {("s02", "2", '"sarcastic?"')}
    assert report.controls["comment"]["kind"] == "text"


@pytest.mark.parametrize(
    ("name", "users"),
    [("sentiment.json", USERS), ("sentiment_snapshot.json", None), ("sentiment_min.json", USERS)],
)
def test_sentiment_rows_match_what_was_annotated(name: str, users: Path | None) -> None:
    table, report = read_export(
        LIVE / name,
        control="sentiment",
        task_key="data.item" if "min" not in name else "item",
        users=users,
        label_config=LIVE / "sentiment_config.xml",
    )
    assert _rows(table) == _expected_sentiment()
    assert report.skipped.get("cancelled", 0) == (0 if "min" in name else 1)
    assert set(table.data.column("annotator_kind").to_pylist()) == {"human"}
    texts = dict(
        zip(
            table.data.column("item").to_pylist(),
            table.data.column("data.text").to_pylist(),
            strict=True,
        )
    )
    assert texts == {f"s{i:02d}": text for i, text in enumerate(TEXTS)}
    if "min" not in name:
        assert any("12 predictions left out" in note for note in report.notes)


def test_csv_export_reads_as_a_plain_table_with_the_same_labels() -> None:
    table = read_annotations(LIVE / "sentiment.csv", item_col="item", label_col="sentiment")
    users = read_users(USERS)
    rows = {(i, users[a], label) for i, a, label in _rows(table)}
    assert rows == _expected_sentiment()


def test_predictions_become_a_model_annotator_only_when_asked() -> None:
    table, report = read_export(
        LIVE / "sentiment_snapshot.json",
        control="sentiment",
        task_key="data.item",
        include_models=True,
    )
    data = table.data
    kinds = dict(
        zip(
            data.column("annotator").to_pylist(),
            data.column("annotator_kind").to_pylist(),
            strict=True,
        )
    )
    assert kinds[MODEL] == "model"
    assert sorted(table.annotator_kinds.tolist()).count("model") == len(TRUTH)
    assert {kinds[email] for email in ANNOTATORS} == {"human"}
    model_rows = {r for r in _rows(table) if r[1] == MODEL}
    expected = {(f"s{i:02d}", MODEL, t if i % 4 else "neutral") for i, t in enumerate(TRUTH)}
    assert model_rows == expected
    assert not any("predictions left out" in note for note in report.notes)


def test_ids_only_predictions_of_a_plain_export_are_named_in_a_note() -> None:
    _, report = read_export(LIVE / "sentiment.json", control="sentiment", include_models=True)
    assert any("ids only" in note for note in report.notes)


def test_ground_truth_annotation_serves_as_gold() -> None:
    table, _ = read_export(
        LIVE / "sentiment_snapshot.json", control="sentiment", task_key="data.item"
    )
    rest, gold = ground_truth_gold(table)
    assert ADJUDICATOR not in set(rest.annotators)
    assert list(gold.items) == ["s00"]
    assert rest.categories[gold.label_codes[0]] == TRUTH[0]


def test_ner_offsets_are_code_points_and_match_the_quoted_text() -> None:
    table, report = read_export(
        LIVE / "ner_snapshot.json", task_key="data.item", label_config=LIVE / "ner_config.xml"
    )
    assert report.n_text_mismatches == 0
    assert not any("UTF-16" in note for note in report.notes)
    payload = _payloads(table)
    spans = {(s["start"], s["end"], s["label"]) for s in payload[("n2", ANNOTATORS[0])]}
    assert spans == set(NER_GOLD[2])
    assert NER_TEXTS[2][2:8] == "Apollo"


def _payloads(table):  # type: ignore[no-untyped-def]
    keys = zip(
        table.data.column("item").to_pylist(),
        table.data.column("annotator").to_pylist(),
        strict=True,
    )
    return dict(zip(keys, table.payload.to_pylist(), strict=True))


def test_utf16_offsets_of_older_editors_are_converted_to_code_points(tmp_path: Path) -> None:
    tasks = json.loads((LIVE / "ner_snapshot.json").read_text())
    for task in tasks:
        text = task["data"]["text"]
        for annotation in task["annotations"]:
            for region in annotation["result"]:
                value = region["value"]
                value["start"] = utf16_offset(text, value["start"])
                value["end"] = utf16_offset(text, value["end"])
    path = tmp_path / "ner_utf16.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False))
    table, report = read_export(path, task_key="data.item")
    assert any("5 span(s) had offsets in UTF-16 code units" in n for n in report.notes)
    assert report.n_text_mismatches == 0
    spans = {(s["start"], s["end"], s["label"]) for s in _payloads(table)[("n2", ANNOTATORS[0])]}
    assert spans == set(NER_GOLD[2])


def test_region_text_that_matches_no_offsets_is_reported_with_them(tmp_path: Path) -> None:
    tasks = json.loads((LIVE / "ner.json").read_text())
    region = tasks[0]["annotations"][0]["result"][0]
    region["value"]["text"] = "Ada Lovelaec"
    path = tmp_path / "ner_bad.json"
    path.write_text(json.dumps(tasks))
    table, report = read_export(path)
    assert report.n_text_mismatches == 1
    detail = report.text_mismatches[0]["detail"]
    assert "start=0, end=12" in detail
    assert "'Ada Lovelaec'" in detail and "'Ada Lovelace'" in detail
    assert "span(s) whose text differs" in report.to_text()
    assert table.n_ratings == 12


@pytest.mark.parametrize("command", ["agreement", "consensus", "annotators", "adjudicate"])
def test_every_command_takes_the_export_options(command: str) -> None:
    runner = CliRunner()
    base = [command, str(LIVE / "sentiment_snapshot.json")]
    missing = runner.invoke(app, base)
    assert missing.exit_code == 2
    assert "sentiment (choices), comment (textarea)" in missing.output
    chosen = runner.invoke(app, [*base, "--control", "sentiment", "--task-key", "data.item"])
    assert chosen.exit_code == 0, chosen.output


def test_annotators_ground_truth_as_gold_gives_gold_accuracy() -> None:
    result = CliRunner().invoke(
        app,
        [
            "annotators",
            str(LIVE / "sentiment_snapshot.json"),
            "--control",
            "sentiment",
            "--task-key",
            "data.item",
            "--ground-truth-as-gold",
            "--min-gold",
            "1",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["gold"]["n_items"] == 1
