"""Scoring a calibration round: each annotator against the expert answers.

Per annotator, over the round's items with an expected answer that they answered:
accuracy with its Wilson 95% interval (:func:`labelaudit.intervals.wilson_interval`),
Cohen's kappa against the expert (:func:`labelaudit.agreement.cohen.cohen_kappa` of the
expected x given table) and that confusion matrix (rows = expected, columns = given).
Each miss carries the guideline section that decides between the expected and the given
label (:func:`labelaudit.guidelines.rules.sections_for_pair`, else the expected label's
own first section).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from labelaudit.exceptions import UsageError
from labelaudit.guidelines.calibration import CalibrationRound
from labelaudit.guidelines.compare import label_order_key

if TYPE_CHECKING:
    from labelaudit.guidelines.model import Guideline
    from labelaudit.table import AnnotationTable

__all__ = ["CalibrationScore", "score_round"]


@dataclass(frozen=True)
class CalibrationScore:
    """Scores of one round: ``annotators`` ranked (who needs coaching first) and ``misses``."""

    round: str
    guideline_version: str | None
    target: float
    labels: tuple[str, ...]
    annotators: tuple[dict[str, Any], ...]
    misses: tuple[dict[str, Any], ...]
    n_items: int
    expert: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (stable keys)."""
        return {
            "round": self.round,
            "guideline_version": self.guideline_version,
            "expert": self.expert,
            "target": self.target,
            "n_items": self.n_items,
            "labels": list(self.labels),
            "annotators": list(self.annotators),
            "misses": list(self.misses),
        }


def _expected(
    round_: CalibrationRound, table: AnnotationTable, expert: str | None
) -> dict[str, str]:
    """Item -> expected label: the round's, overridden by the expert's answers in the file."""
    expected = {i["item"]: i["expected"] for i in round_.items if i["expected"] is not None}
    if expert is None:
        return expected
    names = np.asarray(table.annotators, dtype=str)
    if expert not in names:
        raise UsageError(f"--expert {expert!r} answered nothing in the answers file")
    mine = table.annotator_codes == int(np.flatnonzero(names == expert)[0])
    items = np.asarray(table.items, dtype=str)[table.item_codes[mine]]
    labels = np.asarray(table.categories, dtype=str)[table.label_codes[mine]]
    wanted = {i["item"] for i in round_.items}
    expected.update((i, lab) for i, lab in zip(items, labels, strict=True) if i in wanted)
    return expected


def score_round(
    round_: CalibrationRound,
    answers: AnnotationTable,
    *,
    guide: Guideline | None = None,
    expert: str | None = None,
    target: float = 0.9,
) -> CalibrationScore:
    """Score every annotator of ``answers`` on the round's items.

    Parameters
    ----------
    round_ : CalibrationRound
    answers : AnnotationTable
        Categorical answers (rows of other items are ignored).
    guide : Guideline, optional
        For the deciding section of each miss and label names.
    expert : str, optional
        An annotator of ``answers`` whose answers are the expected ones (they override
        the round's; the expert is not scored).
    target : float
        Accuracy wanted: ``needs coaching`` when the interval lies below it, ``watch``
        when the point estimate does, else ``ok``.
    """
    if answers.is_continuous or answers.schema.is_structured:
        raise UsageError("calibration scores categorical answers")
    expected = _expected(round_, answers, expert)
    if not expected:
        raise UsageError(
            "no expected answer for the round's items: create the round --from gold, or "
            "pass --expert NAME (an annotator of the answers file)"
        )
    items = np.asarray(answers.items, dtype=str)[answers.item_codes]
    who = np.asarray(answers.annotators, dtype=str)[answers.annotator_codes]
    given = np.asarray(answers.categories, dtype=str)[answers.label_codes]
    keys = np.asarray(sorted(expected), dtype=str)
    truth = np.asarray([expected[k] for k in keys], dtype=str)
    at = np.clip(np.searchsorted(keys, items), 0, max(keys.size - 1, 0))
    keep = (keys[at] == items) & (who != (expert or "\x00"))
    items, who, given, wanted = items[keep], who[keep], given[keep], truth[at[keep]]
    if items.size == 0:
        raise UsageError("no answer in the file is on an item of the round")
    labels = np.asarray(sorted(set(given) | set(wanted), key=label_order_key), dtype=str)
    rows = _annotator_rows(
        who,
        np.searchsorted(labels, wanted, sorter=_sorter(labels)),
        np.searchsorted(labels, given, sorter=_sorter(labels)),
        labels,
        target,
    )
    misses = _misses(round_, items, who, given, wanted, guide)
    return CalibrationScore(
        round=round_.name,
        guideline_version=round_.guideline_version,
        target=target,
        labels=tuple(labels.tolist()),
        annotators=tuple(rows),
        misses=tuple(misses),
        n_items=len(expected),
        expert=expert,
    )


