"""Diagnostics (pairwise, per-category, confusions, worst items) against brute-force references,
scikit-learn, a hand-worked example and the published PandaLM pairwise kappas."""

from __future__ import annotations

import json
import time
import tracemalloc
from collections import Counter, defaultdict
from fractions import Fraction
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from labelaudit.agreement import diagnostics
from labelaudit.agreement.cohen import cohen_kappa, pair_table
from labelaudit.agreement.diagnostics import (
    confusions,
    pairwise_agreement,
    per_category_agreement,
    top_disagreements,
)
from labelaudit.agreement.weights import weight_matrix
from labelaudit.exceptions import UsageError
from labelaudit.table import AnnotationTable, read_annotations

Row = tuple[str, str, str]
ROOT = Path(__file__).parent.parent
PANDALM = [
    ROOT / "src" / "labelaudit" / "datasets" / "data" / "pandalm" / "testset-v1.json",
    ROOT.parent / "shared" / "datasets" / "pandalm_testset" / "testset-v1.json",
]
CATEGORY_POOL = ["neg", "pos", "neu", "mixed", "other"]
ANNOTATOR_POOL = ["zoe", "amy", "bob", "kim", "lee", "max", "ann", "ivy"]


def build(rows: list[Row], categories: list[str] | str) -> AnnotationTable:
    columns = {
        name: [row[i] for row in rows] for i, name in enumerate(("item", "annotator", "label"))
    }
    return read_annotations(pa.table(columns), categories=categories)


def all_outputs(table: AnnotationTable, weights: np.ndarray) -> list[Any]:
    return [
        pairwise_agreement(table, weights),
        per_category_agreement(table),
        confusions(table, top=100, examples=100),
        top_disagreements(table, top=100),
    ]


# ------------------------------------------------------------------ brute-force references
def codes(table: AnnotationTable) -> tuple[dict[str, int], dict[str, int]]:
    items = {str(name): i for i, name in enumerate(table.items)}
    return items, {str(name): k for k, name in enumerate(table.categories)}


def item_labels(rows: list[Row], table: AnnotationTable) -> dict[str, list[int]]:
    """Item name -> label codes of its ratings (row order)."""
    category = codes(table)[1]
    out: dict[str, list[int]] = defaultdict(list)
    for item, _, label in rows:
        out[item].append(category[label])
    return out


def ref_pairwise(
    rows: list[Row], table: AnnotationTable, w: np.ndarray, min_shared: int
) -> list[dict[str, Any]]:
    category = codes(table)[1]
    q = len(category)
    rated: dict[str, dict[str, int]] = defaultdict(dict)
    for item, annotator, label in rows:
        rated[annotator][item] = category[label]
    names = [str(a) for a in table.annotators]
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            shared = sorted(set(rated[a]) & set(rated[b]))
            n = len(shared)
            if n < min_shared:
                continue
            la, lb = [rated[a][x] for x in shared], [rated[b][x] for x in shared]
            p_o = sum(w[x, y] for x, y in zip(la, lb, strict=True)) / n
            p_e = sum(
                w[k, m] * la.count(k) * lb.count(m) / n**2 for k in range(q) for m in range(q)
            )
            kappa = None if abs(1 - p_e) <= 1e-12 else (p_o - p_e) / (1 - p_e)
            out.append(
                {"a": a, "b": b, "n_items": n, "percent_agreement": p_o, "cohen_kappa": kappa}
            )
    return out


def ref_alpha_nominal(units: list[list[int]]) -> Fraction | None:
    """Krippendorff's nominal alpha by enumerating ordered rating pairs of each unit."""
    o: Counter[tuple[int, int]] = Counter()
    for unit in units:
        m = len(unit)
        for i in range(m):
            for j in range(m):
                if i != j:
                    o[unit[i], unit[j]] += Fraction(1, m - 1)
    n_c: Counter[int] = Counter()
    for (c, _), value in o.items():
        n_c[c] += value
    n = sum(n_c.values())
    observed = sum((v for (c, k), v in o.items() if c != k), Fraction(0))
    expected = sum((n_c[c] * n_c[k] for c in n_c for k in n_c if c != k), Fraction(0))
    if n == 0 or expected == 0:
        return None
    return 1 - (n - 1) * observed / expected


