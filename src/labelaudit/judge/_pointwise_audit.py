"""The audit of label, score and reference verdicts: the judge as one more annotator.

The judge's verdicts (first repetition; failed verdicts left out and counted) join the
human annotations in one :class:`~labelaudit.table.AnnotationTable`, so every existing
analysis applies unchanged:

- agreement of all annotators with and without the judge
  (:func:`labelaudit.agreement.agreement_report`);
- the judge against each human and against the human consensus (majority vote with ties
  left visible, :func:`labelaudit.quality.item_report`): percent agreement, Cohen's kappa
  and Krippendorff's alpha with 95% intervals on the items both labelled; items whose human
  vote is tied have no consensus and are counted, not compared;
- accuracy and confusion against gold for every annotator
  (:func:`labelaudit.quality.gold_accuracy`); the annotator report with the judge among
  the annotators (:func:`labelaudit.quality.annotator_report`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from labelaudit.exceptions import UsageError
from labelaudit.judge.verdicts import VerdictLines
from labelaudit.table.table import AnnotationTable

__all__ = ["label_text", "pointwise_audit"]

CONSENSUS = "human consensus"
MAX_HUMANS = 50
_REASONS = ("judge_disagrees", "judge_error")


def label_text(value: Any) -> str:
    """A verdict as label text: whole numbers without a decimal point (``7.0`` -> ``"7"``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _judge_columns(verdicts: VerdictLines) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Judge rows (first repetition, successful verdicts) and failed verdicts per judge."""
    rows: dict[str, list[str]] = {"item": [], "annotator": [], "label": []}
    errors: dict[str, int] = {}
    for item, judge, verdict, repeat in zip(
        verdicts.item, verdicts.judge, verdicts.verdict, verdicts.repeat, strict=True
    ):
        if repeat != 0:
            continue
        if verdict is None:
            errors[judge] = errors.get(judge, 0) + 1
            continue
        rows["item"].append(item)
        rows["annotator"].append(judge)
        rows["label"].append(label_text(verdict))
    return rows, errors


def _table(columns: dict[str, list[str]], level: str, categories: Any) -> AnnotationTable:
    from labelaudit.table import read_annotations

    data = pa.table({k: pa.array(v, type=pa.string()) for k, v in columns.items()})
    return read_annotations(data, level=level, categories=categories)


def _pair_entry(
    table: AnnotationTable, a: str, b: str, options: dict[str, Any]
) -> dict[str, Any] | None:
    """Agreement of annotators ``a`` and ``b`` on the items both labelled."""
    from labelaudit.agreement import agreement_report

    names = list(map(str, table.annotators))
    codes = [names.index(a), names.index(b)]
    sub = table.subset_annotators(np.array(codes))
    both = np.bincount(sub.item_codes, minlength=sub.n_items)[sub.item_codes] == 2
    if not both.any():
        return None
    sub = sub.filter_rows(both)
    metrics = agreement_report(sub, diagnose=False, **options).to_dict()["metrics"]
    entry: dict[str, Any] = {"a": a, "b": b, "n_items": sub.n_items}
    for name in ("percent_agreement", "cohen_kappa", "krippendorff_alpha"):
        entry[name] = metrics.get(name)
    value = (entry["percent_agreement"] or {}).get("value")
    shown = "n/a" if value is None else f"{100 * value:.1f}%"
    entry["verdict"] = f"{a} vs {b}: {shown} agreement on {sub.n_items} items"
    return entry


def _consensus(humans: AnnotationTable, table: AnnotationTable) -> dict[str, np.ndarray]:
    """Human majority label per item of ``table`` (-1 = tied or unlabelled) and its share."""
    from labelaudit.quality import item_report

    report = item_report(humans, method="majority")
    position = np.searchsorted(table.items, humans.items)
    labels = np.full(table.n_items, -1, dtype=np.int64)
    confidence = np.full(table.n_items, np.nan)
    labels[position] = report.labels
    confidence[position] = report.confidence
    return {"labels": labels, "confidence": confidence, "tied": report.tied}


def _agreement(
    table: AnnotationTable, judges: list[str], options: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, np.ndarray] | None]:
    from labelaudit.agreement import agreement_report

    names = np.asarray(table.annotators).astype(str)
    is_human = ~np.isin(names, judges)
    human_codes = np.flatnonzero(is_human)
    out: dict[str, Any] = {
        "all_annotators": None,
        "humans_only": None,
        "with_humans": [],
        "with_consensus": [],
        "n_tied_items": 0,
    }
    if human_codes.size == 0:
        return out, None
    out["all_annotators"] = agreement_report(table, diagnose=False, **options).to_dict()["metrics"]
    humans = table.subset_annotators(human_codes)
    if human_codes.size >= 2:
        metrics = agreement_report(humans, diagnose=False, **options).to_dict()["metrics"]
        out["humans_only"] = metrics
    votes = np.bincount(table.annotator_codes, minlength=table.n_annotators)
    active = human_codes[np.argsort(-votes[human_codes], kind="stable")][:MAX_HUMANS]
    for judge in judges:
        for human in names[active]:
            entry = _pair_entry(table, judge, str(human), options)
            if entry is not None:
                out["with_humans"].append(entry)
    consensus = _consensus(humans, table)
    out["n_tied_items"] = int(consensus["tied"].sum())
    out["with_consensus"] = _with_consensus(table, judges, consensus, options)
    return out, consensus


def _with_consensus(
    table: AnnotationTable,
    judges: list[str],
    consensus: dict[str, np.ndarray],
    options: dict[str, Any],
) -> list[dict[str, Any]]:
    keep = np.flatnonzero(consensus["labels"] >= 0)
    categories = np.asarray(table.categories).astype(str)
    names = np.asarray(table.annotators).astype(str)
    judge_rows = np.isin(names[table.annotator_codes], judges)
    columns = {
        "item": [
            *table.items[table.item_codes[judge_rows]].astype(str),
            *table.items[keep].astype(str),
        ],
        "annotator": [*names[table.annotator_codes[judge_rows]], *[CONSENSUS] * keep.size],
        "label": [
            *categories[table.label_codes[judge_rows]],
            *categories[consensus["labels"][keep]],
        ],
    }
    if keep.size == 0:
        return []
    declared = list(categories) if table.schema.categories is not None else None
    combined = _table(columns, table.level, declared)
    entries = [_pair_entry(combined, judge, CONSENSUS, options) for judge in judges]
    return [entry for entry in entries if entry is not None]


def _gold(
    table: AnnotationTable, gold_path: Path, errors: dict[str, int]
) -> tuple[dict[str, Any], Any]:
    from labelaudit.quality import gold_accuracy, read_gold

    gold = read_gold(gold_path, table)
    report = gold_accuracy(table, gold)
    accuracy = [
        {
            "annotator": str(name),
            "n": int(report.n_gold[a]),
            "accuracy": float(report.accuracy[a]),
            "ci95": [float(report.ci_low[a]), float(report.ci_high[a])],
        }
        for a, name in enumerate(report.annotators)
        if report.n_gold[a] > 0
    ]
    return {**report.to_dict(), "accuracy": accuracy, "judge_errors": errors}, gold


def pointwise_audit(
    verdicts: VerdictLines,
    *,
    humans: str | Path | None,
    gold: str | Path | None,
    level: str,
    categories: Any,
    options: dict[str, Any],
    seed: int,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Sections of the label/score audit (module docstring) and the audits skipped.

    Parameters
    ----------
    options : dict
        ``ci``, ``n_boot`` and ``seed`` for :func:`labelaudit.agreement.agreement_report`.
    """
    from labelaudit.table import read_annotations

    judge_rows, errors = _judge_columns(verdicts)
    judges = sorted(set(verdicts.judge))
    columns = {key: list(values) for key, values in judge_rows.items()}
    if humans is not None:
        human_table = read_annotations(humans, level=level, categories=categories)
        clash = sorted(set(judges) & set(map(str, human_table.annotators)))
        if clash:
            raise UsageError(f"judge name(s) {clash} are also annotators in {humans}; rename one")
        for key in columns:
            columns[key] = [*human_table.data.column(key).to_pylist(), *columns[key]]
    table = _table(columns, level, categories)
    skipped: list[dict[str, str]] = [
        {"audit": name, "reason": "pairwise verdicts only"}
        for name in ("position_bias", "length_bias", "self_preference")
    ]
    agreement, consensus = _agreement(table, judges, options)
    if humans is None:
        skipped.append({"audit": "agreement", "reason": "no human labels (--humans FILE)"})
    sections: dict[str, Any] = {"agreement": agreement, "gold": None, "annotators": None}
    gold_labels = None
    if gold is not None:
        sections["gold"], gold_labels = _gold(table, Path(gold), errors)
    else:
        skipped.append({"audit": "gold", "reason": "no gold labels (--gold FILE)"})
    if humans is not None:
        from labelaudit.quality import annotator_report

        sections["annotators"] = annotator_report(
            table, gold=gold_labels, methods=("majority", "dawid-skene"), seed=seed
        ).to_dict()
    sections["triage"] = _triage(verdicts, table, judges, consensus, gold_labels)
    return sections, skipped


def _reference(
    table: AnnotationTable, consensus: dict[str, np.ndarray] | None, gold: Any
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Reference label per item (human consensus, else gold), its confidence and source."""
    if consensus is not None:
        return consensus["labels"], consensus["confidence"], "humans"
    labels = np.full(table.n_items, -1, dtype=np.int64)
    if gold is None:
        return labels, np.full(table.n_items, np.nan), None
    return gold.item_lookup(table.n_items), np.full(table.n_items, np.nan), "gold"


def _triage(
    verdicts: VerdictLines,
    table: AnnotationTable,
    judges: list[str],
    consensus: dict[str, np.ndarray] | None,
    gold: Any,
) -> dict[str, Any]:
    """Items where a judge's label differs from the reference, or the judge failed."""
    reference, confidence, source = _reference(table, consensus, gold)
    categories = np.asarray(table.categories).astype(str)
    names = np.asarray(table.annotators).astype(str)
    items = np.asarray(table.items).astype(str)
    who = names[table.annotator_codes]
    is_judge = np.isin(who, judges)
    ref = reference[table.item_codes]
    disagree = np.flatnonzero(is_judge & (ref >= 0) & (table.label_codes != ref))
    entries = [
        {
            "item": items[table.item_codes[r]],
            "judge": who[r],
            "reason": _REASONS[0],
            "judge_label": categories[table.label_codes[r]],
            "consensus_label": categories[ref[r]],
            "reference": source,
            "confidence": _number(confidence[table.item_codes[r]]),
        }
        for r in disagree
    ]
    failed = [
        {
            "item": item,
            "judge": judge,
            "reason": _REASONS[1],
            "judge_label": None,
            "consensus_label": None,
            "reference": None,
            "confidence": None,
        }
        for item, judge, verdict, repeat in zip(
            verdicts.item, verdicts.judge, verdicts.verdict, verdicts.repeat, strict=True
        )
        if verdict is None and repeat == 0
    ]
    entries.sort(key=lambda e: (-(e["confidence"] or 0.0), e["item"], e["judge"]))
    candidates = _candidates(table, ~is_judge)
    for entry in (queued := entries + failed):
        entry["candidates"] = candidates.get(entry["item"], [])
    by_reason = {"judge_disagrees": len(entries), "judge_error": len(failed)}
    return {
        "n_items": table.n_items,
        "n_queued": len(queued),
        "by_reason": by_reason,
        "items": queued,
    }


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _candidates(table: AnnotationTable, rows: np.ndarray) -> dict[str, list[dict[str, str]]]:
    items = np.asarray(table.items).astype(str)[table.item_codes[rows]]
    who = np.asarray(table.annotators).astype(str)[table.annotator_codes[rows]]
    labels = np.asarray(table.categories).astype(str)[table.label_codes[rows]]
    out: dict[str, list[dict[str, str]]] = {}
    for item, annotator, label in zip(items, who, labels, strict=True):
        out.setdefault(str(item), []).append({"annotator": str(annotator), "label": str(label)})
    return out
