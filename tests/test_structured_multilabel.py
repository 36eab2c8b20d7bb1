"""Multi-label agreement: MASI/Jaccard (published values), alpha vs NLTK and brute force,
binary-relevance kappa/alpha vs the categorical coefficients, the alpha engine's paths."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelaudit.agreement import agreement_report
from labelaudit.structured import structured_metrics, vote_multilabel
from labelaudit.structured._alpha import alpha_distinct
from labelaudit.structured.multilabel import (
    SetDistance,
    jaccard_distance,
    label_sets,
    masi_distance,
    multilabel_metrics,
)
from labelaudit.table import from_dataframe
from structured_helpers import structured_table

RECORDS = [
    ("i1", "a", ["x", "y"]),
    ("i1", "b", ["x"]),
    ("i1", "c", ["x", "y"]),
    ("i2", "a", ["z"]),
    ("i2", "b", ["z"]),
    ("i3", "a", ["q"]),
    ("i3", "b", ["x"]),
    ("i4", "a", ["y", "z"]),
    ("i4", "b", ["y"]),
    ("i4", "c", ["z"]),
    ("i5", "c", ["x"]),  # single-rated: not pairable
]


def brute_alpha(
    records: Sequence[tuple[Any, Any, Any]], dist: Callable[[Any, Any], float]
) -> float:
    """Krippendorff's alpha straight from its definition (pairable units only)."""
    units: dict[Any, list[Any]] = {}
    for item, _, value in records:
        units.setdefault(item, []).append(value)
    pairable = [v for v in units.values() if len(v) >= 2]
    n = sum(len(v) for v in pairable)
    d_o = sum(
        sum(dist(a, b) for a, b in itertools.permutations(v, 2)) / (len(v) - 1) for v in pairable
    )
    values = [x for v in pairable for x in v]
    d_e = sum(dist(a, b) for a, b in itertools.permutations(values, 2))
    return 1.0 - (n - 1) * d_o / d_e


def test_masi_and_jaccard_published_values(vectors: dict[str, Any]) -> None:
    vector = vectors["masi_passonneau2006"]
    for (a, b), masi, jaccard in zip(
        vector["data"],
        vector["expected"]["masi_distance"],
        vector["expected"]["jaccard_distance"],
        strict=True,
    ):
        assert masi_distance(a, b) == pytest.approx(masi, abs=1e-12)
        assert jaccard_distance(a, b) == pytest.approx(jaccard, abs=1e-12)
    # exact thirds, not NLTK <= 3.8's 0.67: the first pair is 13/15, not 0.868
    assert masi_distance({1, 2, 3, 4}, {3, 4, 5}) == pytest.approx(13 / 15, abs=1e-15)
    assert masi_distance(set(), set()) == 0.0 and jaccard_distance(set(), set()) == 0.0
    assert masi_distance(set(), {"a"}) == 1.0