def ref_fleiss_binary(counts: list[tuple[int, int]]) -> Fraction | None:
    """Fleiss' kappa, Gwet's missing-data convention: p_a over m >= 2, pi over m >= 1."""
    rated = [(x, y) for x, y in counts if x + y >= 1]
    pairable = [(x, y) for x, y in rated if x + y >= 2]
    if not pairable:
        return None
    p_a = sum(
        Fraction(x * (x - 1) + y * (y - 1), (x + y) * (x + y - 1)) for x, y in pairable
    ) / len(pairable)
    pi = sum(Fraction(x, x + y) for x, y in rated) / len(rated)
    p_e = pi**2 + (1 - pi) ** 2
    return None if p_e == 1 else (p_a - p_e) / (1 - p_e)


def ref_per_category(rows: list[Row], table: AnnotationTable) -> list[dict[str, Any]]:
    per_item = item_labels(rows, table)
    out = []
    for k, name in enumerate(table.categories):
        numerator = denominator = 0
        for labels in per_item.values():
            n_ik, m = labels.count(k), len(labels)
            if m >= 2:
                numerator += n_ik * (n_ik - 1)
                denominator += n_ik * (m - 1)
        binary = [[int(label != k) for label in labels] for labels in per_item.values()]
        kappa = ref_fleiss_binary([(u.count(0), u.count(1)) for u in binary])
        alpha = ref_alpha_nominal([u for u in binary if len(u) >= 2])
        out.append(
            {
                "category": str(name),
                "n": sum(labels.count(k) for labels in per_item.values()),
                "specific_agreement": Fraction(numerator, denominator) if denominator else None,
                "kappa_1vr": kappa,
                "alpha_1vr": alpha,
            }
        )
    return out


def ref_confusions(
    rows: list[Row], table: AnnotationTable, top: int, examples: int
) -> list[dict[str, Any]]:
    item_code = codes(table)[0]
    counter: Counter[tuple[int, int]] = Counter()
    by_item: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    for item, labels in item_labels(rows, table).items():
        for i in range(len(labels)):
            for j in range(i + 1, len(labels)):
                if labels[i] != labels[j]:
                    key = (min(labels[i], labels[j]), max(labels[i], labels[j]))
                    counter[key] += 1
                    by_item[key][item] += 1
    total = sum(counter.values())
    cats = [str(c) for c in table.categories]
    return [
        {
            "label_a": cats[key[0]],
            "label_b": cats[key[1]],
            "count": counter[key],
            "share": counter[key] / total,
            "example_items": sorted(
                by_item[key], key=lambda it: (-by_item[key][it], item_code[it])
            )[:examples],
        }
        for key in sorted(counter, key=lambda key: (-counter[key], key))[:top]
    ]


def ref_top(rows: list[Row], table: AnnotationTable, top: int) -> list[dict[str, Any]]:
    item_code = codes(table)[0]
    cats = [str(c) for c in table.categories]
    ranked = []
    for item, labels in item_labels(rows, table).items():
        m = len(labels)
        if m >= 2:
            counts = Counter(labels)
            agreement = Fraction(sum(n * (n - 1) for n in counts.values()), m * (m - 1))
            ranked.append(
                (
                    (agreement, -m, item_code[item]),
                    {
                        "item": item,
                        "n_ratings": m,
                        "observed_agreement": float(agreement),
                        "labels": {cats[k]: counts[k] for k in sorted(counts)},
                    },
                )
            )
    return [entry for _, entry in sorted(ranked, key=lambda pair: pair[0])[:top]]


