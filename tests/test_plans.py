"""Plans before data: review plans against a published table, MIL-STD-105E, kappa/ICC
sample sizes against closed forms and simulation, gold allocation, review scoring, CLI."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.exceptions import UsageError
from labelaudit.plans import (
    draw_review_sample,
    plan_gold,
    plan_pilot,
    plan_review,
    score_review,
    simulate_half_widths,
    single_accept_probability,
)
from labelaudit.plans.milstd105e import code_letter, lookup
from labelaudit.plans.pilot import cohen_variance, icc_items

runner = CliRunner()
Z = float(stats.norm.ppf(0.975))

# Kenett, Zacks & Gedeck (2023), Industrial Statistics: A Computer-Based Approach with
# Python, section 11.2: single sampling plans for N = 100, alpha = beta = 0.05,
# hypergeometric (p0, pt, n, c); the table of the book's chapter 11 notebook.
KENETT_N100 = [
    (0.01, 0.05, 65, 1),
    (0.01, 0.08, 46, 1),
    (0.01, 0.11, 36, 1),
    (0.01, 0.14, 29, 1),
    (0.01, 0.17, 24, 1),
    (0.01, 0.20, 20, 1),
    (0.01, 0.23, 18, 1),
    (0.01, 0.26, 16, 1),
    (0.01, 0.29, 14, 1),
    (0.01, 0.32, 13, 1),
    (0.03, 0.05, 92, 3),
    (0.03, 0.08, 71, 3),
    (0.03, 0.11, 56, 3),
    (0.03, 0.14, 37, 2),
    (0.03, 0.17, 31, 2),
    (0.03, 0.20, 27, 2),
    (0.03, 0.23, 24, 2),
    (0.03, 0.26, 21, 2),
    (0.03, 0.29, 19, 2),
    (0.03, 0.32, 13, 1),
]


@pytest.mark.parametrize(("aql", "ltpd", "n", "c"), KENETT_N100)
def test_published_hypergeometric_plans(aql: float, ltpd: float, n: int, c: int) -> None:
    single = plan_review(100, aql, ltpd, alpha=0.05, beta=0.05).single
    assert single is not None
    assert (single.n, single.c) == (n, c)


#: MIL-STD-105E (1989) Table II-A, page 19: the (Ac, Re) cells of each row, left to right
#: (arrows left out), and the sample size of each code letter.
_TABLE_II_A_ROWS = {
    "A": (2, [0, 1, 2, 3, 5, 7, 10, 14, 21, 30]),
    **{
        k: (n, [0, 1, 2, 3, 5, 7, 10, 14, 21, 30, 44])
        for k, n in zip("BCDE", (3, 5, 8, 13), strict=True)
    },
    **{
        k: (n, [0, 1, 2, 3, 5, 7, 10, 14, 21])
        for k, n in zip("FGHJKLMNPQ", (20, 32, 50, 80, 125, 200, 315, 500, 800, 1250), strict=True)
    },
    "R": (2000, [1, 2, 3, 5, 7, 10, 14, 21]),
}


def test_mil_std_105e_table_ii_a_row_by_row() -> None:
    """Every row of the published Table II-A: its plans (the cells that are not arrows, in
    AQL order), read as the cells whose plan is the row's own letter."""
    from labelaudit.plans.milstd105e import AQLS, plan_for_letter

    for letter, (n, accept) in _TABLE_II_A_ROWS.items():
        own = [
            plan["c"] for aql in AQLS if (plan := plan_for_letter(letter, aql))["letter"] == letter
        ]
        assert own == accept, letter
        assert plan_for_letter(letter, AQLS[-1])["n"] <= n
    # arrows: F at 100 points up to E (n = 13, 21/22); R at 0.015 points up (no row below)
    assert plan_for_letter("F", 100.0) == {"letter": "E", "n": 13, "c": 21, "r": 22}
    assert plan_for_letter("G", 65.0) == {"letter": "F", "n": 20, "c": 21, "r": 22}
    assert plan_for_letter("R", 0.015)["letter"] != "R"
    assert plan_for_letter("R", 0.025) == {"letter": "R", "n": 2000, "c": 1, "r": 2}
    assert plan_for_letter("Q", 0.010) == {"letter": "Q", "n": 1250, "c": 0, "r": 1}


