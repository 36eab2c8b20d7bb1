"""Spans: F1 on a hand example, against a plain-Python reference, symmetry, invariance to
span and row order (hypothesis), token-level alpha/kappa vs the categorical coefficients on
the expanded token table, diagnostics and voting."""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelaudit.agreement import agreement_report
from labelaudit.structured import structured_diagnostics, structured_metrics, vote_spans
from labelaudit.structured._tokens import token_agreement, whitespace_tokens
from labelaudit.structured.spans import span_data, span_f1
from labelaudit.table import from_dataframe
from structured_helpers import structured_table

Span = tuple[int, int, str]


def spans(*triples: Span) -> list[dict[str, Any]]:
    return [{"start": s, "end": e, "label": lab} for s, e, lab in triples]


TEXT = "Barack Obama visited Paris in May"
HAND = [
    ("d1", "a", spans((0, 12, "PER"), (21, 26, "LOC"))),
    ("d1", "b", spans((7, 12, "PER"), (21, 26, "ORG"))),
    ("d2", "a", spans((0, 6, "PER"))),
    ("d2", "b", spans((0, 6, "PER"), (21, 26, "LOC"))),
]


def values(result: Any) -> Any:
    if isinstance(result, dict):
        return {k: values(v) for k, v in result.items()}
    return result.value


def test_hand_example() -> None:
    table = structured_table("spans", HAND, extra={"text": [TEXT] * 4})
    got = values(span_f1(table))
    # one annotator pair; |A| = 3, |B| = 4 spans over d1 and d2.
    # exact: only d2's PER matches -> 2 * 1 / 7; overlap: PER "Barack Obama" ~ "Obama" too
    assert got["exact"]["micro"] == pytest.approx(2 / 7)
    assert got["overlap"]["micro"] == pytest.approx(4 / 7)
    # PER: A 2, B 2; exact TP 1, overlap TP 2. LOC: A 1, B 1, no match. ORG: B 1.
    assert got["exact"]["per_label"] == pytest.approx({"LOC": 0.0, "ORG": 0.0, "PER": 0.5})
    assert got["overlap"]["per_label"] == pytest.approx({"LOC": 0.0, "ORG": 0.0, "PER": 1.0})


def _reference_tp(a: list[Span], b: list[Span], kind: str) -> Counter[str]:
    """Plain-Python matching: exact = multiset intersection; overlap = sequential greedy."""
    if kind == "exact":
        common = Counter(a) & Counter(b)
        out: Counter[str] = Counter()
        for (_, _, label), n in common.items():
            out[label] += n
        return out
    edges = []
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            overlap = min(x[1], y[1]) - max(x[0], y[0])
            if x[2] == y[2] and overlap > 0:
                union = max(x[1], y[1]) - min(x[0], y[0])
                lo, hi = sorted([(x[0], x[1]), (y[0], y[1])])
                edges.append(((-overlap, union, lo, hi, i, j), i, j))
    used_a, used_b = set(), set()
    out = Counter()
    for _, i, j in sorted(edges):
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            out[a[i][2]] += 1
    return out


def reference_f1(records: list[tuple[str, str, list[Span]]], kind: str) -> dict[str, Any]:
    rows: dict[str, dict[str, list[Span]]] = {}
    for item, annotator, triples in records:
        rows.setdefault(item, {})[annotator] = [t for t in triples if t[1] > t[0]]
    totals: dict[tuple[str, str], Counter[str]] = {}
    sizes: dict[tuple[str, str], Counter[str]] = {}
    for by_annotator in rows.values():
        for x, y in itertools.combinations(sorted(by_annotator), 2):
            a, b = by_annotator[x], by_annotator[y]
            totals.setdefault((x, y), Counter()).update(_reference_tp(a, b, kind))
            size = sizes.setdefault((x, y), Counter())
            size.update(t[2] for t in a + b)
    micro = [
        2 * sum(totals[p].values()) / sum(sizes[p].values())
        for p in totals
        if sum(sizes[p].values())
    ]
    labels = sorted({lab for s in sizes.values() for lab in s})
    per_label = {
        lab: np.mean([2 * totals[p][lab] / sizes[p][lab] for p in totals if sizes[p][lab]])
        for lab in labels
    }
    return {"micro": np.mean(micro) if micro else None, "per_label": per_label}