def same_number(actual: float | None, expected: float | Fraction | None) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    return isinstance(actual, float) and actual == pytest.approx(float(expected), abs=1e-10)


# ------------------------------------------------------------------------- strategies
@st.composite
def rating_tables(draw: Any, min_annotators: int = 2) -> tuple[list[Row], list[str]]:
    """Rows (item, annotator, label) with missing ratings and unused declared categories."""
    n_annotators = draw(st.integers(min_annotators, 8))
    n_items = draw(st.integers(1, 12))
    declared = draw(st.permutations(CATEGORY_POOL))[: draw(st.integers(2, 5))]
    used = draw(st.lists(st.sampled_from(declared), min_size=1, unique=True))
    cells = draw(
        st.lists(
            st.one_of(st.none(), st.sampled_from(used)),
            min_size=n_items * n_annotators,
            max_size=n_items * n_annotators,
        )
    )
    if all(cell is None for cell in cells):
        cells[0] = used[0]
    rows = [
        (f"item{i}", ANNOTATOR_POOL[j], cells[i * n_annotators + j])
        for i in range(n_items)
        for j in range(n_annotators)
        if cells[i * n_annotators + j] is not None
    ]
    return rows, declared


# ----------------------------------------------------------- properties vs references
@settings(max_examples=200, deadline=None)
@given(
    data=rating_tables(),
    scheme=st.sampled_from(["identity", "linear", "quadratic"]),
    min_shared=st.integers(1, 3),
)
def test_pairwise_matches_brute_force_and_cohen(
    data: tuple[list[Row], list[str]], scheme: str, min_shared: int
) -> None:
    rows, declared = data
    table = build(rows, declared)
    w = weight_matrix(scheme, table.category_values)
    got = pairwise_agreement(table, w, min_shared=min_shared)
    expected = ref_pairwise(rows, table, w, min_shared)
    assert [(e["a"], e["b"], e["n_items"]) for e in got] == [
        (e["a"], e["b"], e["n_items"]) for e in expected
    ]
    for ours, ref in zip(got, expected, strict=True):
        assert same_number(ours["percent_agreement"], ref["percent_agreement"])
        assert same_number(ours["cohen_kappa"], ref["cohen_kappa"])
        a = int(np.flatnonzero(table.annotators == ours["a"])[0])
        b = int(np.flatnonzero(table.annotators == ours["b"])[0])
        pair = pair_table(
            table.item_codes,
            table.annotator_codes,
            table.label_codes,
            a,
            b,
            table.n_items,
            table.n_categories,
        )
        assert same_number(ours["cohen_kappa"], cohen_kappa(pair, w).value)


@settings(max_examples=150, deadline=None)
@given(data=rating_tables(), scheme=st.sampled_from([None, "linear", "quadratic"]))
def test_pairwise_kappa_equals_sklearn(
    data: tuple[list[Row], list[str]], scheme: str | None
) -> None:
    rows, declared = data
    table = build(rows, declared)
    w = weight_matrix(scheme or "identity", table.category_values)
    rated: dict[str, dict[str, str]] = defaultdict(dict)
    for item, annotator, label in rows:
        rated[annotator][item] = label
    for entry in pairwise_agreement(table, w):
        if entry["cohen_kappa"] is None:
            continue
        shared = sorted(set(rated[entry["a"]]) & set(rated[entry["b"]]))
        theirs = cohen_kappa_score(
            [rated[entry["a"]][x] for x in shared],
            [rated[entry["b"]][x] for x in shared],
            labels=list(table.categories),
            weights=scheme,
        )
        assert entry["cohen_kappa"] == pytest.approx(theirs, abs=1e-10)


