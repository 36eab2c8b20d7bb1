"""Boxes: IoU hand values, optimal matching vs brute force, F1 at thresholds, mean IoU,
label agreement, per-annotator missed/extra boxes, voting."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelaudit.structured import structured_diagnostics, vote_boxes
from labelaudit.structured.boxes import box_matches, box_metrics, iou
from structured_helpers import structured_table

Box = tuple[float, float, float, float, str]


def boxes(*items: Box) -> list[dict[str, Any]]:
    return [{"x": x, "y": y, "width": w, "height": h, "label": lab} for x, y, w, h, lab in items]


HAND = [
    ("img1", "a", boxes((0, 0, 10, 10, "car"), (20, 20, 10, 10, "dog"))),
    ("img1", "b", boxes((0, 0, 10, 10, "car"), (22, 20, 10, 10, "cat"), (50, 50, 5, 5, "car"))),
    ("img2", "a", boxes((0, 0, 10, 10, "car"))),
    ("img2", "b", boxes((5, 0, 10, 10, "car"))),
]


def one(a: Box, b: Box) -> float:
    return float(iou(*(np.array([v]) for v in a[:4]), *(np.array([v]) for v in b[:4]))[0])


def test_iou_hand_values() -> None:
    assert one((0, 0, 10, 10, ""), (0, 0, 10, 10, "")) == 1.0
    assert one((0, 0, 10, 10, ""), (5, 0, 10, 10, "")) == pytest.approx(50 / 150)
    assert one((0, 0, 10, 10, ""), (5, 5, 10, 10, "")) == pytest.approx(25 / 175)
    assert one((0, 0, 10, 10, ""), (10, 0, 10, 10, "")) == 0.0  # touching edges
    assert one((0, 0, 0, 0, ""), (0, 0, 0, 0, "")) == 0.0  # no area: defined as 0
    assert one((0, 0, 4, 4, ""), (1, 1, 2, 2, "")) == pytest.approx(4 / 16)


def test_hand_metrics() -> None:
    got = box_metrics(structured_table("boxes", HAND))
    # img1: car 1.0, dog~cat 80/120; img2: 50/150. TP@0.5 = 2, |A| + |B| = 3 + 4.
    assert got["box_f1"]["iou50"].value == pytest.approx(4 / 7)
    # thresholds .50..95: car passes 10, dog~cat (0.667) passes 4 -> mean TP 1.4
    assert got["box_f1"]["iou50_95"].value == pytest.approx(2 * 1.4 / 7)
    assert got["mean_iou"].value == pytest.approx((1 + 80 / 120 + 50 / 150) / 3)
    assert got["box_label_agreement"].value == pytest.approx(0.5)  # car=car, dog!=cat


def brute_best_total(a: list[Box], b: list[Box]) -> float:
    """Largest total IoU of a one-to-one matching (all injections of the smaller side)."""
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    best = 0.0
    for chosen in itertools.permutations(range(len(large)), len(small)):
        best = max(best, sum(one(small[i], large[j]) for i, j in enumerate(chosen)))
    return best


coordinate = st.integers(0, 30).map(float)
box_strategy = st.tuples(
    coordinate,
    coordinate,
    st.integers(1, 15).map(float),
    st.integers(1, 15).map(float),
    st.sampled_from(["p", "q"]),
)


@settings(max_examples=80)
@given(st.lists(st.lists(box_strategy, max_size=4), min_size=2, max_size=3))
def test_matching_is_optimal(rows: list[list[Box]]) -> None:
    records = [("img", f"r{k}", boxes(*r)) for k, r in enumerate(rows)]
    table = structured_table("boxes", records)
    m = box_matches(table)
    for p, (r, s) in enumerate(zip(m.pair_r.tolist(), m.pair_s.tolist(), strict=True)):
        total = float(m.iou[m.pair == p].sum())
        assert total == pytest.approx(brute_best_total(rows[r], rows[s]), abs=1e-9)
        # one-to-one
        assert len(set(m.a[m.pair == p].tolist())) == int((m.pair == p).sum())
        assert len(set(m.b[m.pair == p].tolist())) == int((m.pair == p).sum())
    assert (m.iou > 0).all()


def test_row_and_box_order_do_not_matter() -> None:
    rng = np.random.default_rng(2)
    records = []
    for image in range(20):
        objects = rng.uniform(0, 100, size=(5, 4))
        for a in range(3):
            jitter = objects + rng.uniform(-3, 3, size=objects.shape)
            items = [
                (*map(float, row[:2]), float(abs(row[2]) + 5), float(abs(row[3]) + 5), "x")
                for row in jitter
            ]
            records.append((f"img{image}", f"a{a}", boxes(*items)))
    base = box_metrics(structured_table("boxes", records), ci="none")
    shuffled = [(i, a, list(reversed(b))) for i, a, b in reversed(records)]
    again = box_metrics(structured_table("boxes", shuffled), ci="none")
    assert again["box_f1"]["iou50"].value == pytest.approx(base["box_f1"]["iou50"].value)
    assert again["mean_iou"].value == pytest.approx(base["mean_iou"].value)


def test_annotator_counts() -> None:
    found = structured_diagnostics(structured_table("boxes", HAND))["structured"]["annotators"]
    assert found == [
        {
            "annotator": "a",
            "n_boxes": 3,
            "extra": 1,
            "missed": 2,
            "extra_rate": 1 / 3,
            "missed_rate": 0.5,
        },
        {
            "annotator": "b",
            "n_boxes": 4,
            "extra": 2,
            "missed": 1,
            "extra_rate": 0.5,
            "missed_rate": 1 / 3,
        },
    ]


def test_undefined_without_boxes() -> None:
    table = structured_table("boxes", [("i", "a", []), ("i", "b", [])])
    got = box_metrics(table)
    assert got["box_f1"]["iou50"].value is None and got["box_f1"]["iou50"].reason
    assert got["mean_iou"].value is None and "no matched boxes" in got["mean_iou"].reason


def test_voting_boxes() -> None:
    records = [
        ("i", "a", boxes((0, 0, 10, 10, "car"), (50, 50, 10, 10, "dog"))),
        ("i", "b", boxes((1, 1, 10, 10, "car"))),
        ("i", "c", boxes((2, 0, 10, 10, "truck"), (50, 50, 10, 10, "dog"))),
    ]
    table = structured_table("boxes", records)
    got = vote_boxes(table).to_dict()["items"][0]["consensus"]
    assert got == boxes((1.0, 1 / 3, 10.0, 10.0, "car"), (50.0, 50.0, 10.0, 10.0, "dog"))
    assert vote_boxes(table, min_votes=3).to_dict()["items"][0]["consensus"] == boxes(
        (1.0, 1 / 3, 10.0, 10.0, "car")
    )
    assert vote_boxes(table).to_table().num_rows == 1


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.lists(box_strategy, max_size=6), min_size=1, max_size=4),
        min_size=1,
        max_size=4,
    )
)
def test_dense_and_sweep_candidates_agree(images: list[list[list[Box]]]) -> None:
    """The two candidate generators (dense per row pair, x sweep) give the same box pairs
    and IoUs (ties in x, touching edges, empty rows included)."""
    from labelaudit.structured._explode import row_pairs
    from labelaudit.structured.boxes import _dense_overlaps, _overlaps, box_data

    records = [
        (f"i{n}", f"r{k}", boxes(*r)) for n, rows in enumerate(images) for k, r in enumerate(rows)
    ]
    table = structured_table("boxes", records)
    d = box_data(table)
    pair_r, pair_s = row_pairs(table.item_codes, table.annotator_codes)

    def canonical(i, j, value):
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        order = np.lexsort((hi, lo))
        return lo[order].tolist(), hi[order].tolist(), value[order].tolist()

    dense = canonical(*_dense_overlaps(d, pair_r, pair_s))
    sweep = canonical(*_overlaps(d, table.item_codes[d.row]))
    assert dense == sweep
