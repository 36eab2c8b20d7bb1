"""Shared machinery of the aggregators: integer codes, gold labels, ties, EM helpers.

Every aggregator works on :class:`Codes`, the label rows of an
:class:`~labelaudit.table.AnnotationTable` sorted by (item, annotator) once per fit, so
that every sum runs in the same order whatever the order of the input rows (fits are
permutation-invariant to the last bit). EM sufficient statistics are sparse products with
the item x (annotator, label) incidence matrix: O(n_labels * q) per iteration, no pandas,
no Python loop over items or rows.
"""

from __future__ import annotations

import inspect
import weakref
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, TypeAlias

import numpy as np

from labelaudit.consensus._result import ConsensusResult, summarise
from labelaudit.exceptions import InputError, UsageError
from labelaudit.table import AnnotationTable, code_counts, narrow_codes

if TYPE_CHECKING:  # scipy is imported where a model uses it: majority vote needs none
    import scipy.sparse as sp

__all__ = [
    "EPS",
    "Aggregator",
    "Codes",
    "Gold",
    "TieRule",
    "break_ties",
    "check_choice",
    "check_number",
    "normalise_log",
    "relative_change",
    "tie_winners",
    "vote_counts",
]

TieRule: TypeAlias = Literal["random", "abstain"]
TIE_RULES: tuple[str, ...] = ("random", "abstain")

#: Floor of expected counts before they are normalised into probabilities (as crowd-kit's
#: ``_EPS``): keeps every log finite when an annotator never used a label.
EPS = 1e-10
#: Largest n_annotators * q * q a categorical aggregator accepts (0.8 GB of float64).
MAX_CONFUSION_CELLS = 100_000_000
#: Two scores closer than this (relative) are a tie.
TIE_RTOL = 1e-12


