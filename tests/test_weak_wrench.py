"""WRENCH YouTube (read from ../shared; skips when absent) against Snorkel 0.10's numbers.

``tests/data/weak/snorkel_wrench_youtube.json`` holds what Snorkel printed on the same
matrices (``benchmarks/snorkel_reference.py``, run in a separate environment with torch).
Accuracy counts a test row without a vote, or with tied probabilities, as half right.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.consensus.label_model import fit_mu, lf_accuracies, overlap_matrix
from labelaudit.weak import LabelModel, lf_analysis, lf_analysis_matrix, votes_table

FIXTURE = json.loads(
    (Path(__file__).parent / "data" / "weak" / "snorkel_wrench_youtube.json").read_text()
)
NAMES = FIXTURE["lf_names"]


@pytest.fixture(scope="module")
def wrench(shared_dir: Path) -> dict[str, Any]:
    folder = shared_dir / "datasets" / "wrench_youtube"
    if not (folder / "train.json").is_file():
        pytest.skip("WRENCH YouTube is absent from ../shared")
    splits = {}
    for split in ("train", "test"):
        data = json.loads((folder / f"{split}.json").read_text())
        L = np.array([row["weak_labels"] for row in data.values()], dtype=np.int64)
        Y = np.array([row["label"] for row in data.values()], dtype=np.int64)
        splits[split] = (L, Y, np.array(list(data), dtype=object))
    return splits


def half_credit(probs: np.ndarray, covered: np.ndarray, y: np.ndarray) -> float:
    tie = np.isclose(probs[:, 0], probs[:, 1]) | ~covered
    return float(np.mean(np.where(tie, 0.5, probs.argmax(axis=1) == y)))


@pytest.mark.parametrize("split", ["train", "test"])
def test_lf_analysis_equals_snorkel(wrench: dict[str, Any], split: str) -> None:
    L, Y, _ = wrench[split]
    ours = lf_analysis_matrix(L, Y, lf_names=NAMES).to_dict()
    theirs = FIXTURE[split]
    for key in ("label_coverage", "label_overlap", "label_conflict"):
        assert ours[key] == pytest.approx(theirs[key], abs=1e-9)
    for mine, snorkel in zip(ours["lfs"], theirs["lfs"], strict=True):
        assert mine["lf"] == snorkel["lf"]
        assert mine["polarity"] == [str(p) for p in snorkel["polarity"]]
        for key in ("coverage", "overlaps", "conflicts", "empirical_accuracy"):
            assert mine[key] == pytest.approx(snorkel[key], abs=1e-9), (mine["lf"], key)
        assert (mine["correct"], mine["incorrect"]) == (snorkel["correct"], snorkel["incorrect"])


def test_table_analysis_equals_the_matrix_analysis(wrench: dict[str, Any]) -> None:
    L, Y, ids = wrench["train"]
    table = votes_table(L, ids, NAMES, ["0", "1"])
    gold = {str(i): str(y) for i, y in zip(ids, Y, strict=True)}
    from_table = lf_analysis(table, gold=gold).to_dict()
    snorkel = FIXTURE["train"]["lfs"]
    by_name = {lf["lf"]: lf for lf in from_table["lfs"]}
    for lf in snorkel:
        assert by_name[lf["lf"]]["coverage"] == pytest.approx(lf["coverage"], abs=1e-9)
        assert by_name[lf["lf"]]["empirical_accuracy"] == pytest.approx(
            lf["empirical_accuracy"], abs=1e-9
        )


def test_sgd_steps_equal_snorkels(wrench: dict[str, Any]) -> None:
    # Snorkel's seed 0 draws np.random.random() = 0.5488... as the init factor, then SGD
    L, _, _ = wrench["train"]
    p = np.array([0.5, 0.5])
    scale = np.random.RandomState(0).random_sample()
    coverage = (L >= 0).mean(axis=0)
    for epochs in (100, 500):
        mu, _ = fit_mu(overlap_matrix(L, 2), p, n=L.shape[0], solver="sgd",
                       n_epochs=epochs, init_scale=scale)  # fmt: skip
        expected = FIXTURE["label_model"][f"epochs_{epochs}"]["weights_seed0"]
        np.testing.assert_allclose(lf_accuracies(mu, p, coverage), expected, atol=1e-5)


def test_label_model_reaches_the_target_on_test(wrench: dict[str, Any]) -> None:
    (L_train, _, _), (L_test, y_test, _) = wrench["train"], wrench["test"]
    model = LabelModel().fit(L_train)
    accuracy = half_credit(model.predict_proba(L_test), (L_test >= 0).any(axis=1), y_test)
    assert accuracy >= 0.860
    assert accuracy == pytest.approx(FIXTURE["label_model"]["epochs_500"]["mean"], abs=1e-9)
    snorkel_weights = FIXTURE["label_model"]["epochs_500"]["weights_seed0"]
    np.testing.assert_allclose(model.skills_, snorkel_weights, atol=0.01)


def test_consensus_cli_label_model_and_majority(wrench: dict[str, Any], tmp_path: Path) -> None:
    files = {}
    for split in ("train", "test"):
        L, _, ids = wrench[split]
        files[split] = tmp_path / f"{split}.csv"
        votes_table(L, ids, NAMES, ["0", "1"]).data.to_pandas().to_csv(files[split], index=False)
    _, y_test, ids = wrench["test"]
    gold = dict(zip(ids, y_test, strict=True))
    runner = CliRunner()
    scores = {}
    for method, extra in (
        ("label-model", ["--fit-on", str(files["train"]), "--n-records", "1586"]),
        ("majority", ["--tie", "abstain"]),
    ):
        out = tmp_path / f"{method}.csv"
        args = ["consensus", str(files["test"]), "--method", method, "--out", str(out), *extra]
        result = runner.invoke(app, [*args, "--soft"])
        assert result.exit_code == 0, result.output
        rows = pacsv.read_csv(out).to_pylist()
        probs = {str(r["item"]): (r["p_0"], r["p_1"]) for r in rows}
        matrix = np.array([probs.get(str(i), (0.5, 0.5)) for i in ids])
        scores[method] = half_credit(matrix, np.ones(len(ids), bool), y_test)
    assert scores["label-model"] == pytest.approx(0.864, abs=1e-9)
    assert scores["majority"] == pytest.approx(FIXTURE["label_model"]["majority"]["half_credit"])
    assert len(gold) == 250
