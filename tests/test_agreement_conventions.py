"""The stated statistical conventions of the agreement report (issue 15; docs/agreement.md).

Asymmetric weights read in rater order (irrCAC table functions, Gwet 2014 ch. 4; Fleiss,
Cohen & Everitt 1969), the continuous-ratings rule, intervals bounded to each
coefficient's range, the exact Clopper-Pearson (1934) bound at perfect agreement, the SE
divisors, one set of JSON keys, and the bootstrap and category limits (issue 23).
"""

from __future__ import annotations

import json
import math
from fractions import Fraction as F
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from typer.testing import CliRunner

from labelaudit import agreement_report
from labelaudit.agreement.alpha import krippendorff_alpha
from labelaudit.agreement.api import MAX_CATEGORIES
from labelaudit.cli.app import app
from labelaudit.exceptions import UsageError
from labelaudit.intervals import MAX_BOOT, bootstrap_item_weights, check_n_boot
from labelaudit.table import read_annotations

runner = CliRunner()

#: Gwet's (2014) cont3x3abstractors table (rows = rater 1), asymmetric off the diagonal.
TABLE = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]
#: An asymmetric weight matrix: w[k, l] != w[l, k].
W = [[F(1), F(1, 2), F(0)], [F(0), F(1), F(3, 4)], [F(1, 4), F(0), F(1)]]


def table_of(cells: list[list[int]], raters: tuple[str, str] = ("r1", "r2")) -> Any:
    """Two raters, one item per rating pair of the contingency table (rows = raters[0])."""
    q = len(cells)
    first, second = np.divmod(np.repeat(np.arange(q * q), np.ravel(cells)), q)
    items = [f"i{i:04d}" for i in range(first.size)]
    return read_annotations(
        pa.table(
            {
                "item": items * 2,
                "annotator": [raters[0]] * first.size + [raters[1]] * first.size,
                "label": [str(x) for x in [*first, *second]],
            }
        ),
        categories=",".join(str(k) for k in range(q)),
    )


def irrcac_table(cells: list[list[int]], w: list[list[F]]) -> dict[str, tuple[F, F]]:
    """(value, variance) of irrCAC 0.4.4's table functions (``gwet``, ``bp``, ``pa2``) and
    of Fleiss-Cohen-Everitt (1969) for Cohen's kappa, in exact arithmetic. Variances
    divide by n (the table formulas)."""
    q, n = len(cells), sum(map(sum, cells))
    p = [[F(c, n) for c in row] for row in cells]
    rows = [sum(p[k]) for k in range(q)]
    cols = [sum(p[k][m] for k in range(q)) for m in range(q)]
    pi = [(rows[k] + cols[k]) / 2 for k in range(q)]
    pa = sum(w[k][m] * p[k][m] for k in range(q) for m in range(q))
    tw = sum(map(sum, w))
    cells_kl = [(k, m) for k in range(q) for m in range(q)]
    out: dict[str, tuple[F, F]] = {}
    pe = tw * sum(x * (1 - x) for x in pi) / (q * (q - 1))
    ac = (pa - pe) / (1 - pe)
    sum1 = sum(
        p[k][m] * (w[k][m] - 2 * (1 - ac) * tw * (1 - (pi[k] + pi[m]) / 2) / (q * (q - 1))) ** 2
        for k, m in cells_kl
    )
    out["gwet_ac"] = (ac, (sum1 - (pa - 2 * (1 - ac) * pe) ** 2) / (n * (1 - pe) ** 2))
    pe = tw / q**2
    sum_w2 = sum(p[k][m] * w[k][m] ** 2 for k, m in cells_kl)
    out["brennan_prediger"] = ((pa - pe) / (1 - pe), (sum_w2 - pa**2) / (n * (1 - pe) ** 2))
    out["percent_agreement"] = (pa, (sum_w2 - pa**2) / n)
    pe = sum(w[k][m] * rows[k] * cols[m] for k, m in cells_kl)
    kappa = (pa - pe) / (1 - pe)
    row_w = [sum(w[k][m] * cols[m] for m in range(q)) for k in range(q)]
    col_w = [sum(w[k][m] * rows[k] for k in range(q)) for m in range(q)]
    sum1 = sum(p[k][m] * (w[k][m] - (row_w[k] + col_w[m]) * (1 - kappa)) ** 2 for k, m in cells_kl)
    out["cohen_kappa"] = (kappa, (sum1 - (kappa - pe * (1 - kappa)) ** 2) / (n * (1 - pe) ** 2))
    return out


