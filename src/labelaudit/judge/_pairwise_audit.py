"""The audit of pairwise verdicts: preference audits on both views, per-human agreement,
agreement with the human consensus, and the disagreement triage (see :mod:`._pairwise`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from labelaudit.judge._pairwise import (
    CONSENSUS,
    PairwiseInputs,
    agreement_table,
    build_tables,
    combined_verdicts,
    consensus_columns,
    human_consensus,
)
from labelaudit.preferences.records import PreferenceTable

__all__ = ["pairwise_audit", "pairwise_triage"]

MAX_HUMANS = 50
_REASONS = ("judge_disagrees", "judge_inconsistent", "judge_error")


def _renamed(entries: list[Any], b: str) -> list[dict[str, Any]]:
    """Agreement entries judge vs ``human`` with the human side renamed to ``b``."""
    out = []
    for entry in entries:
        data = entry.to_dict()
        if data["b"] == "human" and data["a"] != "human":
            data["b"] = b
            data["verdict"] = data["verdict"].replace(" vs human:", f" vs {b}:", 1)
            out.append(data)
    return out


def _with_each_human(table: PreferenceTable, n_boot: int, seed: int) -> list[dict[str, Any]]:
    """Each judge (combined verdicts) against each human (the most active ``MAX_HUMANS``)."""
    from labelaudit.preferences.agreement import agreement

    kinds = table.kinds()
    is_judge = kinds == "judge"
    humans = np.flatnonzero(table.annotator_kind == "human")
    votes = np.bincount(table.annotator_codes, minlength=table.n_annotators)[humans]
    out = []
    for human in humans[np.argsort(-votes, kind="stable")][:MAX_HUMANS]:
        subset = table.filter(is_judge | (table.annotator_codes == human))
        entries = agreement(subset, n_boot=n_boot, seed=seed)
        out += _renamed(entries, str(table.annotators[human]))
    return out


def _with_consensus(
    table: PreferenceTable, judge_columns: dict[str, Any], n_boot: int, seed: int
) -> list[dict[str, Any]]:
    """Each judge (combined verdicts) against the majority of the humans on each item."""
    from labelaudit.preferences.agreement import agreement

    consensus = human_consensus(table)
    if not (consensus["outcome"] >= 0).any():
        return []
    parts = [judge_columns, consensus_columns(table, consensus)]
    entries = agreement(agreement_table(parts, table.source), n_boot=n_boot, seed=seed)
    return _renamed(entries, CONSENSUS)


def pairwise_audit(
    inputs: PairwiseInputs,
    *,
    judge_family: Mapping[str, str] | None,
    n_boot: int,
    seed: int,
    alpha: float,
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Sections of the pairwise audit and the audits skipped (with reasons).

    Returns
    -------
    sections : dict
        ``by_order`` and ``combined`` (preference-audit dicts), ``agreement``
        (``pooled``, ``with_humans``, ``with_consensus``, ``between_humans``), ``triage``.
    skipped : list of dict
    """
    from labelaudit.preferences.audit import audit_preferences

    by_order, combined, judge_columns = build_tables(inputs)
    order_audit = audit_preferences(
        by_order,
        audits=("position_bias", "length_bias", "gold"),
        n_boot=n_boot,
        seed=seed,
        alpha=alpha,
    ).to_dict()
    sections: dict[str, Any] = {"by_order": order_audit, "combined": None}
    skipped = list(order_audit["skipped"])
    agreement: dict[str, Any] = {
        "pooled": [],
        "with_humans": [],
        "with_consensus": [],
        "between_humans": [],
    }
    if inputs.humans is None:
        skipped.append({"audit": "agreement", "reason": "no human votes (--humans FILE)"})
    else:
        audits = ("agreement", "self_preference")
        combined_audit = audit_preferences(
            combined,
            audits=audits,
            judge_family=judge_family,
            n_boot=n_boot,
            seed=seed,
            alpha=alpha,
        ).to_dict()
        sections["combined"] = combined_audit
        skipped += combined_audit["skipped"]
        entries = combined_audit["agreement"]
        agreement["pooled"] = [e for e in entries if e["b"] == "human" and e["a"] != "human"]
        agreement["between_humans"] = [
            e for e in entries if e["level"] == "pair" or (e["a"] == "human" and e["b"] == "human")
        ]
        agreement["with_humans"] = _with_each_human(combined, n_boot, seed)
        agreement["with_consensus"] = _with_consensus(combined, judge_columns, n_boot, seed)
    sections["agreement"] = agreement
    sections["triage"] = pairwise_triage(inputs)
    return sections, skipped


