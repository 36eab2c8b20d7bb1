"""Kappa family (percent agreement, Fleiss, Gwet AC1/AC2, Brennan-Prediger, Conger, Cohen,
Scott): published values, an exact Fraction re-implementation, and peer libraries."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelaudit.agreement.chance import chance_corrected, family_values
from labelaudit.agreement.cohen import cohen_kappa, cohen_values, scott_pi
from labelaudit.agreement.conger import conger_kappa, conger_values
from labelaudit.agreement.weights import weight_matrix
from labelaudit.table import read_annotations


def units_matrix(data: list[list[Any]]) -> np.ndarray:
    return np.array([[np.nan if x is None else x for x in row] for row in data], float)


def codes_of(matrix: np.ndarray, categories: np.ndarray) -> dict[str, Any]:
    """Counts and long codes of a units x raters matrix over the given categories."""
    items, raters = np.nonzero(~np.isnan(matrix))
    labels = np.searchsorted(categories, matrix[items, raters])
    q = categories.size
    counts = np.bincount(items * q + labels, minlength=matrix.shape[0] * q).reshape(-1, q)
    return {
        "counts": counts,
        "items": items,
        "raters": raters,
        "labels": labels,
        "n_raters": matrix.shape[1],
    }


def close(actual: float | None, expected: float, digits: int) -> bool:
    return actual is not None and abs(actual - expected) <= 0.5 * 10**-digits + 1e-12


# ----------------------------------------------------------------------------- golden
def test_gwet_raw4raters_values_ses_and_cis(vectors: dict[str, Any]) -> None:
    vector = vectors["gwet_raw4raters_12x4_missing"]
    expected = vector["expected"]
    data = codes_of(units_matrix(vector["data"]), np.arange(1.0, 6.0))
    result = chance_corrected(data["counts"], np.eye(5))
    conger = conger_kappa(
        data["counts"], data["items"], data["raters"], data["labels"], 4, np.eye(5)
    )
    pairs = {
        "percent_agreement": "percent_agreement",
        "gwet_ac": "gwet_ac1",
        "fleiss_kappa": "fleiss_kappa",
        "brennan_prediger": "brennan_prediger",
    }
    for ours, theirs in pairs.items():
        assert close(result[ours].value, expected[theirs], 5), ours
        assert close(result[ours].se, expected[f"{theirs}_se"], 5), ours
    for ours, theirs in (
        ("gwet_ac", "gwet_ac1"),
        ("fleiss_kappa", "fleiss"),
        ("brennan_prediger", "brennan_prediger"),
    ):
        assert close(result[ours].ci95[0], expected[f"{theirs}_ci95"][0], 3), ours
        assert result[ours].ci95[1] == 1.0
    assert close(result["gwet_ac"].extra["p_e"], expected["gwet_ac1_pe"], 7)
    assert close(result["fleiss_kappa"].extra["p_e"], expected["fleiss_pe"], 7)
    assert close(conger.value, expected["conger_kappa"], 5)
    assert close(conger.se, expected["conger_kappa_se"], 5)
    assert close(conger.extra["p_e"], expected["conger_pe"], 7)
    assert close(conger.ci95[0], expected["conger_ci95"][0], 3)


@pytest.mark.parametrize(
    "scheme", ["quadratic", "linear", "ordinal", "ratio", "circular", "bipolar", "radical"]
)
def test_gwet_raw4raters_weighted(vectors: dict[str, Any], scheme: str) -> None:
    vector = vectors["gwet_raw4raters_12x4_missing"]
    expected = vector["computed_only"]["weighted_coefficient_values"][scheme]
    categories = np.arange(1.0, 6.0)
    data = codes_of(units_matrix(vector["data"]), categories)
    w = weight_matrix(scheme, categories)
    result = chance_corrected(data["counts"], w)
    conger = conger_kappa(data["counts"], data["items"], data["raters"], data["labels"], 4, w)
    assert close(result["gwet_ac"].value, expected["gwet"], 5)
    assert close(result["fleiss_kappa"].value, expected["fleiss"], 5)
    assert close(result["brennan_prediger"].value, expected["brennan_prediger"], 5)
    assert close(conger.value, expected["conger"], 5)


def test_gwet_raw5observers(vectors: dict[str, Any]) -> None:
    vector = vectors["gwet_raw5observers_15x5_missing"]
    expected = vector["computed_only"]
    data = codes_of(units_matrix(vector["data"]), np.arange(0.0, 4.0))
    result = chance_corrected(data["counts"], np.eye(4))
    conger = conger_kappa(
        data["counts"], data["items"], data["raters"], data["labels"], 5, np.eye(4)
    )
    assert close(result["gwet_ac"].value, expected["gwet_ac1"], 5)
    assert close(result["gwet_ac"].se, expected["gwet_ac1_se"], 5)
    assert close(result["fleiss_kappa"].se, expected["fleiss_kappa_se"], 5)
    assert close(result["brennan_prediger"].value, expected["brennan_prediger"], 5)
    assert close(result["percent_agreement"].value, expected["percent_agreement"], 7)
    assert close(conger.value, expected["conger_kappa"], 5)
    assert close(conger.se, expected["conger_kappa_se"], 5)


def test_gwet_distribution_inputs(vectors: dict[str, Any]) -> None:
    six = vectors["gwet_distrib_6raters"]
    result = chance_corrected(np.array(six["data"]), np.eye(5))
    expected = six["expected"]
    for ours, theirs in (
        ("gwet_ac", "gwet_ac1"),
        ("fleiss_kappa", "fleiss_kappa"),
        ("brennan_prediger", "brennan_prediger"),
    ):
        assert close(result[ours].value, expected[theirs], 7)
        assert close(result[ours].se, expected[f"{theirs}_se"], 7)
    assert close(result["percent_agreement"].value, expected["percent_agreement"], 7)
    four = vectors["gwet_dist4cat_ac1"]
    result = chance_corrected(np.array(four["data"]), np.eye(3))
    assert close(result["gwet_ac"].value, four["expected"]["gwet_ac1"], 7)
    assert close(result["gwet_ac"].se, four["expected"]["gwet_ac1_se"], 9)
    assert close(result["gwet_ac"].extra["p_e"], four["expected"]["pe"], 9)


def test_fleiss_published_exact(vectors: dict[str, Any]) -> None:
    diagnoses = vectors["fleiss1971_diagnoses_30x6"]
    data = codes_of(units_matrix(diagnoses["data"]), np.arange(1.0, 6.0))
    value = chance_corrected(data["counts"], np.eye(5))["fleiss_kappa"].value
    assert value == pytest.approx(
        float(Fraction(diagnoses["exact"]["fleiss_kappa"]["fraction"])), abs=1e-12
    )
    conger = conger_kappa(
        data["counts"], data["items"], data["raters"], data["labels"], 6, np.eye(5)
    )
    assert close(conger.value, diagnoses["computed_only"]["conger_exact_kappa_R_irr"], 9)
    wiki = vectors["wikipedia_fleiss_kappa_10x14"]
    result = chance_corrected(np.array(wiki["data"]), np.eye(5))
    assert result["fleiss_kappa"].value == pytest.approx(4211 / 20059, abs=1e-12)
    assert result["percent_agreement"].value == pytest.approx(172 / 455, abs=1e-12)
    assert result["fleiss_kappa"].extra["p_e"] == pytest.approx(417 / 1960, abs=1e-12)


def test_cohen_published(vectors: dict[str, Any]) -> None:
    wiki = cohen_kappa(np.array(vectors["wikipedia_cohen_kappa_2x2"]["data"]))
    assert wiki.value == pytest.approx(0.4, abs=1e-12)
    assert wiki.extra["p_o"] == pytest.approx(0.7) and wiki.extra["p_e"] == pytest.approx(0.5)
    sas = vectors["sas_procfreq_3x3_kappa_ase"]
    expected = sas["expected"]
    result = cohen_kappa(np.array(sas["data"]))
    assert result.value == pytest.approx(107 / 221, abs=1e-12)
    assert close(result.se, expected["ase"], 4)
    assert close(result.extra["se_h0"], expected["ase_h0"], 4)
    assert close(result.extra["z"], expected["z_h0"], 4)
    assert close(result.extra["p"], expected["p_two_sided"], 4)
    assert close(result.ci95[0], expected["ci95"][0], 4)
    assert close(result.ci95[1], expected["ci95"][1], 4)
    linear = cohen_kappa(np.array(sas["data"]), weight_matrix("linear", np.arange(3.0)))
    assert close(linear.value, expected["weighted_kappa_linear_cicchetti_allison"], 4)
    assert close(linear.se, expected["weighted_ase"], 4)
    assert close(linear.extra["se_h0"], expected["weighted_ase_h0"], 4)
    assert close(linear.ci95[0], expected["weighted_ci95"][0], 4)


def test_two_rater_tables(vectors: dict[str, Any]) -> None:
    gwet = vectors["gwet_cont3x3abstractors"]
    table = np.array(gwet["data"])
    expected = gwet["expected"]
    assert close(cohen_kappa(table).value, expected["cohen_kappa"], 7)
    assert close(cohen_kappa(table).se, expected["cohen_kappa_se"], 8)
    assert close(scott_pi(table).value, expected["scott_pi"], 7)
    assert close(scott_pi(table).se, expected["scott_pi_se"], 8)
    quadratic = weight_matrix("quadratic", np.arange(1.0, 4.0))
    assert close(
        cohen_kappa(table, quadratic).value,
        gwet["computed_only"]["quadratic_weights"]["cohen_kappa"],
        10,
    )
    artstein = vectors["artstein_poesio2008_2coders_100items"]
    table = np.array(artstein["data"])
    assert cohen_kappa(table).value == pytest.approx(121 / 151, abs=1e-12)
    assert scott_pi(table).value == pytest.approx(2393 / 2993, abs=1e-12)
    four = vectors["gwet_cont4x4diagnosis"]
    assert close(
        cohen_kappa(np.array(four["data"])).value, four["computed_only"]["cohen_kappa"], 10
    )
    assert close(
        cohen_kappa(np.array(four["data"])).se, four["computed_only"]["cohen_kappa_se"], 10
    )
    assert close(scott_pi(np.array(four["data"])).value, four["computed_only"]["scott_pi"], 10)


def test_table_route_reproduces_two_rater_ac1_bp(vectors: dict[str, Any]) -> None:
    """Expanding a contingency table into raw ratings gives Gwet's table AC1, BP and PA."""
    gwet = vectors["gwet_cont3x3abstractors"]
    table = np.array(gwet["data"])
    a, b = np.divmod(np.repeat(np.arange(9), table.ravel()), 3)
    counts = np.zeros((a.size, 3))
    np.add.at(counts, (np.arange(a.size), a), 1)
    np.add.at(counts, (np.arange(a.size), b), 1)
    result = chance_corrected(counts, np.eye(3))
    assert close(result["gwet_ac"].value, gwet["expected"]["gwet_ac1"], 7)
    assert close(result["brennan_prediger"].value, gwet["expected"]["brennan_prediger"], 7)
    assert close(result["percent_agreement"].value, gwet["expected"]["percent_agreement"], 7)