# ------------------------------------------------------------------ asymmetric weights
@pytest.mark.parametrize("reverse", [False, True])
def test_asymmetric_weights_read_in_rater_order(reverse: bool) -> None:
    """Two raters: every coefficient reads w[rater 1's label, rater 2's label], as irrCAC's
    table functions do (Gwet 2014 ch. 4); Cohen's SE is FCE's. The raw-ratings SEs divide
    by n - 1, the table formulas by n: SE^2 (n - 1) / n equals irrCAC's variance."""
    cells = TABLE
    order = ["r2", "r1"] if reverse else None  # r2 first: its labels are the rows
    oracle_cells = [list(r) for r in zip(*cells, strict=True)] if reverse else cells
    report = agreement_report(
        table_of(cells), weights_matrix=np.array(W, dtype=float), rater_order=order
    )
    n = sum(map(sum, cells))
    for name, (value, variance) in irrcac_table(oracle_cells, W).items():
        metric = report.metrics[name]
        assert metric.value == pytest.approx(float(value), abs=1e-12), name
        scale = 1.0 if name == "cohen_kappa" else (n - 1) / n
        assert metric.se**2 * scale == pytest.approx(float(variance), abs=1e-12), name
    assert report.config["rater_order"] == (order or ["r1", "r2"])
    pairwise = report.pairwise[0]["cohen_kappa"]
    assert pairwise == pytest.approx(report.metrics["cohen_kappa"].value, abs=1e-12)


def test_asymmetric_weights_are_no_longer_symmetrised() -> None:
    """The old (W + W')/2 reading gives other values: the test above can fail."""
    w = np.array(W, dtype=float)
    ordered = agreement_report(table_of(TABLE), weights_matrix=w, diagnose=False)
    symmetric = agreement_report(table_of(TABLE), weights_matrix=(w + w.T) / 2, diagnose=False)
    for name in ("percent_agreement", "gwet_ac", "brennan_prediger", "fleiss_kappa"):
        assert abs(ordered.metrics[name].value - symmetric.metrics[name].value) > 1e-3, name
    assert "rater_order" not in symmetric.config


def test_asymmetric_bootstrap_replicates_use_the_ordered_definition() -> None:
    w = np.array(W, dtype=float)
    point = agreement_report(table_of(TABLE), weights_matrix=w, diagnose=False)
    boot = agreement_report(
        table_of(TABLE), weights_matrix=w, ci="bootstrap", n_boot=200, diagnose=False
    )
    for name in ("percent_agreement", "gwet_ac", "brennan_prediger", "cohen_kappa"):
        low, high = boot.metrics[name].ci95
        assert low <= point.metrics[name].value <= high, name


def test_asymmetric_weights_with_three_annotators_exit_2(tmp_path: Path) -> None:
    rows = ["item,annotator,label"] + [
        f"{i},{a},{(i + j) % 3}" for i in range(6) for j, a in enumerate("abc")
    ]
    data = tmp_path / "three.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    weights = tmp_path / "w.txt"
    weights.write_text("1 0.5 0\n0 1 0.75\n0.25 0 1\n", encoding="utf-8")
    table = read_annotations(data)
    with pytest.raises(UsageError, match="asymmetric"):
        agreement_report(table, weights_matrix=np.loadtxt(weights))
    result = runner.invoke(app, ["agreement", str(data), "--weights-file", str(weights)])
    assert result.exit_code == 2
    assert "asymmetric" in result.output and "3 annotators" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    bad = runner.invoke(app, ["agreement", str(data), "--annotators", "a,b"])
    assert bad.exit_code == 2 and "every annotator" in bad.output


# ------------------------------------------------------------------- continuous rule
def interval_table(values: np.ndarray, categories: str | None = None) -> Any:
    n = values.shape[0]
    return read_annotations(
        pa.table(
            {
                "item": [str(i) for i in range(n)] * 2,
                "annotator": ["a"] * n + ["b"] * n,
                "label": [str(v) for v in np.concatenate([values[:, 0], values[:, 1]])],
            }
        ),
        level="interval",
        categories=categories,
    )


def test_few_values_without_categories_are_categorical() -> None:
    """README: kappas are null only with no declared categories AND > 100 values."""
    rng = np.random.default_rng(0)
    values = rng.integers(1, 4, (30, 2))
    bare = agreement_report(interval_table(values), diagnose=False)
    declared = agreement_report(interval_table(values, "1,2,3"), diagnose=False)
    assert not interval_table(values).is_continuous
    for name in ("fleiss_kappa", "gwet_ac", "cohen_kappa"):
        assert bare.metrics[name].value is not None, name
        assert bare.metrics[name].value == declared.metrics[name].value, name


