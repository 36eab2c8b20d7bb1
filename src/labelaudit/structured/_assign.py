"""Maximum-weight one-to-one matching of many small bipartite graphs at once.

Box matching needs, for every annotator pair of every image, the assignment that
maximises the total IoU (``scipy.optimize.linear_sum_assignment(..., maximize=True)``),
keeping only the pairs with positive IoU. Calling the solver once per image pair costs
about 30 us of Python each, which dominates at 100,000 images. The optimum decomposes over
the connected components of the positive-weight graph (a zero-weight pair adds nothing,
so the best total is the sum of each component's best total), and the components are
tiny (a box overlaps one or two boxes of the other annotator). :func:`sparse_assignment`
therefore

1. splits all the graphs into connected components at once (``scipy.sparse.csgraph``);
2. groups the components by shape (n x m, oriented n <= m) and, for each shape with at
   most :data:`MAX_PERMUTATIONS` injective maps of the n rows into the m columns, scores
   every map of every component of that shape in one numpy gather and takes the best
   (brute force, exact);
3. solves the rare larger components with ``linear_sum_assignment`` one by one.

When several assignments reach the same total, the first in lexicographic order of the
columns chosen for rows 0, 1, ... (rows and columns in node-id order) wins; the solver
makes its own choice in such exact ties, so only the total is then guaranteed to be the
same as one solver call on the whole matrix.
"""

from __future__ import annotations

from functools import cache
from itertools import pairwise, permutations

import numpy as np
import numpy.typing as npt

