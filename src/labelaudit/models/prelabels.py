"""Pre-label acceptance and the anchoring check.

Where annotators started from a model's prediction (Label Studio records its id in the
annotation's ``parent_prediction``; the reader keeps it with the prediction's
``model_version`` in the ``parent_prediction`` and ``prelabel_model_version`` columns), the
pre-label is the label of the model annotator of that version on the same item (read the
export with ``include_models``). A human row *accepts* its pre-label when its final label
equals it.

Anchoring: annotators who anchor on the model agree with it more on pre-labelled items
than on the others, and keep its wrong labels. Against a reference (gold when given, else
the human consensus) each annotator's agreement with the model and accuracy are split by
pre-labelled / not, with the difference's 95% interval by Newcombe's hybrid score method
(Newcombe 1998, method 10: Wilson bounds of each share combined).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.exceptions import UsageError
from labelaudit.intervals import wilson_interval
from labelaudit.models.kinds import HUMAN, annotator_kinds, human_rows
from labelaudit.results import clean_number
from labelaudit.table import AnnotationTable

if TYPE_CHECKING:
    from labelaudit.report.document import Document

__all__ = ["PRELABEL_COLUMN", "PrelabelAcceptance", "PrelabelRules", "prelabel_acceptance"]

#: Column naming the model version a human row started from (null: not pre-labelled).
PRELABEL_COLUMN = "prelabel_model_version"


@dataclass(frozen=True)
class PrelabelRules:
    """Flag thresholds (defaults documented in docs/models.md).

    ``accept``: an annotator who accepts more than this share of pre-labels unchanged is
    flagged when their accuracy on pre-labelled items is below their accuracy on the
    others by more than ``gap``. ``wrong_gap``: flagged when they keep wrong pre-labels
    more often than the median of the other annotators by more than this, with at least
    ``min_wrong`` wrong pre-labels seen.
    """

    accept: float = 0.9
    gap: float = 0.05
    wrong_gap: float = 0.2
    min_wrong: int = 5


@dataclass(frozen=True)
class PrelabelAcceptance:
    """Acceptance of pre-labels per annotator, label and model version; anchoring; flags.

    Attributes
    ----------
    reference : str
        ``gold`` or ``consensus`` (what "the model was wrong" is judged against).
    annotators, labels, versions : list of dict
        ``{name, n_prelabelled, n_accepted, acceptance, ci95, n_changed}`` (``name`` is the
        annotator, the pre-label or the model version); ``annotators`` also carries the
        anchoring fields (``model_agreement``, ``accuracy``: ``{prelabelled, other,
        difference, ci95}``; ``n_wrong_prelabels``, ``wrong_kept``: share of the wrong
        pre-labels accepted, ``n_right_prelabels``, ``right_kept``: of the right ones).
    changes : list of dict
        Confusion pre-label -> final label: ``{prelabel, final, count}`` for every non-empty cell.
    flags : list of dict
        ``{annotator, reason}``.
    """

    reference: str
    n_prelabelled: int
    annotators: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    versions: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    rules: PrelabelRules

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form of every attribute (``rules`` as a dict)."""
        return clean_number({
            "reference": self.reference, "n_prelabelled": self.n_prelabelled,
            "annotators": self.annotators, "labels": self.labels, "versions": self.versions,
            "changes": self.changes, "flags": self.flags, "rules": vars(self.rules).copy(),
        })  # fmt: skip

    def to_document(self) -> Document:
        """Acceptance tables, the change matrix, anchoring and flags."""
        from labelaudit.models._prelabel_document import prelabel_document

        return prelabel_document(self.to_dict())


def _shares(groups: np.ndarray, hit: np.ndarray, names: np.ndarray) -> list[dict[str, Any]]:
    """Per group: trials, successes, share and Wilson 95% interval (groups with trials)."""
    n = np.bincount(groups, minlength=names.size)
    k = np.bincount(groups, weights=hit.astype(np.float64), minlength=names.size).astype(int)
    low, high = wilson_interval(k, n)
    return [
        {"name": str(names[g]), "n_prelabelled": int(n[g]), "n_accepted": int(k[g]),
         "acceptance": k[g] / n[g], "ci95": [float(low[g]), float(high[g])],
         "n_changed": int(n[g] - k[g])}
        for g in np.flatnonzero(n)
    ]  # fmt: skip


