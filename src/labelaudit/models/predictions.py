"""Model predictions as annotators of kind ``model``, and their agreement with the humans.

A predictions file (CSV, TSV, JSONL, JSON, Parquet) has ``item``, ``label`` and optionally
``model_version`` (the annotator's name; default: the file's stem) and one probability
column per class (validated as by :func:`~labelaudit.models.probs.read_probabilities`).
Label Studio predictions come in through ``--include-models`` (``annotator_kind`` model).

:func:`model_agreement` reports, for each model annotator, its agreement with each human
(on the items both labelled) and with the consensus of the humans, next to the humans'
own mean pairwise agreement; the humans' agreement is never computed with the models in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from labelaudit.exceptions import InputError
from labelaudit.models.kinds import HUMAN, KIND_COLUMN, annotator_kinds, human_rows
from labelaudit.results import Displayable, clean_number
from labelaudit.table import AnnotationTable

if TYPE_CHECKING:
    from labelaudit.report.document import Document

__all__ = ["ModelAgreement", "model_agreement", "read_predictions", "with_predictions"]


def read_predictions(
    source: str | Path, *, item_col: str = "item", label_col: str = "label"
) -> pa.Table:
    """Predictions as annotation rows: ``item``, ``annotator``, ``label``, ``annotator_kind``.

    Raises
    ------
    InputError
        A missing column, an empty item or label, an (item, model_version) listed twice,
        or bad probability columns.
    """
    from labelaudit.models.probs import NOT_CLASSES, read_item_column, read_probabilities
    from labelaudit.table import load_source

    raw, locator = load_source(source, None)
    for name in (item_col, label_col):
        if name not in raw.column_names:
            raise InputError(
                "missing column", source=locator.source, line=1, field=name,
                expected=f"a column named {name!r}", actual=", ".join(raw.column_names),
            )  # fmt: skip
    items = read_item_column(raw.column(item_col), locator, item_col, unique=False)
    labels = read_item_column(raw.column(label_col), locator, label_col, unique=False)
    if "model_version" in raw.column_names:
        model = read_item_column(
            raw.column("model_version"), locator, "model_version", unique=False
        )
    else:
        model = np.full(items.size, Path(str(source)).stem)
    key = np.char.add(np.char.add(model.astype(str), "\x00"), items.astype(str))
    _, first, counts = np.unique(key, return_index=True, return_counts=True)
    if bool((counts > 1).any()):
        row = int(np.setdiff1d(np.arange(items.size), first).min())
        raise locator.error(
            row, "item predicted twice by one model", field=item_col,
            expected="one prediction per item and model_version", actual=str(items[row]),
        )  # fmt: skip
    skip = (item_col, label_col, *NOT_CLASSES)
    if [c for c in raw.column_names if c not in skip] and len(set(model)) == 1:
        read_probabilities(source, item_col=item_col)  # validates the probability columns
    return pa.table(
        {
            "item": items,
            "annotator": model,
            "label": labels,
            KIND_COLUMN: np.full(items.size, "model"),
        }
    )


def with_predictions(table: AnnotationTable, predictions: pa.Table) -> AnnotationTable:
    """``table`` with the prediction rows added (as model annotators).

    Raises
    ------
    InputError
        A model name that is also a human annotator's.
    """
    from labelaudit.table import read_annotations

    clash = np.intersect1d(
        table.annotators.astype(str),
        predictions.column("annotator").to_numpy(zero_copy_only=False).astype(str),
    )
    if clash.size:
        raise InputError(
            "model_version is also an annotator's name", field="model_version",
            expected="a name no annotator has", actual=str(clash[0]),
        )  # fmt: skip
    kinds = annotator_kinds(table)[table.annotator_codes]
    base = table.data
    if KIND_COLUMN in base.column_names:
        base = base.drop_columns([KIND_COLUMN])
    base = base.append_column(KIND_COLUMN, pa.array(kinds, type=pa.string()))
    rows = pa.concat_tables(
        [base, predictions.cast(base.select(predictions.column_names).schema)],
        promote_options="default",
    )
    categories = list(table.schema.categories) if table.schema.categories else None
    merged = read_annotations(rows, categories=categories, level=table.level)
    return replace(merged, source=table.source)


@dataclass(frozen=True)
class ModelAgreement(Displayable):
    """Each model's agreement with the humans; ``to_dict()`` is the JSON contract.

    ``models``: one record per model annotator: ``model``, ``n_items``, ``consensus``
    (``{n_items, percent_agreement, cohen_kappa, ci95}`` against the human consensus),
    ``humans`` (``[{annotator, n_items, percent_agreement, cohen_kappa}]``) and
    ``mean_human_agreement`` (mean percent agreement over those humans).
    ``human_pairwise_mean``: the humans' mean pairwise percent agreement (the yardstick).
    """

    method: str
    models: list[dict[str, Any]]
    human_pairwise_mean: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``method``, ``human_pairwise_mean``, ``models``."""
        return clean_number(
            {"method": self.method, "human_pairwise_mean": self.human_pairwise_mean,
             "models": self.models}
        )  # fmt: skip

    def to_document(self) -> Document:
        """Each model against the consensus and the humans."""
        from labelaudit.models._documents import model_agreement_document

        return model_agreement_document(self.to_dict())