def test_weighted_kappa_uses_declared_scale(vectors: dict[str, Any]) -> None:
    """R irr / sklearn weight by observed positions; we weight by the declared 1..6 scale."""
    anxiety = vectors["r_irr_anxiety_20x3"]
    matrix = units_matrix(anxiety["data"])
    expected = anxiety["computed_only"]
    categories = np.arange(1.0, 7.0)
    labels = np.searchsorted(categories, matrix[:, 1:3]).astype(int)
    table = np.bincount(labels[:, 0] * 6 + labels[:, 1], minlength=36).reshape(6, 6)
    linear = cohen_kappa(table, weight_matrix("linear", categories)).value
    quadratic = cohen_kappa(table, weight_matrix("quadratic", categories)).value
    assert linear == pytest.approx(expected["sklearn_linear_r2_r3_labels_1to6"], abs=1e-12)
    assert quadratic == pytest.approx(expected["sklearn_quadratic_r2_r3_labels_1to6"], abs=1e-12)
    assert cohen_kappa(table).value == pytest.approx(expected["kappa2_r2_r3_unweighted"], abs=1e-10)
    data = codes_of(matrix, categories)
    fleiss = chance_corrected(data["counts"], np.eye(6))["fleiss_kappa"].value
    assert fleiss == pytest.approx(expected["kappam_fleiss"], abs=1e-10)


