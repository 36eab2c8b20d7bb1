"""Agreement weight matrices (Gwet 2014, ch. 3; R irrCAC ``*.weights``).

Weights are computed from category *values* (string categories take 1..q in declared
order), never from positions among the categories that happen to be observed: a category
nobody used still occupies its place on the scale (notes/agreement.md, section 5.7).
Every matrix is (q, q), symmetric, 1 on the diagonal and in [0, 1].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from labelaudit._typing import WEIGHT_NAMES
from labelaudit.exceptions import InputError, UsageError

__all__ = ["read_weights_file", "weight_matrix"]


def _scaled(disagreement: np.ndarray) -> np.ndarray:
    peak = disagreement.max()
    return 1.0 - disagreement / peak if peak > 0 else np.ones_like(disagreement)


def weight_matrix(name: str, category_values: np.ndarray) -> np.ndarray:
    """Weight matrix ``W`` (q, q) for the named scheme over the category values.

    Parameters
    ----------
    name : str
        ``identity``, ``linear`` 1-|x_k-x_l|/(max-min), ``quadratic``
        1-(x_k-x_l)^2/(max-min)^2, ``ordinal`` (rank-combinatorial: 1 - C(|k-l|+1, 2) /
        max), ``ratio`` 1-((x_k-x_l)/(x_k+x_l))^2 / ((max-min)/(max+min))^2, ``radical``
        1-sqrt|x_k-x_l|/sqrt(max-min), ``circular`` 1-sin^2(pi (x_k-x_l)/U)/max with
        U = max-min+1, ``bipolar`` 1-(x_k-x_l)^2/((x_k+x_l-2 min)(2 max-x_k-x_l))/max.
    category_values : ndarray, shape (q,)
        Numeric value of each category.

    Returns
    -------
    ndarray, shape (q, q)

    References
    ----------
    Gwet, K. L. (2014). Handbook of Inter-Rater Reliability, 4th ed., section 3.
    """
    x = np.asarray(category_values, dtype=np.float64)
    q = x.size
    if name not in WEIGHT_NAMES:
        raise UsageError(f"weights must be one of {', '.join(WEIGHT_NAMES)}; got {name!r}")
    if name == "identity" or q < 2:
        return np.eye(q)
    diff = x[:, None] - x[None, :]
    span = x.max() - x.min()
    if name == "linear":
        return 1.0 - np.abs(diff) / span
    if name == "quadratic":
        return 1.0 - diff**2 / span**2
    if name == "radical":
        return 1.0 - np.sqrt(np.abs(diff)) / np.sqrt(span)
    if name == "ordinal":
        rank = np.argsort(np.argsort(x, kind="stable"), kind="stable")
        steps = np.abs(rank[:, None] - rank[None, :]) + 1.0
        return _scaled(steps * (steps - 1.0) / 2.0)
    if name == "ratio":
        return _ratio_weights(x, diff)
    if name == "circular":
        return _scaled(np.sin(np.pi * diff / (span + 1.0)) ** 2)
    return _bipolar_weights(x, diff)


def _ratio_weights(x: np.ndarray, diff: np.ndarray) -> np.ndarray:
    total = x[:, None] + x[None, :]
    if np.any(x < 0):
        raise UsageError("ratio weights need non-negative category values")
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(total > 0, (diff / total) ** 2, 0.0)
        peak = ((x.max() - x.min()) / (x.max() + x.min())) ** 2
    return 1.0 - ratio / peak if peak > 0 else np.ones_like(ratio)


def _bipolar_weights(x: np.ndarray, diff: np.ndarray) -> np.ndarray:
    total = x[:, None] + x[None, :]
    low, high = x.min(), x.max()
    denominator = (total - 2.0 * low) * (2.0 * high - total)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(denominator > 0, diff**2 / denominator, 0.0)
    np.fill_diagonal(raw, 0.0)
    return _scaled(raw)


def read_weights_file(path: str | Path, q: int) -> np.ndarray:
    """Read a user weight matrix: q lines of q numbers (comma, tab or space separated).

    The matrix must be square (q, q) in declared category order, with values in [0, 1]
    and ones on the diagonal.
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise InputError("unreadable weights file", source=name, actual=str(error)) from None
    rows = [line.replace(",", " ").split() for line in text.splitlines() if line.strip()]
    for number, row in enumerate(rows, start=1):
        if len(row) != q:
            raise InputError(
                "bad weights row",
                source=name,
                line=number,
                expected=f"{q} numbers (one per category)",
                actual=len(row),
            )
    if len(rows) != q:
        raise InputError("bad weights matrix", source=name, expected=f"{q} rows", actual=len(rows))
    try:
        matrix = np.array(rows, dtype=np.float64)
    except ValueError as error:
        raise InputError(
            "non-numeric weight", source=name, expected="numbers", actual=str(error)
        ) from None
    if not np.allclose(np.diag(matrix), 1.0) or matrix.min() < 0 or matrix.max() > 1:
        raise InputError(
            "bad weights matrix",
            source=name,
            expected="values in [0, 1] with ones on the diagonal",
            actual=f"min {matrix.min()}, max {matrix.max()}",
        )
    return matrix