def test_many_values_without_categories_are_continuous() -> None:
    values = np.arange(300.0).reshape(150, 2)
    continuous = interval_table(values)
    assert continuous.is_continuous and continuous.n_categories == 300
    report = agreement_report(continuous, diagnose=False)
    assert report.metrics["fleiss_kappa"].value is None
    assert "continuous ratings" in (report.metrics["fleiss_kappa"].reason or "")
    assert report.metrics["krippendorff_alpha"].value is not None
    declared = interval_table(values, ",".join(str(v) for v in np.arange(300.0)))
    assert not declared.is_continuous  # declared categories: the kappas apply
    assert agreement_report(declared, diagnose=False).metrics["fleiss_kappa"].value is not None


# --------------------------------------------------------- intervals inside the range
README_LABELS = """item,annotator,label
1,ann,pos
1,bob,pos
1,cy,neg
2,ann,neg
2,bob,neg
2,cy,neg
3,ann,pos
3,bob,neutral
4,ann,neutral
4,bob,neutral
4,cy,neutral
"""


def test_percent_agreement_interval_bounded_to_unit_range(tmp_path: Path) -> None:
    """The README quickstart's Gwet t interval for percent agreement reached -0.212."""
    path = tmp_path / "labels.csv"
    path.write_text(README_LABELS, encoding="utf-8")
    report = agreement_report(read_annotations(path, categories="pos,neutral,neg"))
    percent = report.metrics["percent_agreement"]
    half = stats.t.ppf(0.975, 3) * percent.se
    assert percent.value - half < 0 < percent.value + half - 1  # both source ends outside
    assert percent.ci95 == (0.0, 1.0)
    assert percent.ci_method == "analytic: Gwet 2014 t(n-1); bounded to [0, 1]"
    fleiss = report.metrics["fleiss_kappa"]  # chance-corrected: only the upper end is bounded
    assert fleiss.ci95[0] == pytest.approx(fleiss.value - stats.t.ppf(0.975, 3) * fleiss.se)
    assert fleiss.ci95[1] == 1.0 and fleiss.ci_method.endswith("; bounded at 1")


def test_cohen_normal_interval_bounded_at_one() -> None:
    report = agreement_report(table_of([[9, 1], [0, 6]]), diagnose=False)
    kappa = report.metrics["cohen_kappa"]
    z = stats.norm.ppf(0.975)
    assert kappa.value + z * kappa.se > 1 and kappa.ci95[1] == 1.0
    assert kappa.ci95[0] == pytest.approx(kappa.value - z * kappa.se, abs=1e-15)
    assert kappa.ci_method == "analytic: Fleiss-Cohen-Everitt 1969 normal; bounded at 1"
    inside = agreement_report(table_of(TABLE), diagnose=False).metrics["gwet_ac"]
    assert inside.ci_method == "analytic: Gwet 2014 t(n-1)"  # no bound needed, none named


def test_p_value_vs_chance() -> None:
    """Percent agreement against Fleiss' chance agreement: the t test (n - 1 df) of
    (p_a - p_e) / (1 - p_e) = 0 with Gwet's (2014) linearisation SE."""
    report = agreement_report(table_of(TABLE), diagnose=False)
    percent, fleiss = report.metrics["percent_agreement"], report.metrics["fleiss_kappa"]
    n = sum(map(sum, TABLE))
    expected = 2 * stats.t.sf(fleiss.value / fleiss.se, n - 1)
    assert percent.extra["p_value_vs_chance"] == pytest.approx(expected, rel=1e-12)
    assert percent.extra["p_e_vs_chance"] == fleiss.extra["p_e"]
    assert percent.extra["p_value"] < percent.extra["p_value_vs_chance"]  # old test kept
    no_better = agreement_report(table_of([[10, 10], [10, 10]]), diagnose=False)
    assert no_better.metrics["percent_agreement"].extra["p_value_vs_chance"] > 0.5
    boot = agreement_report(table_of(TABLE), ci="bootstrap", n_boot=50, diagnose=False)
    assert "p_value_vs_chance" not in boot.metrics["percent_agreement"].extra