def model_agreement(
    table: AnnotationTable, *, method: str = "dawid-skene", seed: int = 0
) -> ModelAgreement:
    """Agreement of every model annotator of ``table`` with each human and the consensus.

    Parameters
    ----------
    table : AnnotationTable
        Human and model rows (``annotator_kind``).
    method : str
        Consensus method of the human rows.
    seed : int

    Returns
    -------
    ModelAgreement
        Empty ``models`` when the table has no model annotator.
    """
    from labelaudit.agreement.cohen import cohen_kappa
    from labelaudit.agreement.diagnostics import pairwise_agreement
    from labelaudit.consensus.api import run_consensus

    kinds = annotator_kinds(table)
    q = table.n_categories
    pairs = pairwise_agreement(table, np.eye(q))
    human = set(table.annotators[kinds == HUMAN].astype(str))
    between = [p for p in pairs if p["a"] in human and p["b"] in human]
    values = [p["percent_agreement"] for p in between if p["percent_agreement"] is not None]
    humans = human_rows(table)
    estimator, _ = run_consensus(humans, method, seed=seed)
    consensus = np.full(table.n_items, -1)
    consensus[np.searchsorted(table.items, humans.items)] = estimator.labels_
    models = []
    for code in np.flatnonzero(kinds != HUMAN):
        name = str(table.annotators[code])
        rows = table.annotator_codes == code
        label = np.full(table.n_items, -1)
        label[table.item_codes[rows]] = table.label_codes[rows]
        both = (label >= 0) & (consensus >= 0)
        cells = np.bincount(label[both] * q + consensus[both], minlength=q * q).reshape(q, q)
        kappa = cohen_kappa(cells) if both.any() else None
        mine = [
            {"annotator": p["b"] if p["a"] == name else p["a"], "n_items": p["n_items"],
             "percent_agreement": p["percent_agreement"], "cohen_kappa": p["cohen_kappa"]}
            for p in pairs if name in (p["a"], p["b"]) and ({p["a"], p["b"]} - {name}) <= human
        ]  # fmt: skip
        shares = [m["percent_agreement"] for m in mine if m["percent_agreement"] is not None]
        models.append({
            "model": name, "n_items": int(rows.sum()),
            "consensus": {
                "n_items": int(both.sum()),
                "percent_agreement": float(np.trace(cells) / both.sum()) if both.any() else None,
                "cohen_kappa": kappa.value if kappa is not None else None,
                "ci95": list(kappa.ci95) if kappa is not None and kappa.ci95 else None,
            },
            "humans": mine,
            "mean_human_agreement": float(np.mean(shares)) if shares else None,
        })  # fmt: skip
    return ModelAgreement(method, models, float(np.mean(values)) if values else None)