span_triples = st.lists(
    st.tuples(st.integers(0, 25), st.integers(1, 8), st.sampled_from(["PER", "LOC", "ORG"])).map(
        lambda t: (t[0], t[0] + t[1], t[2])
    ),
    max_size=6,
)
tables = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 3), span_triples),
    min_size=2,
    max_size=12,
    unique_by=lambda r: (r[0], r[1]),
)


def _records(rows: list[tuple[int, int, list[Span]]]) -> list[tuple[str, str, list[Span]]]:
    return [(f"d{i}", f"a{a}", triples) for i, a, triples in rows]


def _table(records: list[tuple[str, str, list[Span]]], **options: Any) -> Any:
    return structured_table("spans", [(i, a, spans(*t)) for i, a, t in records], **options)


@settings(max_examples=150)
@given(tables)
def test_matches_plain_python_reference(rows: list[tuple[int, int, list[Span]]]) -> None:
    records = _records(rows)
    got = span_f1(_table(records), ci="none")
    for kind in ("exact", "overlap"):
        expected = reference_f1(records, kind)
        assert got[kind]["micro"].value == pytest.approx(expected["micro"], abs=1e-12)
        for label, value in expected["per_label"].items():
            assert got[kind]["per_label"][label].value == pytest.approx(value, abs=1e-12)


@settings(max_examples=100)
@given(tables, st.randoms(use_true_random=False))
def test_order_invariance_and_symmetry(
    rows: list[tuple[int, int, list[Span]]], rnd: random.Random
) -> None:
    records = _records(rows)
    base = values(span_f1(_table(records), ci="none"))
    shuffled = [(i, a, rnd.sample(t, len(t))) for i, a, t in rnd.sample(records, len(records))]
    assert values(span_f1(_table(shuffled, normalise=False), ci="none")) == base
    # renaming annotators so that their order flips: F1(A, B) = F1(B, A)
    flipped = [(i, f"z{9 - int(a[1:])}", t) for i, a, t in records]
    got = flat(values(span_f1(_table(flipped), ci="none")))
    assert got.keys() == flat(base).keys()
    for key, value in flat(base).items():
        assert got[key] == (None if value is None else pytest.approx(value, abs=1e-12)), key


def flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(tree, dict):
        return {prefix: tree}
    return {k: v for key, sub in tree.items() for k, v in flat(sub, f"{prefix}/{key}").items()}


def test_overlapping_labels_handled() -> None:
    # nested spans of one label (name vs name.first) match one-to-one by largest overlap
    records = [
        ("d", "a", [(0, 10, "NAME"), (0, 4, "NAME")]),
        ("d", "b", [(0, 4, "NAME"), (0, 9, "NAME")]),
    ]
    got = span_f1(_table(records), ci="none")
    assert got["overlap"]["micro"].value == 1.0 and got["exact"]["micro"].value == 0.5


def _token_table(records: list[tuple[str, str, list[Span]]], texts: dict[str, str]) -> Any:
    """The expanded (token, annotator, label) table built in plain Python."""
    pd = pytest.importorskip("pandas")
    rows = []
    for item, annotator, triples in records:
        for index, match in enumerate(re.finditer(r"\S+", texts[item])):
            label = "O"
            for s, e, lab in sorted(triples):
                if s < match.end() and match.start() < e:
                    label = lab
                    break
            rows.append((f"{item}:{index}", annotator, label))
    return from_dataframe(pd.DataFrame(rows, columns=["item", "annotator", "label"]))


