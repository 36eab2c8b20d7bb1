"""Invariants of the LF analysis and the label model (hypothesis)."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labelaudit.consensus.api import run_consensus
from labelaudit.weak import LabelModel, lf_analysis_matrix, votes_table


@st.composite
def label_matrices(draw: st.DrawFn, min_lfs: int = 1) -> tuple[np.ndarray, np.ndarray, int]:
    """(L, gold, k): n x m votes in -1..k-1 and gold codes in 0..k-1."""
    n = draw(st.integers(1, 40))
    m = draw(st.integers(min_lfs, 6))
    k = draw(st.integers(2, 4))
    L = draw(arrays(np.int64, (n, m), elements=st.integers(-1, k - 1)))
    gold = draw(arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
    return L, gold, k


@settings(max_examples=60, deadline=None)
@given(label_matrices())
def test_an_lf_copying_gold_has_empirical_accuracy_one(case: tuple) -> None:
    L, gold, k = case
    copying = np.column_stack([L, gold])
    lfs = lf_analysis_matrix(copying, gold, categories=[str(c) for c in range(k)]).lfs
    assert lfs[-1]["empirical_accuracy"] == 1.0
    assert lfs[-1]["incorrect"] == 0 and lfs[-1]["correct"] == L.shape[0]
    low, high = lfs[-1]["empirical_accuracy_ci95"]
    assert 0.0 < low <= 1.0 and high == 1.0


@settings(max_examples=60, deadline=None)
@given(label_matrices(), st.integers(0, 5))
def test_duplicating_an_lf_does_not_change_majority_vote(case: tuple, which: int) -> None:
    L, _, k = case
    j = which % L.shape[1]
    if not (L >= 0).any():
        return
    labels = [str(c) for c in range(k)]
    names = [f"lf{i}" for i in range(L.shape[1])]
    plain = votes_table(L, None, names, labels)
    doubled = votes_table(np.column_stack([L, L[:, j]]), None, [*names, "copy"], labels)
    base, _ = run_consensus(plain, "majority", tie="abstain")
    both, _ = run_consensus(doubled, "majority", tie="abstain")
    # the same items (the copy votes only where the original did) ...
    np.testing.assert_array_equal(plain.items, doubled.items)
    # ... and where the original majority was decided without LF j's vote mattering for
    # the winner, the winner stays: duplicating adds weight only to LF j's own label
    counts = np.stack([np.equal(L, c).sum(axis=1) for c in range(k)], axis=1)
    covered = (L >= 0).any(axis=1)
    counts = counts[covered]
    votes_j = L[covered, j]
    top = counts.max(axis=1)
    unique_top = (counts == top[:, None]).sum(axis=1) == 1
    winner = counts.argmax(axis=1)
    stays = unique_top & ((votes_j < 0) | (votes_j == winner))
    np.testing.assert_array_equal(base.labels_[stays], both.labels_[stays])
    # duplicating every LF doubles every count: the vote (ties included) is unchanged
    names2 = [*names, *(f"{n}_copy" for n in names)]
    every = votes_table(np.column_stack([L, L]), None, names2, labels)
    all_doubled, _ = run_consensus(every, "majority", tie="abstain")
    np.testing.assert_array_equal(base.labels_, all_doubled.labels_)


@settings(max_examples=60, deadline=None)
@given(label_matrices(min_lfs=2))
def test_abstain_only_lfs_have_coverage_zero_and_nothing_divides_by_zero(case: tuple) -> None:
    L, gold, k = case
    silent = np.column_stack([L, np.full(L.shape[0], -1), np.full(L.shape[0], -1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a 0/0 anywhere would warn
        result = lf_analysis_matrix(silent, gold, categories=[str(c) for c in range(k)])
        data = result.to_dict()
        if (L >= 0).any():
            model = LabelModel(cardinality=k).fit(silent)
            probs = model.predict_proba(silent)
            assert np.all(np.isfinite(probs)) and np.allclose(probs.sum(axis=1), 1.0)
    for lf in data["lfs"][-2:]:
        assert lf["coverage"] == 0.0 and lf["overlaps"] == 0.0 and lf["conflicts"] == 0.0
        assert lf["n_votes"] == 0 and lf["polarity"] == []
        assert lf["empirical_accuracy"] is None and lf["empirical_accuracy_ci95"] is None
        assert lf["correct"] == 0 and lf["incorrect"] == 0
    assert "empirical_accuracy" in data["reasons"]
    for lf in data["lfs"]:
        for key in ("coverage", "overlaps", "conflicts"):
            assert 0.0 <= lf[key] <= 1.0
        assert lf["conflicts"] <= lf["overlaps"] <= lf["coverage"]
