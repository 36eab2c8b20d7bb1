"""Free-text agreement: normalisation, normalised edit distance and alpha vs brute force,
the approximate path (flagged, deterministic under the seed)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from labelaudit.structured import structured_metrics
from labelaudit.structured.text import edit_distance, normalize_text, text_metrics
from structured_helpers import structured_table


def levenshtein(a: str, b: str) -> int:
    """Textbook dynamic programme (Wagner & Fischer 1974)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def normalized(a: str, b: str) -> float:
    return levenshtein(a, b) / max(len(a), len(b)) if (a or b) else 0.0


def brute_text_alpha(records: list[tuple[str, str, str]]) -> float:
    units: dict[str, list[str]] = {}
    for item, _, text in records:
        units.setdefault(item, []).append(" ".join(text.lower().split()))
    pairable = [v for v in units.values() if len(v) >= 2]
    n = sum(len(v) for v in pairable)
    d_o = sum(
        sum(normalized(a, b) for a, b in itertools.permutations(v, 2)) / (len(v) - 1)
        for v in pairable
    )
    values = [x for v in pairable for x in v]
    d_e = sum(normalized(a, b) for a, b in itertools.permutations(values, 2))
    return 1.0 - (n - 1) * d_o / d_e


RECORDS = [
    ("u1", "a", "New York"),
    ("u1", "b", "new  york "),
    ("u1", "c", "Newark"),
    ("u2", "a", "hello world"),
    ("u2", "b", "helo world"),
    ("u3", "a", "abc"),
    ("u3", "b", "xyz"),
    ("u4", "a", "same"),
    ("u4", "b", "same"),
    ("u4", "c", ""),
    ("u5", "a", "alone"),
]


def test_normalisation() -> None:
    raw = pa.array(["  New\tYork ", "ＡＢＣ", "a\u00a0 b", None])
    assert normalize_text(raw).to_pylist() == ["new york", "abc", "a b", None]


@given(st.text(max_size=12), st.text(max_size=12))
def test_edit_distance_vs_dynamic_programme(a: str, b: str) -> None:
    assert edit_distance(a, b) == pytest.approx(normalized(a, b), abs=1e-12)


def test_hand_values() -> None:
    assert edit_distance("kitten", "sitting") == pytest.approx(3 / 7)
    assert edit_distance("", "") == 0.0 and edit_distance("", "ab") == 1.0
    table = structured_table("text", RECORDS)
    out = text_metrics(table)
    # u1: d(new york, new york) = 0, d(new york, newark) = 3/8 twice -> mean 0.25;
    # u2: 1/11; u3: 1; u4: (0 + 1 + 1) / 3
    expected = (0.25 + 1 / 11 + 1.0 + 2 / 3) / 4
    assert out["mean_edit_distance"].value == pytest.approx(expected)
    # identical after normalisation: u1 1/3, u2 0, u3 0, u4 1/3
    assert out["normalized_exact_agreement"].value == pytest.approx((1 / 3 + 0 + 0 + 1 / 3) / 4)
    raw = text_metrics(table, normalize=False)["normalized_exact_agreement"].value
    assert raw == pytest.approx((0 + 0 + 0 + 1 / 3) / 4)


def test_alpha_matches_brute_force() -> None:
    table = structured_table("text", RECORDS)
    got = text_metrics(table)["text_alpha"]
    assert got.value == pytest.approx(brute_text_alpha(RECORDS), abs=1e-12)
    assert got.extra["approximate"] is False and got.se is not None and got.se > 0


@given(
    st.lists(
        st.tuples(
            st.integers(0, 4), st.integers(0, 3), st.sampled_from(["ab", "abc", "b", "", "xa"])
        ),
        min_size=2,
        max_size=20,
        unique_by=lambda r: (r[0], r[1]),
    )
)
def test_alpha_brute_force_property(rows: list[tuple[int, int, str]]) -> None:
    records = [(f"u{i}", f"a{a}", text) for i, a, text in rows]
    got = text_metrics(structured_table("text", records), ci="none")["text_alpha"]
    units: dict[str, list[str]] = {}
    for item, _, text in records:
        units.setdefault(item, []).append(text)
    pairable = [t for v in units.values() if len(v) >= 2 for t in v]
    if len(set(pairable)) < 2:
        assert got.value is None and got.reason
        return
    assert got.value == pytest.approx(brute_text_alpha(records), abs=1e-10)


def _many(n_items: int, seed: int = 0) -> Any:
    rng = np.random.default_rng(seed)
    words = np.array(list("abcdefghij"))
    records = []
    for i in range(n_items):
        base = "".join(rng.choice(words, 8))
        for a in range(3):
            text = "".join(c if rng.random() > 0.2 else rng.choice(words) for c in base)
            records.append((f"u{i}", f"a{a}", text))
    return structured_table("text", records)


def test_approximate_path_flagged_and_deterministic() -> None:
    table = _many(300)
    exact = text_metrics(table, ci="none")["text_alpha"]
    first = text_metrics(table, exact_limit=100, n_pairs=100_000, seed=3)["text_alpha"]
    again = text_metrics(table, exact_limit=100, n_pairs=100_000, seed=3)["text_alpha"]
    other = text_metrics(table, exact_limit=100, n_pairs=100_000, seed=4)["text_alpha"]
    assert exact.extra["approximate"] is False and exact.extra["n_distinct_values"] > 100
    assert first.to_dict()["approximate"] is True and first.extra["n_sampled_pairs"] == 100_000
    assert first.to_dict() == again.to_dict() and first.value != other.value
    assert first.value == pytest.approx(exact.value, abs=0.01)
    assert "se_note" in first.extra


def test_bootstrap_and_report_keys() -> None:
    table = _many(40)
    boot = structured_metrics(table, ci="bootstrap", n_boot=200, seed=1)
    assert boot["text_alpha"].ci_method == "bootstrap" and boot["text_alpha"].ci95 is not None
    again = structured_metrics(table, ci="bootstrap", n_boot=200, seed=1)
    assert boot["text_alpha"].to_dict() == again["text_alpha"].to_dict()
    plain = structured_metrics(table, ci="none")
    assert set(plain) == {
        "percent_agreement",
        "text_alpha",
        "mean_edit_distance",
        "normalized_exact_agreement",
    }
    assert all(m.se is None for m in plain.values())  # type: ignore[union-attr]
