"""Position bias, length bias and gold accuracy: planted effects, peers, published numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from labelaudit.intervals import wilson_interval
from labelaudit.preferences import read_preferences
from labelaudit.preferences._stats import holm, logistic_fit
from labelaudit.preferences.gold import gold_accuracy
from labelaudit.preferences.length import length_bias, length_logit
from labelaudit.preferences.position import both_orders, position_bias
from labelaudit.preferences.records import FIRST, SECOND
from labelaudit.preferences.synthetic import make_preference_columns, make_preferences

DATA = Path(__file__).parent / "data" / "preferences"


# --------------------------------------------------------------------------- kernels
def test_wilson_matches_scipy() -> None:
    for k, n in [(0, 5), (3, 10), (70, 100), (999, 1000), (50, 50)]:
        low, high = wilson_interval(k, n)
        ref = stats.binomtest(k, n).proportion_ci(method="wilson")
        assert low == pytest.approx(ref.low, abs=1e-12) and high == pytest.approx(
            ref.high, abs=1e-12
        )
    low, high = wilson_interval(np.array([0]), np.array([0]))
    assert np.isnan(low[0]) and np.isnan(high[0])


def test_holm_matches_statsmodels() -> None:
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(3)
    p = rng.random(12) ** 3
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1], abs=1e-14)
    with_nan = np.r_[p[:3], np.nan]
    assert np.isnan(holm(with_nan)[3])
    assert holm(with_nan)[:3] == pytest.approx(multipletests(p[:3], method="holm")[1])


def test_logistic_fit_matches_statsmodels() -> None:
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    x = np.column_stack([np.ones(500), rng.normal(size=500)])
    y = (rng.random(500) < 1 / (1 + np.exp(-(0.3 + 0.8 * x[:, 1])))).astype(float)
    beta, cov, ok = logistic_fit(x, y)
    ref = sm.Logit(y, x).fit(disp=0)
    assert ok
    assert beta == pytest.approx(ref.params, abs=1e-8)
    assert np.sqrt(np.diag(cov)) == pytest.approx(ref.bse, rel=1e-6)
    _, _, separated = logistic_fit(x[:, 1:], (x[:, 1] > 0).astype(float))
    assert not separated


# --------------------------------------------------------------------------- position
def test_planted_position_bias_is_found_and_estimated() -> None:
    table = make_preferences(
        n_prompts=600, n_humans=6, humans_per_pair=2, first_slot_rate={"human_02": 0.7}, seed=11
    )
    result = position_bias(table)
    rows = {r.annotator: r for r in result.by_annotator}
    biased = rows["human_02"]
    assert biased.flag is True and biased.ci95 is not None
    assert biased.ci95[0] <= 0.7 <= biased.ci95[1]
    assert biased.first_slot_rate == pytest.approx(0.7, abs=0.04)
    assert [r.annotator for r in result.by_annotator if r.flag] == ["human_02"]
    ref = stats.binomtest(biased.n_first, biased.n)
    assert biased.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    p_values = np.array([rows[name].p_value for name in sorted(rows)])
    assert [rows[name].p_holm for name in sorted(rows)] == pytest.approx(holm(p_values))


def test_position_by_hand() -> None:
    from labelaudit.preferences import from_columns

    table = from_columns(
        prompt=["p"] * 6,
        first=["a", "b", "a", "b", "a", "a"],
        second=["b", "a", "b", "a", "b", "b"],
        choice=["first", "first", "second", "second", "tie", "first"],
        annotator=["x", "x", "y", "y", "x", "z"],
        order_known=[True, True, True, True, True, False],
    )
    result = position_bias(table)
    assert (result.overall.n, result.overall.n_first) == (4, 2)
    orders = {r.annotator: r for r in both_orders(table)}
    assert orders["x"].biased_to_first == 1.0 and orders["x"].consistency == 0.0
    assert orders["y"].biased_to_second == 1.0
    assert set(orders) == {"x", "y"}


def test_no_known_order_gives_a_reason() -> None:
    table = read_preferences(DATA / "mtbench", format="mtbench")
    result = position_bias(table)
    assert result.overall.first_slot_rate is None
    assert result.overall.reason == "no decisive verdict with a known display order"
    assert result.by_annotator == [] and result.both_orders == []


# --------------------------------------------------------------------------- LLMBar
def _stat(text: str) -> float:
    """``"95 / 100 = 95.0%"`` or ``"95.5%"`` -> 0.95 / 0.955."""
    return float(text.split("=")[-1].strip().rstrip("%")) / 100


def test_llmbar_positional_agreement_and_accuracy_equal_statistics_json() -> None:
    table = read_preferences(DATA / "llmbar", format="llmbar")
    checked = 0
    for stats_file in sorted((DATA / "llmbar").rglob("statistics.json")):
        published = json.loads(stats_file.read_text())
        judge, subset = stats_file.parent.parent.name, stats_file.parent.parent.parent.name
        part = table.filter(table.meta["subset"] == subset)
        consistency = {r.annotator: r for r in both_orders(part)}[judge]
        accuracy = {r.annotator: r for r in gold_accuracy(part)}[judge]
        n = consistency.n_items
        assert consistency.consistency == pytest.approx(_stat(published["equal"]), abs=1e-12)
        assert accuracy.accuracy == pytest.approx(_stat(published["correct_average"]), abs=5e-4)
        assert round(accuracy.accuracy * 100, 1) == round(
            _stat(published["correct_average"]) * 100, 1
        )
        assert accuracy.both_correct == pytest.approx(_stat(published["correct_both"]), abs=1e-12)
        assert accuracy.n == 2 * n and consistency.error == 0.0
        checked += 1
    assert checked == 10


def test_llmbar_first_slot_rates_as_in_the_notes() -> None:
    table = read_preferences(DATA / "llmbar", format="llmbar")
    expected = {
        ("Natural", "ChatGPT"): 60.5,
        ("Manual", "ChatGPT"): 73.9,
        ("Manual", "GPT-4"): 54.3,
        ("Neighbor", "GPT-4"): 51.1,
    }
    for (subset, judge), rate in expected.items():
        part = table.filter(table.meta["subset"] == subset)
        row = {r.annotator: r for r in position_bias(part).by_annotator}[judge]
        assert round(100 * row.first_slot_rate, 1) == rate
    overall = {r.annotator: r for r in position_bias(table).by_annotator}
    assert overall["ChatGPT"].flag is True and overall["GPT-4"].flag is False


# --------------------------------------------------------------------------- length
def test_planted_length_preference_is_found_and_estimated() -> None:
    table = make_preferences(
        n_prompts=800,
        n_humans=4,
        humans_per_pair=2,
        length_coef=0.8,
        skill_spread=0.0,
        tie_rate=0.1,
        seed=7,
    )
    result = length_bias(table)
    assert result.flag is True and result.ci95 is not None
    logit = result.logistic
    # the planted coefficient on the estimator's scale (its RMS over decisive votes)
    first = table.response_length[table.first_codes].astype(float)
    second = table.response_length[table.second_codes].astype(float)
    planted_scale = np.sqrt(np.mean((first - second) ** 2))
    truth = 0.8 * logit["scale_chars"] / planted_scale
    assert logit["ci95"][0] <= truth <= logit["ci95"][1]
    assert logit["intercept_se"] is not None and abs(logit["intercept"]) < 3 * logit["intercept_se"]
    # P(prefer longer): the model's expectation given these lengths lies in the CI
    decisive = (table.choice == FIRST) | (table.choice == SECOND)
    unequal = decisive & (first != second)
    z = np.abs(first - second)[unequal] / planted_scale
    expected = float(np.mean(1 / (1 + np.exp(-0.8 * z))))
    assert result.ci95[0] <= expected <= result.ci95[1]


def test_length_logit_matches_statsmodels() -> None:
    import statsmodels.api as sm

    table = make_preferences(
        n_prompts=300, length_coef=0.5, position_logit={"human_01": 0.6}, seed=2
    )
    result = length_logit(table)
    first = table.response_length[table.first_codes].astype(float)
    second = table.response_length[table.second_codes].astype(float)
    use = (table.choice == FIRST) | (table.choice == SECOND)
    diff = (first - second)[use]
    x = np.column_stack([np.ones(diff.size), diff / np.sqrt(np.mean(diff**2))])
    ref = sm.Logit((table.choice[use] == FIRST).astype(float), x).fit(disp=0)
    assert result["coef"] == pytest.approx(ref.params[1], rel=1e-8)
    assert result["se"] == pytest.approx(ref.bse[1], rel=1e-6)
    assert result["intercept"] == pytest.approx(ref.params[0], rel=1e-8)


def test_lc_win_rate_properties() -> None:
    columns = make_preference_columns(n_prompts=500, n_models=4, length_coef=1.0, seed=4)
    table = make_preferences(n_prompts=500, n_models=4, length_coef=1.0, seed=4)
    groups = length_bias(table).length_controlled
    assert [g["raters"] for g in groups] == ["human"]
    models = {m["model"]: m for m in groups[0]["models"]}
    skill = columns["skill"]
    assert isinstance(skill, dict)
    order = sorted(models, key=lambda m: skill[m])
    rates = [models[m]["lc_win_rate"] for m in order]
    assert rates == sorted(rates)  # LC win rates follow the planted strengths
    for m in models.values():
        assert m["ci95"][0] < m["lc_win_rate"] < m["ci95"][1]


def test_pandalm_humans_prefer_longer_responses() -> None:
    from labelaudit.datasets import dataset_path

    table = read_preferences(dataset_path("pandalm"), format="pandalm")
    result = length_bias(table)
    n = longer = 0  # brute force over the JSON records
    for record in json.loads(dataset_path("pandalm").read_text()):
        sizes = len(str(record["response1"])), len(str(record["response2"]))
        for name in ("annotator1", "annotator2", "annotator3"):
            if record[name] in (1, 2) and sizes[0] != sizes[1]:
                n += 1
                longer += sizes[record[name] - 1] > sizes[2 - record[name]]
    assert (result.n, result.n_longer) == (n, longer) == (2649, 1769)
    assert result.flag is True and result.logistic["coef"] > 0


def test_length_needs_texts() -> None:
    table = read_preferences(DATA / "mtbench", format="mtbench")
    result = length_bias(table)
    assert result.p_prefer_longer is None and result.n == 0
    assert result.logistic["reason"] is not None