# ------------------------------------------------------------- exact Fraction oracle
def fraction_family(
    matrix: list[list[int | None]], q: int, w: list[list[Fraction]]
) -> dict[str, Fraction | None]:
    """Gwet (2014) raw-ratings formulas in exact rational arithmetic (independent oracle)."""
    n, r = len(matrix), len(matrix[0])
    rows = [row for row in matrix if any(x is not None for x in row)]
    n = len(rows)
    counts = [[sum(1 for x in row if x == k) for k in range(q)] for row in rows]
    ri = [sum(c) for c in counts]
    pair_terms = []
    for c, m in zip(counts, ri, strict=True):
        if m >= 2:
            s = sum(c[k] * (sum(w[k][j] * c[j] for j in range(q)) - 1) for k in range(q))
            pair_terms.append(Fraction(s, 1) / (m * (m - 1)))
    if not pair_terms:
        return {}
    pa = sum(pair_terms, Fraction(0)) / len(pair_terms)
    pi = [sum(Fraction(c[k], m) for c, m in zip(counts, ri, strict=True)) / n for k in range(q)]
    total_w = sum(sum(row) for row in w)
    pes = {
        "fleiss_kappa": sum(w[k][j] * pi[k] * pi[j] for k in range(q) for j in range(q)),
        "gwet_ac": total_w * sum(p * (1 - p) for p in pi) / (q * (q - 1)),
        "brennan_prediger": total_w / (q * q),
    }
    shares = []
    for g in range(r):
        given = [row[g] for row in matrix if row[g] is not None]
        shares.append([Fraction(given.count(k), len(given)) for k in range(q)])
    mean = [sum(s[k] for s in shares) / r for k in range(q)]
    s2 = [
        [(sum(s[k] * s[j] for s in shares) - r * mean[k] * mean[j]) / (r - 1) for j in range(q)]
        for k in range(q)
    ]
    pes["conger_kappa"] = sum(
        w[k][j] * (mean[k] * mean[j] - s2[k][j] / r) for k in range(q) for j in range(q)
    )
    out: dict[str, Fraction | None] = {"percent_agreement": pa}
    for name, pe in pes.items():
        out[name] = None if pe == 1 else (pa - pe) / (1 - pe)
    return out


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 5).flatmap(
        lambda r: st.lists(
            st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=r, max_size=r),
            min_size=2,
            max_size=12,
        )
    ),
    st.sampled_from(["identity", "linear", "quadratic"]),
)
def test_matches_exact_fraction_oracle(matrix: list[list[int | None]], scheme: str) -> None:
    q = 4
    for g in range(len(matrix[0])):  # every rater rates something (as in a long table)
        if all(row[g] is None for row in matrix):
            matrix[0][g] = g % q
    w_float = weight_matrix(scheme, np.arange(q, dtype=float))
    w_frac = [
        [
            Fraction(1 if k == j else 0)
            if scheme == "identity"
            else (
                1 - Fraction(abs(k - j), q - 1)
                if scheme == "linear"
                else 1 - Fraction((k - j) ** 2, (q - 1) ** 2)
            )
            for j in range(q)
        ]
        for k in range(q)
    ]
    exact = fraction_family(matrix, q, w_frac)
    numeric = units_matrix(matrix)
    keep = ~np.all(np.isnan(numeric), axis=1)
    data = codes_of(numeric[keep], np.arange(q, dtype=float))
    ours = {k: v.value for k, v in chance_corrected(data["counts"], w_float).items()}
    ours["conger_kappa"] = conger_kappa(
        data["counts"], data["items"], data["raters"], data["labels"], numeric.shape[1], w_float
    ).value
    if not exact:
        assert all(v is None for v in ours.values())
        return
    for name, value in exact.items():
        if value is None:
            assert ours[name] is None, name
        else:
            assert ours[name] == pytest.approx(float(value), abs=1e-12), name


