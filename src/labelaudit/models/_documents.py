"""Documents (:mod:`labelaudit.report.document`) of the models package's results.

Builders only select and order numbers the results already hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from labelaudit.models.soft import soft_sentence
from labelaudit.report.document import DocTable, Document, Headline, Section

if TYPE_CHECKING:
    from labelaudit.models.soft import SoftLabels

__all__ = ["label_errors_document", "soft_document"]

#: Rows of the "most ambiguous items" table.
TOP_AMBIGUOUS = 20


def soft_document(soft: SoftLabels) -> Document:
    """Ambiguity over all items, then the items with the highest posterior entropy."""
    summary = soft.summary()
    sentence = soft_sentence(summary)
    facts = tuple(
        (key, summary[key])
        for key in ("n_items", "n_ambiguous", "mean_top_share", "mean_vote_entropy", "mean_entropy")
    )
    entropy = soft.entropy
    order = np.lexsort((soft.items, -entropy))[:TOP_AMBIGUOUS]
    rows = tuple(
        (str(soft.items[i]), soft.label[i], float(soft.top_share[i]), float(entropy[i]))
        for i in order
    )
    table = DocTable(
        "Most ambiguous items",
        ("item", "consensus", "top share", "entropy (bits)"),
        rows,
        ("text", "text", "number", "number"),
    )
    return Document(
        f"Soft labels ({soft.method})",
        Headline(sentence),
        (Section("Ambiguity", facts=facts), Section("Items", tables=(table,))),
    )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def label_errors_document(data: Mapping[str, Any]) -> Document:
    """The flagged share, the ranked queue and, with several annotators, CROWDLAB."""
    n, flagged = data["n_items"], data["n_flagged"]
    share = flagged / n if n else 0.0
    origin = data["labels_from"]
    given = "given labels" if origin == "labels" else origin.replace(":", " labels by ", 1)
    sentence = (
        f"{flagged:,} of {n:,} items ({share:.1%}) flagged as likely mislabelled by "
        f"confident learning ({given})."
    )
    queue = DocTable(
        "Likely label errors, most likely first",
        ("rank", "item", "given", "suggested", "quality"),
        tuple(
            (i["rank"], i["item"], i["given"], i["suggested"], i["quality"]) for i in data["issues"]
        ),
        ("number", "text", "text", "text", "number"),
    )
    sections = [Section("Queue", facts=tuple(data["settings"].items()), tables=(queue,))]
    crowd = data.get("crowdlab")
    if crowd:
        annotators = DocTable(
            "Annotator quality (CROWDLAB)",
            ("annotator", "quality", "agreement with consensus", "worst class", "items"),
            tuple(
                (
                    a["annotator"],
                    a["quality"],
                    a["agreement_with_consensus"],
                    a["worst_class"],
                    a["n"],
                )
                for a in crowd["annotators"]
            ),
            ("text", "number", "number", "text", "number"),
        )
        items = DocTable(
            "Least certain consensus (CROWDLAB)",
            ("rank", "item", "consensus", "quality", "agreement", "annotations"),
            tuple(
                (
                    i["rank"],
                    i["item"],
                    i["consensus"],
                    i["quality"],
                    i["agreement"],
                    i["n_annotations"],
                )
                for i in crowd["items"][:TOP_AMBIGUOUS]
            ),
            ("number", "text", "text", "number", "number", "number"),
        )
        sections.append(Section("Several annotators", tables=(annotators, items)))
    return Document("Label errors", Headline(sentence), tuple(sections))


def model_agreement_document(data: Mapping[str, Any]) -> Document:
    """Each model's agreement with the human consensus and with each human."""
    yardstick = data.get("human_pairwise_mean")
    rows = tuple(
        (
            m["model"],
            m["consensus"]["n_items"],
            m["consensus"]["percent_agreement"],
            m["consensus"]["cohen_kappa"],
            m["mean_human_agreement"],
        )
        for m in data["models"]
    )
    table = DocTable(
        "Models against the humans",
        ("model", "items", "agreement with consensus", "kappa", "mean agreement with humans"),
        rows,
        ("text", "number", "number", "number", "number"),
        note=f"humans' mean pairwise agreement: {_fmt(yardstick)}",
    )
    per_human = DocTable(
        "Model x human",
        ("model", "annotator", "items", "agreement", "kappa"),
        tuple(
            (m["model"], h["annotator"], h["n_items"], h["percent_agreement"], h["cohen_kappa"])
            for m in data["models"]
            for h in m["humans"]
        ),
        ("text", "text", "number", "number", "number"),
    )
    sentence = (
        f"{len(data['models'])} model annotator(s) compared with the {data['method']} "
        f"consensus of the humans (humans' mean pairwise agreement {_fmt(yardstick)})."
    )
    return Document(
        "Models next to humans", Headline(sentence), (Section("Models", tables=(table, per_human)),)
    )