def test_token_level_equals_categorical_on_expanded_tokens() -> None:
    texts = {"d1": "Barack Obama visited  Paris in May", "d2": "New York is big", "d3": "x y"}
    records = [
        ("d1", "a", [(0, 12, "PER"), (22, 27, "LOC")]),
        ("d1", "b", [(7, 12, "PER"), (22, 27, "ORG"), (31, 34, "DATE")]),
        ("d1", "c", [(0, 6, "PER"), (22, 27, "LOC")]),
        ("d2", "a", [(0, 8, "LOC")]),
        ("d2", "b", [(0, 3, "LOC"), (2, 8, "ORG")]),
        ("d3", "a", []),
        ("d3", "b", [(0, 1, "MISC")]),
    ]
    table = _table(records, extra={"text": [texts[r[0]] for r in records]})
    got = token_agreement(table, span_data(table))
    expected = agreement_report(_token_table(records, texts)).metrics
    assert got["token_alpha"].value == pytest.approx(expected["krippendorff_alpha"].value)
    assert got["token_alpha"].se == pytest.approx(expected["krippendorff_alpha"].se)
    assert got["token_kappa"].value == pytest.approx(expected["fleiss_kappa"].value)
    assert got["token_alpha"].extra["n_tokens"] == 12
    # the same tokens given explicitly (Prodigy-style) give the same values
    tokens = {
        k: [{"start": m.start(), "end": m.end()} for m in re.finditer(r"\S+", v)]
        for k, v in texts.items()
    }
    with_tokens = _table(records, extra={"tokens": [tokens[r[0]] for r in records]})
    again = token_agreement(with_tokens, span_data(with_tokens))
    assert again["token_alpha"].value == pytest.approx(got["token_alpha"].value)
    boot = token_agreement(table, span_data(table), ci="bootstrap", n_boot=200)
    assert boot["token_alpha"].ci_method == "bootstrap"
    assert boot["token_alpha"].extra["resampled"] == "documents"


def test_token_metrics_without_text_are_null_with_reason() -> None:
    table = _table([("d", "a", [(0, 2, "X")]), ("d", "b", [(0, 2, "X")])])
    got = structured_metrics(table)
    assert got["token_alpha"].value is None and "no text" in got["token_alpha"].reason


@given(st.lists(st.sampled_from(["ab", " ", "\t", "c\u00a0d", "é", "\n\n", "x"]), max_size=8))
def test_whitespace_tokens_match_str_split(parts: list[str]) -> None:
    texts = ["".join(parts), "".join(reversed(parts)), ""]
    which, start, end = whitespace_tokens(texts)
    for k, text in enumerate(texts):
        got = [text[s:e] for s, e in zip(start[which == k], end[which == k], strict=True)]
        assert got == text.split()


def test_diagnostics_and_report_shapes() -> None:
    table = structured_table("spans", HAND, extra={"text": [TEXT] * 4})
    found = structured_diagnostics(table)
    assert found["confusions"] == [
        {"label_a": "LOC", "label_b": "ORG", "count": 1, "share": 1.0, "example_items": ["d1"]}
    ]
    boundary = found["structured"]["boundary_disagreements"]
    assert boundary[0]["label"] == "PER" and boundary[0]["count"] == 1
    assert boundary[0]["share"] == 0.5
    assert boundary[0]["examples"][0] == {
        "item": "d1",
        "a": "a",
        "b": "b",
        "span_a": [0, 12],
        "span_b": [7, 12],
        "text_a": "Barack Obama",
        "text_b": "Obama",
    }


def test_bootstrap_is_seeded() -> None:
    rng = np.random.default_rng(0)
    records = [
        (f"d{i}", f"a{a}", [(int(s), int(s) + 3, "X") for s in rng.integers(0, 20, 3)])
        for i in range(30)
        for a in range(3)
    ]
    table = _table(records)
    first = span_f1(table, ci="bootstrap", n_boot=200, seed=5)["overlap"]["micro"]
    again = span_f1(table, ci="bootstrap", n_boot=200, seed=5)["overlap"]["micro"]
    assert first.to_dict() == again.to_dict() and first.ci95 is not None
    analytic = span_f1(table)["overlap"]["micro"]
    assert analytic.se == pytest.approx(first.se, rel=0.35)


def test_voting_spans() -> None:
    records = [
        ("d", "a", [(0, 5, "PER"), (10, 15, "LOC"), (30, 33, "ORG")]),
        ("d", "b", [(0, 5, "PER"), (11, 15, "LOC")]),
        ("d", "c", [(1, 5, "PER"), (20, 25, "ORG")]),
    ]
    table = _table(records)
    consensus = vote_spans(table).to_dict()["items"][0]["consensus"]
    assert consensus == spans((0, 5, "PER"), (10, 15, "LOC"))
    everyone = vote_spans(table, min_votes=3).to_dict()["items"][0]["consensus"]
    assert everyone == spans((0, 5, "PER"))
    anyone = vote_spans(table, min_votes=1).to_dict()["items"][0]["consensus"]
    assert anyone == spans((0, 5, "PER"), (10, 15, "LOC"), (20, 25, "ORG"), (30, 33, "ORG"))