# -------------------------------------------------------------------- peer libraries
@pytest.mark.parametrize("seed", range(6))
def test_fleiss_equals_statsmodels_on_complete_data(seed: int) -> None:
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    rng = np.random.default_rng(seed)
    n, r, q = rng.integers(20, 200), rng.integers(2, 11), rng.integers(2, 7)
    truth = rng.integers(0, q, n)
    matrix = np.where(rng.random((n, r)) < 0.7, truth[:, None], rng.integers(0, q, (n, r)))
    counts = np.stack([(matrix == k).sum(1) for k in range(q + 1)], 1)  # one unused category
    ours = chance_corrected(counts, np.eye(q + 1))["fleiss_kappa"].value
    assert ours == pytest.approx(inter_rater.fleiss_kappa(counts), abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("scheme", ["identity", "linear", "quadratic"])
def test_cohen_equals_sklearn_and_statsmodels(seed: int, scheme: str) -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    rng = np.random.default_rng(seed)
    n, q = rng.integers(20, 300), rng.integers(2, 7)
    a = rng.integers(0, q, n)
    b = np.where(rng.random(n) < 0.6, a, rng.integers(0, q, n))
    table = np.bincount(a * (q + 1) + b, minlength=(q + 1) ** 2).reshape(q + 1, q + 1)
    w = weight_matrix(scheme, np.arange(q + 1, dtype=float))
    ours = cohen_kappa(table, w)
    sk_weights = None if scheme == "identity" else scheme
    expected = metrics.cohen_kappa_score(a, b, labels=list(range(q + 1)), weights=sk_weights)
    assert ours.value == pytest.approx(expected, abs=1e-9)
    sm = inter_rater.cohens_kappa(table, wt=None if scheme == "identity" else scheme)
    assert ours.value == pytest.approx(sm.kappa, abs=1e-9)
    if scheme == "identity":  # statsmodels' weighted ASE uses another convention
        assert ours.se == pytest.approx(sm.std_kappa, abs=1e-9)
        assert ours.extra["se_h0"] == pytest.approx(sm.std_kappa0, abs=1e-9)


# ---------------------------------------------------------------- edge cases, bootstrap
def test_undefined_cases_are_null_with_reason() -> None:
    one_category = chance_corrected(np.array([[3], [2]]), np.eye(1))
    assert one_category["fleiss_kappa"].value is None
    assert "chance agreement is 1" in (one_category["fleiss_kappa"].reason or "")
    assert one_category["percent_agreement"].value == 1.0
    singles = chance_corrected(np.array([[1, 0], [0, 1]]), np.eye(2))
    assert all(m.value is None and "nothing pairable" in (m.reason or "") for m in singles.values())
    declared = chance_corrected(np.array([[2, 0], [2, 0]]), np.eye(2))  # 2nd category unused
    assert declared["gwet_ac"].value == 1.0 and declared["brennan_prediger"].value == 1.0
    assert declared["fleiss_kappa"].value is None
    assert cohen_kappa(np.zeros((2, 2))).value is None


def test_correct_negative_values() -> None:
    """Total disagreement is -1 for Cohen and -0.5 for Fleiss over 3 categories (not bugs)."""
    assert cohen_kappa(np.array([[0, 5], [5, 0]])).value == pytest.approx(-1.0)
    split = np.array([[1, 1, 1]] * 3)
    assert chance_corrected(split, np.eye(3))["fleiss_kappa"].value == pytest.approx(-0.5)


def test_bootstrap_reweighting_equals_point_estimate(vectors: dict[str, Any]) -> None:
    vector = vectors["gwet_raw4raters_12x4_missing"]
    data = codes_of(units_matrix(vector["data"]), np.arange(1.0, 6.0))
    n = data["counts"].shape[0]
    ones = np.ones((3, n))
    values = family_values(data["counts"], np.eye(5), ones)
    point = chance_corrected(data["counts"], np.eye(5))
    for name, draws in values.items():
        assert np.allclose(draws, point[name].value, atol=1e-12)
    rng = np.random.default_rng(1)
    weights = rng.integers(0, 3, (4, n)).astype(float)
    together = conger_values(
        data["counts"], data["items"], data["raters"], data["labels"], 4, np.eye(5), weights
    )
    for row, value in zip(weights, together, strict=True):
        rows = np.repeat(np.arange(n), row.astype(int))
        matrix = units_matrix(vector["data"])[rows]
        expanded = codes_of(matrix, np.arange(1.0, 6.0))
        alone = conger_kappa(
            expanded["counts"],
            expanded["items"],
            expanded["raters"],
            expanded["labels"],
            4,
            np.eye(5),
        ).value
        assert value == pytest.approx(alone, abs=1e-12)


def test_cohen_values_equal_tables() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 3, 50), rng.integers(0, 3, 50)
    codes = a * 3 + b
    weights = rng.integers(0, 3, (5, 50)).astype(float)
    both = cohen_values(codes, 3, np.eye(3), weights)
    for row, kappa, pi in zip(weights, both["cohen_kappa"], both["scott_pi"], strict=True):
        table = np.bincount(codes, weights=row, minlength=9).reshape(3, 3)
        assert kappa == pytest.approx(cohen_kappa(table).value, abs=1e-12)
        assert pi == pytest.approx(scott_pi(table).value, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_row_order_does_not_change_values(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, r = int(rng.integers(3, 30)), int(rng.integers(2, 6))
    rows = [
        (f"i{i}", f"a{g}", str(rng.integers(0, 3)))
        for i in range(n)
        for g in range(r)
        if rng.random() < 0.8
    ]
    if len({row[1] for row in rows}) < 2:
        return
    order = rng.permutation(len(rows))
    results = []
    for arrangement in (range(len(rows)), order):
        picked = [rows[i] for i in arrangement]
        table = read_annotations(
            pa.table(
                {
                    "item": [p[0] for p in picked],
                    "annotator": [p[1] for p in picked],
                    "label": [p[2] for p in picked],
                }
            ),
            categories="0,1,2",
        )
        counts = table.to_item_category_counts()
        values = {k: v.value for k, v in chance_corrected(counts, np.eye(3)).items()}
        values["conger"] = conger_kappa(
            counts,
            table.item_codes,
            table.annotator_codes,
            table.label_codes,
            table.n_annotators,
            np.eye(3),
        ).value
        results.append(values)
    for name, value in results[0].items():
        other = results[1][name]
        assert (value is None and other is None) or value == pytest.approx(other, abs=1e-12)