def _consensus_labels(inputs: PairwiseInputs) -> tuple[dict[str, str], dict[str, float]]:
    """Majority human label per item (response id or ``tie``; none when the top is shared)."""
    assert inputs.humans is not None
    item = inputs.humans["item"].astype(str)
    label = np.where(inputs.humans["label"] == "both_bad", "tie", inputs.humans["label"])
    pairs, counts = np.unique(
        np.char.add(np.char.add(item, "\x1f"), label.astype(str)), return_counts=True
    )
    split = np.char.partition(pairs, "\x1f")
    items, labels = split[:, 0], split[:, 2]
    order = np.lexsort((-counts, items))
    items, labels, counts = items[order], labels[order], counts[order]
    starts = np.flatnonzero(np.r_[True, items[1:] != items[:-1]])
    ends = np.r_[starts[1:], items.size]
    totals = np.add.reduceat(counts, starts)
    has_runner = starts + 1 < ends
    runner = np.zeros(starts.size, dtype=counts.dtype)
    runner[has_runner] = counts[starts[has_runner] + 1]
    clear = counts[starts] > runner
    labels_out = {
        str(k): str(v) for k, v in zip(items[starts][clear], labels[starts][clear], strict=True)
    }
    confidence = {
        str(k): float(v) for k, v in zip(items[starts], counts[starts] / totals, strict=True)
    }
    return labels_out, confidence


def pairwise_triage(inputs: PairwiseInputs) -> dict[str, Any]:
    """Items to adjudicate: the judge contradicts the humans (or gold), flips between the
    two orders, or failed. Entries follow the adjudication queue's JSONL shape."""
    merged = combined_verdicts(inputs.verdicts)
    if inputs.humans is not None:
        reference, confidence = _consensus_labels(inputs)
        source = "humans"
    else:
        reference, confidence, source = dict(inputs.gold or {}), {}, "gold"
    ref = np.array([reference.get(i) for i in merged["item"]], dtype=object)
    ab, ba, verdict = merged["ab"], merged["ba"], merged["verdict"]
    error = verdict == None  # noqa: E711
    inconsistent = (ab != None) & (ba != None) & (ab != ba)  # noqa: E711
    disagrees = ~error & ~inconsistent & (ref != None) & (verdict != ref)  # noqa: E711
    reason = np.select([disagrees, inconsistent, error], list(_REASONS), default="")
    queued = np.flatnonzero(reason != "")
    conf = np.array([confidence.get(i, np.nan) for i in merged["item"]], dtype=np.float64)
    rank = np.select([disagrees, inconsistent], [0, 1], default=2)
    order = np.lexsort(
        (merged["item"][queued].astype(str), -np.nan_to_num(conf[queued]), rank[queued])
    )
    candidates = _candidates(inputs)
    entries = [
        {
            "item": str(merged["item"][q]),
            "judge": str(merged["judge"][q]),
            "reason": str(reason[q]),
            "judge_label": verdict[q],
            "verdicts": {"ab": ab[q], "ba": ba[q]},
            "consensus_label": ref[q],
            "reference": source if ref[q] is not None else None,
            "confidence": None if np.isnan(conf[q]) else float(conf[q]),
            "candidates": candidates.get(str(merged["item"][q]), []),
        }
        for q in queued[order]
    ]
    by_reason = {name: int((reason == name).sum()) for name in _REASONS}
    n_items = len(set(map(str, merged["item"])))
    return {"n_items": n_items, "n_queued": len(entries), "by_reason": by_reason, "items": entries}


def _candidates(inputs: PairwiseInputs) -> dict[str, list[dict[str, str]]]:
    """Every human's label on each item (humans in file order)."""
    out: dict[str, list[dict[str, str]]] = {}
    if inputs.humans is None:
        return out
    for item, annotator, label in zip(
        inputs.humans["item"], inputs.humans["annotator"], inputs.humans["label"], strict=True
    ):
        out.setdefault(str(item), []).append({"annotator": str(annotator), "label": str(label)})
    return out
