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