def test_set_distance_matches_scalar_definition() -> None:
    table = structured_table("multilabel", [*RECORDS, ("i6", "a", []), ("i6", "b", [])])
    sets = label_sets(table)
    names = sets.labels.tolist()
    as_sets = [
        {names[k] for k in range(len(names)) if int(row[k // 64]) >> (k % 64) & 1}
        for row in sets.bits
    ]
    codes = np.arange(len(as_sets))
    for kind, scalar in (("masi", masi_distance), ("jaccard", jaccard_distance)):
        matrix = SetDistance(sets.bits, sets.sizes, kind).matrix(codes, codes)
        expected = [[scalar(a, b) for b in as_sets] for a in as_sets]
        np.testing.assert_allclose(matrix, expected, atol=1e-15)


def test_alpha_matches_brute_force_and_nltk() -> None:
    table = structured_table("multilabel", RECORDS)
    out = multilabel_metrics(table)
    for kind, dist in (("masi", masi_distance), ("jaccard", jaccard_distance)):
        expected = brute_alpha(RECORDS, lambda a, b, dist=dist: dist(set(a), set(b)))
        assert out[f"{kind}_alpha"].value == pytest.approx(expected, abs=1e-12)
        assert out[f"{kind}_alpha"].extra["approximate"] is False
    nltk = pytest.importorskip("nltk.metrics.agreement")
    from nltk.metrics.distance import masi_distance as nltk_masi

    task = nltk.AnnotationTask(
        data=[(a, i, frozenset(p)) for i, a, p in RECORDS], distance=nltk_masi
    )
    assert out["masi_alpha"].value == pytest.approx(task.alpha(), abs=1e-12)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 5),
            st.integers(0, 3),
            st.frozensets(st.sampled_from("abcde"), max_size=4),
        ),
        min_size=2,
        max_size=25,
        unique_by=lambda r: (r[0], r[1]),
    )
)
def test_alpha_brute_force_property(rows: list[tuple[int, int, frozenset[str]]]) -> None:
    records = [(f"i{i}", f"a{a}", sorted(s)) for i, a, s in rows]
    table = structured_table("multilabel", records)
    got = multilabel_metrics(table, ci="none")["masi_alpha"]
    units: dict[str, int] = {}
    for item, _, _ in records:
        units[item] = units.get(item, 0) + 1
    pairable = [r for r in records if units[r[0]] >= 2]
    distinct = {tuple(r[2]) for r in pairable}
    if not pairable or len(distinct) < 2:
        assert got.value is None and got.reason
        return
    expected = brute_alpha(records, lambda a, b: masi_distance(set(a), set(b)))
    assert got.value == pytest.approx(expected, abs=1e-10)


def test_per_label_binary_relevance_matches_categorical() -> None:
    table = structured_table("multilabel", RECORDS)
    out = multilabel_metrics(table)
    pd = pytest.importorskip("pandas")
    for label in ("x", "y", "z"):
        frame = pd.DataFrame(
            {
                "item": [r[0] for r in RECORDS],
                "annotator": [r[1] for r in RECORDS],
                "label": [str(int(label in r[2])) for r in RECORDS],
            }
        )
        categorical = agreement_report(from_dataframe(frame, categories="0,1")).metrics
        kappa, alpha = out["per_label_kappa"][label], out["per_label_alpha"][label]
        assert kappa.value == pytest.approx(categorical["fleiss_kappa"].value, abs=1e-12)
        assert kappa.se == pytest.approx(categorical["fleiss_kappa"].se, abs=1e-12)
        assert alpha.value == pytest.approx(categorical["krippendorff_alpha"].value, abs=1e-12)


def test_exact_set_agreement_hand_value() -> None:
    table = structured_table("multilabel", RECORDS)
    # i1: 1 identical pair of 3; i2: 1 of 1; i3: 0 of 1; i4: 0 of 3 -> mean (1/3 + 1) / 4
    value = multilabel_metrics(table)["exact_set_agreement"].value
    assert value == pytest.approx((1 / 3 + 1 + 0 + 0) / 4)
    assert structured_metrics(table)["percent_agreement"].value == pytest.approx(value)


def test_undefined_is_explicit() -> None:
    same = structured_table("multilabel", [("i", "a", ["x"]), ("i", "b", ["x"])])
    alpha = multilabel_metrics(same)["masi_alpha"]
    assert alpha.value is None and "one category" in (alpha.reason or "")
    lonely = structured_table("multilabel", [("i", "a", ["x"]), ("j", "b", ["y"])])
    assert multilabel_metrics(lonely)["masi_alpha"].reason.startswith("nothing pairable")


