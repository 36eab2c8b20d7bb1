"""Consistency (repeats, circular triads, Kendall's zeta), Bradley-Terry and self-preference."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelaudit.preferences import from_columns, read_preferences
from labelaudit.preferences.bradley_terry import SCALE, bradley_terry, ratings_by_raters
from labelaudit.preferences.consistency import consistency, self_agreement, transitivity
from labelaudit.preferences.self_preference import self_preference

DATA = Path(__file__).parent / "data" / "preferences"


@pytest.fixture(scope="module")
def mtbench():  # type: ignore[no-untyped-def]
    return read_preferences(DATA / "mtbench", format="mtbench")


def votes_table(rows: list[tuple[str, str, str, str, str]]):  # type: ignore[no-untyped-def]
    """(prompt, first, second, choice, annotator) rows -> table."""
    return from_columns(
        prompt=[r[0] for r in rows],
        first=[f"{r[0]}/{r[1]}" for r in rows],
        second=[f"{r[0]}/{r[2]}" for r in rows],
        choice=[r[3] for r in rows],
        annotator=[r[4] for r in rows],
    )


# --------------------------------------------------------------------------- transitivity
def test_mtbench_gpt4_has_no_circular_triad(mtbench) -> None:  # type: ignore[no-untyped-def]
    """Notes section 1.5: 3,200 triads, 1,497 fully decisive, 0 cyclic."""
    entries, notes = transitivity(mtbench)
    gpt4 = next(e for e in entries if e["annotator"] == "gpt4_pair")
    assert (gpt4["n_tournaments"], gpt4["n_triads"]) == (160, 3200)
    assert (gpt4["n_decisive"], gpt4["n_circular"]) == (1497, 0)
    assert gpt4["mean_zeta"] == 1.0 and notes == []


def tournament(n: int, beats: list[tuple[int, int]]):  # type: ignore[no-untyped-def]
    return votes_table([("p", f"r{i}", f"r{j}", "first", "a") for i, j in beats])


def test_kendall_zeta_extremes() -> None:
    transitive = tournament(5, [(i, j) for i in range(5) for j in range(i + 1, 5)])
    (entry,) = transitivity(transitive)[0]
    assert (entry["n_triads"], entry["n_circular"], entry["mean_zeta"]) == (10, 0, 1.0)
    regular = tournament(5, [(i, (i + k) % 5) for i in range(5) for k in (1, 2)])
    (entry,) = transitivity(regular)[0]
    assert entry["n_circular"] == 5 and entry["mean_zeta"] == 0.0  # the maximum for n = 5
    four = tournament(4, [(0, 1), (1, 2), (2, 0), (3, 0), (3, 1), (3, 2)])
    (entry,) = transitivity(four)[0]
    assert entry["n_circular"] == 1 and entry["mean_zeta"] == pytest.approx(1 - 24 / 48)


def brute_force_triads(rows: list[tuple[str, str, str, str, str]]) -> dict[str, tuple[int, ...]]:
    net: dict[tuple[str, str], dict[frozenset[str], int]] = defaultdict(dict)
    score: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for prompt, a, b, choice, who in rows:
        if a == b or choice in ("", "missing"):
            continue
        sign = {"first": 1, "second": -1}.get(choice, 0)
        lo, hi = sorted((a, b))
        score[(who, prompt, lo, hi)] += sign if a == lo else -sign
    for (who, prompt, lo, hi), value in score.items():
        net[(who, prompt)][frozenset((lo, hi))] = int(np.sign(value)) * (1 if lo < hi else -1)
        net[(who, prompt)][(lo, hi)] = int(np.sign(value))  # type: ignore[index]
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (who, _), edges in net.items():
        nodes = sorted({n for key in edges if isinstance(key, tuple) for n in key})
        for x, y, z in itertools.combinations(nodes, 3):
            pairs = [(x, y), (y, z), (x, z)]
            if not all(p in edges for p in pairs):
                continue
            xy, yz, xz = (edges[p] for p in pairs)  # type: ignore[index]
            out[who][0] += 1
            if xy and yz and xz:
                out[who][1] += 1
                out[who][2] += xy == yz and xz == -xy
    return {who: tuple(v) for who, v in out.items() if v[0]}


vote = st.tuples(
    st.sampled_from(["p1", "p2"]),
    st.sampled_from(["a", "b", "c", "d"]),
    st.sampled_from(["a", "b", "c", "d"]),
    st.sampled_from(["first", "second", "tie", ""]),
    st.sampled_from(["u", "v"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(vote, min_size=1, max_size=50))
def test_triads_equal_brute_force(rows) -> None:  # type: ignore[no-untyped-def]
    entries, _ = transitivity(votes_table(rows))
    found = {e["annotator"]: (e["n_triads"], e["n_decisive"], e["n_circular"]) for e in entries}
    assert found == brute_force_triads(rows)


@settings(max_examples=60, deadline=None)
@given(st.lists(vote, min_size=1, max_size=40))
def test_self_agreement_equals_brute_force(rows) -> None:  # type: ignore[no-untyped-def]
    table = votes_table(rows)
    result = {r["annotator"]: r for r in self_agreement(table)}
    groups: dict[tuple[str, str, frozenset[str]], list[tuple[bool, int]]] = defaultdict(list)
    for index, (prompt, a, b, _, who) in enumerate(rows):
        if a != b and table.outcome[index] >= 0:
            groups[(who, prompt, frozenset((a, b)))].append((a > b, int(table.outcome[index])))
    expected: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (who, _, _), votes in groups.items():
        for (s1, o1), (s2, o2) in itertools.combinations(votes, 2):
            slot = 0 if s1 == s2 else 2
            expected[who][slot] += 1
            expected[who][slot + 1] += o1 == o2
    assert set(result) == {key[0] for key, group in groups.items() if len(group) > 1}
    for who, (same, same_agree, swapped, swapped_agree) in expected.items():
        if who not in result:
            assert same == swapped == 0
            continue
        assert result[who]["same_order"]["n_pairs"] == same
        assert result[who]["swapped"]["n_pairs"] == swapped
        if same:
            assert result[who]["same_order"]["agreement"] == pytest.approx(same_agree / same)
        if swapped:
            assert result[who]["swapped"]["agreement"] == pytest.approx(swapped_agree / swapped)


def test_llmbar_swapped_repeats_equal_positional_agreement() -> None:
    table = read_preferences(DATA / "llmbar", format="llmbar")
    result = consistency(table)
    repeats = {r["annotator"]: r for r in result.repeats}
    assert repeats["GPT-4"]["swapped"]["n_pairs"] == 419
    assert repeats["GPT-4"]["swapped"]["agreement"] == pytest.approx(389 / 419)
    assert result.transitivity == []  # two responses per prompt: no triad


# --------------------------------------------------------------------------- Bradley-Terry
def test_mtbench_ratings_as_in_the_notes(mtbench) -> None:  # type: ignore[no-untyped-def]
    """Notes section 1.6: gpt-4 1314 (GPT-4 judge) vs 1179 (experts); llama-13b 666 vs 752."""
    result = ratings_by_raters(mtbench, n_boot=50, seed=0)
    groups = {g["raters"]: {m["model"]: m for m in g["models"]} for g in result["groups"]}
    assert round(groups["gpt4_pair"]["gpt-4"]["rating"]) == 1314
    assert round(groups["human"]["gpt-4"]["rating"]) == 1179
    assert round(groups["gpt4_pair"]["llama-13b"]["rating"]) == 666
    assert round(groups["human"]["llama-13b"]["rating"]) == 752
    assert result["rank_agreement"] == [
        {"a": "human", "b": "gpt4_pair", "spearman": 1.0, "n_models": 6}
    ]
    for model in groups["human"].values():
        assert model["ci95"][0] < model["rating"] < model["ci95"][1]
    assert np.mean([m["rating"] for m in groups["human"].values()]) == pytest.approx(1000)


def test_bradley_terry_matches_fastchat_logistic_regression() -> None:
    """FastChat's compute_mle_elo: sklearn logistic regression on the +/- ln(10) design."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    skill = np.array([0.0, 0.5, 1.0, -0.7, 0.2])
    a = rng.integers(0, 5, 3000)
    b = (a + rng.integers(1, 5, 3000)) % 5
    tie = rng.random(3000) < 0.15
    win = rng.random(3000) < 1 / (1 + np.exp(-(skill[a] - skill[b])))
    choice = np.where(tie, "tie", np.where(win, "first", "second"))
    names = np.array([f"m{i}" for i in range(5)], dtype=object)
    ids = np.arange(3000).astype(str).astype(object)
    table = from_columns(
        prompt=ids,
        first=ids + "a",
        second=ids + "b",
        first_model=names[a],
        second_model=names[b],
        choice=choice.astype(object),
    )
    ours = {m["model"]: m["rating"] for m in bradley_terry(table, n_boot=0).models}
    # FastChat: each vote twice (win = 2 wins, tie = one win each way), logistic regression
    design = np.zeros((2 * 3000, 5))
    design[np.arange(3000), a] = math.log(10)
    design[np.arange(3000), b] = -math.log(10)
    design[3000:] = design[:3000]
    y = np.r_[np.ones(3000), np.zeros(3000)]
    weight = np.r_[
        np.where(tie, 1.0, np.where(win, 2.0, 0.0)), np.where(tie, 1.0, np.where(win, 0.0, 2.0))
    ]
    model = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-10, max_iter=10_000)
    coef = model.fit(design, y, sample_weight=weight).coef_[0]
    reference = 400 * (coef - coef.mean()) + 1000
    for m in range(5):
        assert ours[f"m{m}"] == pytest.approx(reference[m], abs=1e-3)
    assert pytest.approx(400 / math.log(10)) == SCALE


