"""The batched sparse assignment equals scipy's linear_sum_assignment (property tests)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from labelaudit.structured._assign import sparse_assignment


def _blocks(seed: int, n_blocks: int, max_side: int, density: float) -> tuple[list, np.ndarray]:
    """Random sparse matrices (continuous values: no exact ties) and their edge lists."""
    rng = np.random.default_rng(seed)
    mats = []
    for _ in range(n_blocks):
        n, m = rng.integers(1, max_side + 1, size=2)
        mat = rng.random((n, m)) * (rng.random((n, m)) < density)
        mats.append(mat)
    return mats, rng.permutation(sum(int((mat > 0).sum()) for mat in mats))


def _edges(mats: list, shuffle: np.ndarray) -> tuple[np.ndarray, ...]:
    a, b, v, block = [], [], [], []
    offset_a = offset_b = 0
    for k, mat in enumerate(mats):
        i, j = np.nonzero(mat)
        a.append(i + offset_a)
        b.append(j + offset_b)
        v.append(mat[i, j])
        block.append(np.full(i.size, k))
        offset_a += mat.shape[0]
        offset_b += mat.shape[1]
    out = [
        np.concatenate(x).astype(t)
        for x, t in zip((a, b, v, block), (int, int, float, int), strict=True)
    ]
    return tuple(x[shuffle] for x in out)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_blocks=st.integers(1, 30),
    max_side=st.integers(1, 10),
    density=st.floats(0.1, 1.0),
)
def test_sparse_assignment_equals_scipy(
    seed: int, n_blocks: int, max_side: int, density: float
) -> None:
    mats, shuffle = _blocks(seed, n_blocks, max_side, density)
    a, b, value, block = _edges(mats, shuffle)
    chosen = sparse_assignment(a.astype(np.int64), b.astype(np.int64), value)
    offset_a = np.cumsum([0] + [mat.shape[0] for mat in mats])
    offset_b = np.cumsum([0] + [mat.shape[1] for mat in mats])
    for k, mat in enumerate(mats):
        rows, cols = linear_sum_assignment(mat, maximize=True)
        positive = mat[rows, cols] > 0
        expected = {(int(r), int(c)) for r, c in zip(rows[positive], cols[positive], strict=True)}
        mine = (block == k) & chosen
        got = {
            (int(r), int(c))
            for r, c in zip(a[mine] - offset_a[k], b[mine] - offset_b[k], strict=True)
        }
        assert got == expected
        total = sum(float(mat[r, c]) for r, c in got)
        assert abs(total - float(mat[rows, cols].sum())) <= 1e-12


def test_large_components_use_the_solver() -> None:
    """A dense 9 x 9 block (9! maps: above the brute-force limit) still gets the optimum."""
    rng = np.random.default_rng(3)
    mat = rng.random((9, 9)) + 0.01
    i, j = np.nonzero(mat)
    chosen = sparse_assignment(i.astype(np.int64), j.astype(np.int64), mat[i, j])
    rows, cols = linear_sum_assignment(mat, maximize=True)
    assert set(zip(i[chosen].tolist(), j[chosen].tolist(), strict=True)) == set(
        zip(rows.tolist(), cols.tolist(), strict=True)
    )


def test_one_to_one_and_empty() -> None:
    empty = np.zeros(0, dtype=np.int64)
    assert sparse_assignment(empty, empty, np.zeros(0)).size == 0
    # one box of A overlaps two of B: the larger IoU wins
    chosen = sparse_assignment(np.array([5, 5]), np.array([7, 9]), np.array([0.3, 0.6]))
    assert chosen.tolist() == [False, True]