__all__ = ["MAX_PERMUTATIONS", "sparse_assignment"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

#: Largest number of injective maps brute-forced per component shape (7 x 7: 5,040).
MAX_PERMUTATIONS = 5040
_GATHER = 1 << 22  # floats gathered per chunk of components


@cache
def _maps(n: int, m: int) -> I64:
    """All injective maps of n rows into m columns, lexicographic, shape (P, n)."""
    return np.array(list(permutations(range(m), n)), dtype=np.int64).reshape(-1, n)


def _n_maps(n: int, m: int) -> int:
    count = 1
    for k in range(m - n + 1, m + 1):
        count *= k
    return count


def _local_index(component: I64, n_components: int) -> tuple[I64, I64]:
    """Rank of every node inside its component (node-id order) and the component sizes."""
    size = np.bincount(component, minlength=n_components).astype(np.int64)
    order = np.argsort(component, kind="stable")
    rank = np.empty(component.size, dtype=np.int64)
    rank[order] = np.arange(component.size) - np.repeat(np.cumsum(size) - size, size)
    return rank, size


def sparse_assignment(node_a: I64, node_b: I64, value: F64) -> B:
    """Edges of a maximum-total matching of a bipartite graph given by its edge list.

    Parameters
    ----------
    node_a, node_b : ndarray of int64, shape (E,)
        End points of every edge (two separate id spaces, any non-negative ints; a pair
        (a, b) appears at most once).
    value : ndarray of float64, shape (E,)
        Edge weights, > 0.

    Returns
    -------
    ndarray of bool, shape (E,)
        True for the edges of a one-to-one matching with the largest total weight: per
        connected component the positive pairs of ``linear_sum_assignment(maximize=True)``
        on its dense matrix (see the module docstring for ties).
    """
    chosen = np.zeros(node_a.size, dtype=bool)
    if node_a.size == 0:
        return chosen
    ia, ib = _compact(node_a), _compact(node_b)
    lone = (np.bincount(ia)[ia] == 1) & (np.bincount(ib)[ib] == 1)
    chosen[lone] = True  # an edge whose two ends have no other edge: a 1 x 1 component
    rest = np.flatnonzero(~lone)
    if rest.size:
        chosen[rest] = _components_assignment(ia[rest], ib[rest], value[rest])
    return chosen


def _components_assignment(ia: I64, ib: I64, value: F64) -> B:
    """:func:`sparse_assignment` over the edges that share an end with another edge."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    chosen = np.zeros(ia.size, dtype=bool)
    ia, ib = _compact(ia), _compact(ib)
    n_a, n_b = int(ia.max()) + 1, int(ib.max()) + 1
    graph = coo_matrix((np.ones(ia.size), (ia, n_a + ib)), shape=(n_a + n_b, n_a + n_b))
    n_comp, labels = connected_components(graph, directed=False)
    comp_a, comp_b = labels[:n_a].astype(np.int64), labels[n_a:].astype(np.int64)
    rank_a, size_a = _local_index(comp_a, n_comp)
    rank_b, size_b = _local_index(comp_b, n_comp)
    comp = comp_a[ia]
    flip = size_a[comp] > size_b[comp]  # orient every component as n <= m
    row = np.where(flip, rank_b[ib], rank_a[ia])
    col = np.where(flip, rank_a[ia], rank_b[ib])
    n, m = np.minimum(size_a, size_b), np.maximum(size_a, size_b)
    shape_key = n * (int(m.max()) + 1) + m
    edge_key = shape_key[comp]
    order = np.argsort(edge_key, kind="stable")
    for lo, hi in _runs(edge_key[order]):
        edges = order[lo:hi]
        rows, cols = int(n[comp[edges[0]]]), int(m[comp[edges[0]]])
        if _n_maps(rows, cols) <= MAX_PERMUTATIONS:
            chosen[edges] = _brute_force(
                comp[edges], row[edges], col[edges], value[edges], rows, cols
            )
        else:
            chosen[edges] = _solver(comp[edges], row[edges], col[edges], value[edges], rows, cols)
    return chosen


def _compact(ids: I64) -> I64:
    """Ids renumbered 0..k-1 in increasing order (a bincount when they are dense enough)."""
    if int(ids.max()) < 8 * ids.size + 1_000_000 and int(ids.min()) >= 0:
        present = np.bincount(ids) > 0
        return np.asarray((np.cumsum(present) - 1)[ids], dtype=np.int64)
    return np.unique(ids, return_inverse=True)[1].astype(np.int64).reshape(-1)


def _runs(keys: I64) -> list[tuple[int, int]]:
    """(start, stop) of the runs of equal values in a sorted key array."""
    new = np.flatnonzero(np.diff(keys)) + 1
    bounds = np.concatenate([[0], new, [keys.size]]).tolist()
    return list(pairwise(bounds))


def _brute_force(comp: I64, row: I64, col: I64, value: F64, n: int, m: int) -> B:
    """Best injective map of every component of shape n x m (edges of those components)."""
    ids, local = np.unique(comp, return_inverse=True)
    maps = _maps(n, m)
    best = np.empty((ids.size, n), dtype=np.int64)
    step = max(1, _GATHER // (maps.size or 1))
    for lo in range(0, ids.size, step):
        hi = min(lo + step, ids.size)
        dense = np.zeros((hi - lo, n, m))
        inside = (local >= lo) & (local < hi)
        dense[local[inside] - lo, row[inside], col[inside]] = value[inside]
        total = np.zeros((hi - lo, maps.shape[0]))
        for i in range(n):  # n <= 7: a sum over rows in a fixed order
            total += dense[:, i, :][:, maps[:, i]]
        best[lo:hi] = maps[np.argmax(total, axis=1)]
    return np.asarray(best[local, row] == col)


def _solver(comp: I64, row: I64, col: I64, value: F64, n: int, m: int) -> B:
    """``linear_sum_assignment`` per component (components too large to brute-force)."""
    from scipy.optimize import linear_sum_assignment

    local = np.unique(comp, return_inverse=True)[1].reshape(-1)
    out = np.zeros(comp.size, dtype=bool)
    order = np.argsort(local, kind="stable")
    for lo, hi in _runs(local[order]):
        edges = order[lo:hi]
        dense = np.zeros((n, m))
        dense[row[edges], col[edges]] = value[edges]
        r, c = linear_sum_assignment(dense, maximize=True)
        pick = np.full(n, -1, dtype=np.int64)
        pick[r] = c
        out[edges] = pick[row[edges]] == col[edges]
    return out
