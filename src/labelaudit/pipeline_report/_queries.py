"""Store reads of the pipeline report: constant SQL, batch ids and items as parameters.

Every figure comes from what ingest stored; per-annotator values over several batches are
pooled from stored counts in SQL (no annotation is re-read, except the few example items'
text).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from labelaudit.project.store import BatchRecord, Store, names_join
from labelaudit.results import clean_number

__all__ = [
    "TEXT_COLUMNS",
    "adjudication",
    "attach_text",
    "batch_values",
    "confusions",
    "fairness",
    "intervals",
    "item_text",
    "leaderboard",
    "review",
    "weakest_annotator",
]

TEXT_COLUMNS = ("text", "instruction", "question", "prompt", "input", "content", "sentence")
TEXT_CHARS = 300


def batch_values(store: Store, ids: list[int]) -> dict[int, dict[str, tuple[Any, Any]]]:
    """``{batch_id: {metric: (value, reason)}}`` of the headline values of these batches."""
    rows = store.execute(
        "SELECT batch_id, kind, metric, value, reason FROM batch_metrics "
        "WHERE list_contains(?::BIGINT[], batch_id)",
        (ids,),
    ).fetchall()
    out: dict[int, dict[str, tuple[Any, Any]]] = defaultdict(dict)
    for batch_id, kind, metric, value, reason in rows:
        out[batch_id][f"{kind}.{metric}"] = (value, reason)
    return dict(out)


_LEADERBOARD = """
SELECT annotator,
  sum(CASE WHEN kind = 'annotators' AND metric = 'n_labels' THEN value END) AS n_labels,
  sum(CASE WHEN kind = 'annotators' AND metric = 'loo_agreement' AND value IS NOT NULL
      THEN value * n END)
  / nullif(sum(CASE WHEN kind = 'annotators' AND metric = 'loo_agreement'
      AND value IS NOT NULL THEN n END), 0) AS loo_agreement,
  sum(CASE WHEN kind = 'gold' AND metric = 'gold_errors' THEN n END) AS n_gold,
  sum(CASE WHEN kind = 'gold' AND metric = 'gold_errors' THEN value END) AS gold_errors,
  count(DISTINCT batch_id) AS n_batches