def test_approximate_path_is_flagged_and_seeded() -> None:
    rng = np.random.default_rng(1)
    records = [
        (f"i{i}", f"a{a}", sorted({"abcdefgh"[k] for k in rng.integers(0, 8, 3)}))
        for i in range(60)
        for a in range(3)
    ]
    table = structured_table("multilabel", records)
    sets = label_sets(table)
    distance = SetDistance(sets.bits, sets.sizes, "masi")
    args = (table.item_codes, sets.set_code, sets.sizes.size, distance)
    exact = alpha_distinct(*args)
    first = alpha_distinct(*args, exact_limit=3, n_pairs=200_000, seed=7)
    again = alpha_distinct(*args, exact_limit=3, n_pairs=200_000, seed=7)
    other = alpha_distinct(*args, exact_limit=3, n_pairs=200_000, seed=8)
    assert exact.extra["approximate"] is False
    assert first.extra["approximate"] is True and first.extra["n_sampled_pairs"] == 200_000
    assert first.to_dict() == again.to_dict() and first.value != other.value
    assert first.value == pytest.approx(exact.value, abs=0.02)
    assert first.to_dict()["approximate"] is True


def test_delta_method_se_close_to_jackknife() -> None:
    rng = np.random.default_rng(3)
    records = [
        (f"i{i}", f"a{a}", sorted({"abcd"[k] for k in rng.integers(0, 4, rng.integers(1, 3))}))
        for i in range(150)
        for a in range(3)
    ]
    table = structured_table("multilabel", records)
    got = multilabel_metrics(table)["masi_alpha"]
    items = sorted({r[0] for r in records})
    leave_out = []
    for item in items:
        kept = [r for r in records if r[0] != item]
        leave_out.append(brute_alpha_fast(kept))
    loo = np.asarray(leave_out)
    jack = math.sqrt((len(items) - 1) / len(items) * float(((loo - loo.mean()) ** 2).sum()))
    assert got.se == pytest.approx(jack, rel=0.05)
    boot = multilabel_metrics(table, ci="bootstrap", n_boot=400, seed=0)["masi_alpha"]
    assert boot.ci_method == "bootstrap" and boot.se == pytest.approx(jack, rel=0.25)
    assert (
        boot.to_dict()
        == multilabel_metrics(table, ci="bootstrap", n_boot=400)["masi_alpha"].to_dict()
    )


def brute_alpha_fast(records: list[tuple[str, str, list[str]]]) -> float:
    table = structured_table("multilabel", records)
    value = multilabel_metrics(table, ci="none")["masi_alpha"].value
    assert value is not None
    return value


def test_generic_jsonl_labels_are_parsed(tmp_path: Any) -> None:
    import json

    from labelaudit.structured.api import as_task
    from labelaudit.table import read_annotations

    path = tmp_path / "ml.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"item": i, "annotator": a, "label": list(reversed(p))})
            for i, a, p in RECORDS
        )
    )
    table = as_task(read_annotations(path), "multilabel")
    out = multilabel_metrics(table)
    expected = multilabel_metrics(structured_table("multilabel", RECORDS))
    assert out["masi_alpha"].to_dict() == expected["masi_alpha"].to_dict()
    assert structured_metrics(table)["percent_agreement"].value == pytest.approx(
        expected["exact_set_agreement"].value
    )


def test_bad_generic_label_names_the_row(tmp_path: Any) -> None:
    from labelaudit.exceptions import InputError
    from labelaudit.structured.api import as_task
    from labelaudit.table import read_annotations

    path = tmp_path / "bad.csv"
    path.write_text('item,annotator,label\ni1,a,"[""x""]"\ni1,b,x;y\n')
    table = as_task(read_annotations(path), "multilabel")
    with pytest.raises(InputError) as caught:
        multilabel_metrics(table)
    message = str(caught.value)
    assert "row 2" in message and "field 'label'" in message and "x;y" in message


def test_voting_per_label() -> None:
    table = structured_table("multilabel", RECORDS)
    majority = {e["item"]: e["consensus"] for e in vote_multilabel(table).to_dict()["items"]}
    assert majority == {"i1": ["x", "y"], "i2": ["z"], "i3": [], "i4": ["y", "z"], "i5": ["x"]}
    one = vote_multilabel(table, min_votes=3).to_dict()["items"]
    assert [e["consensus"] for e in one] == [["x"], [], [], [], []]
