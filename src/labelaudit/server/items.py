"""The item page's data: text, every annotator's label, consensus, decision history, spans.

Consensus is the majority vote with the winning vote share as its confidence (the rule of
the stored ``consensus`` results), per batch holding the item. A label that is a span set
(a JSON list of ``{"start", "end", "label"}``) is drawn over the item's text as marked
segments; the segments are plain strings, escaped by the template like all data. When the
item's data holds an image URL, box labels are drawn over the image.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from typing import Any

from labelaudit.exceptions import NotFoundError
from labelaudit.project.store import Store
from labelaudit.server.access import StoreAccess
from labelaudit.server.overlays import boxes, image_url

__all__ = ["item_view", "span_segments"]

_ROWS = (
    "SELECT b.name, a.annotator, a.label, a.extra FROM annotations a JOIN batches b "
    "USING (batch_id) WHERE a.item = ? ORDER BY a.batch_id, a.annotator"
)


def _full_text(extra: Any) -> str | None:
    from labelaudit.pipeline_report import TEXT_COLUMNS

    values = dict(extra or {})
    return next((str(values[c]) for c in TEXT_COLUMNS if values.get(c)), None)


def _spans(label: str) -> list[tuple[int, int, str]] | None:
    """``[(start, end, label)]`` when ``label`` is a JSON span list, else None."""
    if not label.startswith("["):
        return None
    try:
        data = json.loads(label)
    except ValueError:
        return None
    spans = []
    for span in data if isinstance(data, list) else []:
        if not isinstance(span, dict):
            return None
        start, end = span.get("start"), span.get("end")
        name = span.get("label", span.get("labels", ""))
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start <= end:
            return None
        name = ", ".join(map(str, name)) if isinstance(name, list) else str(name)
        spans.append((start, end, name))
    return spans


def span_segments(text: str, spans: list[tuple[int, int, str]]) -> list[dict[str, Any]]:
    """``text`` cut at the span boundaries: ``[{"text", "labels"}]`` (empty labels = plain).

    Overlapping spans give a segment every label covering it; offsets past the text are
    clipped to it.
    """
    cuts = sorted({0, len(text), *(min(max(p, 0), len(text)) for s in spans for p in s[:2])})
    out = []
    for start, end in itertools.pairwise(cuts):
        labels = [name for a, b, name in spans if a <= start and end <= b and a < b]
        out.append({"text": text[start:end], "labels": labels})
    return out


def _consensus(labels: list[str]) -> dict[str, Any]:
    counts = Counter(labels).most_common()
    top = counts[0][1]
    tied = len(counts) > 1 and counts[1][1] == top
    return {
        "label": None if tied else counts[0][0],
        "confidence": top / len(labels),
        "tied": tied,
        "votes": dict(counts),
        "method": "majority",
    }


def item_view(access: StoreAccess, item: str) -> dict[str, Any]:
    """Everything about one item across the batches holding it.

    Returns
    -------
    dict
        ``{"item", "text", "image", "batches": [{"batch", "labels": [{"annotator",
        "label", "segments", "boxes"}], "consensus": {"label", "confidence", "tied",
        "votes"}}], "decisions": [...], "decision": latest label or null}``; ``image`` is
        the item's image URL (or null), ``boxes`` a box label to draw over it
        (:func:`labelaudit.server.overlays.boxes`).
    """
    from labelaudit.project.decisions import list_decisions

    def compute(store: Store) -> dict[str, Any]:
        rows = store.execute(_ROWS, (item,)).fetchall()
        if not rows:
            raise NotFoundError(f"no item {item!r} in the project store")
        text = next((t for t in (_full_text(r[3]) for r in rows) if t), None)
        image = next((u for u in (image_url(r[3]) for r in rows) if u), None)
        batches: dict[str, list[dict[str, Any]]] = {}
        for batch, annotator, label, _ in rows:
            spans = _spans(label) if text is not None else None
            segments = span_segments(text, spans) if spans is not None and text else None
            drawn = boxes(label) if image is not None else None
            batches.setdefault(batch, []).append(
                {"annotator": annotator, "label": label, "segments": segments, "boxes": drawn}
            )
        decisions = [d.to_dict() for d in list_decisions(store, item=item)]
        return {
            "item": item,
            "text": text,
            "image": image,
            "batches": [
                {
                    "batch": name,
                    "labels": labels,
                    "consensus": _consensus([x["label"] for x in labels]),
                }
                for name, labels in batches.items()
            ],
            "decisions": decisions,
            "decision": decisions[-1]["label"] if decisions else None,
        }

    def read() -> dict[str, Any]:
        with access.reading() as store:
            return compute(store)

    return access.cached(("item", item), read)