def _sorter(labels: np.ndarray) -> np.ndarray:
    return np.argsort(labels, kind="stable")


def _annotator_rows(
    who: np.ndarray, expected: np.ndarray, given: np.ndarray, labels: np.ndarray, target: float
) -> list[dict[str, Any]]:
    """Per annotator: counts, accuracy (Wilson CI), kappa vs expert, confusion matrix."""
    from labelaudit.agreement.cohen import cohen_kappa
    from labelaudit.intervals import wilson_interval

    order = _sorter(labels)
    expected, given = order[expected], order[given]  # back to label order
    names, codes = np.unique(who, return_inverse=True)
    q = labels.size
    cells = np.bincount(codes * q * q + expected * q + given, minlength=names.size * q * q)
    matrices = cells.reshape(names.size, q, q)
    n = matrices.sum(axis=(1, 2))
    correct = np.trace(matrices, axis1=1, axis2=2)
    low, high = wilson_interval(correct, n)
    rows = []
    for a, name in enumerate(names.tolist()):  # one row per annotator
        kappa = cohen_kappa(matrices[a]).value
        accuracy = float(correct[a] / n[a])
        status = "ok"
        if high[a] < target:
            status = "needs coaching"
        elif accuracy < target:
            status = "watch"
        rows.append(
            {
                "annotator": name,
                "n_items": int(n[a]),
                "n_correct": int(correct[a]),
                "n_misses": int(n[a] - correct[a]),
                "accuracy": accuracy,
                "accuracy_ci95": [float(low[a]), float(high[a])],
                "kappa": None if kappa is None else float(kappa),
                "status": status,
                "confusion": matrices[a].tolist(),
            }
        )
    rows.sort(key=lambda r: (r["accuracy"], r["kappa"] if r["kappa"] is not None else 2.0))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def _misses(
    round_: CalibrationRound,
    items: np.ndarray,
    who: np.ndarray,
    given: np.ndarray,
    expected: np.ndarray,
    guide: Guideline | None,
) -> list[dict[str, Any]]:
    """Every wrong answer with the item text and the deciding section (once per label pair)."""
    from labelaudit.guidelines.rules import sections_for_pair

    wrong = np.flatnonzero(given != expected)
    order = wrong[np.lexsort((items[wrong], who[wrong]))]
    texts = {i["item"]: i.get("text") for i in round_.items}
    deciding: dict[tuple[str, str], tuple[str | None, str]] = {}
    out = []
    for index in order.tolist():  # one row per miss
        pair = (str(expected[index]), str(given[index]))
        if pair not in deciding:
            section_id = None
            if guide is not None:
                found = sections_for_pair(guide, *pair)
                own = guide.label(pair[0])
                section_id = (
                    found[0] if found else (own.sections[0] if own and own.sections else None)
                )
            section = guide.section(section_id) if guide is not None and section_id else None
            deciding[pair] = (section_id, section.title if section else "")
        section_id, title = deciding[pair]
        out.append(
            {
                "annotator": str(who[index]),
                "item": str(items[index]),
                "text": texts.get(str(items[index])),
                "answer": pair[1],
                "expected": pair[0],
                "section": section_id,
                "section_title": title,
            }
        )
    return out
