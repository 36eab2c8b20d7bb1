"""Labeling functions, their applier, LF analysis and the label model (labelaudit.weak)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from labelaudit.agreement.alpha import alpha_from_counts
from labelaudit.agreement.cohen import cohen_kappa, pair_table
from labelaudit.consensus.api import run_consensus
from labelaudit.exceptions import InputError, UsageError
from labelaudit.intervals import wilson_interval
from labelaudit.models import annotator_kinds
from labelaudit.table import read_annotations
from labelaudit.weak import (
    ABSTAIN,
    LabelModel,
    apply_lfs,
    labeling_function,
    lf_analysis,
    lf_analysis_matrix,
    votes_table,
)

RECORDS = [
    {"id": "a", "text": "check out my channel", "n": 3},
    {"id": "b", "text": "great song", "n": 0},
    {"id": "c", "text": "subscribe please", "n": 5},
    {"id": "d", "text": "love it", "n": 1},
]


@labeling_function()
def check_out(x):
    return "SPAM" if "check out" in x.text else None


@labeling_function(name="short", resources={"limit": 10})
def short(x, limit):
    return "HAM" if len(x["text"]) < limit else ABSTAIN


@labeling_function(vectorized=True)
def many(batch):
    return np.where(batch["n"].to_numpy() >= 3, "SPAM", None)


# ---------------------------------------------------------------------------- applier
@pytest.mark.parametrize("kind", ["records", "pandas", "arrow"])
def test_apply_gives_the_canonical_table_of_function_annotators(kind: str) -> None:
    data = {
        "records": RECORDS,
        "pandas": pd.DataFrame(RECORDS),
        "arrow": pa.Table.from_pylist(RECORDS),
    }[kind]
    table = apply_lfs([check_out, short, many], data, labels=["HAM", "SPAM"], id_col="id")
    rows = sorted(
        zip(
            table.items[table.item_codes],
            table.annotators[table.annotator_codes],
            table.categories[table.label_codes],
            strict=True,
        )
    )
    assert rows == [
        ("a", "check_out", "SPAM"),
        ("a", "many", "SPAM"),
        ("c", "many", "SPAM"),
        ("d", "short", "HAM"),
    ]
    assert set(annotator_kinds(table)) == {"function"}
    assert table.report["n_records"] == 4
    assert table.report["labeling_functions"] == ["check_out", "short", "many"]
    assert table.report["lf_errors"] == {"check_out": 0, "short": 0, "many": 0}


def test_default_items_are_row_numbers_and_int_labels_match_text() -> None:
    @labeling_function(vectorized=True)
    def positive(batch):
        return np.where(batch["n"].to_numpy() > 0, 1, -1)

    @labeling_function()
    def zero(x):
        return 0 if x.n == 0 else None

    table = apply_lfs([positive, zero], RECORDS, labels=["0", "1"])
    assert list(table.items) == ["0", "1", "2", "3"]
    assert table.n_ratings == 4 and list(table.categories) == ["0", "1"]


def test_label_outside_the_declared_set_names_the_lf_and_the_value() -> None:
    @labeling_function()
    def typo(x):
        return "SPAMM" if x.n > 1 else None

    with pytest.raises(InputError) as error:
        apply_lfs([typo], RECORDS, labels=["HAM", "SPAM"], id_col="id")
    message = str(error.value)
    assert "'typo'" in message and "'SPAMM'" in message and "record 1" in message
    assert "one of 'HAM', 'SPAM'" in message


def test_an_lf_that_raises_is_reported_with_its_record() -> None:
    @labeling_function()
    def fragile(x):
        return "HAM" if 10 / x.n > 1 else None

    with pytest.raises(InputError) as error:
        apply_lfs([fragile], RECORDS, labels=["HAM", "SPAM"], id_col="id")
    message = str(error.value)
    assert "'fragile' raised ZeroDivisionError" in message
    assert "record 2" in message and "great song" in message and "item b" in message


def test_on_error_abstain_counts_the_failures() -> None:
    @labeling_function()
    def fragile(x):
        return "HAM" if 10 / x.n > 1 else None

    @labeling_function(vectorized=True)
    def fragile_batch(batch):
        if (batch["n"] == 0).any():
            raise ValueError("zero in batch")
        return ["SPAM"] * len(batch)

    table = apply_lfs(
        [fragile, fragile_batch, check_out], RECORDS, labels=["HAM", "SPAM"], on_error="abstain"
    )
    assert table.report["lf_errors"] == {"fragile": 1, "fragile_batch": 1, "check_out": 0}
    votes = table.to_pandas()
    assert sorted(votes[votes.annotator == "fragile_batch"]["item"]) == ["0", "2", "3"]
    with pytest.raises(InputError, match="'fragile_batch' raised ValueError: zero in batch"):
        apply_lfs([fragile_batch], RECORDS, labels=["HAM", "SPAM"])


@pytest.mark.parametrize(
    ("lfs", "labels", "message"),
    [
        ([], ["a"], "no labeling functions"),
        ([check_out, check_out], ["HAM", "SPAM"], "two labeling functions are named"),
        ([check_out], [], "non-empty list"),
    ],
)
def test_bad_usage(lfs: list, labels: list, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        apply_lfs(lfs, RECORDS, labels=labels)


def test_vectorised_lf_must_return_one_label_per_row() -> None:
    @labeling_function(vectorized=True)
    def short_batch(batch):
        return ["HAM"]

    with pytest.raises(UsageError, match="got 1 for 4 rows"):
        apply_lfs([short_batch], RECORDS, labels=["HAM", "SPAM"])


# --------------------------------------------------------------------------- analysis
# Snorkel 0.10, snorkel/labeling/analysis.py docstrings: this L and its printed values.
SNORKEL_L = np.array([[-1, 0, 0], [-1, -1, -1], [1, 0, -1], [-1, 0, -1], [0, 0, 0]])


def test_snorkel_docstring_example() -> None:
    result = lf_analysis_matrix(SNORKEL_L)
    lfs = result.to_dict()["lfs"]
    np.testing.assert_allclose([lf["coverage"] for lf in lfs], [0.4, 0.8, 0.4], atol=1e-12)
    np.testing.assert_allclose([lf["overlaps"] for lf in lfs], [0.4, 0.6, 0.4], atol=1e-12)
    np.testing.assert_allclose([lf["conflicts"] for lf in lfs], [0.2, 0.2, 0.0], atol=1e-12)
    assert [lf["polarity"] for lf in lfs] == [["0", "1"], ["0"], ["0"]]
    assert result.label_coverage == pytest.approx(0.8, abs=1e-12)
    assert result.label_overlap == pytest.approx(0.6, abs=1e-12)
    assert result.label_conflict == pytest.approx(0.2, abs=1e-12)


def test_gold_counts_accuracy_and_wilson_interval() -> None:
    Y = np.array([0, 1, 1, 0, 0])
    lfs = lf_analysis_matrix(SNORKEL_L, Y).to_dict()["lfs"]
    # Snorkel: Emp. Acc. = 1/2 (sum x / sum v + 1), x = +1 right / -1 wrong
    assert [lf["correct"] for lf in lfs] == [2, 3, 2]
    assert [lf["incorrect"] for lf in lfs] == [0, 1, 0]
    assert [lf["empirical_accuracy"] for lf in lfs] == [1.0, 0.75, 1.0]
    low, high = wilson_interval(np.array([2, 3]), np.array([2, 4]))
    assert lfs[1]["empirical_accuracy_ci95"] == [low[1], high[1]]


def test_agreement_columns_match_the_agreement_package() -> None:
    rng = np.random.default_rng(3)
    L = np.where(rng.random((200, 4)) < 0.6, rng.integers(0, 3, (200, 4)), -1)
    lfs = lf_analysis_matrix(L).to_dict()["lfs"]
    items, annotators = np.nonzero(L >= 0)
    labels = L[items, annotators]
    for a in range(4):
        kappas = [
            cohen_kappa(pair_table(items, annotators, labels, a, b, 200, 3)).value
            for b in range(4)
            if b != a
        ]
        assert lfs[a]["kappa_with_others"] == pytest.approx(np.mean(kappas), abs=1e-12)
        rest = np.delete(L, a, axis=1)
        counts = np.stack([(rest == y).sum(axis=1) for y in range(3)], axis=1)
        expected = alpha_from_counts(counts, np.arange(1.0, 4.0))
        assert lfs[a]["alpha_without"] == pytest.approx(expected, abs=1e-12)


def test_table_analysis_counts_records_without_votes() -> None:
    table = apply_lfs([check_out, short, many], RECORDS, labels=["HAM", "SPAM"], id_col="id")
    result = lf_analysis(table, gold={"a": "SPAM", "c": "SPAM", "d": "SPAM"})
    data = result.to_dict()
    assert data["n_records"] == 4 and data["n_gold"] == 3
    by_name = {lf["lf"]: lf for lf in data["lfs"]}
    assert by_name["short"]["coverage"] == 0.25
    assert by_name["short"]["correct"] == 0 and by_name["short"]["incorrect"] == 1
    assert by_name["many"]["empirical_accuracy"] == 1.0
    assert data["label_coverage"] == 0.75 and data["label_overlap"] == 0.25
    with pytest.raises(UsageError, match="smaller than"):
        lf_analysis(table, n_records=2)


def test_top_conflicts_rank_the_most_split_items_first() -> None:
    L = np.array([[0, 1, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0], [1, 0, -1, -1]])
    conflicts = lf_analysis_matrix(L, items=["w", "x", "y", "z"]).top_conflicts
    assert [c["item"] for c in conflicts] == ["w", "z", "x"]
    assert conflicts[0] == {"item": "w", "n_votes": 4, "votes": {"0": 2, "1": 2},
                            "minority_share": 0.5}  # fmt: skip


# ------------------------------------------------------------------------ label model
def test_label_model_learns_accuracies_of_independent_lfs() -> None:
    rng = np.random.default_rng(0)
    n, accuracy = 20_000, np.array([0.9, 0.8, 0.7, 0.65, 0.85])
    y = (rng.random(n) < 0.5).astype(int)
    right = rng.random((n, 5)) < accuracy
    votes = np.where(right, y[:, None], 1 - y[:, None])
    L = np.where(rng.random((n, 5)) < 0.6, votes, -1)
    model = LabelModel().fit(L)
    np.testing.assert_allclose(model.skills_, accuracy, atol=0.02)
    probs = model.predict_proba(L)
    assert probs.shape == (n, 2) and np.allclose(probs.sum(axis=1), 1.0)
    counts = np.stack([(c == L).sum(axis=1) for c in (0, 1)], axis=1)
    majority = np.where(counts[:, 0] == counts[:, 1], 0.5, counts.argmax(axis=1) == y)
    tied = np.isclose(probs[:, 0], 0.5)
    model_score = np.where(tied, 0.5, probs.argmax(axis=1) == y)
    assert model_score.mean() > majority.mean() + 0.02  # weights beat one vote each
    np.testing.assert_allclose(LabelModel().fit_predict_proba(L), probs)


def test_label_model_rejects_fewer_than_three_lfs_and_bad_priors() -> None:
    with pytest.raises(UsageError, match="at least 3 LFs"):
        LabelModel().fit(np.array([[0, 1], [1, 1]]))
    with pytest.raises(UsageError, match="2 positive numbers"):
        LabelModel(class_balance=[1.0, 0.0]).fit(SNORKEL_L)
    with pytest.raises(UsageError, match="not fitted"):
        LabelModel().predict_proba(SNORKEL_L)


def test_label_model_is_a_consensus_method_with_fit_on() -> None:
    rng = np.random.default_rng(1)
    n = 3000
    y = rng.integers(0, 2, n)
    right = rng.random((n, 4)) < np.array([0.9, 0.75, 0.8, 0.7])
    L = np.where(rng.random((n, 4)) < 0.5, np.where(right, y[:, None], 1 - y[:, None]), -1)
    names = ["a", "b", "c", "d"]
    train = votes_table(L[:2000], np.arange(2000).astype(str), names, ["neg", "pos"])
    test_ids = np.arange(2000, n).astype(str)
    test = votes_table(L[2000:, ::-1], test_ids, names[::-1], ["neg", "pos"])  # LFs by name
    estimator, result = run_consensus(test, "label-model", fit_on=train, class_balance="1,1")
    assert result.method == "label-model"
    assert result.parameters["fit_on"] == "<labeling functions>"
    direct = LabelModel(class_balance=[0.5, 0.5]).fit(L[:2000])
    expected = direct.predict_proba(L[2000:])[test.items.astype(int) - 2000]
    np.testing.assert_allclose(estimator.probas_, expected, atol=1e-12)


@pytest.mark.parametrize(
    "ids",
    [
        None,
        ["r10", "r2", "x", "r1", "Z", "b"],
        ["10", "9", "1e1x", "3", "2", "1"],
        ["10", "9", "8", "3", "2.5", "1"],
    ],
)
@pytest.mark.parametrize("labels", [["HAM", "SPAM"], ["1", "0"], ["2", "10"]])
def test_votes_table_equals_what_the_reader_gives(ids: list[str] | None, labels: list[str]) -> None:
    codes = np.array([[0, -1, 1], [-1, -1, -1], [1, 1, 0], [0, 0, -1], [-1, 1, -1], [1, -1, -1]])
    names = ["lf_b", "10", "lf_a"]
    built = votes_table(codes, None if ids is None else np.array(ids, dtype=object), names, labels)
    read = read_annotations(built.data, categories=labels)
    for field in ("items", "annotators", "categories", "category_values", "item_codes",
                  "annotator_codes", "label_codes"):  # fmt: skip
        np.testing.assert_array_equal(getattr(built, field), getattr(read, field), err_msg=field)
    assert built.category_scale == read.category_scale
    assert built.data.equals(read.data)
    with pytest.raises(InputError, match="record id repeated"):
        votes_table(codes, np.array(["a", "b", "a", "c", "d", "e"], dtype=object), names, labels)