@settings(max_examples=200, deadline=None)
@given(data=rating_tables(min_annotators=1))
def test_per_category_matches_brute_force(data: tuple[list[Row], list[str]]) -> None:
    rows, declared = data
    table = build(rows, declared)
    got = per_category_agreement(table)
    expected = ref_per_category(rows, table)
    assert [(e["category"], e["n"]) for e in got] == [(e["category"], e["n"]) for e in expected]
    assert [e["category"] for e in got] == declared
    for ours, ref in zip(got, expected, strict=True):
        for key in ("specific_agreement", "kappa_1vr", "alpha_1vr"):
            assert same_number(ours[key], ref[key]), (key, ours, ref)
        if ours["n"] == 0:
            assert ours["specific_agreement"] is ours["kappa_1vr"] is ours["alpha_1vr"] is None


@settings(max_examples=200, deadline=None)
@given(data=rating_tables(min_annotators=1), top=st.integers(0, 12), examples=st.integers(0, 4))
def test_confusions_and_top_disagreements_match_brute_force(
    data: tuple[list[Row], list[str]], top: int, examples: int
) -> None:
    rows, declared = data
    table = build(rows, declared)
    assert confusions(table, top=top, examples=examples) == ref_confusions(
        rows, table, top, examples
    )
    got = top_disagreements(table, top=top)
    expected = ref_top(rows, table, top)
    assert got == expected
    assert [list(e["labels"]) for e in got] == [list(e["labels"]) for e in expected]


@settings(max_examples=100, deadline=None)
@given(data=rating_tables(min_annotators=1), order=st.randoms(use_true_random=False))
def test_outputs_do_not_depend_on_row_order(data: tuple[list[Row], list[str]], order: Any) -> None:
    rows, declared = data
    shuffled = list(rows)
    order.shuffle(shuffled)
    table, other = build(rows, declared), build(shuffled, declared)
    w = weight_matrix("quadratic", table.category_values)
    assert all_outputs(table, w) == all_outputs(other, w)


@settings(max_examples=50, deadline=None)
@given(data=rating_tables(), scheme=st.sampled_from(["identity", "linear"]))
def test_chunked_and_sorted_paths_agree(data: tuple[list[Row], list[str]], scheme: str) -> None:
    """A one-cell budget forces one pair per chunk and the sort path for the cell counts."""
    rows, declared = data
    table = build(rows, declared)
    w = weight_matrix(scheme, table.category_values)
    expected = pairwise_agreement(table, w)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(diagnostics, "_CELL_BUDGET", 1)
        chunked = pairwise_agreement(table, w)
    assert [(e["a"], e["b"], e["n_items"]) for e in chunked] == [
        (e["a"], e["b"], e["n_items"]) for e in expected
    ]
    for ours, ref in zip(chunked, expected, strict=True):
        assert same_number(ours["percent_agreement"], ref["percent_agreement"])
        assert same_number(ours["cohen_kappa"], ref["cohen_kappa"])


@settings(max_examples=50, deadline=None)
@given(data=rating_tables(min_annotators=1))
def test_outputs_are_json_ready(data: tuple[list[Row], list[str]]) -> None:
    rows, declared = data
    table = build(rows, declared)
    outputs = all_outputs(table, np.eye(table.n_categories))
    json.dumps(outputs, allow_nan=False)
    for entry in outputs[0]:
        assert type(entry["n_items"]) is int
        assert type(entry["percent_agreement"]) is float
        assert entry["cohen_kappa"] is None or type(entry["cohen_kappa"]) is float


# ------------------------------------------------------------------------ worked example
WORKED: list[Row] = [
    ("i1", "amy", "a"),
    ("i1", "bob", "a"),
    ("i1", "cat", "b"),
    ("i2", "amy", "a"),
    ("i2", "bob", "b"),
    ("i2", "cat", "c"),
    ("i3", "amy", "b"),
    ("i3", "bob", "b"),
    ("i4", "cat", "c"),
]