def test_bradley_terry_anchor_seed_and_divergence() -> None:
    rows = [("p", "x", "y", "first", "a")] * 5 + [("q", "y", "z", "first", "a")] * 3
    rows += [("r", "z", "y", "first", "a")] * 2
    table = from_columns(
        prompt=[r[0] for r in rows],
        first=[r[0] + r[1] for r in rows],
        second=[r[0] + r[2] for r in rows],
        first_model=[r[1] for r in rows],
        second_model=[r[2] for r in rows],
        choice=[r[3] for r in rows],
    )
    result = bradley_terry(table, n_boot=20, seed=3)
    assert result.mle_exists is False and "every comparison" in (result.reason or "")
    assert all(np.isfinite(m["rating"]) for m in result.models)
    assert result.models[0]["model"] == "x"
    anchored = bradley_terry(table, n_boot=0, anchor=("y", 1114.0))
    assert {m["model"]: m["rating"] for m in anchored.models}["y"] == pytest.approx(1114.0)
    again = bradley_terry(table, n_boot=20, seed=3)
    assert again.to_dict() == result.to_dict()


# --------------------------------------------------------------------------- self-preference
@pytest.mark.parametrize(
    ("family", "judge_rate", "human_rate", "delta"),
    [("gpt-4", 86.1, 74.1, 12.0), ("claude-v1", 70.3, 65.3, 5.0), ("gpt-3.5", 61.3, 64.6, -3.3)],
)
def test_mtbench_self_preference_as_in_the_notes(
    mtbench,
    family: str,
    judge_rate: float,
    human_rate: float,
    delta: float,  # type: ignore[no-untyped-def]
) -> None:
    (result,) = self_preference(mtbench, {"gpt4_pair": family}, n_boot=200)
    assert round(100 * result.judge_win_rate, 1) == judge_rate
    assert round(100 * result.human_win_rate, 1) == human_rate
    assert round(100 * result.delta, 1) == delta
    assert result.ci95 is not None and result.ci95[0] < result.delta < result.ci95[1]
    own = next(m for m in result.by_model if m["model"].startswith(family))
    assert own["delta"] == pytest.approx(result.delta)


def test_self_preference_without_shared_items() -> None:
    table = from_columns(
        prompt=["p", "q"],
        first=["p/x", "q/x"],
        second=["p/y", "q/y"],
        first_model=["gpt-x", "gpt-x"],
        second_model=["other", "other"],
        choice=["first", "first"],
        annotator=["judge", "h"],
        kind=["judge", "human"],
    )
    (result,) = self_preference(table, {"judge": "gpt"}, n_boot=10)
    assert result.delta is None and result.n_items == 0
    assert "no item judged by it and by humans" in result.verdict
