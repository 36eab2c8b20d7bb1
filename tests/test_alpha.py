"""Krippendorff's alpha: published vectors, peers, an exact Fraction oracle and properties."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelaudit.agreement.alpha import (
    REASON_NO_VARIATION,
    REASON_NOTHING_PAIRABLE,
    alpha_continuous,
    alpha_from_counts,
    coincidences,
    distance_matrix,
    krippendorff_alpha,
    krippendorff_alpha_continuous,
)
from labelaudit.exceptions import UsageError

REFERENCE = Path(__file__).parent / "data" / "alpha_reference.json"
VECTORS: dict[str, dict[str, Any]] = {
    v["id"]: v for v in json.loads(REFERENCE.read_text())["vectors"]
}
LEVELS = ("nominal", "ordinal", "interval", "ratio")
SETTINGS = settings(max_examples=100, deadline=None)


# ----------------------------------------------------------------------------- helpers
def units_of(vector: dict[str, Any]) -> list[list[Any]]:
    """The ratings of each unit (None = missing) from any of the bundled layouts."""
    data = vector["data"]
    if vector["layout"] == "coders_x_units":
        return [list(unit) for unit in zip(*data, strict=True)]
    if vector["layout"] == "units_x_raters":
        return [list(row) for row in data]
    assert vector["layout"] == "triples"
    items: dict[str, list[Any]] = {}
    for _coder, item, label in data:
        items.setdefault(item, []).append(label)
    return list(items.values())


def table_of(vector: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(counts, category_values): numbers keep their value, strings get 1..q in order."""
    categories = vector["categories"]
    numeric = all(isinstance(c, (int, float)) for c in categories)
    values = np.array(categories if numeric else range(1, len(categories) + 1), dtype=float)
    if vector["layout"] == "units_x_category_counts":
        return np.array(vector["data"]), values
    index = {c: k for k, c in enumerate(categories)}
    units = units_of(vector)
    counts = np.zeros((len(units), len(categories)), dtype=np.int64)
    for u, ratings in enumerate(units):
        for label in ratings:
            if label is not None:
                counts[u, index[label]] += 1
    return counts, values


def exact_coincidences(counts: np.ndarray) -> list[list[Fraction]]:
    """o_ck by enumerating the ordered pairs of ratings of every unit (Krippendorff 2011)."""
    q = counts.shape[1]
    o = [[Fraction(0)] * q for _ in range(q)]
    for row in counts:
        unit = [k for k in range(q) for _ in range(int(row[k]))]
        for i, a in enumerate(unit):
            for j, b in enumerate(unit):
                if i != j:
                    o[a][b] += Fraction(1, len(unit) - 1)
    return o


def exact_alpha(counts: np.ndarray, values: Sequence[float], level: str) -> Fraction | None:
    """Textbook alpha (Krippendorff 2011) in rational arithmetic, by pair enumeration."""
    q = len(values)
    vals = [Fraction(v) for v in values]
    o = exact_coincidences(counts)
    n_c = [sum(row, Fraction(0)) for row in o]
    n = sum(n_c, Fraction(0))
    rank = sorted(range(q), key=lambda k: vals[k])

    def d(c: int, k: int) -> Fraction:
        if level == "nominal":
            return Fraction(int(c != k))
        if level == "ordinal":
            lo, hi = sorted((rank.index(c), rank.index(k)))
            between = sum((n_c[rank[g]] for g in range(lo, hi + 1)), Fraction(0))
            return (between - (n_c[c] + n_c[k]) / 2) ** 2
        if level == "interval":
            return (vals[c] - vals[k]) ** 2
        total = vals[c] + vals[k]
        return Fraction(0) if total == 0 else ((vals[c] - vals[k]) / total) ** 2

    pairs = [(c, k) for c in range(q) for k in range(q)]
    observed = sum((o[c][k] * d(c, k) for c, k in pairs), Fraction(0))
    expected = sum((n_c[c] * n_c[k] * d(c, k) for c, k in pairs), Fraction(0))
    if n == 0 or expected == 0:
        return None
    return 1 - (n - 1) * observed / expected


