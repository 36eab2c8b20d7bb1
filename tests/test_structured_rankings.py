"""Rankings: Kendall's W with ties (hand example), pairwise tau-b vs scipy."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from labelaudit.structured import structured_diagnostics
from labelaudit.structured.rankings import kendall_w_per_item, ranking_metrics, rankings
from structured_helpers import structured_table


def ranked(ids: str, ranks: list[float]) -> list[dict[str, Any]]:
    return [{"id": i, "rank": float(r)} for i, r in zip(ids, ranks, strict=True)]


RECORDS = [
    ("q1", "a", ranked("abcd", [1, 2, 3, 4])),
    ("q1", "b", ranked("abcd", [1, 3, 2, 4])),
    ("q1", "c", ranked("abcde", [2, 1, 3.5, 3.5, 5])),  # e is not ranked by a, b: dropped
    ("q2", "a", ranked("xyz", [1, 2, 3])),
    ("q2", "b", ranked("xyz", [3, 2, 1])),
]


def test_kendall_w_with_ties_hand_example() -> None:
    table = structured_table("ranking", RECORDS)
    _items, w, m, n = kendall_w_per_item(table, rankings(table))
    # q1 over a, b, c, d: rank sums R = 4, 6, 8.5, 11.5; mean m(n+1)/2 = 7.5;
    # S = 3.5^2 + 1.5^2 + 1^2 + 4^2 = 31.5; ties of c: one pair -> T = 2^3 - 2 = 6;
    # W = 12 S / (m^2 (n^3 - n) - m T) = 378 / (9 * 60 - 18) = 378 / 522
    assert m.tolist() == [3, 2] and n.tolist() == [4, 3]
    assert w[0] == pytest.approx(378 / 522)
    # q2: two reversed rankings: S = 0 -> W = 0
    assert w[1] == pytest.approx(0.0)
    out = ranking_metrics(table)
    assert out["kendall_w"].value == pytest.approx((378 / 522 + 0.0) / 2)
    assert out["kendall_w"].extra["n_ids_dropped"] == 1


def test_single_item_reports_friedman_test() -> None:
    table = structured_table("ranking", RECORDS[:3])
    w = ranking_metrics(table)["kendall_w"]
    assert w.value == pytest.approx(378 / 522)
    chi2 = 3 * 3 * 378 / 522
    assert w.extra["chi2"] == pytest.approx(chi2) and w.extra["df"] == 3
    assert w.extra["p_value"] == pytest.approx(stats.chi2.sf(chi2, 3))
    assert w.se is None and w.reason == "one item: no standard error"


def test_pairwise_tau_matches_scipy() -> None:
    table = structured_table("ranking", RECORDS)
    tau_q1 = {
        ("a", "b"): stats.kendalltau([1, 2, 3, 4], [1, 3, 2, 4]).statistic,
        ("a", "c"): stats.kendalltau([1, 2, 3, 4], [2, 1, 3.5, 3.5]).statistic,
        ("b", "c"): stats.kendalltau([1, 3, 2, 4], [2, 1, 3.5, 3.5]).statistic,
    }
    tau_q2 = stats.kendalltau([1, 2, 3], [3, 2, 1]).statistic
    out = ranking_metrics(table)["kendall_tau"]
    assert out.value == pytest.approx((np.mean(list(tau_q1.values())) + tau_q2) / 2)
    pairs = structured_diagnostics(table)["structured"]["pairwise_tau"]
    by_pair = {(p["a"], p["b"]): p for p in pairs}
    assert by_pair["a", "b"]["kendall_tau"] == pytest.approx((tau_q1["a", "b"] + tau_q2) / 2)
    assert by_pair["a", "b"]["n_items"] == 2
    assert by_pair["b", "c"]["kendall_tau"] == pytest.approx(tau_q1["b", "c"])


@given(
    st.lists(
        st.lists(st.integers(1, 4), min_size=5, max_size=5),
        min_size=2,
        max_size=4,
    )
)
def test_tau_and_w_property(raters: list[list[int]]) -> None:
    records = [("q", f"r{k}", ranked("abcde", r)) for k, r in enumerate(raters)]
    table = structured_table("ranking", records)
    out = ranking_metrics(table, ci="none")
    taus = []
    for x, y in itertools.combinations(raters, 2):
        if len(set(x)) > 1 and len(set(y)) > 1:
            taus.append(stats.kendalltau(x, y).statistic)
    if taus:
        assert out["kendall_tau"].value == pytest.approx(np.mean(taus), abs=1e-12)
    else:
        assert out["kendall_tau"].value is None
    ranks = np.array([stats.rankdata(r) for r in raters])
    m, n = ranks.shape
    s = float(((ranks.sum(axis=0) - m * (n + 1) / 2) ** 2).sum())
    ties = sum(
        float((c**3 - c).sum()) for c in (np.unique(r, return_counts=True)[1] for r in raters)
    )
    denominator = m**2 * (n**3 - n) - m * ties
    if denominator > 0:
        assert out["kendall_w"].value == pytest.approx(12 * s / denominator, abs=1e-12)
    else:
        assert out["kendall_w"].value is None


def test_plain_id_lists_from_generic_file(tmp_path: Any) -> None:
    import json

    from labelaudit.structured.api import as_task
    from labelaudit.table import read_annotations

    path = tmp_path / "rank.jsonl"
    rows = [("q", "a", ["x", "y", "z"]), ("q", "b", ["x", "z", "y"]), ("q", "c", ["y", "x", "z"])]
    path.write_text(
        "\n".join(json.dumps({"item": i, "annotator": a, "label": r}) for i, a, r in rows)
    )
    table = as_task(read_annotations(path), "ranking")
    expected = structured_table(
        "ranking", [(i, a, ranked("".join(r), [1, 2, 3])) for i, a, r in rows]
    )
    assert ranking_metrics(table)["kendall_w"].value == pytest.approx(
        ranking_metrics(expected)["kendall_w"].value
    )


def test_empty_ranking_rows_are_left_out() -> None:
    with_empty = [*RECORDS, ("q1", "d", []), ("q2", "c", [])]
    got = ranking_metrics(structured_table("ranking", with_empty))
    expected = ranking_metrics(structured_table("ranking", RECORDS))
    assert got["kendall_w"].value == pytest.approx(expected["kendall_w"].value)
    assert got["kendall_tau"].value == pytest.approx(expected["kendall_tau"].value)
