"""Expand k-way rankings into pairwise votes.

A ranking of k responses (rank 1 = best; equal ranks are ties) becomes the C(k, 2) pairs
it implies: for responses i < j in the listed order, the vote puts i in the first slot and
chooses ``first`` when rank_i < rank_j, ``second`` when rank_i > rank_j, ``tie`` when
equal. A ranking shows every response at once, so ``order_known`` is False. The expansion
is vectorised per ranking size (a loop over the distinct sizes, not over rankings).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np

__all__ = ["expand_rankings"]


def expand_rankings(
    ranks: Sequence[Sequence[float]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pairs implied by rankings.

    Parameters
    ----------
    ranks : sequence of sequences of float
        One ranking per record: the rank of each listed response (1 = best).

    Returns
    -------
    record, first, second : ndarrays of int64, shape (n_pairs,)
        The ranking each pair comes from and the positions (within the ranking) of the
        responses in the first and second slot (first < second).
    choice : ndarray of object, shape (n_pairs,)
        ``"first"``, ``"second"`` or ``"tie"``.
    """
    sizes = np.array([len(r) for r in ranks], dtype=np.int64)
    flat = np.array([float(x) for r in ranks for x in r], dtype=np.float64)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    parts: list[tuple[np.ndarray, ...]] = []
    for k in np.unique(sizes[sizes >= 2]):  # a loop over ranking sizes
        records = np.flatnonzero(sizes == k)
        pairs = np.array(list(combinations(range(int(k)), 2)), dtype=np.int64)
        record = np.repeat(records, pairs.shape[0])
        first = np.tile(pairs[:, 0], records.size)
        second = np.tile(pairs[:, 1], records.size)
        parts.append((record, first, second))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0, dtype=object)
    record, first, second = (np.concatenate(p) for p in zip(*parts, strict=True))
    order = np.lexsort((second, first, record))
    record, first, second = record[order], first[order], second[order]
    rank_first = flat[starts[record] + first]
    rank_second = flat[starts[record] + second]
    choice = np.select(
        [rank_first < rank_second, rank_first > rank_second], ["first", "second"], "tie"
    ).astype(object)
    return record, first, second, choice


def ranking_columns(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Vote columns of ranking records ``{"prompt", "prompt_text", "responses", "ranks",
    "annotator", "line"}`` (optional ``models``, parallel to ``responses``), as arrays for
    :func:`~labelaudit.preferences.columns.from_columns`."""
    record, first, second, choice = expand_rankings([r["ranks"] for r in records])
    sizes = np.array([len(r["responses"]) for r in records], dtype=np.int64)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    texts = np.array([t for r in records for t in r["responses"]] + [None], dtype=object)[:-1]
    models = np.array(
        [m for r in records for m in (r.get("models") or [None] * len(r["responses"]))] + [None],
        dtype=object,
    )[:-1]
    per_record = {
        key: np.array([r[key] for r in records] + [None], dtype=object)[:-1]
        for key in ("prompt", "prompt_text", "annotator", "line")
    }
    at_first, at_second = starts[record] + first, starts[record] + second
    return {
        "prompt": per_record["prompt"][record],
        "prompt_text": per_record["prompt_text"][record],
        "annotator": per_record["annotator"][record],
        "line": per_record["line"][record].astype(np.int64),
        "first_text": texts[at_first],
        "second_text": texts[at_second],
        "first_model": models[at_first],
        "second_model": models[at_second],
        "choice": choice,
    }