FROM annotator_metrics WHERE list_contains(?::BIGINT[], batch_id)
GROUP BY annotator
"""


def leaderboard(store: Store, ids: list[int], limit: int) -> list[dict[str, Any]]:
    """Annotators over these batches, flagged first, then by pooled agreement (low first
    is worst; the table lists best agreement first among the unflagged)."""
    rows = store.execute(_LEADERBOARD, (ids,)).fetchall()
    flags = _flags(store, ids)
    out = []
    for name, n_labels, loo, n_gold, errors, n_batches in rows:
        n_gold = int(n_gold or 0)
        accuracy = 1.0 - float(errors) / n_gold if n_gold else None
        out.append(
            {
                "annotator": name,
                "n_batches": int(n_batches),
                "n_labels": int(n_labels or 0),
                "loo_agreement": clean_number(loo),
                "n_gold": n_gold,
                "gold_accuracy": clean_number(accuracy),
                "flags": flags.get(name, []),
            }
        )
    out.sort(
        key=lambda r: (
            not r["flags"],
            -(r["loo_agreement"] if r["loo_agreement"] is not None else -2.0),
            r["annotator"],
        )
    )
    return out[:limit]


def _results(store: Store, ids: list[int], kind: str) -> list[tuple[str, dict[str, Any]]]:
    rows = store.execute(
        "SELECT b.name, r.result FROM batch_results r JOIN batches b USING (batch_id) "
        "WHERE r.kind = ? AND list_contains(?::BIGINT[], r.batch_id) ORDER BY r.batch_id",
        (kind, ids),
    ).fetchall()
    return [(name, json.loads(result)) for name, result in rows]


def _flags(store: Store, ids: list[int]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for batch, result in _results(store, ids, "annotators"):
        for flag in result.get("flags", []):
            out[flag["annotator"]].append(
                {"batch": batch, "metric": flag["metric"], "reason": flag["reason"]}
            )
    return dict(out)


def confusions(store: Store, batches: list[BatchRecord], top: int) -> dict[str, Any]:
    """The most confused label pairs over these batches (each batch's stored top pairs
    summed), with example items and the batch each came from."""
    ids = [b.batch_id for b in batches]
    counts: dict[tuple[str, str], int] = defaultdict(int)
    examples: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    categories: list[str] = []
    total = 0
    for batch, result in reversed(_results(store, ids, "agreement")):  # newest examples first
        categories += [c for c in map(str, result.get("categories", [])) if c not in categories]
        for row in result.get("confusions", []):
            pair = (str(row["label_a"]), str(row["label_b"]))
            counts[pair] += int(row["count"])
            total += int(row["count"])
            examples[pair] += [{"item": str(i), "batch": batch} for i in row["example_items"]]
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    pairs = [
        {
            "label_a": a,
            "label_b": b,
            "count": count,
            "share": clean_number(count / total) if total else None,
            "examples": examples[(a, b)],
        }
        for (a, b), count in ranked
    ]
    return {"categories": categories, "pairs": pairs, "n_disagreeing_pairs": total}


# One row per wanted item of the named batch: on the codes, the wanted names first.
_TEXTS = (
    "SELECT i.name, any_value(c.extra) FROM annotation_codes c"
    + names_join("i", "item", "c.batch_id", "c.item")
    + "WHERE c.batch_id = (SELECT batch_id FROM batches WHERE name = ?) "
    "AND list_contains(?::VARCHAR[], i.name) GROUP BY i.name"
)


def attach_text(store: Store, found: dict[str, Any], per_pair: int) -> None:
    """Keep ``per_pair`` examples per pair and add each item's text (first of
    :data:`TEXT_COLUMNS` among the file's extra columns), read from the stored rows."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for pair in found["pairs"]:
        pair["examples"] = pair["examples"][:per_pair]
        for example in pair["examples"]:
            wanted[example["batch"]].add(example["item"])
    texts: dict[tuple[str, str], str] = {}
    for batch, items in wanted.items():
        rows = store.execute(
            _TEXTS,
            (batch, sorted(items)),
        ).fetchall()
        for item, extra in rows:
            text = item_text(extra)
            if text is not None:
                texts[(batch, item)] = text
    for pair in found["pairs"]:
        for example in pair["examples"]:
            example["text"] = texts.get((example["batch"], example["item"]))


def item_text(extra: Any) -> str | None:
    """The item's text: the first of :data:`TEXT_COLUMNS` in a stored ``extra`` map,
    cut to :data:`TEXT_CHARS` characters; None when there is none."""
    if not extra:
        return None
    values = dict(extra) if not isinstance(extra, dict) else extra
    for column in TEXT_COLUMNS:
        if values.get(column):
            text = str(values[column])
            return text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…"
    return None


def adjudication(store: Store, batches: list[BatchRecord]) -> dict[str, Any]:
    """Adjudication queue sizes per batch (stored at ingest) and the latest batch's first
    queued items."""
    ids = [b.batch_id for b in batches]
    results = _results(store, ids, "consensus")
    per_batch = [
        {
            "batch": batch,
            "n_items": r["n_items"],
            "n_queued": r["n_queued"],
            "n_tied": r["n_tied"],
            "n_low_confidence": r["n_low_confidence"],
        }
        for batch, r in results
    ]
    latest = results[-1][1] if results else {}
    return {
        "method": latest.get("method"),
        "threshold": latest.get("threshold"),
        "n_queued": sum(r["n_queued"] for r in per_batch),
        "by_batch": per_batch,
        "latest_examples": latest.get("queue", []),
    }


