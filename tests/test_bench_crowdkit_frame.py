"""The crowd-kit benchmark's DataFrame layouts (benchmarks/crowdkit_case.py).

crowd-kit 1.4.2's MACE is only correct when the sorted order of worker and label names is
their order of first appearance; the ``first-appearance`` layout must guarantee that and
decode crowd-kit's labels back to the category codes.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from crowdkit_case import FRAME_LAYOUT, METHODS, build_frame, first_appearance_ranks


def _arrays(annotators: list[int], labels: list[int]) -> dict[str, np.ndarray]:
    n_rows = len(annotators)
    return {
        "item": np.arange(n_rows, dtype=np.int32) // 2,
        "annotator": np.asarray(annotators, dtype=np.int32),
        "label": np.asarray(labels, dtype=np.int8),
        "truth": np.zeros((n_rows + 1) // 2, dtype=np.int8),
    }


rows = st.integers(1, 60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 120), min_size=n, max_size=n),
        st.lists(st.integers(0, 5), min_size=n, max_size=n),
    )
)


@given(rows)
def test_first_appearance_names_sort_in_factorize_order(data: tuple[list[int], list[int]]) -> None:
    arrays = _arrays(*data)
    frame, task_names, decoder = build_frame(arrays, "first-appearance")
    for column in ("worker", "label"):
        _, in_factorize_order = pd.factorize(frame[column])
        assert list(in_factorize_order) == sorted(in_factorize_order)
    # the decoder maps every renamed label back to its category code
    assert np.array_equal(decoder[frame["label"].to_numpy()], arrays["label"])
    # the same worker keeps one name, and different workers different names
    pairs = set(zip(arrays["annotator"].tolist(), frame["worker"], strict=True))
    assert len(pairs) == len(set(arrays["annotator"].tolist())) == frame["worker"].nunique()
    assert list(frame["task"]) == list(task_names[arrays["item"]])


def test_codes_layout_keeps_the_recorded_names() -> None:
    arrays = _arrays([20, 3, 3, 20], [2, 0, 1, 2])
    frame, _, decoder = build_frame(arrays, "codes")
    assert list(frame["worker"]) == ["w20", "w3", "w3", "w20"]
    assert list(frame["label"]) == [2, 0, 1, 2]
    assert list(decoder) == [0, 1, 2]


def test_first_appearance_ranks() -> None:
    ranks, in_order = first_appearance_ranks(np.array([7, 2, 7, 5, 2]))
    assert list(in_order) == [7, 2, 5]
    assert ranks[7] == 0 and ranks[2] == 1 and ranks[5] == 2
    assert set(FRAME_LAYOUT) == set(METHODS) and FRAME_LAYOUT["mace"] == "first-appearance"
