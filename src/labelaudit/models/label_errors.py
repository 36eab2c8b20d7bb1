"""Label errors: items whose given label is likely wrong, by confident learning.

The given label of each item (one label per item, or the consensus of an annotation table)
is checked against out-of-sample class probabilities from a model with cleanlab
(Northcutt, Jiang & Chuang 2021, "Confident learning: estimating uncertainty in dataset
labels", JAIR 70). The flagged set is ``cleanlab.filter.find_label_issues`` with its
default settings (``filter_by="prune_by_noise_rate"``), ranked by
``cleanlab.rank.order_label_issues`` with the self-confidence score (the probability the
model gives the given label): the lowest first. When an annotation table has several
human annotators, CROWDLAB (Goh, Tkachenko & Mueller 2022, "CROWDLAB: supervised learning
to infer consensus labels and quality scores for data with multiple annotators")
scores each item's consensus and each annotator from the humans and the model together.

cleanlab is the optional extra ``labelaudit[cleanlab]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from labelaudit.exceptions import InputError, UsageError
from labelaudit.models.probs import Probabilities
from labelaudit.results import Displayable, clean_number

if TYPE_CHECKING:
    from labelaudit.report.document import Document
    from labelaudit.table import AnnotationTable, Locator

__all__ = [
    "CLEANLAB_HINT",
    "GivenLabels",
    "LabelErrors",
    "find_label_errors",
    "read_label_issues",
    "require_cleanlab",
]

CLEANLAB_HINT = "pip install 'labelaudit[cleanlab]'"


def require_cleanlab() -> Any:
    """The ``cleanlab`` module, or a UsageError saying how to install it."""
    try:
        import cleanlab
    except ImportError:
        msg = f"label-error detection needs cleanlab (the [cleanlab] extra): {CLEANLAB_HINT}"
        raise UsageError(msg) from None
    return cleanlab


@dataclass(frozen=True, eq=False)
class GivenLabels:
    """One label per item, as checked for errors.

    Attributes
    ----------
    items, labels : ndarray of str, shape (n,)
    source : str
        Where they came from (file name).
    locator : Locator, optional
        Maps entry k to its line in ``source`` (None for a consensus label).
    origin : str
        ``"labels"`` (a file of one label per item) or ``"consensus:<method>"``.
    """

    items: np.ndarray
    labels: np.ndarray
    source: str
    locator: Locator | None = None
    origin: str = "labels"


@dataclass(frozen=True)
class LabelErrors(Displayable):
    """The ranked label-error queue; ``to_dict()`` is the JSON contract.

    ``issues``: one record per flagged item, best candidates first: ``item``, ``given``,
    ``suggested`` (the model's most probable class), ``quality`` (self-confidence: the
    model's probability of the given label; lower = more likely wrong), ``rank`` (1 = first).
    ``crowdlab``: None, or ``{"items": [...], "annotators": [...]}`` when several
    annotators labelled the items.
    """

    n_items: int
    classes: tuple[str, ...]
    origin: str
    issues: list[dict[str, Any]]
    crowdlab: dict[str, Any] | None = None
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``method``, ``settings``, ``n_items``, ``n_flagged``, ``classes``,
        ``labels_from``, ``issues``, ``crowdlab``."""
        return {
            "method": "confident-learning",
            "settings": dict(self.settings),
            "n_items": self.n_items,
            "n_flagged": len(self.issues),
            "classes": list(self.classes),
            "labels_from": self.origin,
            "issues": clean_number(self.issues),
            "crowdlab": clean_number(self.crowdlab),
        }

    def to_document(self) -> Document:
        """The flagged share and the ranked queue as a document."""
        from labelaudit.models._documents import label_errors_document

        return label_errors_document(self.to_dict())


def align(given: GivenLabels, probs: Probabilities) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``probs`` for each given item and the class code of each given label.

    Returns
    -------
    (rows, codes) : ndarray of int64, shape (n,) each

    Raises
    ------
    InputError
        An item of the probabilities has no given label, a given item has no
        probabilities, or a given label is not a probability column.
    """
    extra = ~np.isin(probs.items, given.items)
    if bool(extra.any()):
        row = int(np.flatnonzero(extra)[0])
        raise InputError(
            "item not in the labels", source=probs.source, line=probs.line_of(row),
            field=probs.item_field, expected=f"an item of {given.source}",
            actual=str(probs.items[row]), hint="probabilities must be for the labelled items",
        )  # fmt: skip
    order = np.argsort(probs.items, kind="stable")
    position = np.searchsorted(probs.items[order], given.items).clip(0, max(order.size - 1, 0))
    found = probs.items[order][position] == given.items
    if not bool(found.all()):
        k = int(np.flatnonzero(~found)[0])
        raise InputError(
            "labelled item without probabilities", source=probs.source,
            field=probs.item_field, expected="a row for every labelled item",
            actual=f"no row for {str(given.items[k])!r} ({_where(given, k)})",
        )  # fmt: skip
    known = np.isin(given.labels, probs.classes)
    if not bool(known.all()):
        k = int(np.flatnonzero(~known)[0])
        raise InputError(
            "class missing from the probability columns", source=probs.source, line=1,
            field=str(given.labels[k]), expected="a column for every class of the labels",
            actual=f"columns {', '.join(probs.classes)}; {_where(given, k)} gives "
            f"{str(given.labels[k])!r}",
        )  # fmt: skip
    class_order = np.argsort(probs.classes)
    codes = class_order[np.searchsorted(probs.classes[class_order], given.labels)]
    return order[position].astype(np.int64), codes.astype(np.int64)


def _where(given: GivenLabels, k: int) -> str:
    if given.locator is None:
        return f"{given.source} item {str(given.items[k])!r}"
    return f"{given.source}:{given.locator.line_of(k)}"


def find_label_errors(
    given: GivenLabels,
    probs: Probabilities,
    *,
    crowd: AnnotationTable | None = None,
) -> LabelErrors:
    """Rank the items whose given label is likely wrong.

    Parameters
    ----------
    given : GivenLabels
        One label per item.
    probs : Probabilities
        Out-of-sample class probabilities (cross-validated, or from a model that never saw
        these items), one row per given item.
    crowd : AnnotationTable, optional
        The annotations behind ``given`` (human rows); with two or more annotators CROWDLAB
        is added.

    Returns
    -------
    LabelErrors

    Raises
    ------
    UsageError
        cleanlab is not installed.
    InputError
        See :func:`align`.
    """
    require_cleanlab()
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores, order_label_issues

    rows, codes = align(given, probs)
    probs = probs.normalised()  # row sums checked after the items and class columns
    pred = probs.matrix[rows]
    mask = find_label_issues(codes, pred, n_jobs=1)
    ranked = order_label_issues(mask, codes, pred, rank_by="self_confidence")
    quality = get_label_quality_scores(codes, pred, method="self_confidence")
    suggested = probs.classes[np.argmax(pred, axis=1)]
    issues = [
        {"item": str(given.items[i]), "given": str(given.labels[i]),
         "suggested": str(suggested[i]), "quality": float(quality[i]), "rank": r}
        for r, i in enumerate(ranked.tolist(), start=1)
    ]  # fmt: skip
    multi = None
    if crowd is not None and crowd.n_annotators >= 2:
        from labelaudit.models.crowdlab import crowdlab

        multi = crowdlab(crowd, given, probs, rows)
    settings = {
        "filter_by": "prune_by_noise_rate",
        "rank_by": "self_confidence",
        "sum_tolerance": _tolerance(),
    }
    return LabelErrors(
        int(given.items.size), tuple(map(str, probs.classes)), given.origin, issues, multi,
        settings,
    )  # fmt: skip


def _tolerance() -> float:
    from labelaudit.models.probs import SUM_TOLERANCE

    return SUM_TOLERANCE


# ----------------------------------------------------------------------- given labels
def is_single_label_file(source: Any, *, annotator_col: str | None = None) -> bool:
    """True for a plain table without an annotator column (one label per item); False for
    an annotation table or a platform export (its consensus is taken first)."""
    from pathlib import Path

    from labelaudit.io.front import platform_of
    from labelaudit.table import load_source

    if not isinstance(source, (str, Path)) or platform_of(source, None) is not None:
        return False
    raw, _ = load_source(source, None)
    return (annotator_col or "annotator") not in raw.column_names


def read_given_labels(
    source: Any, *, item_col: str = "item", label_col: str = "label"
) -> GivenLabels:
    """One label per item from a plain table (CSV, TSV, JSONL, JSON, Parquet).

    Raises
    ------
    InputError
        A missing column, an empty item or label, or an item listed twice.
    """
    from labelaudit.models.probs import read_item_column
    from labelaudit.table import load_source

    raw, locator = load_source(source, None)
    for name, option in ((item_col, "--item-col"), (label_col, "--label-col")):
        if name not in raw.column_names:
            raise InputError(
                f"no {option[2:-4]} column", source=locator.source, line=1, field=name,
                expected=f"a column named {name!r}", actual=", ".join(raw.column_names),
                hint=f"pass {option}",
            )  # fmt: skip
    items = read_item_column(raw.column(item_col), locator, item_col)
    labels = read_item_column(raw.column(label_col), locator, label_col, unique=False)
    return GivenLabels(items, labels, locator.source, locator)


def consensus_labels(
    table: AnnotationTable, method: str = "dawid-skene", *, seed: int = 0
) -> tuple[GivenLabels, AnnotationTable]:
    """The consensus of the human rows of ``table`` as the given labels, and those rows.

    Items left without a label (an abstained tie) are dropped from the check.
    """
    from labelaudit.consensus.api import run_consensus
    from labelaudit.models.kinds import human_rows

    humans = human_rows(table)
    estimator, _ = run_consensus(humans, method, seed=seed)
    decided = np.asarray(estimator.labels_) >= 0
    kept = humans if bool(decided.all()) else humans.filter_rows(decided[humans.item_codes])
    labels = humans.categories[np.asarray(estimator.labels_)[decided]]
    given = GivenLabels(humans.items[decided], labels, table.source, None, f"consensus:{method}")
    return given, kept


def read_label_issues(path: Path) -> list[dict[str, Any]]:
    """The ``issues`` of a JSON file written by ``labelaudit label-errors --out`` (the
    :meth:`LabelErrors.to_dict` contract): one dict per flagged item with at least
    ``item``, ``given``, ``suggested`` and ``quality``.

    Raises
    ------
    InputError
        An unreadable or malformed file, or a field ``issues`` that is not such a list
        (names the file and the field).
    """
    import json

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a label-errors JSON file ({error})") from None
    issues = data.get("issues") if isinstance(data, dict) else None
    if not isinstance(issues, list) or not all(
        isinstance(i, dict) and {"item", "given", "suggested", "quality"} <= i.keys()
        for i in issues
    ):
        raise InputError(
            f"{path}: field 'issues': expected a list of {{item, given, suggested, quality}}"
        )
    return issues