class Codes:
    """Label rows as integer codes, sorted by (item, annotator).

    ``Codes(item, annotator, label, n_items, n_annotators, n_categories)`` takes the three
    columns already sorted (``item=None`` with ``item_sizes=``: the item codes are those
    sizes' repeat); :meth:`from_table` builds them once per table, keeping the
    gathered annotator and label codes narrow (one byte each for a few annotators and
    categories) and building the int64 columns only when a model reads them.

    Attributes
    ----------
    item, annotator, label : ndarray of int64, shape (n_labels,)
        Codes of each label row, ordered by item then annotator (built on first use).
    annotator_small, label_small : ndarray of int8, int16, int32 or int64, shape (n_labels,)
        The same annotator and label codes in their narrowest type
        (:func:`~labelaudit.table.narrow_codes`): what majority vote and the counts read.
    item_sizes : ndarray of int64, shape (n_items,)
        Labels of each item: the rows of item i follow those of items 0 .. i - 1.
    n_items, n_annotators, n_categories : int
        Sizes (``n_categories`` = q, the declared or observed categories).
    """

    def __init__(
        self,
        item: np.ndarray | None,
        annotator: np.ndarray,
        label: np.ndarray,
        n_items: int,
        n_annotators: int,
        n_categories: int,
        *,
        item_sizes: np.ndarray | None = None,
    ) -> None:
        if item is None and item_sizes is None:
            raise ValueError("Codes needs the item codes or the labels per item")
        self._item, self._annotator, self._label = item, annotator, label
        self.n_items, self.n_annotators, self.n_categories = n_items, n_annotators, n_categories
        if item_sizes is not None:
            self.__dict__["item_sizes"] = item_sizes  # the cached property, known already

    @classmethod
    def from_table(cls, table: AnnotationTable) -> Codes:
        """Codes of ``table`` in canonical (item, annotator) order (built once per table:
        the consensus, item and annotator analyses of one batch share them)."""
        cached = _CODES.get(table)
        if cached is None:
            cached = _CODES[table] = cls._build(table)
        return cached

    @classmethod
    def _build(cls, table: AnnotationTable) -> Codes:
        sizes = (table.n_items, table.n_annotators, table.n_categories)
        per_item = table.ratings_per_item()
        if table.in_cell_order:
            codes = (table.item_codes, table.annotator_codes, table.label_codes)
            return cls(*codes, *sizes, item_sizes=per_item)
        order = table.row_order  # computed once per table, shared (no sort per fit)
        # sorted by item, the item codes are a repeat of each item's size (built when
        # read); the others are gathered as their narrowest type (an eighth of the
        # memory traffic of int64) and widened only if a model reads them
        annotator = narrow_codes(table.annotator_codes, table.n_annotators)[order]
        label = narrow_codes(table.label_codes, table.n_categories)[order]
        return cls(None, annotator, label, *sizes, item_sizes=per_item)

    @cached_property
    def item(self) -> np.ndarray:
        """Item code of each row, int64 (see the class)."""
        if self._item is None:
            return np.repeat(np.arange(self.n_items, dtype=np.int64), self.item_sizes)
        return np.asarray(self._item, dtype=np.int64)

    @cached_property
    def annotator(self) -> np.ndarray:
        """Annotator code of each row, int64."""
        return np.asarray(self._annotator, dtype=np.int64)

    @cached_property
    def label(self) -> np.ndarray:
        """Category code of each row, int64."""
        return np.asarray(self._label, dtype=np.int64)

    @cached_property
    def annotator_small(self) -> np.ndarray:
        """Annotator codes in their narrowest type (a view when built so)."""
        return narrow_codes(self._annotator, self.n_annotators)

    @cached_property
    def label_small(self) -> np.ndarray:
        """Category codes in their narrowest type (a view when built so)."""
        return narrow_codes(self._label, self.n_categories)

    @cached_property
    def item_sizes(self) -> np.ndarray:
        """Labels of each item, shape (n_items,), int64."""
        return np.bincount(self.item, minlength=self.n_items)

    def item_values(self, values: np.ndarray) -> np.ndarray:
        """``values[item]`` of every row, shape (n_labels,), in the dtype of ``values``:
        the rows being sorted by item, a repeat of each item's value (no gather)."""
        return np.repeat(values, self.item_sizes)

    @property
    def n_labels(self) -> int:
        """Number of label rows."""
        return int(self._label.shape[0])

    @cached_property
    def pair(self) -> np.ndarray:
        """(annotator, given label) pair code ``annotator * q + label`` of each row."""
        return self.annotator * self.n_categories + self.label

    @cached_property
    def incidence(self) -> sp.csr_array:
        """Item x (annotator, label) 0/1 matrix, shape (n_items, n_annotators * q), CSR.

        ``incidence @ T`` with ``T[a * q + y, k]`` sums, per item, the term of every label
        ``y`` its annotators ``a`` gave: the E-step of every confusion-matrix model.
        """
        import scipy.sparse as sp

        indptr = np.zeros(self.n_items + 1, dtype=np.int64)
        np.cumsum(self.item_sizes, out=indptr[1:])
        shape = (self.n_items, self.n_annotators * self.n_categories)
        data = np.ones(self.n_labels)
        return sp.csr_array((data, self.pair.astype(np.int32), indptr), shape=shape)

    @cached_property
    def incidence_t(self) -> sp.csr_array:
        """Transpose of :attr:`incidence` in CSR form (rows = (annotator, label) pairs).

        ``incidence_t @ posterior`` gives, per (annotator, given label), the posterior mass
        of each true class: the M-step counts of the confusion matrices.
        """
        import scipy.sparse as sp

        return sp.csr_array(self.incidence.T.tocsr())

    @cached_property
    def labels_per_annotator(self) -> np.ndarray:
        """Number of labels of each annotator, shape (n_annotators,), int64."""
        return code_counts(self.annotator_small, self.n_annotators)


