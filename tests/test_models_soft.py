"""Soft labels (``consensus --soft``) and the training export (``export --to hf|parquet``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import entropy as scipy_entropy
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.consensus.api import run_consensus
from labelaudit.consensus.synthetic import generate
from labelaudit.datasets import dataset_path
from labelaudit.exceptions import UsageError
from labelaudit.models import annotator_kinds, entropy_bits, export_labels, soft_labels
from labelaudit.table import AnnotationTable, read_annotations

runner = CliRunner()
DUCKS = str(Path(__file__).parent / "data" / "consensus" / "ducks" / "answers.csv")
BLUEBIRDS = str(dataset_path("bluebirds"))


def _rows(table: AnnotationTable) -> dict[str, list[Any]]:
    return {
        "item": table.items[table.item_codes].tolist(),
        "annotator": table.annotators[table.annotator_codes].tolist(),
        "label": table.categories[table.label_codes].tolist(),
    }


@pytest.mark.parametrize("method", ["majority", "dawid-skene", "glad", "mace", "one-coin", "wawa"])
def test_soft_labels_are_vote_shares_and_the_posterior(method: str) -> None:
    table = generate(150, 9, 4, 3, seed=3).table
    estimator, _ = run_consensus(table, method)
    soft = soft_labels(table, estimator)
    counts = table.to_item_category_counts()
    np.testing.assert_array_equal(soft.shares * counts.sum(axis=1)[:, None], counts)
    np.testing.assert_array_equal(soft.posterior, estimator.probas_)
    np.testing.assert_allclose(soft.shares.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(soft.entropy, scipy_entropy(soft.posterior.T, base=2), atol=1e-12)
    np.testing.assert_allclose(soft.vote_entropy, scipy_entropy(soft.shares.T, base=2), atol=1e-12)
    np.testing.assert_array_equal(soft.top_share, counts.max(axis=1) / counts.sum(axis=1))
    assert soft.summary()["n_ambiguous"] == int((soft.top_share <= 0.5).sum())


def test_entropy_bits_edges() -> None:
    np.testing.assert_array_equal(entropy_bits(np.array([[1.0, 0.0], [0.5, 0.5]])), [0.0, 1.0])
    assert entropy_bits(np.full((1, 4), 0.25))[0] == pytest.approx(2.0, abs=1e-15)


@given(st.permutations(list(range(24))))
def test_soft_labels_do_not_depend_on_row_order(order: list[int]) -> None:
    rows = _rows(generate(8, 5, 3, 3, seed=5).table)
    shuffled = {k: [v[i] for i in order] for k, v in rows.items()}
    tables = [read_annotations(pa.table(r)) for r in (rows, shuffled)]
    out = [soft_labels(t, run_consensus(t, "dawid-skene")[0]).to_arrow() for t in tables]
    assert out[0].equals(out[1])


def test_numeric_method_is_refused() -> None:
    table = generate(20, 5, 3, 3, seed=1).table
    with pytest.raises(UsageError, match="categorical method"):
        soft_labels(table, run_consensus(table, "mean")[0])


def test_consensus_soft_cli_writes_the_library_table(tmp_path: Path) -> None:
    out = tmp_path / "soft.csv"
    result = runner.invoke(
        app, ["consensus", BLUEBIRDS, "--soft", "--out", str(out), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    table = read_annotations(BLUEBIRDS)
    soft = soft_labels(table, run_consensus(table, "dawid-skene")[0])
    assert summary["soft"] == json.loads(json.dumps(soft.summary()))
    written = pacsv.read_csv(out)
    expected = soft.to_arrow()
    assert written.column_names == expected.column_names
    assert written.column_names[:7] == [
        "item", "label", "confidence", "n_labels", "top_share", "vote_entropy", "entropy",
    ]  # fmt: skip
    for name in expected.column_names[2:]:
        np.testing.assert_allclose(written[name].to_numpy(), expected[name].to_numpy(), rtol=1e-15)


def test_consensus_soft_needs_out() -> None:
    result = runner.invoke(app, ["consensus", DUCKS, "--soft"])
    assert result.exit_code == 2
    assert "--soft writes the label distributions to a file: add --out PATH" in result.stderr


def test_export_hf_round_trip_equals_consensus_output(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    soft_out, hf_out = tmp_path / "soft.parquet", tmp_path / "hf"
    args = ["--method", "mace", "--seed", "4"]
    first = runner.invoke(app, ["consensus", DUCKS, "--soft", "--out", str(soft_out), *args])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["export", DUCKS, "--to", "hf", "--out", str(hf_out), *args])
    assert second.exit_code == 0, second.output
    consensus = pq.read_table(soft_out)
    dataset = datasets.load_from_disk(str(hf_out))
    assert dataset.column_names == [*consensus.column_names, "annotations"]
    for name in consensus.column_names:
        assert dataset[name] == consensus[name].to_pylist(), name
    card = (hf_out / "README.md").read_text()
    assert "consensus by **mace**" in card and "krippendorff_alpha" in card
    assert dataset.info.description == card
    # every annotator's label, by item
    table = read_annotations(DUCKS)
    given = {(r["item"], r["annotator"]): r["label"] for r in _records(table)}
    got = {
        (item, a["annotator"]): a["label"]
        for item, labels in zip(dataset["item"], dataset["annotations"], strict=True)
        for a in labels
    }
    assert got == given


def _records(table: AnnotationTable) -> list[dict[str, Any]]:
    rows = _rows(table)
    return [dict(zip(rows, values, strict=True)) for values in zip(*rows.values(), strict=True)]


def test_export_parquet_card_and_agreement(tmp_path: Path) -> None:
    from labelaudit.agreement import agreement_report

    table = read_annotations(BLUEBIRDS)
    result = export_labels(table, tmp_path / "b.parquet", to="parquet", method="glad")
    written = pq.read_table(tmp_path / "b.parquet")
    assert written.num_rows == table.n_items == result.n_items
    card = written.schema.metadata[b"labelaudit.card"].decode()
    alpha = agreement_report(table).to_dict()["metrics"]["krippendorff_alpha"]["value"]
    assert result.agreement["krippendorff_alpha"]["value"] == alpha
    assert f"| krippendorff_alpha | {alpha:.3f} |" in card
    assert set(annotator_kinds(table)) == {"human"}


def test_export_refuses_an_unrelated_folder_and_replaces_a_dataset(tmp_path: Path) -> None:
    pytest.importorskip("datasets")
    table = read_annotations(DUCKS)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not a saved dataset"):
        export_labels(table, tmp_path, to="hf")
    assert (tmp_path / "notes.txt").read_text() == "mine"
    target = tmp_path / "ds"
    export_labels(table, target, to="hf", method="majority")
    export_labels(table, target, to="hf", method="dawid-skene")
    assert "dawid-skene" in (target / "README.md").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds", "notes.txt"]


def test_export_bad_target() -> None:
    table = read_annotations(DUCKS)
    with pytest.raises(UsageError, match=r"writes a \.parquet file"):
        export_labels(table, "x.csv", to="parquet")
    result = runner.invoke(app, ["export", DUCKS, "--to", "csv", "--out", "x"])
    assert result.exit_code == 2