def test_mil_std_105e_examples() -> None:
    # Montgomery, Introduction to Statistical Quality Control, sec. 15.4: N = 2000, AQL
    # 0.65%, general level II -> code letter K, n = 125, Ac = 2, Re = 3.
    assert lookup(2000, 0.0065) == {
        "code_letter": "K",
        "level": "II",
        "aql_percent": 0.65,
        "letter": "K",
        "n": 125,
        "c": 2,
        "r": 3,
        "full_inspection": False,
    }
    assert [code_letter(size) for size in (8, 9, 500, 501, 500_001)] == list("ABHJQ")
    assert lookup(120, 0.01)["n"] == 13  # F at 1.0%: arrow up to E (13, 0/1)
    assert lookup(120, 0.015)["n"] == 32  # F at 1.5%: arrow down to G (32, 1/2)
    assert lookup(5, 0.065) == lookup(5, 0.065) and lookup(5, 0.065)["c"] == 0


def _meets(n: int, c: int, size: int | None, aql: float, ltpd: float) -> bool:
    good = single_accept_probability(n, c, aql, batch_size=size)
    bad = single_accept_probability(n, c, ltpd, batch_size=size)
    return bool(good >= 0.95 - 1e-12 and bad <= 0.10 + 1e-12)


@settings(max_examples=25, deadline=None)
@given(
    st.integers(50, 2000),
    st.floats(0.0, 0.05),
    st.floats(0.02, 0.3),
)
def test_single_plan_is_smallest_and_largest_c(size: int, aql: float, gap: float) -> None:
    ltpd = min(aql + gap, 1.0)
    plan = plan_review(size, aql, ltpd).single
    if plan is None:
        return
    assert _meets(plan.n, plan.c, size, aql, ltpd)
    assert not _meets(plan.n, plan.c + 1, size, aql, ltpd)
    for n in range(max(1, plan.n - 3), plan.n):
        assert not any(_meets(n, c, size, aql, ltpd) for c in range(n + 1))


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 400), st.integers(0, 10), st.one_of(st.none(), st.integers(400, 5000)))
def test_oc_curve_decreases_in_p_and_increases_in_c(n: int, c: int, size: int | None) -> None:
    p = np.linspace(0, 1, 51)
    low = single_accept_probability(n, c, p, batch_size=size)
    high = single_accept_probability(n, c + 1, p, batch_size=size)
    assert np.all(np.diff(low) <= 1e-12)
    assert np.all(high >= low - 1e-12)


def test_review_json_contract_and_double_plan() -> None:
    report = plan_review(5000, 0.01, 0.05).to_dict()
    assert {"n", "c", "p_accept_at_aql", "p_accept_at_ltpd"} <= set(report["single"])
    assert report["single"]["p_accept_at_aql"] >= 0.95
    assert report["single"]["p_accept_at_ltpd"] <= 0.10
    double = report["double"]
    assert double["p_accept_at_aql"] >= 0.95 and double["p_accept_at_ltpd"] <= 0.10
    assert double["asn_at_aql"] < report["single"]["n"]
    assert all({"p", "p_accept"} <= set(row) for row in report["oc_curve"])
    assert report["mil_std_105e"]["code_letter"] == "L"


@pytest.mark.parametrize(("aql", "ltpd"), [(0.05, 0.05), (0.06, 0.05)], ids=["equal", "above"])
def test_aql_not_below_ltpd_is_a_usage_error(aql: float, ltpd: float) -> None:
    with pytest.raises(UsageError, match="AQL must be below the LTPD"):
        plan_review(100, aql, ltpd)


def test_cohen_variance_equals_bloch_kraemer_binary_closed_form() -> None:
    for kappa in (0.2, 0.5, 0.7, 0.9):
        for pi in (0.1, 0.3, 0.5):
            closed = (1 - kappa) * (
                (1 - kappa) * (1 - 2 * kappa) + kappa * (2 - kappa) / (2 * pi * (1 - pi))
            )
            assert cohen_variance(kappa, [pi, 1 - pi]) == pytest.approx(closed, rel=1e-9)