#: Codes per live table (weak: a table's codes go when the table does).
_CODES: weakref.WeakKeyDictionary[AnnotationTable, Codes] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Gold:
    """Known true categories of some items, as codes."""

    items: np.ndarray
    labels: np.ndarray

    def clamp(self, posterior: np.ndarray) -> np.ndarray:
        """Set the rows of the gold items to their one-hot gold category (in place)."""
        if self.items.size:
            posterior[self.items] = 0.0
            posterior[self.items, self.labels] = 1.0
        return posterior

    @classmethod
    def resolve(cls, table: AnnotationTable, gold: dict[str, str] | None) -> Gold | None:
        """Map ``{item name: category name}`` onto codes; raise InputError for unknown names."""
        if not gold:
            return None
        names = np.array([str(k) for k in gold], dtype=object)
        values = np.array([str(v) for v in gold.values()], dtype=object)
        items = _lookup(table.items, names, "item", table.source)
        labels = _lookup(table.categories, values, "category", table.source)
        return cls(items, labels)


def _lookup(known: np.ndarray, wanted: np.ndarray, role: str, source: str) -> np.ndarray:
    """Positions of ``wanted`` names in ``known`` (vectorised); InputError on the first miss."""
    known_text = known.astype(str)
    wanted_text = wanted.astype(str)
    order = np.argsort(known_text, kind="stable")
    position = np.clip(np.searchsorted(known_text[order], wanted_text), 0, max(known.size - 1, 0))
    found = known_text[order][position] == wanted_text
    if not bool(found.all()):
        bad = int(np.flatnonzero(~found)[0])
        hint = (
            "remove it from the gold labels or check the item names"
            if role == "item"
            else "use one of the table's categories (or declare it with --categories)"
        )
        raise InputError(
            f"gold label names an unknown {role}",
            source="gold",
            line=bad + 1,
            unit="entry",
            field=role,
            expected=f"{'an item' if role == 'item' else 'a category'} of {source}",
            actual=str(wanted[bad]),
            hint=hint,
        )
    return np.asarray(order[position], dtype=np.int64)


def _check_size(table: AnnotationTable) -> None:
    """Refuse categorical aggregation whose q x q confusion matrices cannot fit in memory."""
    cells = table.n_annotators * table.n_categories**2
    if cells > MAX_CONFUSION_CELLS:
        msg = (
            f"{table.n_categories} categories x {table.n_annotators} annotators: the "
            f"per-annotator confusion matrices would need {cells * 8 / 1e9:.1f} GB. "
            "For numeric labels use a numeric method (mean, median, trimmed-mean)."
        )
        raise UsageError(msg)


# ------------------------------------------------------------------------- parameters
def check_choice(owner: object, name: str, value: object, choices: tuple[str, ...]) -> None:
    """Raise UsageError unless ``value`` is one of ``choices``."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        msg = (
            f"The {name!r} parameter of {type(owner).__name__} must be one of {allowed}. "
            f"Got {value!r} instead."
        )
        raise UsageError(msg)


def check_number(
    owner: object, name: str, value: object, *, low: float, integer: bool = False
) -> None:
    """Raise UsageError unless ``value`` is a finite number (an int if ``integer``) >= ``low``."""
    kind = "an int" if integer else "a number"
    msg = (
        f"The {name!r} parameter of {type(owner).__name__} must be {kind} >= {low}. "
        f"Got {value!r} instead."
    )
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise UsageError(msg)
    if integer and not isinstance(value, (int, np.integer)):
        raise UsageError(msg)
    number = float(value)
    if not np.isfinite(number) or number < low:
        raise UsageError(msg)


# --------------------------------------------------------------------------- kernels
def vote_counts(codes: Codes, weights: np.ndarray | None = None) -> np.ndarray:
    """Item x category (weighted) vote totals, shape (n_items, q), float64.

    ``weights`` is one weight per annotator (None = 1 each).
    """
    q = codes.n_categories
    row_weights = None if weights is None else weights[codes.annotator]
    flat = np.bincount(
        codes.item * q + codes.label, weights=row_weights, minlength=codes.n_items * q
    )
    return flat.reshape(codes.n_items, q).astype(np.float64)


def break_ties(scores: np.ndarray, tie: str, rng: np.random.Generator) -> np.ndarray:
    """Winning category per row of ``scores`` (n_items, q) under the tie rule.

    Categories within a relative ``TIE_RTOL`` of the row maximum tie. ``"random"`` picks
    one of them uniformly (one draw per item and category from ``rng``, so the result does
    not depend on row order); ``"abstain"`` returns -1 for rows with a tie.
    """
    return tie_winners(scores, tie, rng)[0]


#: Up to this many categories the ties are found column by column (no (n, q) array).
_COLUMN_TIES = 32


def tie_winners(
    scores: np.ndarray, tie: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`break_ties` and which rows tied: (labels (n,) int64, tied (n,) bool).

    ``tied`` marks the rows where more than one category reaches the row maximum (to
    ``TIE_RTOL``), before the tie rule picks one (or abstains: ``labels == -1``).
    """
    best = row_max(scores)
    # integer totals tie only when equal (and reach the float floor only then)
    floor = best if scores.dtype.kind in "iu" else best - TIE_RTOL * np.abs(best)
    n, q = scores.shape
    if q <= _COLUMN_TIES:  # one pass per column: the first category reaching the floor
        labels = np.zeros(n, dtype=np.int64)
        reached = np.zeros(n, dtype=np.int8)
        for column in range(q - 1, -1, -1):
            hit = scores[:, column] >= floor
            np.copyto(labels, column, where=hit)
            reached += hit
        several = reached > 1
    else:
        tied = scores >= floor[:, None]
        labels = np.argmax(tied, axis=1).astype(np.int64)
        several = np.count_nonzero(tied, axis=1) > 1
    if tie == "abstain":
        labels[several] = -1
    elif bool(several.any()):
        rows = np.flatnonzero(several)
        draws = _draws_of_rows(rng, scores.shape, rows)
        tied_rows = scores[rows] >= floor[rows][:, None]
        labels[rows] = np.argmax(np.where(tied_rows, draws, -1.0), axis=1)
    return labels, several