def intervals(store: Store, ids: list[int], metric: str) -> dict[int, list[float] | None]:
    """``{batch_id: [ci_low, ci_high]}`` of one stored headline metric (None without a CI)."""
    rows = store.execute(
        "SELECT batch_id, ci_low, ci_high FROM batch_metrics "
        "WHERE metric = ? AND list_contains(?::BIGINT[], batch_id)",
        (metric, ids),
    ).fetchall()
    out: dict[int, list[float] | None] = {}
    for batch_id, low, high in rows:
        low, high = clean_number(low), clean_number(high)
        out[batch_id] = [low, high] if low is not None and high is not None else None
    return out


def weakest_annotator(store: Store, batch: BatchRecord) -> dict[str, Any] | None:
    """The annotator of ``batch`` with the lowest stored agreement with the others
    (``loo_agreement``), with the mean over the batch's annotators; None with fewer than
    three annotators or when the lowest is not below the mean."""
    rows = store.execute(
        "SELECT annotator, value FROM annotator_metrics WHERE batch_id = ? "
        "AND kind = 'annotators' AND metric = 'loo_agreement' AND value IS NOT NULL "
        "AND isfinite(value) ORDER BY value, annotator",
        (batch.batch_id,),
    ).fetchall()
    if len(rows) < 3:
        return None
    mean = sum(float(v) for _, v in rows) / len(rows)
    name, lowest = rows[0]
    if not lowest < mean:
        return None
    return {
        "batch": batch.name,
        "annotator": name,
        "loo_agreement": clean_number(lowest),
        "mean_loo_agreement": clean_number(mean),
        "n_annotators": len(rows),
    }


def review(store: Store, batches: list[BatchRecord]) -> dict[str, Any] | None:
    """The review recorded for the latest of ``batches`` that has one (``review-score
    --record``): the stored score with its batch name and size; None when none has."""
    for batch in reversed(batches):
        row = store.execute(
            "SELECT result FROM batch_results WHERE batch_id = ? AND kind = 'review'",
            (batch.batch_id,),
        ).fetchone()
        if row is not None:
            return {"batch": batch.name, "batch_size": batch.n_annotations} | json.loads(row[0])
    return None


def fairness(store: Store, ids: list[int]) -> dict[str, Any] | None:
    """The stored ``fairness`` results of these batches (ingest with a ``[fairness]``
    section): the stored ``max_group_gap`` per batch, and the groups, offsets, contrasts
    and gaps of the latest batch holding one; None when no batch has one."""
    results = _results(store, ids, "fairness")
    if not results:
        return None
    gaps = store.execute(
        "SELECT b.name, m.value FROM batch_metrics m JOIN batches b USING (batch_id) "
        "WHERE m.kind = 'fairness' AND m.metric = 'max_group_gap' "
        "AND list_contains(?::BIGINT[], m.batch_id) ORDER BY m.batch_id",
        (ids,),
    ).fetchall()
    batch, latest = results[-1]
    return {
        "batch": batch,
        "by": [g["by"] for g in latest.get("groupings", [])],
        "max_group_gap": [{"batch": name, "value": clean_number(v)} for name, v in gaps],
        "groupings": latest.get("groupings", []),
        "groups": latest.get("groups", []),
        "offsets": latest.get("offsets", []),
        "contrasts": latest.get("contrasts", []),
        "gaps": latest.get("gaps", []),
    }


def labeling_functions(store: Store, batches: list[BatchRecord]) -> dict[str, Any] | None:
    """The stored LF analysis (kind ``labeling_functions``) of the latest of ``batches``
    that has labeling-function votes, with its batch name; None when none has."""
    for batch in reversed(batches):
        row = store.execute(
            "SELECT result FROM batch_results WHERE batch_id = ? AND kind = 'labeling_functions'",
            (batch.batch_id,),
        ).fetchone()
        if row is not None:
            return {"batch": batch.name} | json.loads(row[0])
    return None