# ---------------------------------------------------------------- perfect agreement
def test_perfect_agreement_gets_the_exact_clopper_pearson_bound() -> None:
    """AC1 = 1, SE 0, CI [1, 1] from 10 items: ci95 stays the formula's; ci95_exact is the
    Clopper & Pearson (1934) interval of 10 agreements in 10, carried to each coefficient."""
    proportion = pytest.importorskip("statsmodels.stats.proportion")
    report = agreement_report(table_of([[5, 0], [0, 5]]), diagnose=False)
    low, high = proportion.proportion_confint(10, 10, alpha=0.05, method="beta")
    assert low == pytest.approx(0.025**0.1, abs=1e-12) and high == 1.0
    ac1 = report.metrics["gwet_ac"]
    assert (ac1.value, ac1.se, ac1.ci95) == (1.0, 0.0, (1.0, 1.0))
    for name, metric in report.metrics.items():
        p_e = metric.extra["p_e"]
        exact = metric.extra["ci95_exact"]
        assert exact[0] == pytest.approx((low - p_e) / (1 - p_e), abs=1e-12), name
        assert exact[1] == 1.0 and "Clopper-Pearson (1934)" in metric.extra["note"], name
    assert report.metrics["percent_agreement"].extra["ci95_exact"][0] == pytest.approx(low)
    assert report.metrics["gwet_ac"].extra["ci95_exact"][0] == pytest.approx(2 * low - 1)
    assert report.metrics["krippendorff_alpha"].extra["ci95_exact"][1] == 1.0
    imperfect = agreement_report(table_of(TABLE), diagnose=False)
    assert all("ci95_exact" not in m.extra for m in imperfect.metrics.values())


# --------------------------------------------------------------- divisors and keys
def test_se_divisors_as_documented() -> None:
    """Same complete two-rater data: Scott's pi (table formula, divisor n) and Fleiss'
    kappa (raw ratings, divisor n - 1) are the same coefficient, SEs in ratio
    sqrt(n / (n - 1)); Cohen's FCE SE also divides by n (docs/agreement.md)."""
    report = agreement_report(table_of(TABLE), diagnose=False)
    n = sum(map(sum, TABLE))
    scott, fleiss = report.metrics["scott_pi"], report.metrics["fleiss_kappa"]
    assert scott.value == pytest.approx(fleiss.value, abs=1e-12)
    assert scott.se * math.sqrt(n / (n - 1)) == pytest.approx(fleiss.se, abs=1e-12)


def test_json_keys_agree_across_coefficients() -> None:
    report = agreement_report(table_of(TABLE), diagnose=False).to_dict()
    for name, metric in report["metrics"].items():
        assert {"p_value", "p_a", "p_e"} <= set(metric), name
    cohen = report["metrics"]["cohen_kappa"]
    assert cohen["p_value"] == cohen["p"] and cohen["p_a"] == cohen["p_o"]
    scott = report["metrics"]["scott_pi"]
    assert scott["p_a"] == scott["p_o"]


def test_alpha_observed_and_expected_disagreement(vectors: dict[str, Any]) -> None:
    """Krippendorff (2011), section A: n = 20 values, o_01 = o_10 = 4, n_0 = 14, n_1 = 6,
    D_o = (o_01 + o_10) / n = 2/5, D_e = 2 n_0 n_1 / (n (n - 1)) = 42/95, alpha = 2/21."""
    data = np.array(vectors["krippendorff2011_A_binary_2obs"]["data"]).T
    counts = np.stack([(data == 0).sum(1), (data == 1).sum(1)], axis=1)
    alpha = krippendorff_alpha(counts, np.array([0.0, 1.0]))
    assert alpha.extra["D_o"] == pytest.approx(2 / 5, abs=1e-15)
    assert alpha.extra["D_e"] == pytest.approx(42 / 95, abs=1e-15)
    assert alpha.value == pytest.approx(1 - (2 / 5) / (42 / 95), abs=1e-15)
    assert alpha.value == pytest.approx(2 / 21, abs=1e-15)
    t_value = alpha.value / alpha.se
    assert alpha.extra["p_value"] == pytest.approx(2 * stats.t.sf(t_value, 9), rel=1e-12)


# ----------------------------------------------------------- resource limits (issue 23)
def test_n_boot_is_capped(tmp_path: Path) -> None:
    table = table_of(TABLE)
    assert check_n_boot(MAX_BOOT) == MAX_BOOT
    with pytest.raises(UsageError, match="at most 100,000"):
        agreement_report(table, ci="bootstrap", n_boot=MAX_BOOT + 1)
    with pytest.raises(UsageError, match="at most 100,000"):
        bootstrap_item_weights(10, 10**9, 0)  # refused before anything is drawn
    path = tmp_path / "labels.csv"
    path.write_text(README_LABELS, encoding="utf-8")
    result = runner.invoke(
        app, ["agreement", str(path), "--ci", "bootstrap", "--n-boot", "1000000000"]
    )
    assert result.exit_code == 2 and "at most 100,000" in result.output
    assert "Traceback" not in result.output


