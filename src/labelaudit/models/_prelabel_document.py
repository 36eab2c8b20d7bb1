"""Document (:mod:`labelaudit.report.document`) of :class:`PrelabelAcceptance`.

The builder only selects and orders numbers the result already holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from labelaudit.report.document import DocTable, Document, Headline, Section

__all__ = ["prelabel_document"]

_SHARE = ("n", "kept", "share", "low", "high", "changed")
_KINDS = ("text", "number", "number", "number", "number", "number", "number")


def _share_rows(records: list[dict[str, Any]]) -> tuple[tuple[Any, ...], ...]:
    return tuple(
        (r["name"], r["n_prelabelled"], r["n_accepted"], r["acceptance"], *r["ci95"],
         r["n_changed"])
        for r in records
    )  # fmt: skip


def prelabel_document(data: Mapping[str, Any]) -> Document:
    """Acceptance per annotator, label and model version; changes; anchoring; flags."""
    ref = data["reference"]
    tables = [
        DocTable(
            f"Acceptance by {what}", (what, *_SHARE), _share_rows(data[key]), _KINDS,
            note="n: pre-labelled annotations; kept: accepted unchanged; low-high: Wilson 95%",
        )
        for what, key in (("annotator", "annotators"), ("pre-label", "labels"),
                          ("model version", "versions"))
    ]  # fmt: skip
    changes = DocTable(
        "Pre-label to final label",
        ("pre-label", "final", "annotations"),
        tuple((c["prelabel"], c["final"], c["count"]) for c in data["changes"]),
        ("text", "text", "number"),
    )
    anchoring = DocTable(
        "Anchoring",
        ("annotator", "model pre", "other", "diff", "low", "high", "acc pre", "other",
         "wrong", "kept", "kept right"),
        tuple(
            (r["annotator"], r["model_agreement"]["prelabelled"], r["model_agreement"]["other"],
             r["model_agreement"]["difference"], *r["model_agreement"]["ci95"],
             r["accuracy"]["prelabelled"], r["accuracy"]["other"], r["n_wrong_prelabels"],
             r["wrong_kept"], r["right_kept"])
            for r in data["annotators"]
        ),
        ("text", *("number",) * 10),
        note=(
            "model pre / other: agreement with the model on pre-labelled / other items; diff "
            f"with its 95% interval (Newcombe hybrid score); acc: accuracy against {ref}; "
            "wrong: wrong pre-labels seen, kept: share of them accepted, kept right: share of "
            "the right ones accepted"
        ),
    )  # fmt: skip
    flags = DocTable(
        "Flags", ("annotator", "reason"),
        tuple((f["annotator"], f["reason"]) for f in data["flags"]), ("text", "text"),
    )  # fmt: skip
    sentence = (
        f"{data['n_prelabelled']:,} human annotations started from a pre-label; "
        f"{len(data['flags'])} flag(s) (reference: {ref})."
    )
    return Document(
        "Pre-label acceptance",
        Headline(sentence),
        (
            Section("Acceptance", tables=(*tables, changes)),
            Section("Anchoring", tables=(anchoring, flags), facts=tuple(data["rules"].items())),
        ),
    )