def test_bonett_icc_example() -> None:
    # Bonett (2002): rho = 0.8, k = 2, 95% CI of width 0.2 needs 51 items.
    assert icc_items(0.8, 2, 0.1, Z) == 51


@pytest.mark.parametrize("metric", ["cohen", "fleiss"])
def test_simulated_half_width_matches_closed_form(metric: str) -> None:
    v = cohen_variance(0.6, [0.3, 0.7])  # Fleiss with 2 raters ~ Scott's pi, same limit
    rows = simulate_half_widths(metric, 0.6, [0.3, 0.7], 2, [600], replicates=1500, seed=3)
    closed = Z * np.sqrt(v / 600)
    assert abs(rows[0]["half_width"] - closed) < 3.5 * rows[0]["mc_error"]


def test_simulated_icc_half_width_matches_bonett() -> None:
    from labelaudit.agreement.icc import icc

    rng = np.random.default_rng(5)
    rho, k, n = 0.7, 3, 150
    values = []
    for _ in range(400):
        x = rng.normal(0, np.sqrt(rho), (n, 1)) + rng.normal(0, np.sqrt(1 - rho), (n, k))
        values.append(icc(x).forms["ICC(1,1)"]["value"])
    sd = np.std(values, ddof=1)
    bonett = np.sqrt(2 * (1 - rho) ** 2 * (1 + (k - 1) * rho) ** 2 / (k * (k - 1) * (n - 1)))
    assert abs(sd - bonett) < 3.5 * sd / np.sqrt(2 * 399)


def test_pilot_rows_and_bad_input() -> None:
    plan = plan_pilot(
        "fleiss", 0.7, 0.1, annotators=[2, 3], categories=3, items=[50, 200], replicates=200
    )
    d = plan.to_dict()
    assert [r["annotators"] for r in d["needed"]] == [2, 3]
    assert len(d["tradeoff"]) == 4 and all(r["mc_error"] > 0 for r in d["tradeoff"])
    assert plan_pilot("cohen", 0.7, 0.05, annotators=[2, 3]).needed[1]["items"] is None
    with pytest.raises(UsageError, match="half-width"):
        plan_pilot("alpha", 0.7, 0.0)
    with pytest.raises(UsageError, match="sum to 1"):
        plan_pilot("alpha", 0.7, 0.05, prevalence=[0.3, 0.6])


def test_gold_plan_meets_both_risks_and_sprt_is_shorter() -> None:
    d = plan_gold(0.9, 0.8, power=0.9, alpha=0.05).to_dict()
    n, r = d["fixed"]["n"], d["fixed"]["flag_at_errors"]
    assert stats.binom.sf(r - 1, n, 0.1) <= 0.05
    assert stats.binom.sf(r - 1, n, 0.2) >= 0.9
    assert d["sprt"]["expected_n_good"] < n and d["sprt"]["expected_n_bad"] < n


def _rows(size: int) -> list[dict]:
    rng = np.random.default_rng(0)
    return [
        {"item": f"i{i}", "annotator": f"a{i % 4}", "label": str(rng.integers(3))}
        for i in range(size)
    ]


def test_stratified_sample_is_reproducible_and_weighted() -> None:
    rows = _rows(1000)
    first = draw_review_sample(rows, 100, stratify="annotator", seed=7)
    assert first == draw_review_sample(rows, 100, stratify="annotator", seed=7)
    assert len(first) == 100
    assert sum(r["weight"] for r in first) == pytest.approx(1000)


def test_horvitz_thompson_is_unbiased_under_the_design() -> None:
    rows = _rows(400)
    wrong = {r["item"]: r["annotator"] == "a0" or r["item"].endswith("7") for r in rows}
    truth = np.mean(list(wrong.values()))
    estimates = []
    for seed in range(300):
        sample = draw_review_sample(rows, 40, stratify="annotator", seed=seed)
        verdicts = np.array([wrong[r["item"]] for r in sample])
        estimates.append(score_review(sample, verdicts, plan_n=40, plan_c=5).error_rate)
    assert abs(np.mean(estimates) - truth) < 4 * np.std(estimates) / np.sqrt(300)


