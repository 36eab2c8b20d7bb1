"""Labeling functions: heuristics that label a record or abstain, as annotators.

A labeling function (LF) is a Python function decorated with :func:`labeling_function`.
It is called either on one record (``per record``: a :class:`Record`, a dict whose fields
are also attributes, as Snorkel's ``x.text``) or, with ``vectorized=True``, on a whole
batch (a pandas DataFrame) and returns one label per row. A label is a value of the
declared label set; ``None`` (NaN, ``pd.NA``) or :data:`ABSTAIN` (-1) means "no vote".

Snorkel's API (``snorkel.labeling.labeling_function``, 0.10) is the model: ``name``
(default: the function's name) and ``resources`` (keyword arguments passed on every call).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from labelaudit.exceptions import UsageError

__all__ = ["ABSTAIN", "LabelingFunction", "Record", "labeling_function"]

#: What an LF returns to abstain (besides None / NaN): Snorkel's convention.
ABSTAIN = -1


class Record(dict[str, Any]):
    """One input record: a dict whose fields can also be read as attributes (``x.text``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class LabelingFunction:
    """A named heuristic labeler (see :func:`labeling_function`).

    Attributes
    ----------
    name : str
        The annotator name of its votes.
    function : callable
        ``function(record, **resources)`` -> label or None; with ``vectorized``,
        ``function(batch, **resources)`` -> array-like of n labels (None / NaN / -1 =
        abstain), ``batch`` a pandas DataFrame of n rows.
    resources : mapping
        Keyword arguments passed on every call (lookup tables, models, thresholds).
    vectorized : bool
        Whether ``function`` takes a batch.
    """

    name: str
    function: Callable[..., Any]
    resources: Mapping[str, Any] = field(default_factory=dict)
    vectorized: bool = False

    def __call__(self, x: Any) -> Any:
        """The LF's output on one record (or one batch when vectorized)."""
        return self.function(x, **self.resources)


def labeling_function(
    name: str | None = None,
    resources: Mapping[str, Any] | None = None,
    *,
    vectorized: bool = False,
) -> Callable[[Callable[..., Any]], LabelingFunction]:
    """Decorator turning a function into a :class:`LabelingFunction`.

    Parameters
    ----------
    name : str, optional
        Annotator name (default: the function's ``__name__``).
    resources : mapping, optional
        Keyword arguments passed to every call.
    vectorized : bool, default False
        The function takes a pandas DataFrame (a batch of records) and returns one label
        per row (a Series, array or list; None / NaN / -1 = abstain). Vectorised LFs are
        what makes a million records fast; per-record LFs run one Python call per record.

    Examples
    --------
    >>> @labeling_function()
    ... def keyword_check(x):
    ...     return "SPAM" if "check out" in x.text.lower() else None
    >>> @labeling_function(name="short", vectorized=True)
    ... def short_comment(batch):
    ...     return batch["text"].str.len().lt(20).map({True: "HAM", False: None})
    """
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise UsageError(f"a labeling function's name must be a non-empty string; got {name!r}")

    def wrap(function: Callable[..., Any]) -> LabelingFunction:
        if not callable(function):
            raise UsageError(f"@labeling_function decorates a function; got {function!r}")
        return LabelingFunction(
            name=name or function.__name__,
            function=function,
            resources=dict(resources or {}),
            vectorized=vectorized,
        )

    return wrap