def _draws_of_rows(
    rng: np.random.Generator, shape: tuple[int, ...], rows: np.ndarray, block: int = 1 << 16
) -> np.ndarray:
    """Rows ``rows`` (sorted) of ``rng.random(shape)``, shape (rows.size, q), drawn block by
    block: every item's draws are taken (the stream does not depend on which items tie),
    without holding the whole (n, q) array."""
    n, q = shape
    out = np.empty((rows.size, q))
    bounds = np.searchsorted(rows, np.arange(0, n + block, block))
    for number, start in enumerate(range(0, n, block)):
        chunk = rng.random((min(block, n - start), q))
        low, high = bounds[number], bounds[number + 1]
        out[low:high] = chunk[rows[low:high] - start]
    return out


def row_max(scores: np.ndarray) -> np.ndarray:
    """Largest value of each row of ``scores`` (n, q), shape (n,): one pass per column,
    several times faster than ``max(axis=1)`` over the few columns of a vote table."""
    best = scores[:, 0].copy()
    for column in range(1, scores.shape[1]):
        np.maximum(best, scores[:, column], out=best)
    return best


def normalise_log(log_joint: np.ndarray, gold: Gold | None) -> tuple[np.ndarray, float]:
    """Posterior rows and log-likelihood from log p(item's labels, z = k), shape (n_items, q).

    Returns the softmax of each row and sum_i log sum_k exp(log_joint[i, k]); gold items
    are clamped to their category and contribute log p(labels, z = gold) instead.
    """
    top = log_joint.max(axis=1, keepdims=True)
    shifted = np.exp(log_joint - top)
    total = shifted.sum(axis=1, keepdims=True)
    posterior = shifted / total
    per_item = np.log(total[:, 0]) + top[:, 0]
    if gold is not None and gold.items.size:
        per_item[gold.items] = log_joint[gold.items, gold.labels]
        gold.clamp(posterior)
    return posterior, float(per_item.sum())


def relative_change(history: list[float]) -> float:
    """|L_t - L_{t-1}| / |L_{t-1}| of the last two log-likelihoods (inf if fewer)."""
    if len(history) < 2:
        return float("inf")
    previous, current = history[-2], history[-1]
    return abs(current - previous) / max(abs(previous), np.finfo(float).tiny)