def gwet_distance(name: str, x: np.ndarray) -> np.ndarray:
    """1 - W for Gwet's irrCAC weight schemes (irrCAC weights.py), x sorted category values."""
    dx = x[:, None] - x[None, :]
    lo, hi = x.min(), x.max()
    if name == "linear":
        return np.abs(dx) / (hi - lo)
    if name == "radical":
        return np.sqrt(np.abs(dx)) / np.sqrt(hi - lo)
    if name == "ordinal":
        k = np.arange(x.size)
        nkl = np.abs(k[:, None] - k[None, :]) + 1
        raw = nkl * (nkl - 1) / 2
    elif name == "circular":
        raw = np.sin(np.pi * dx / (hi - lo + 1)) ** 2
    else:  # bipolar
        s = x[:, None] + x[None, :]
        den = (s - 2 * lo) * (2 * hi - s)
        raw = np.divide(dx**2, den, out=np.zeros_like(dx), where=dx != 0)
    return raw / raw.max()


def random_ratings(
    rng: np.random.Generator, n_units: int, n_raters: int, q: int, missing: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(raters x units matrix with NaN, counts with unused categories, category values)."""
    values = np.sort(rng.choice(np.arange(1, 40), size=q + 2, replace=False)).astype(float)
    used = values[rng.choice(q + 2, size=q, replace=False)]  # two declared, never used
    truth = rng.integers(0, q, n_units)
    codes = np.where(
        rng.random((n_raters, n_units)) < 0.6, truth, rng.integers(0, q, (n_raters, n_units))
    )
    data = used[codes]
    data[rng.random(data.shape) < missing] = np.nan
    counts = np.stack([(data == v).sum(axis=0) for v in values], axis=1)
    return data, counts, values


def close(a: float | None, b: float, tol: float = 1e-12) -> bool:
    return a is not None and abs(a - b) <= tol * max(1.0, abs(b))


counts_strategy = st.integers(2, 5).flatmap(
    lambda q: st.lists(
        st.lists(st.integers(0, 3), min_size=q, max_size=q), min_size=1, max_size=12
    ).map(lambda rows: np.array(rows, dtype=np.int64))
)
values_strategy = st.lists(st.integers(0, 30), min_size=5, max_size=5, unique=True)


# ----------------------------------------------------------------------------- golden
GOLDEN = [(vid, level) for vid, v in VECTORS.items() if "exact" in v for level in v["exact"]]


@pytest.mark.parametrize(("vid", "level"), GOLDEN)
def test_published_vectors_exact_and_rounded(vid: str, level: str) -> None:
    vector = VECTORS[vid]
    counts, values = table_of(vector)
    exact = Fraction(vector["exact"][level])
    assert exact_alpha(counts, values, level) == exact  # the oracle reproduces the rational
    value = alpha_from_counts(counts, values, level=level)
    assert isinstance(value, float)
    assert close(value, float(exact))
    result = krippendorff_alpha(counts, values, level=level)
    assert close(result.value, float(exact))
    if level in vector.get("expected", {}):
        tol = 0.5 * 10.0 ** -vector["expected_precision"]
        assert abs(value - vector["expected"][level]) <= tol


def test_single_rated_units_are_ignored() -> None:
    vector = VECTORS["nltk_foolswood_dress_alpha"]
    counts, values = table_of(vector)
    assert close(alpha_from_counts(counts[:2], values), -1 / 3)  # without dress3
    assert krippendorff_alpha(counts, values).extra["n_pairable_values"] == 5
    c, v = table_of(VECTORS["krippendorff2011_C_D_4obs_missing"])
    assert krippendorff_alpha(c, v).extra["n_pairable_values"] == 40  # unit 12 ignored


def test_gwet_raw4raters_values_se_ci() -> None:
    vector = VECTORS["gwet_raw4raters_12x4_missing"]
    counts, values = table_of(vector)
    expected, computed = vector["expected"], vector["computed"]
    tol = 0.5e-5
    result = krippendorff_alpha(counts, values)
    assert result.value is not None and result.se is not None and result.ci95 is not None
    assert abs(result.value - expected["nominal"]) <= tol
    assert abs(result.se - expected["nominal_se"]) <= tol
    assert [round(x, 3) for x in result.ci95] == expected["nominal_ci95"]
    # Gwet's source interval; its upper end passed 1 and irrCAC's min(1, .) bound applied
    assert result.ci_method == "analytic: Gwet 2014 t(n-1); bounded at 1"
    assert abs(result.extra["p_a"] - expected["p_a"]) <= tol
    assert abs(result.extra["p_e"] - expected["p_e"]) <= tol
    interval = krippendorff_alpha(counts, values, level="interval")
    assert interval.value is not None and interval.se is not None
    assert abs(interval.value - computed["interval"]) <= tol
    assert abs(interval.se - computed["interval_se"]) <= tol
    ratio = alpha_from_counts(counts, values, level="ratio")
    assert abs(ratio - computed["ratio"]) <= tol


@pytest.mark.parametrize("scheme", ["linear", "ordinal", "circular", "bipolar", "radical"])
def test_user_distance_reproduces_gwet_weighted_alpha(scheme: str) -> None:
    vector = VECTORS["gwet_raw4raters_12x4_missing"]
    counts, values = table_of(vector)
    d = gwet_distance(scheme, values)
    result = krippendorff_alpha(counts, values, distance=d)
    assert result.value is not None
    assert abs(result.value - vector["computed"]["gwet_weights"][scheme]) <= 0.5e-5
    assert close(alpha_from_counts(counts, values, distance=d), result.value)
    if scheme in vector["computed"]["gwet_weights_se"]:
        assert result.se is not None
        assert abs(result.se - vector["computed"]["gwet_weights_se"][scheme]) <= 0.5e-5


def test_gwet_raw5observers_and_distribution_se() -> None:
    vector = VECTORS["gwet_raw5observers_15x5_missing"]
    result = krippendorff_alpha(*table_of(vector))
    assert result.value is not None and result.se is not None
    assert abs(result.value - vector["computed"]["nominal"]) <= 0.5e-5
    assert abs(result.se - vector["computed"]["nominal_se"]) <= 0.5e-5
    vector = VECTORS["gwet_distrib_6raters"]
    result = krippendorff_alpha(*table_of(vector))
    assert result.value is not None and result.se is not None
    assert abs(result.value - vector["expected"]["nominal"]) <= 0.5e-7
    assert abs(result.extra["p_a"] - vector["expected"]["p_a"]) <= 0.5e-7
    assert abs(result.se - vector["computed"]["nominal_se"]) <= 0.5e-5


@pytest.mark.parametrize("level", LEVELS)
def test_r_irr_anxiety_exact(level: str) -> None:
    vector = VECTORS["r_irr_anxiety_20x3"]
    counts, values = table_of(vector)
    expected = vector["computed"][level]
    oracle = exact_alpha(counts, values, level)
    assert oracle is not None and close(float(oracle), expected)
    assert close(alpha_from_counts(counts, values, level=level), expected)
    if level in ("interval", "ratio"):
        unit, category = np.nonzero(counts)
        reps = counts[unit, category]
        codes, ratings = unit.repeat(reps), values[category.repeat(reps)]
        assert close(alpha_continuous(codes, ratings, counts.shape[0], level=level), expected)


# ----------------------------------------------------------------------------- edge values
def test_correct_negatives_and_zero() -> None:
    values = np.array([1.0, 2.0])
    assert close(alpha_from_counts([[1, 1], [1, 1]], values), -0.5)  # (A,B),(B,A)
    rare = np.array([[2, 0]] * 10 + [[1, 1]])  # one rare disagreement in 22 values
    assert alpha_from_counts(rare, values) == 0.0
    for n in (1, 3, 10):
        assert close(alpha_from_counts(np.ones((n, 2), dtype=int), values), -(n - 1) / n)


def test_undefined_cases_give_none_with_reason() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nothing = krippendorff_alpha([[1, 0], [0, 1], [0, 0]], [1, 2])
        one = krippendorff_alpha([[3, 0], [2, 0]], [1, 2], level="ordinal")
        cont = krippendorff_alpha_continuous([0, 0, 1, 1], [2.5, 2.5, 2.5, 2.5], 2)
        ratio = krippendorff_alpha_continuous([0, 1], [1.0, 2.0], 2, level="ratio")
        assert math.isnan(alpha_from_counts([[1, 0]], [1, 2]))
        assert math.isnan(alpha_continuous([0, 0, 1], [1.0, 1.0, 2.0], 2, level="ratio"))
    assert (nothing.value, nothing.reason) == (None, REASON_NOTHING_PAIRABLE)
    assert (one.value, one.reason) == (None, REASON_NO_VARIATION)
    assert (cont.value, cont.reason) == (None, REASON_NO_VARIATION)
    assert (ratio.value, ratio.reason) == (None, REASON_NOTHING_PAIRABLE)
    assert nothing.to_dict()["value"] is None


def test_se_options() -> None:
    counts, values = table_of(VECTORS["gwet_raw4raters_12x4_missing"])
    full = krippendorff_alpha(counts, values)
    bare = krippendorff_alpha(counts, values, se=False)
    assert bare.value == full.value and bare.se is None and bare.ci_method == "none"
    assert "p_a" in bare.extra and "p_e" in bare.extra
    finite = krippendorff_alpha(counts, values, n_population=24)  # 12 rated units: f = 1/2
    assert full.se is not None and finite.se is not None
    assert close(finite.se, full.se * math.sqrt(0.5))
    single = krippendorff_alpha([[1, 1], [1, 0]], [1, 2])
    assert single.value is not None and single.se is None and single.reason


def test_distance_matrix_levels() -> None:
    v = np.array([0.0, 1.0, 3.0])
    assert np.array_equal(distance_matrix(v, "nominal"), 1 - np.eye(3))
    assert np.array_equal(distance_matrix(v, "interval"), (v[:, None] - v[None, :]) ** 2)
    ratio = distance_matrix(v, "ratio")
    assert ratio[0, 0] == 0.0 and ratio[0, 1] == 1.0 and ratio[1, 2] == 0.25
    marg = np.array([9.0, 13.0, 10.0])
    ordinal = distance_matrix(v, "ordinal", marg)
    assert ordinal[0, 2] == ordinal[2, 0] == (9 + 13 + 10 - (9 + 10) / 2) ** 2
    assert ordinal[1, 1] == 0.0 and ordinal[0, 1] == ((9 + 13) / 2) ** 2
    unused = distance_matrix(np.array([0.0, 1.0, 2.0, 3.0]), "ordinal", np.array([9, 13, 0, 10]))
    assert np.array_equal(unused[np.ix_([0, 1, 3], [0, 1, 3])], ordinal)
    shuffled = distance_matrix(v[::-1], "ordinal", marg[::-1])
    assert np.array_equal(shuffled, ordinal[::-1, ::-1])


def test_coincidences_match_the_oracle() -> None:
    counts, _ = table_of(VECTORS["krippendorff2011_C_D_4obs_missing"])
    o = coincidences(counts)
    oracle = np.array([[float(x) for x in row] for row in exact_coincidences(counts)])
    assert np.allclose(o, oracle, rtol=0, atol=1e-12) and np.allclose(o, o.T)
    assert np.allclose(o.sum(axis=1), [9, 13, 10, 5, 3])  # n_c, Krippendorff (2011) sec. C


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: alpha_from_counts([[1, 1]], [1, 2], level="fuzzy"), "unknown level"),
        (lambda: alpha_from_counts([[-1, 2]], [1, 2]), "non-negative"),
        (lambda: alpha_from_counts([[1, 2]], [1, 2, 3]), "shape"),
        (lambda: alpha_from_counts([[1, 2]], [-1, 2], level="ratio"), "non-negative"),
        (lambda: alpha_from_counts([[1, 2]], [2, 2], level="ordinal"), "distinct"),
        (lambda: alpha_from_counts([[1, 2]], [1, 2], distance=[[0, 1], [2, 0]]), "symmetric"),
        (lambda: alpha_from_counts([[1, 2]], [1, 2], item_weights=[1, 1]), "item_weights"),
        (lambda: alpha_from_counts([[1, 2]], [1, 2], item_weights=[-1]), "non-negative"),
        (lambda: alpha_continuous([0, 3], [1.0, 2.0], 2), r"\[0, 2\)"),
        (lambda: alpha_continuous([0, 0], [1.0, np.nan], 1), "finite"),
        (lambda: alpha_continuous([0, 0], [1.0, 2.0], 1, level="ordinal"), "unknown level"),
        (lambda: alpha_continuous([0, 0], [-1.0, 2.0], 1, level="ratio"), "non-negative"),
    ],
)
def test_bad_input_raises_usage_error(call: Any, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        call()


# ----------------------------------------------------------------------------- peers
@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("level", LEVELS)
def test_matches_krippendorff_package(seed: int, level: str) -> None:
    rng = np.random.default_rng(seed)
    n_raters = 2 + seed % 9
    data, counts, values = random_ratings(rng, 30 + 7 * seed, n_raters, 2 + seed % 5, 0.3)
    ours = alpha_from_counts(counts, values, level=level)
    theirs = krippendorff.alpha(data, value_domain=values, level_of_measurement=level)
    assert abs(ours - theirs) <= 1e-9
    perm = rng.permutation(values.size)  # categories in any column order
    assert abs(alpha_from_counts(counts[:, perm], values[perm], level=level) - theirs) <= 1e-9


@SETTINGS
@given(counts=counts_strategy, values=values_strategy, level=st.sampled_from(LEVELS))
def test_matches_exact_fraction_oracle(counts: np.ndarray, values: list[int], level: str) -> None:
    vals = np.array(values[: counts.shape[1]], dtype=float)
    oracle = exact_alpha(counts, vals, level)
    ours = alpha_from_counts(counts, vals, level=level)
    if oracle is None:
        assert math.isnan(ours)
        assert krippendorff_alpha(counts, vals, level=level).reason is not None
    else:
        assert close(ours, float(oracle), 1e-11)


# ----------------------------------------------------------------------------- continuous
def continuous_data(seed: int) -> tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray]:
    """Ratings with ties (codes, values, n_items) and the same data as a count table."""
    rng = np.random.default_rng(seed)
    n_items = 40
    pool = np.round(rng.gamma(2.0, 2.0, size=15), 3)
    pool[0] = 0.0  # exercises 0/0 := 0 of the ratio metric
    m = rng.integers(0, 6, n_items)
    codes = np.repeat(np.arange(n_items), m)
    vals = pool[rng.integers(0, pool.size, codes.size)] + rng.integers(0, 3, codes.size) * 10.0
    cats, index = np.unique(vals, return_inverse=True)
    counts = np.zeros((n_items, cats.size), dtype=np.int64)
    np.add.at(counts, (codes, index), 1)
    return codes, vals, n_items, counts, cats


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("level", ["interval", "ratio"])
def test_continuous_equals_counts(seed: int, level: str) -> None:
    codes, vals, n_items, counts, cats = continuous_data(seed)
    expected = alpha_from_counts(counts, cats, level=level)
    assert abs(alpha_continuous(codes, vals, n_items, level=level) - expected) <= 1e-9
    cont = krippendorff_alpha_continuous(codes, vals, n_items, level=level)
    disc = krippendorff_alpha(counts, cats, level=level)
    assert cont.value is not None and disc.value is not None
    assert cont.se is not None and disc.se is not None and disc.ci95 is not None
    assert abs(cont.value - disc.value) <= 1e-9 and abs(cont.se - disc.se) <= 1e-9
    assert cont.ci95 is not None and np.allclose(cont.ci95, disc.ci95, rtol=0, atol=1e-9)
    for key in ("p_a", "p_e", "n_pairable_units", "n_pairable_values"):
        assert abs(cont.extra[key] - disc.extra[key]) <= 1e-9


def test_interval_closed_form() -> None:
    codes, vals, n_items, _, _ = continuous_data(3)
    m = np.bincount(codes, minlength=n_items)
    keep = m[codes] >= 2
    codes, vals = codes[keep], vals[keep]
    mean_u = np.bincount(codes, vals, n_items) / np.maximum(m, 1)
    ss_u = np.bincount(codes, (vals - mean_u[codes]) ** 2, n_items)
    n = vals.size
    within = sum(m[u] * ss_u[u] / (m[u] - 1) for u in range(n_items) if m[u] >= 2)
    closed = 1 - (n - 1) / n * within / ((vals - vals.mean()) ** 2).sum()
    assert abs(alpha_continuous(codes, vals, n_items) - closed) <= 1e-12


# ----------------------------------------------------------------------------- bootstrap
@pytest.mark.parametrize("level", LEVELS)
def test_item_weights_counts(level: str) -> None:
    rng = np.random.default_rng(5)
    _, counts, values = random_ratings(rng, 25, 4, 4, 0.3)
    point = alpha_from_counts(counts, values, level=level)
    assert close(alpha_from_counts(counts, values, level=level, item_weights=np.ones(25)), point)
    weights = rng.multinomial(25, np.full(25, 1 / 25), size=6)
    batch = alpha_from_counts(counts, values, level=level, item_weights=weights)
    assert isinstance(batch, np.ndarray) and batch.shape == (6,)
    for b, w in enumerate(weights):
        assert close(batch[b], alpha_from_counts(counts, values, level=level, item_weights=w))
        resampled = np.repeat(counts, w, axis=0)  # the replicate, materialised
        assert close(batch[b], alpha_from_counts(resampled, values, level=level), 1e-11)


@pytest.mark.parametrize("level", ["interval", "ratio"])
def test_item_weights_continuous(level: str) -> None:
    codes, vals, n_items, counts, cats = continuous_data(1)
    rng = np.random.default_rng(2)
    point = alpha_continuous(codes, vals, n_items, level=level)
    ones = alpha_continuous(codes, vals, n_items, level=level, item_weights=np.ones(n_items))
    assert close(ones, point)
    weights = rng.multinomial(n_items, np.full(n_items, 1 / n_items), size=5)
    weights[0] = 0
    weights[0, np.flatnonzero(counts.sum(axis=1) >= 2)[0]] = 3  # one unit only
    batch = alpha_continuous(codes, vals, n_items, level=level, item_weights=weights)
    for b, w in enumerate(weights):
        single = alpha_continuous(codes, vals, n_items, level=level, item_weights=w)
        reference = alpha_from_counts(np.repeat(counts, w, axis=0), cats, level=level)
        assert (math.isnan(single) and math.isnan(reference)) or close(single, reference, 1e-9)
        assert np.isnan(batch[b]) == np.isnan(single)
        assert math.isnan(single) or close(batch[b], single, 1e-9)


def test_degenerate_replicates_are_nan_without_warnings() -> None:
    counts = np.array([[2, 0], [0, 2], [1, 1]])
    weights = np.array([[1, 0, 0], [0, 0, 0], [1, 1, 1], [0, 0, 4], [1, 1, 0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = alpha_from_counts(counts, [1, 2], level="ordinal", item_weights=weights)
        cont = alpha_continuous([0, 0, 1, 1, 2, 2], [1, 1, 2, 2, 1, 2.0], 3, item_weights=weights)
    assert np.isnan(out[[0, 1]]).all() and not np.isnan(out[[2, 3]]).any()
    assert np.isnan(cont[[0, 1]]).all() and not np.isnan(cont[[2, 3]]).any()
    assert out[4] == 1.0 and cont[4] == 1.0  # two constant units with different values


# ----------------------------------------------------------------------------- properties
@SETTINGS
@given(
    counts=counts_strategy,
    values=values_strategy,
    level=st.sampled_from(LEVELS),
    seed=st.integers(0, 2**32 - 1),
)
def test_permutation_invariance(
    counts: np.ndarray, values: list[int], level: str, seed: int
) -> None:
    vals = np.array(values[: counts.shape[1]], dtype=float) + 1.0
    rng = np.random.default_rng(seed)
    base = alpha_from_counts(counts, vals, level=level)
    items, cats = rng.permutation(counts.shape[0]), rng.permutation(counts.shape[1])
    moved = alpha_from_counts(counts[items][:, cats], vals[cats], level=level)
    assert (math.isnan(base) and math.isnan(moved)) or close(moved, base, 1e-11)
    if not math.isnan(base):
        assert base <= 1.0 + 1e-12
        padded = np.insert(counts, 1, 0, axis=1)  # an unused category between two others
        pad_vals = np.insert(vals, 1, (vals[0] + vals[1]) / 2 + 0.25)
        if np.unique(pad_vals).size == pad_vals.size:
            assert close(alpha_from_counts(padded, pad_vals, level=level), base, 1e-11)


@SETTINGS
@given(
    labels=st.lists(st.integers(0, 3), min_size=2, max_size=15),
    sizes=st.lists(st.integers(1, 5), min_size=15, max_size=15),
    level=st.sampled_from(LEVELS),
)
def test_perfect_agreement_is_one(labels: list[int], sizes: list[int], level: str) -> None:
    counts = np.zeros((len(labels), 4), dtype=np.int64)
    counts[np.arange(len(labels)), labels] = sizes[: len(labels)]
    values = np.array([1.0, 2.0, 4.0, 8.0])
    pairable_labels = {lab for lab, size in zip(labels, sizes, strict=False) if size >= 2}
    result = krippendorff_alpha(counts, values, level=level)
    if not pairable_labels:
        assert result.reason == REASON_NOTHING_PAIRABLE
    elif len(pairable_labels) == 1:
        assert result.value is None and result.reason == REASON_NO_VARIATION
    else:
        assert result.value == 1.0 and alpha_from_counts(counts, values, level=level) == 1.0


@pytest.mark.parametrize("level", LEVELS)
def test_chunked_paths_agree(level: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiny block sizes force every chunked loop (replicates, units, pairs, value blocks)."""
    codes, vals, n_items, counts, cats = continuous_data(4)
    weights = np.random.default_rng(0).integers(0, 3, size=(7, n_items))
    args = (counts, cats)
    expected = alpha_from_counts(*args, level=level, item_weights=weights)
    cont_level = "ratio" if level == "ratio" else "interval"
    expected_cont = alpha_continuous(codes, vals, n_items, level=cont_level, item_weights=weights)
    expected_se = krippendorff_alpha_continuous(codes, vals, n_items, level=cont_level).se
    monkeypatch.setattr("labelaudit.agreement.alpha._BLOCK", 2 * n_items)
    monkeypatch.setattr("labelaudit.agreement.alpha._CACHE_BLOCK", 3 * cats.size)
    chunked = alpha_from_counts(*args, level=level, item_weights=weights)
    assert np.allclose(chunked, expected, rtol=0, atol=1e-12, equal_nan=True)
    chunked_cont = alpha_continuous(codes, vals, n_items, level=cont_level, item_weights=weights)
    assert np.allclose(chunked_cont, expected_cont, rtol=0, atol=1e-12, equal_nan=True)
    chunked_se = krippendorff_alpha_continuous(codes, vals, n_items, level=cont_level).se
    assert expected_se is not None and chunked_se is not None
    assert abs(chunked_se - expected_se) <= 1e-12