def test_worked_example_by_hand() -> None:
    table = build(WORKED, "a,b,c,d")
    assert confusions(table) == [
        {"label_a": "a", "label_b": "b", "count": 3, "share": 0.6, "example_items": ["i1", "i2"]},
        {"label_a": "a", "label_b": "c", "count": 1, "share": 0.2, "example_items": ["i2"]},
        {"label_a": "b", "label_b": "c", "count": 1, "share": 0.2, "example_items": ["i2"]},
    ]
    assert top_disagreements(table) == [
        {
            "item": "i2",
            "n_ratings": 3,
            "observed_agreement": 0.0,
            "labels": {"a": 1, "b": 1, "c": 1},
        },
        {"item": "i1", "n_ratings": 3, "observed_agreement": 1 / 3, "labels": {"a": 2, "b": 1}},
        {"item": "i3", "n_ratings": 2, "observed_agreement": 1.0, "labels": {"b": 2}},
    ]
    # amy-bob share i1 (a, a), i2 (a, b), i3 (b, b): p_o = 2/3, p_e = 4/9, kappa = 0.4
    pairs = pairwise_agreement(table, np.eye(4))
    assert [(p["a"], p["b"], p["n_items"]) for p in pairs] == [
        ("amy", "bob", 3),
        ("amy", "cat", 2),
        ("bob", "cat", 2),
    ]
    assert pairs[0]["percent_agreement"] == pytest.approx(2 / 3)
    assert pairs[0]["cohen_kappa"] == pytest.approx(0.4)
    assert pairwise_agreement(table, np.eye(4), min_shared=3) == pairs[:1]
    per_category = {entry["category"]: entry for entry in per_category_agreement(table)}
    # label a: n_ik = 2, 1 on i1, i2 (m = 3): 2 / (2*2 + 1*2) = 1/3
    assert per_category["a"]["specific_agreement"] == pytest.approx(1 / 3)
    assert per_category["b"]["specific_agreement"] == pytest.approx(2 / 6)
    assert per_category["c"]["n"] == 2
    assert per_category["c"]["specific_agreement"] == 0.0
    assert per_category["d"] == {
        "category": "d",
        "n": 0,
        "specific_agreement": None,
        "kappa_1vr": None,
        "alpha_1vr": None,
    }


def test_alpha_1vr_agrees_with_krippendorff_package() -> None:
    table = build(WORKED, "a,b,c,d")
    counts = table.to_item_category_counts()
    for k, entry in enumerate(per_category_agreement(table)[:3]):
        binary = np.column_stack((counts[:, k], counts.sum(axis=1) - counts[:, k]))
        theirs = krippendorff.alpha(value_counts=binary, level_of_measurement="nominal")
        assert entry["alpha_1vr"] == pytest.approx(theirs, abs=1e-12)


# ---------------------------------------------------------------------------- edge cases
def test_single_annotator() -> None:
    table = build([("i1", "amy", "a"), ("i2", "amy", "b"), ("i3", "amy", "a")], "a,b")
    assert pairwise_agreement(table, np.eye(2)) == []
    assert confusions(table) == []
    assert top_disagreements(table) == []
    for entry in per_category_agreement(table):
        assert entry["specific_agreement"] is entry["kappa_1vr"] is entry["alpha_1vr"] is None


def test_single_rated_items_are_not_worst_items() -> None:
    rows = [("i1", "amy", "a"), ("i2", "bob", "b"), ("i3", "amy", "a"), ("i3", "bob", "b")]
    table = build(rows, "a,b")
    assert [entry["item"] for entry in top_disagreements(table)] == ["i3"]


def test_unused_category_and_disjoint_annotators() -> None:
    rows = [("i1", "amy", "a"), ("i1", "bob", "a"), ("i2", "cat", "b"), ("i2", "dan", "b")]
    table = build(rows, "a,b,unused")
    pairs = pairwise_agreement(table, np.eye(3))
    assert [(p["a"], p["b"]) for p in pairs] == [("amy", "bob"), ("cat", "dan")]
    assert all(p["percent_agreement"] == 1.0 and p["cohen_kappa"] is None for p in pairs)
    unused = per_category_agreement(table)[2]
    assert unused == {
        "category": "unused",
        "n": 0,
        "specific_agreement": None,
        "kappa_1vr": None,
        "alpha_1vr": None,
    }
    assert per_category_agreement(table)[0]["kappa_1vr"] == pytest.approx(1.0)
    assert confusions(table) == []