# ---------------------------------------------------------------------------- estimator
class Aggregator:
    """Base of every aggregator: ``fit(table, gold)``, learned attributes ending in ``_``.

    Subclasses implement ``_fit(codes, gold)`` and set ``probas_`` (and, when meaningful,
    ``labels_``, ``skills_``, ``confusions_``, ``priors_``, ``n_iter_``, ``converged_``,
    ``log_likelihood_``); the base class clamps gold items, derives ``confidence_`` and
    keeps the names needed to report results.
    """

    #: Method name used by the CLI and in summaries (``--method``).
    cli_name: ClassVar[str] = ""
    #: True for aggregators of numeric labels (``values_`` instead of ``labels_``).
    numeric: ClassVar[bool] = False

    labels_: np.ndarray
    values_: np.ndarray
    probas_: np.ndarray
    confidence_: np.ndarray
    skills_: np.ndarray
    n_iter_: int
    converged_: bool
    log_likelihood_: list[float]
    items_: np.ndarray
    annotators_: np.ndarray
    categories_: np.ndarray
    n_labels_: int

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters and their current values (scikit-learn style)."""
        kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        parameters = inspect.signature(type(self).__init__).parameters.values()
        names = [p.name for p in parameters if p.name != "self" and p.kind in kinds]
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    def fit(self, table: AnnotationTable, gold: dict[str, str] | None = None) -> Self:
        """Fit on an annotation table.

        Parameters
        ----------
        table : AnnotationTable
            The canonical table (``labelaudit.read_annotations``).
        gold : dict of str to str, optional
            Known true category of some items (item name -> category name). They are
            clamped: their posterior is one-hot on the gold category during fitting (EM
            models learn from them) and in the result.

        Returns
        -------
        self

        Raises
        ------
        InputError
            ``gold`` names an item or category the table does not have.
        UsageError
            A parameter is out of range, or the table holds structured labels.
        """
        self._check_params()
        if table.schema.is_structured:
            raise UsageError(
                f"{self.cli_name} aggregates categorical or numeric labels; {table.task} "
                "labels take structured voting (labelaudit.structured.consensus, or "
                "`labelaudit consensus --method majority`)"
            )
        if not self.numeric:
            _check_size(table)
        gold_codes = Gold.resolve(table, gold)
        codes = Codes.from_table(table)
        self.n_iter_, self.converged_, self.log_likelihood_ = 0, True, []
        self._prepare(table)
        self._fit(codes, gold_codes)
        if gold_codes is not None and not self.numeric:
            gold_codes.clamp(self.probas_)
            self.labels_[gold_codes.items] = gold_codes.labels
        self._finish(table, codes)
        return self

    def fit_predict(self, table: AnnotationTable, gold: dict[str, str] | None = None) -> np.ndarray:
        """Fit and return ``labels_`` (category codes, -1 = abstained)."""
        return self.fit(table, gold).labels_

    def summary(self) -> ConsensusResult:
        """Typed summary of the fit (method, sizes, abstentions, convergence, label counts)."""
        self._check_fitted()
        return summarise(self)

    # ----------------------------------------------------------------- subclass hooks
    def _check_params(self) -> None:
        """Validate constructor parameters (UsageError); called by ``fit``."""

    def _prepare(self, table: AnnotationTable) -> None:
        """Read what the fit needs from the table beyond its codes (names); optional."""

    def _fit(self, codes: Codes, gold: Gold | None) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _finish(self, table: AnnotationTable, codes: Codes) -> None:
        self.items_ = table.items
        self.annotators_ = table.annotators
        self.categories_ = table.categories
        self.n_labels_ = codes.n_labels
        self.labels_per_annotator_ = codes.labels_per_annotator
        if not self.numeric:
            self.confidence_ = self._confidence()

    def _confidence(self) -> np.ndarray:
        """Largest posterior of each item (``confidence_``), shape (n_items,)."""
        return row_max(self.probas_)

    def _check_fitted(self) -> None:
        if not hasattr(self, "n_labels_"):
            msg = f"This {type(self).__name__} instance is not fitted yet; call fit(table) first."
            raise UsageError(msg)