def _difference(k1: np.ndarray, n1: np.ndarray, k2: np.ndarray, n2: np.ndarray) -> list[Any]:
    """Per annotator ``{prelabelled, other, difference, ci95}`` (Newcombe hybrid score)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1)
    l2, u2 = wilson_interval(k2, n2)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return [
        {"prelabelled": p1[a], "other": p2[a], "n_prelabelled": int(n1[a]),
         "n_other": int(n2[a]), "difference": d[a], "ci95": [low[a], high[a]]}
        for a in range(d.size)
    ]  # fmt: skip


def _prelabels(table: AnnotationTable) -> tuple[np.ndarray, ...]:
    """Per row: pre-labelled mask, version index, pre-label code (-1 if none); versions;
    the label code of each version's model per item, shape (n_versions, n_items)."""
    if PRELABEL_COLUMN not in table.data.column_names:
        raise UsageError(
            f"no {PRELABEL_COLUMN} column: the export records no annotation started from a "
            "prediction (Label Studio parent_prediction)"
        )
    column = pc.fill_null(pc.cast(table.data.column(PRELABEL_COLUMN), pa.string()), "")
    version = np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)
    human = annotator_kinds(table)[table.annotator_codes] == HUMAN
    marked = human & (version != "")
    versions, index = np.unique(version[marked].astype(str), return_inverse=True)
    known = np.isin(versions, table.annotators.astype(str))
    if not known.all():
        raise UsageError(
            f"pre-labels of model version {versions[~known][0]!r} are not in the table: read "
            "the export with its predictions (--include-models)"
        )
    model_codes = np.searchsorted(table.annotators.astype(str), versions)
    model_label = np.full((versions.size, table.n_items), -1)
    rows = np.isin(table.annotator_codes, model_codes)
    which = np.searchsorted(model_codes, table.annotator_codes[rows])
    model_label[which, table.item_codes[rows]] = table.label_codes[rows]
    pre = np.full(table.n_ratings, -1)
    vidx = np.full(table.n_ratings, -1)
    vidx[marked] = index
    pre[marked] = model_label[index, table.item_codes[marked]]
    return (marked & (pre >= 0)), vidx, pre, versions, model_label


def _reference(table: AnnotationTable, gold: Any, method: str, seed: int) -> tuple[str, np.ndarray]:
    """Reference label code per item (-1 unknown): gold when given, else the consensus."""
    ref = np.full(table.n_items, -1)
    if gold is not None:
        ref[gold.item_codes] = gold.label_codes
        return "gold", ref
    from labelaudit.consensus.api import run_consensus

    humans = human_rows(table)
    estimator, _ = run_consensus(humans, method, seed=seed)
    ref[np.searchsorted(table.items, humans.items)] = estimator.labels_
    return "consensus", ref


def _split(
    codes: np.ndarray, hit: np.ndarray, valid: np.ndarray, marked: np.ndarray, n: int
) -> tuple[np.ndarray, ...]:
    """Successes and trials per annotator on pre-labelled, then on other valid rows."""
    out = []
    for rows in (valid & marked, valid & ~marked):
        out.append(np.bincount(codes[rows], weights=hit[rows].astype(float), minlength=n))
        out.append(np.bincount(codes[rows], minlength=n).astype(float))
    return tuple(out)