def test_bad_arguments_are_rejected() -> None:
    table = build(WORKED, "a,b,c,d")
    with pytest.raises(UsageError, match="4 x 4"):
        pairwise_agreement(table, np.eye(3))
    with pytest.raises(UsageError, match="min_shared"):
        pairwise_agreement(table, np.eye(4), min_shared=0)


# ------------------------------------------------------------------------------- scaling
def test_thousands_of_annotators_with_sparse_overlap() -> None:
    """3 000 annotators, 30 000 items x 3 ratings: a dense r x r x q x q array would be 648 MB."""
    rng = np.random.default_rng(7)
    n_items, r = 30_000, 3_000
    annotators = np.stack([rng.choice(r, size=3, replace=False) for _ in range(n_items)])
    labels = rng.integers(0, 3, size=(n_items, 3))
    frame = pa.table(
        {
            "item": np.repeat(np.arange(n_items), 3).astype(str),
            "annotator": np.char.add("w", annotators.ravel().astype(str)),
            "label": labels.ravel().astype(str),
        }
    )
    table = read_annotations(frame, categories="0,1,2")
    tracemalloc.start()
    start = time.perf_counter()
    pairs = pairwise_agreement(table, np.eye(3))
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 20
    assert peak < 200e6
    assert sum(p["n_items"] for p in pairs) == 3 * n_items
    index = {str(name): i for i, name in enumerate(table.annotators)}
    for entry in pairs[:: max(1, len(pairs) // 25)]:
        pair = pair_table(
            table.item_codes,
            table.annotator_codes,
            table.label_codes,
            index[entry["a"]],
            index[entry["b"]],
            table.n_items,
            3,
        )
        assert same_number(entry["cohen_kappa"], cohen_kappa(pair).value)
        assert entry["n_items"] == pair.sum()


# ------------------------------------------------------------------------------ PandaLM
def pandalm_path() -> Path:
    for path in PANDALM:
        if path.is_file():
            return path
    pytest.skip("PandaLM test set not found (bundled copy or ../shared)")


def test_pandalm_published_pairwise_kappas() -> None:
    """Wang et al. (2024) PandaLM, ICLR: annotator kappas 0.85 / 0.88 / 0.86."""
    path = pandalm_path()
    table = read_annotations(
        path,
        layout="wide",
        item_col="idx",
        annotator_cols="annotator1,annotator2,annotator3",
        categories="0,1,2",
    )
    pairs = {(p["a"], p["b"]): p for p in pairwise_agreement(table, np.eye(3))}
    expected = {
        ("annotator1", "annotator2"): 0.85,
        ("annotator1", "annotator3"): 0.88,
        ("annotator2", "annotator3"): 0.86,
    }
    assert set(pairs) == set(expected)
    for key, value in expected.items():
        assert round(pairs[key]["cohen_kappa"], 2) == value
        assert pairs[key]["n_items"] == 999
    records = json.loads(path.read_text(encoding="utf-8"))
    for (a, b), entry in pairs.items():
        theirs = cohen_kappa_score([r[a] for r in records], [r[b] for r in records])
        assert entry["cohen_kappa"] == pytest.approx(theirs, abs=1e-12)
    given = Counter(str(r[a]) for r in records for a in ("annotator1", "annotator2", "annotator3"))
    assert [(e["category"], e["n"]) for e in per_category_agreement(table)] == [
        (k, given[k]) for k in ("0", "1", "2")
    ]
    assert [e["item"] for e in top_disagreements(table, top=2)] == ["87", "88"]