def test_cli_plan_review_json_and_exit_2() -> None:
    result = runner.invoke(
        app,
        [
            "plan",
            "review",
            "--batch-size",
            "100",
            "--aql",
            "0.01",
            "--ltpd",
            "0.08",
            "--beta",
            "0.05",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["single"]["n"] == 46
    bad = runner.invoke(
        app, ["plan", "review", "--batch-size", "100", "--aql", "0.1", "--ltpd", "0.05"]
    )
    assert bad.exit_code == 2
    assert bad.stderr.strip().count("\n") == 0 and "AQL" in bad.stderr
    for args in (
        ["plan", "pilot", "--half-width", "-1"],
        ["plan", "pilot", "--prevalence", "0.2,0.2"],
    ):
        out = runner.invoke(app, args)
        assert out.exit_code == 2 and out.stderr.startswith("error:")


def test_cli_review_score_exit_codes(tmp_path: Path) -> None:
    sample = draw_review_sample(_rows(200), 20, seed=1)
    path = tmp_path / "review.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in sample))
    decisions = tmp_path / "decisions.csv"
    lines = ["item,annotator,correct"]
    lines += [
        f"{r['item']},{r['annotator']},{'false' if i < 2 else 'true'}" for i, r in enumerate(sample)
    ]
    decisions.write_text("\n".join(lines) + "\n")
    ok = runner.invoke(
        app,
        [
            "review-score",
            str(path),
            str(decisions),
            "--plan-n",
            "20",
            "--plan-c",
            "2",
            "--format",
            "json",
        ],
    )
    assert ok.exit_code == 0 and json.loads(ok.stdout)["decision"] == "accept"
    rejected = runner.invoke(
        app, ["review-score", str(path), str(decisions), "--plan-n", "20", "--plan-c", "1"]
    )
    assert rejected.exit_code == 1
    decisions.write_text("item,annotator,correct\ni0,a0,maybe\n")
    bad = runner.invoke(
        app, ["review-score", str(path), str(decisions), "--plan-n", "20", "--plan-c", "1"]
    )
    assert bad.exit_code == 2 and "decision" in bad.stderr


def test_review_gate_in_the_pipeline(tmp_path: Path) -> None:
    from labelaudit.project import init_project
    from labelaudit.project.check import check_project
    from labelaudit.project.config import Gate

    project = init_project(tmp_path / "p", categories=("pos", "neg"))
    batch = tmp_path / "w1.csv"
    rows = [f"i{i},a{j},{'pos' if (i + j) % 3 else 'neg'}" for i in range(60) for j in range(3)]
    batch.write_text("item,annotator,label\n" + "\n".join(rows) + "\n")
    from labelaudit.project import ingest_batch

    ingest_batch(project, batch, batch="w1")
    out = tmp_path / "review.jsonl"
    drawn = runner.invoke(
        app,
        [
            "sample",
            "--batch",
            "w1",
            "--size",
            "20",
            "--stratify",
            "annotator",
            "--out",
            str(out),
            "--project",
            str(project.root),
        ],
    )
    assert drawn.exit_code == 0, drawn.stderr
    sample = [json.loads(line) for line in out.read_text().splitlines()]
    decisions = tmp_path / "decisions.jsonl"
    decisions.write_text(
        "".join(
            json.dumps({"item": r["item"], "annotator": r["annotator"], "correct": i > 3}) + "\n"
            for i, r in enumerate(sample)
        )
    )
    scored = runner.invoke(
        app,
        [
            "review-score",
            str(out),
            str(decisions),
            "--plan-n",
            "20",
            "--plan-c",
            "1",
            "--record",
            "--project",
            str(project.root),
        ],
    )
    assert scored.exit_code == 1  # 4 wrong > c = 1
    gate = Gate(name="review", metric="review_accepted", op="==", threshold=1.0)
    project = replace(project, config=replace(project.config, gates=(gate,)))
    result = check_project(project, batch="w1")
    assert not result.passed and result.gates[0].value == 0.0
