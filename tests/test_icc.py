"""Tests of labelaudit.agreement.icc: golden vectors, pingouin parity, edge cases, invariances."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from labelaudit.agreement.icc import ICC_FORMS, IccResult, icc
from labelaudit.exceptions import InputError

REFERENCE = json.loads((Path(__file__).parent / "data" / "icc_reference.json").read_text())
SHROUT_FLEISS = REFERENCE["vectors"]["shrout_fleiss1979_6targets_4judges"]
ANXIETY = REFERENCE["vectors"]["r_irr_anxiety_20x3"]

# Shrout-Fleiss / psych names -> McGraw-Wong keys used by labelaudit and pingouin >= 0.6.
PUBLISHED_KEYS = {
    "ICC(1,1)": "ICC(1,1)", "ICC(2,1)": "ICC(A,1)", "ICC(3,1)": "ICC(C,1)",
    "ICC(1,4)": "ICC(1,k)", "ICC(2,4)": "ICC(A,k)", "ICC(3,4)": "ICC(C,k)",
}  # fmt: skip
PSYCH_KEYS = {
    "ICC1": "ICC(1,1)", "ICC2": "ICC(A,1)", "ICC3": "ICC(C,1)",
    "ICC1k": "ICC(1,k)", "ICC2k": "ICC(A,k)", "ICC3k": "ICC(C,k)",
}  # fmt: skip
NUMBERS = ("value", "F", "df1", "df2", "p")


def _forms(ratings: Any) -> dict[str, dict[str, Any]]:
    return icc(np.asarray(ratings, dtype=float)).to_dict()["forms"]


def _close(a: float | None, b: float | None, tol: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def _assert_same_forms(got: dict[str, Any], want: dict[str, Any], tol: float = 1e-9) -> None:
    for key in ICC_FORMS:
        for name in NUMBERS:
            assert _close(got[key][name], want[key][name], tol), (key, name, got[key], want[key])
        for g, w in zip(got[key]["ci95"], want[key]["ci95"], strict=True):
            assert _close(g, w, tol), (key, "ci95", got[key], want[key])


# --- golden vectors ----------------------------------------------------------------------


def test_shrout_fleiss_published_two_decimals() -> None:
    result = icc(np.array(SHROUT_FLEISS["data"], dtype=float))
    tol = 0.5 * 10 ** -SHROUT_FLEISS["expected_precision"]
    for published, key in PUBLISHED_KEYS.items():
        want = SHROUT_FLEISS["expected"][published]
        assert result.forms[key]["value"] == pytest.approx(want, abs=tol), key
    for name, want in SHROUT_FLEISS["expected"]["anova_mean_squares"].items():
        assert result.mean_squares[name] == pytest.approx(want, abs=tol), name


def test_shrout_fleiss_full_precision() -> None:
    forms = _forms(SHROUT_FLEISS["data"])
    ref = SHROUT_FLEISS["computed_only"]
    for psych, key in PSYCH_KEYS.items():
        assert forms[key]["value"] == pytest.approx(ref["ICC"][psych], abs=1e-8), key
        lo, hi = ref["ci95"][psych]
        assert forms[key]["ci95"] == [pytest.approx(lo, abs=1e-8), pytest.approx(hi, abs=1e-8)]
        test = "ICC1" if key.startswith("ICC(1") else "ICC2_3"
        assert forms[key]["F"] == pytest.approx(ref["F"][test], abs=1e-8), key
        assert [forms[key]["df1"], forms[key]["df2"]] == ref["df"][test], key


def test_r_irr_anxiety() -> None:
    forms = _forms(ANXIETY["data"])
    ref = ANXIETY["computed_only"]
    assert forms["ICC(1,1)"]["value"] == pytest.approx(ref["icc_oneway_single"], abs=1e-8)
    assert forms["ICC(A,1)"]["value"] == pytest.approx(ref["icc_twoway_agreement_single"], abs=1e-8)
    want_c1 = ref["icc_twoway_consistency_single"]
    assert forms["ICC(C,1)"]["value"] == pytest.approx(want_c1, abs=1e-8)
    want_ak = ref["icc_twoway_agreement_average"]
    assert forms["ICC(A,k)"]["value"] == pytest.approx(want_ak, abs=1e-8)


def test_result_shape_and_json() -> None:
    result = icc(np.array(ANXIETY["data"], dtype=float))
    assert isinstance(result, IccResult)
    out = result.to_dict()
    assert list(out) == ["n_items_used", "n_raters", "reason", "forms"]
    assert list(out["forms"]) == list(ICC_FORMS)
    assert all(list(f) == [*NUMBERS, "ci95"] for f in out["forms"].values())
    assert (out["n_items_used"], out["n_raters"], out["reason"]) == (20, 3, None)
    json.dumps(out, allow_nan=False)


# --- pingouin parity ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def pingouin() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pytest.importorskip("pingouin")


def _pingouin_forms(pg: Any, x: np.ndarray) -> dict[str, dict[str, Any]]:
    import pandas as pd

    n, k = x.shape
    long = pd.DataFrame(
        {"item": np.repeat(np.arange(n), k), "rater": np.tile(np.arange(k), n), "y": x.ravel()}
    )
    saved = pg.options.copy()
    pg.options.update({"round": None, "round.column.CI95": None})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = pg.intraclass_corr(long, "item", "rater", "y", nan_policy="omit")
    finally:
        pg.options.clear()
        pg.options.update(saved)
    return {
        row.Type: {
            "value": row.ICC, "F": row.F, "df1": row.df1, "df2": row.df2, "p": row.pval,
            "ci95": [float(row.CI95[0]), float(row.CI95[1])],
        }
        for row in table.itertuples()
    }  # fmt: skip


def _random_ratings(seed: int, with_nan: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(5, 61)), int(rng.integers(2, 7))
    items = rng.normal(0.0, rng.uniform(0.0, 3.0), size=(n, 1))
    raters = rng.normal(0.0, rng.uniform(0.0, 2.0), size=(1, k))
    x = 5.0 + items + raters + rng.normal(0.0, 1.0, size=(n, k))
    if seed % 3 == 0:
        x = np.round(x)  # Likert-like ties
    if with_nan:
        rows = rng.choice(n, size=min(3, n - 3), replace=False)
        x[rows, rng.integers(0, k, size=rows.size)] = np.nan
    return x


@pytest.mark.parametrize("with_nan", [False, True])
@pytest.mark.parametrize("seed", range(12))
def test_matches_pingouin(pingouin: Any, seed: int, with_nan: bool) -> None:
    x = _random_ratings(seed, with_nan)
    result = icc(x)
    assert result.n_items_used == int((~np.isnan(x).any(axis=1)).sum())
    assert result.reason is None
    _assert_same_forms(result.to_dict()["forms"], _pingouin_forms(pingouin, x))


# --- edge cases --------------------------------------------------------------------------


def _assert_all_null(result: IccResult) -> None:
    assert result.reason
    for form in result.to_dict()["forms"].values():
        assert form["value"] is None and form["F"] is None and form["p"] is None
        assert form["ci95"] == [None, None]


def test_single_complete_item_is_null() -> None:
    x = np.array([[1.0, 2.0, 3.0], [2.0, np.nan, 4.0], [np.nan, 1.0, 1.0]])
    result = icc(x)
    assert (result.n_items_used, result.n_raters) == (1, 3)
    _assert_all_null(result)
    assert "at least 2 items" in str(result.reason)


def test_one_rater_is_null() -> None:
    result = icc(np.arange(6.0).reshape(6, 1))
    assert (result.n_items_used, result.n_raters) == (6, 1)
    _assert_all_null(result)
    assert "at least 2 raters" in str(result.reason)


def test_no_items_is_null() -> None:
    _assert_all_null(icc(np.empty((0, 3))))


@pytest.mark.parametrize("value", [0.0, 0.1, 7.0, -1e6])
def test_all_equal_is_null_without_warnings(value: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = icc(np.full((8, 4), value))
    _assert_all_null(result)
    assert "all ratings are equal" in str(result.reason)
    json.dumps(result.to_dict(), allow_nan=False)


def test_perfect_agreement_is_one_with_null_tests() -> None:
    x = np.repeat(np.array([[0.1], [0.3], [0.7], [0.2]]), 3, axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        forms = icc(x).to_dict()["forms"]
    for form in forms.values():
        assert form["value"] == pytest.approx(1.0, abs=1e-12)
        assert form["F"] is None and form["p"] is None and form["ci95"] == [None, None]


def test_constant_rater_offsets() -> None:
    x = np.arange(5.0)[:, None] + np.array([[0.0, 1.0, 3.0]])
    result = icc(x)
    forms = result.to_dict()["forms"]
    assert forms["ICC(C,1)"]["value"] == pytest.approx(1.0)
    assert forms["ICC(C,k)"]["value"] == pytest.approx(1.0)
    assert 0.0 < forms["ICC(A,1)"]["value"] < forms["ICC(A,k)"]["value"] < 1.0
    assert forms["ICC(A,1)"]["F"] is None and forms["ICC(1,1)"]["F"] is not None
    assert "constant offsets" in str(result.reason)


def test_listwise_deletion_equals_dropping_rows() -> None:
    x = np.array(ANXIETY["data"], dtype=float)
    holed = x.copy()
    holed[[2, 5], [0, 2]] = np.nan
    result = icc(holed)
    assert result.n_items_used == 18
    _assert_same_forms(result.to_dict()["forms"], _forms(np.delete(x, [2, 5], axis=0)), 0.0)


@pytest.mark.parametrize("bad", [np.arange(4.0), np.ones((2, 2, 2)), [[1.0, np.inf]]])
def test_bad_input_raises(bad: Any) -> None:
    with pytest.raises(InputError):
        icc(bad)


# --- invariances (hypothesis) ------------------------------------------------------------

# At least 3 items: with 2 items the Satterthwaite df of ICC(A,.) can be ~1e-6 and its CI
# limits ~1e13, where rounding alone moves the 4th digit; 1e-6 relative tolerance for the
# same reason (the F quantiles are solved numerically).
likert = st.tuples(st.integers(3, 12), st.integers(2, 5)).flatmap(
    lambda shape: hnp.arrays(np.float64, shape, elements=st.integers(1, 7).map(float))
)


@settings(max_examples=150, deadline=None)
@given(x=likert, data=st.data())
def test_permuting_items_and_raters_changes_nothing(x: np.ndarray, data: st.DataObject) -> None:
    rows = data.draw(st.permutations(range(x.shape[0])))
    cols = data.draw(st.permutations(range(x.shape[1])))
    _assert_same_forms(_forms(x[np.ix_(rows, cols)]), _forms(x), 1e-6)


@settings(max_examples=150, deadline=None)
@given(x=likert, shift=st.floats(-1000.0, 1000.0))
def test_adding_a_constant_changes_nothing(x: np.ndarray, shift: float) -> None:
    _assert_same_forms(_forms(x + shift), _forms(x), 1e-6)


@settings(max_examples=150, deadline=None)
@given(x=likert, factor=st.floats(1e-3, 1e3))
def test_positive_scaling_changes_nothing(x: np.ndarray, factor: float) -> None:
    _assert_same_forms(_forms(x * factor), _forms(x), 1e-6)
