"""Model predictions as annotators of kind ``model`` (a file or Label Studio predictions)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.consensus.api import run_consensus
from labelaudit.exceptions import InputError
from labelaudit.io import read_export
from labelaudit.models import annotator_kinds, human_rows
from labelaudit.models.predictions import model_agreement, read_predictions, with_predictions
from labelaudit.table import read_annotations
from ls_seed import ANNOTATORS, MODEL

runner = CliRunner()
LIVE = Path(__file__).parent / "data" / "label_studio_live"
SNAPSHOT = ["--control", "sentiment", "--task-key", "data.item"]


def _ls_table() -> Any:
    table, _ = read_export(
        LIVE / "sentiment_snapshot.json", control="sentiment", task_key="data.item",
        include_models=True,
    )  # fmt: skip
    return table


def _labels(table: Any, name: str) -> dict[str, str]:
    rows = table.annotator_codes == int(np.flatnonzero(table.annotators == name)[0])
    items = table.items[table.item_codes[rows]]
    return dict(zip(items, table.categories[table.label_codes[rows]], strict=True))


def test_model_agreement_with_each_human_and_the_consensus() -> None:
    table = _ls_table()
    assert annotator_kinds(table)[table.annotators == MODEL].tolist() == ["model"]
    found = model_agreement(table).to_dict()
    (model,) = found["models"]
    assert model["model"] == MODEL
    mine = _labels(table, MODEL)
    for human in model["humans"]:
        theirs = _labels(table, human["annotator"])
        shared = sorted(set(mine) & set(theirs))
        assert human["n_items"] == len(shared)
        agree = sum(mine[i] == theirs[i] for i in shared) / len(shared)
        assert human["percent_agreement"] == pytest.approx(agree, abs=1e-15)
    humans = human_rows(table)
    assert MODEL not in set(humans.annotators)
    estimator, _ = run_consensus(humans, "dawid-skene")
    consensus = dict(zip(humans.items, humans.categories[estimator.labels_], strict=True))
    agree = np.mean([mine[i] == consensus[i] for i in mine])
    assert model["consensus"]["percent_agreement"] == pytest.approx(agree, abs=1e-15)
    assert {h["annotator"] for h in model["humans"]} <= set(ANNOTATORS) | {"lead@example.com"}


def test_annotators_reports_models_apart_unless_asked() -> None:
    args = ["annotators", str(LIVE / "sentiment_snapshot.json"), *SNAPSHOT, "--include-models"]
    apart = runner.invoke(app, [*args, "--format", "json"])
    assert apart.exit_code == 0, apart.output
    report = json.loads(apart.stdout)
    assert MODEL not in json.dumps(report["annotators"])
    assert report["models"]["models"][0]["model"] == MODEL
    assert report["models"] == model_agreement(_ls_table()).to_dict()
    kept = runner.invoke(app, [*args, "--models-as-annotators", "--format", "json"])
    assert MODEL in json.dumps(json.loads(kept.stdout)["annotators"])
    shown = runner.invoke(app, args)
    assert "Models next to humans" in shown.stdout


def test_a_predictions_file_equals_the_label_studio_predictions(tmp_path: Path) -> None:
    table = _ls_table()
    mine = _labels(table, MODEL)
    predictions = tmp_path / "preds.csv"
    pacsv.write_csv(
        pa.table({"item": list(mine), "label": list(mine.values()),
                  "model_version": [MODEL] * len(mine)}),
        predictions,
    )  # fmt: skip
    humans = tmp_path / "humans.csv"
    rows = human_rows(table)
    pacsv.write_csv(
        pa.table({"item": rows.items[rows.item_codes],
                  "annotator": rows.annotators[rows.annotator_codes],
                  "label": rows.categories[rows.label_codes]}),
        humans,
    )  # fmt: skip
    result = runner.invoke(
        app, ["annotators", str(humans), "--predictions", str(predictions), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["models"] == model_agreement(table).to_dict()


def test_prediction_files_are_validated(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("item,label,model_version\na,pos,m1\na,neg,m1\n")
    with pytest.raises(InputError, match=r"p\.csv:3: item predicted twice by one model"):
        read_predictions(path)
    path.write_text("item,label,pos,neg\na,pos,0.7,0.2\n")
    with pytest.raises(InputError, match=r"p\.csv:2: probabilities do not sum to 1"):
        read_predictions(path)
    path.write_text("item,label\na,pos\nb,neg\n")
    rows = read_predictions(path)
    assert rows.column("annotator").to_pylist() == ["p", "p"]
    humans = read_annotations(
        pa.table({"item": ["a", "b"], "annotator": ["p", "p"], "label": ["pos", "neg"]})
    )
    with pytest.raises(InputError, match="also an annotator's name"):
        with_predictions(humans, rows)


def test_predictions_leave_the_human_report_as_it_was(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    truth = rng.choice(["a", "b"], 30)
    rows = [
        (f"i{i}", who, t if rng.random() < 0.8 else {"a": "b", "b": "a"}[t],
         int(rng.integers(2, 9)), t if i < 10 else "")
        for i, t in enumerate(truth) for who in ("h1", "h2", "h3")
    ]  # fmt: skip
    humans = tmp_path / "h.csv"
    names = ["item", "annotator", "label", "duration_s", "gold_label"]
    pacsv.write_csv(
        pa.table(dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))), humans
    )
    predictions = tmp_path / "m.csv"  # two items no human labelled
    predictions.write_text("item,label\n" + "".join(f"i{i},a\n" for i in range(32)))
    args = ["annotators", str(humans), "--gold-col", "gold_label", "--format", "json"]
    alone = json.loads(runner.invoke(app, args).stdout)
    both = json.loads(runner.invoke(app, [*args, "--predictions", str(predictions)]).stdout)
    assert both.pop("models")["models"][0]["consensus"]["n_items"] == 30
    for report in (alone, both):
        report.pop("input", None), report.pop("config", None), report.pop("tool", None)
    assert both == alone