def test_n_boot_cap_covers_preferences_and_judge() -> None:
    data = Path(__file__).parent / "data"
    too_many = str(MAX_BOOT + 1)
    for args in (
        ["preferences", str(data / "preferences" / "llmbar"), "--from", "llmbar"],
        ["judge", "audit", str(data / "judge" / "llmbar_natural_verdicts.jsonl")],
    ):
        result = runner.invoke(app, [*args, "--n-boot", too_many])
        assert result.exit_code == 2, result.output
        assert "at most 100,000" in result.output and "Traceback" not in result.output


def test_category_limit(tmp_path: Path) -> None:
    """A million categories tried to allocate 7.28 TiB; past 1,000 the report refuses."""
    n = 1_000_000
    million = read_annotations(
        pa.table(
            {
                "item": np.repeat(np.arange(n // 2), 2).astype(str),
                "annotator": np.tile(["a", "b"], n // 2),
                "label": np.arange(n).astype(str),
            }
        )
    )
    assert million.n_categories == n
    with pytest.raises(UsageError, match="1,000,000 categories"):
        agreement_report(million)
    rows = [f"{i},{a},c{2 * i + j}" for i in range(501) for j, a in enumerate("ab")]
    path = tmp_path / "many.csv"
    path.write_text("\n".join(["item,annotator,label", *rows]) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["agreement", str(path), "--format", "json"])
    assert result.exit_code == 2 and f"{MAX_CATEGORIES:,} categories" in result.output
    assert "1,002 categories" in result.output and "Traceback" not in result.output
    at_limit = tmp_path / "limit.csv"
    at_limit.write_text("\n".join(["item,annotator,label", *rows[:-2]]) + "\n", encoding="utf-8")
    table = read_annotations(at_limit)
    assert table.n_categories == MAX_CATEGORIES
    assert agreement_report(table, diagnose=False).metrics["gwet_ac"].value is not None


def test_report_json_stays_strict(tmp_path: Path) -> None:
    report = agreement_report(table_of([[5, 0], [0, 5]])).to_dict()
    text = json.dumps(report, allow_nan=False)
    assert '"ci95_exact"' in text and '"note"' in text


# ------------------------------------------------------------------- store migration
def test_migration_3_recomputes_stored_agreement(tmp_path: Path) -> None:
    """A store written under the old conventions (interval level without categories gave
    null kappas; percent agreement's interval reached below 0) is recomputed on open."""
    from labelaudit.project import Store, ingest_batch, init_project

    project = init_project(tmp_path / "proj", level="interval")
    rng = np.random.default_rng(2)
    rows = [f"{i},{a},{rng.integers(1, 4)}" for i in range(5) for a in "abc"]
    batch = tmp_path / "b.csv"
    batch.write_text("\n".join(["item,annotator,label", *rows]) + "\n", encoding="utf-8")
    ingest_batch(project, batch, batch="w1")
    query = (
        "SELECT kind, metric, value, se, ci_low, ci_high, reason FROM batch_metrics ORDER BY 1, 2"
    )
    with Store.open(project.store_path) as store:
        current = store.execute(query).fetchall()
        stored = json.loads(store.result(1, "agreement") or "{}")
        old = dict(stored)
        old["metrics"] = {
            name: {k: v for k, v in m.items() if k not in ("p_value_vs_chance", "D_o")}
            for name, m in stored["metrics"].items()
        }
        store.execute(
            "UPDATE batch_metrics SET value = NULL, ci_low = -0.2 WHERE kind = 'agreement'"
        )
        store.execute(
            "UPDATE batch_results SET result = ? WHERE kind = 'agreement'", (json.dumps(old),)
        )
        store.execute("DELETE FROM schema_migrations WHERE version = 3")
    with Store.open(project.store_path) as store:  # migrates
        assert 3 in [m["version"] for m in store.migrations()]  # re-applied
        assert store.execute(query).fetchall() == current
        assert json.loads(store.result(1, "agreement") or "{}")["metrics"] == stored["metrics"]
    direct = agreement_report(read_annotations(batch, level="interval")).to_dict()["metrics"]
    assert stored["metrics"] == direct
    assert direct["fleiss_kappa"]["value"] is not None  # three values: categorical
    assert direct["percent_agreement"]["ci95"][0] >= 0.0
