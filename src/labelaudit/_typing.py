"""Literal option aliases shared by the library and the CLI."""

from __future__ import annotations

from typing import Literal, TypeAlias

Level: TypeAlias = Literal["nominal", "ordinal", "interval", "ratio"]
WeightsName: TypeAlias = Literal[
    "identity", "linear", "quadratic", "ordinal", "ratio", "radical", "circular", "bipolar"
]
CIMethod: TypeAlias = Literal["none", "analytic", "bootstrap"]
OnDuplicate: TypeAlias = Literal["error", "keep-last"]
Layout: TypeAlias = Literal["long", "wide"]

LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")
WEIGHT_NAMES: tuple[str, ...] = (
    "identity",
    "linear",
    "quadratic",
    "ordinal",
    "ratio",
    "radical",
    "circular",
    "bipolar",
)
CI_METHODS: tuple[str, ...] = ("none", "analytic", "bootstrap")

#: Largest ``n_boot`` (bootstrap replicates) any command accepts. 100,000 replicates put the
#: Monte Carlo error of a percentile end (the 2.5% quantile) at
#: sqrt(0.025 x 0.975 / 1e5) = 0.0005 in probability, far below any sampling error; more
#: only cost memory (8 bytes per replicate and coefficient) and time.
MAX_BOOT: int = 100_000
