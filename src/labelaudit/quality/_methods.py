"""Which aggregators the quality analyses can fit, by their CLI names, and how.

Names are the aggregators' own ``cli_name`` (as in ``labelaudit consensus --method``).
Majority-type methods take a tie rule: ``"random"`` (seeded) when a consensus label is
needed for every item (accuracy on gold), ``"abstain"`` when ties must stay visible
(the item table and the adjudication queue).
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

from labelaudit.exceptions import UsageError
from labelaudit.methods import CATEGORICAL_METHODS, DEFAULT_QUALITY_METHODS
from labelaudit.table.table import AnnotationTable

if TYPE_CHECKING:
    from labelaudit.consensus import Aggregator

__all__ = ["DEFAULT_METHODS", "METHOD_NAMES", "check_methods", "fit_method", "make_method"]

#: The categorical aggregators (one list: :data:`labelaudit.methods.CATEGORICAL_METHODS`).
METHOD_NAMES = CATEGORICAL_METHODS
#: Fitted by :func:`labelaudit.quality.annotator_report` unless told otherwise.
DEFAULT_METHODS = DEFAULT_QUALITY_METHODS


def _classes() -> dict[str, type[Aggregator]]:
    from labelaudit.consensus.api import METHODS

    return {name: METHODS[name] for name in CATEGORICAL_METHODS}


def check_methods(methods: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Validate method names (UsageError naming the allowed ones); duplicates dropped."""
    unknown = [m for m in methods if m not in METHOD_NAMES]
    if unknown:
        raise UsageError(f"unknown method {unknown[0]!r}; choose from {', '.join(METHOD_NAMES)}")
    return tuple(dict.fromkeys(methods))


def make_method(name: str, *, seed: int = 0, tie: str = "random") -> Aggregator:
    """A fresh aggregator for ``name`` with the seed (and tie rule) where it takes them."""
    check_methods([name])
    cls = _classes()[name]
    accepted = inspect.signature(cls.__init__).parameters
    options: dict[str, object] = {}
    if "random_state" in accepted:
        options["random_state"] = seed
    if "tie" in accepted:
        options["tie"] = tie
    return cls(**options)


def fit_method(
    name: str, table: AnnotationTable, *, seed: int = 0, tie: str = "random"
) -> Aggregator:
    """Fit aggregator ``name`` on ``table`` without gold labels (honest gold accuracy)."""
    return make_method(name, seed=seed, tie=tie).fit(table)