def prelabel_acceptance(
    table: AnnotationTable,
    *,
    gold: Any = None,
    rules: PrelabelRules | None = None,
    method: str = "majority",
    seed: int = 0,
) -> PrelabelAcceptance:
    """Pre-label acceptance per annotator, label and model version, and the anchoring check.

    Parameters
    ----------
    table : AnnotationTable
        Human rows with the ``prelabel_model_version`` column and the model annotators'
        rows (``annotator_kind`` ``model``, named by model version).
    gold : GoldLabels, optional
        Reference of "the model was wrong" and of accuracy; else the ``method`` consensus
        of the human rows (which includes the annotator judged: prefer gold).
    rules : PrelabelRules, optional
    method, seed : consensus method and seed when there is no gold.

    Returns
    -------
    PrelabelAcceptance

    Raises
    ------
    UsageError
        No pre-label column, or no human row started from a pre-label that is in the table.
    """
    rules = rules or PrelabelRules()
    marked, vidx, pre, versions, model_label = _prelabels(table)
    if not marked.any():
        raise UsageError("no human annotation started from a pre-label found in the table")
    reference, ref = _reference(table, gold, method, seed)
    final, codes, m = table.label_codes, table.annotator_codes, marked
    accepted = m & (final == pre)
    q, n = table.n_categories, table.n_annotators
    cells = np.bincount(pre[m] * q + final[m], minlength=q * q)
    main = int(np.argmax(np.bincount(vidx[m])))  # the other items: the most used version
    model = np.where(m, pre, model_label[main][table.item_codes])
    human = annotator_kinds(table)[codes] == HUMAN
    ref_row = ref[table.item_codes]
    agree = _difference(*_split(codes, model == final, human & (model >= 0), m, n))
    accuracy = _difference(*_split(codes, final == ref_row, human & (ref_row >= 0), m, n))
    wrong = m & (ref_row >= 0) & (pre != ref_row)
    n_wrong = np.bincount(codes[wrong], minlength=n)
    kept = np.bincount(codes[wrong], weights=accepted[wrong].astype(float), minlength=n)
    right = m & (ref_row >= 0) & (pre == ref_row)
    n_right = np.bincount(codes[right], minlength=n)
    kept_right = np.bincount(codes[right], weights=accepted[right].astype(float), minlength=n)
    records = _shares(codes[m], accepted[m], table.annotators)
    for record in records:
        a = int(np.flatnonzero(table.annotators.astype(str) == record["name"])[0])
        record.update(annotator=record["name"], model_agreement=agree[a], accuracy=accuracy[a],
                      n_wrong_prelabels=int(n_wrong[a]),
                      wrong_kept=kept[a] / n_wrong[a] if n_wrong[a] else None,
                      n_right_prelabels=int(n_right[a]),
                      right_kept=kept_right[a] / n_right[a] if n_right[a] else None)  # fmt: skip
    return PrelabelAcceptance(
        reference, int(m.sum()), records,
        _shares(pre[m], accepted[m], table.categories), _shares(vidx[m], accepted[m], versions),
        [{"prelabel": str(table.categories[c // q]), "final": str(table.categories[c % q]),
          "count": int(cells[c])} for c in np.flatnonzero(cells)],
        _flags(records, rules), rules,
    )  # fmt: skip


def _flags(records: list[dict[str, Any]], rules: PrelabelRules) -> list[dict[str, Any]]:
    """Annotators who accept much but are less accurate on pre-labelled items, or who keep
    wrong pre-labels far more often than the others (reason stated)."""
    flags = []
    enough = [r for r in records if r["n_wrong_prelabels"] >= max(rules.min_wrong, 1)]
    kept = {r["annotator"]: r["wrong_kept"] for r in enough}
    for r in records:
        acc = r["accuracy"]
        if r["acceptance"] > rules.accept and acc["prelabelled"] < acc["other"] - rules.gap:
            flags.append({"annotator": r["annotator"], "reason": (
                f"accepts {r['acceptance']:.0%} of pre-labels unchanged; accuracy "
                f"{acc['prelabelled']:.0%} on pre-labelled items vs {acc['other']:.0%} on others"
            )})  # fmt: skip
        others = [v for k, v in kept.items() if k != r["annotator"]]
        mine = kept.get(r["annotator"])
        if mine is not None and others and mine > float(np.median(others)) + rules.wrong_gap:
            flags.append({"annotator": r["annotator"], "reason": (
                f"keeps {mine:.0%} of {r['n_wrong_prelabels']} wrong pre-labels vs a median "
                f"{float(np.median(others)):.0%} for the other annotators"
            )})  # fmt: skip
    return flags
