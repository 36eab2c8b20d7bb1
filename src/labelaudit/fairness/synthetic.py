"""Generated ratings with known group effects, for tests, simulations and benchmarks."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

__all__ = ["planted_ratings"]


def planted_ratings(
    *,
    n_items: int,
    n_raters: int,
    per_item: int,
    group_shares: Sequence[float],
    effects: Sequence[float],
    rater_sd: float = 0.3,
    item_sd: float = 1.0,
    noise_sd: float = 1.0,
    seed: int = 0,
) -> pa.Table:
    """Ratings ``item + rater + group effect + noise`` rounded to 1..5, as a long table.

    Parameters
    ----------
    n_items, n_raters, per_item : int
        Items, raters, and distinct raters per item (per_item <= n_raters).
    group_shares, effects : sequence of float, same length G
        Share of raters in each group (``g0``, ``g1``, ...) and its planted shift.
    rater_sd, item_sd, noise_sd : float
        SDs of the rater intercepts, item intercepts and rating noise.
    seed : int

    Returns
    -------
    pyarrow.Table
        Columns ``item``, ``annotator``, ``label`` (int 1..5) and ``group`` (constant per
        annotator); n_items * per_item rows. Vectorised (no loop over ratings).
    """
    rng = np.random.default_rng(seed)
    shares = np.asarray(group_shares, dtype=np.float64)
    group = rng.choice(shares.size, size=n_raters, p=shares / shares.sum())
    rater_effect = rng.normal(0.0, rater_sd, n_raters) + np.asarray(effects)[group]
    item_effect = rng.normal(3.0, item_sd, n_items)
    # per_item distinct raters per item: a run of consecutive raters from a random start
    # (groups are assigned to raters at random, so a run mixes groups)
    start = rng.integers(0, n_raters, n_items)
    raters = ((start[:, None] + np.arange(per_item)[None, :]) % n_raters).ravel()
    items = np.repeat(np.arange(n_items), per_item)
    latent = item_effect[items] + rater_effect[raters] + rng.normal(0, noise_sd, items.size)
    label = np.clip(np.rint(latent), 1, 5).astype(np.int64)
    return pa.table(
        {
            "item": pa.array(np.char.add("i", items.astype(str))),
            "annotator": pa.array(np.char.add("r", raters.astype(str))),
            "label": pa.array(label),
            "group": pa.array(np.char.add("g", group[raters].astype(str))),
        }
    )
