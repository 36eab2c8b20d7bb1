"""Training-ready exports: consensus, soft labels, confidence and every annotator's label.

:func:`export_labels` fits a consensus method, takes its :class:`~.soft.SoftLabels` and
writes one row per item as a Hugging Face ``datasets.Dataset`` saved to disk (``to="hf"``,
with a dataset card ``README.md`` holding the agreement figures and the method) or as a
Parquet file (``to="parquet"``, the card in the file's key-value metadata under
``labelaudit.card``). The columns are those of ``labelaudit consensus --soft`` followed by
``annotations``: the item's labels as a list of ``{annotator, kind, label}``.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from labelaudit.exceptions import UsageError
from labelaudit.models.kinds import annotator_kinds, human_rows
from labelaudit.models.soft import SoftLabels
from labelaudit.results import Displayable, clean_number
from labelaudit.table import AnnotationTable

__all__ = ["EXPORT_TARGETS", "ExportResult", "annotation_lists", "dataset_card", "export_labels"]

EXPORT_TARGETS = ("hf", "parquet")
#: Agreement coefficients quoted in the card, in this order.
_CARD_METRICS = ("krippendorff_alpha", "fleiss_kappa", "percent_agreement")
_HF_HINT = "install the Hugging Face extra: pip install 'labelaudit[hf]'"


@dataclass(frozen=True)
class ExportResult(Displayable):
    """What :func:`export_labels` wrote."""

    to: str
    path: str
    n_items: int
    columns: tuple[str, ...]
    method: str
    agreement: dict[str, Any] = field(default_factory=dict)
    soft: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``to``, ``path``, ``n_items``, ``columns``, ``method``,
        ``agreement`` (coefficient -> {value, ci95}) and ``soft`` (ambiguity summary)."""
        return {
            "to": self.to,
            "path": self.path,
            "n_items": self.n_items,
            "columns": list(self.columns),
            "method": self.method,
            "agreement": clean_number(self.agreement),
            "soft": clean_number(self.soft),
        }


def annotation_lists(table: AnnotationTable) -> pa.ListArray:
    """Each item's labels as a list of ``{annotator, kind, label}``, shape (n_items,).

    Items in code order (as :attr:`AnnotationTable.items`); within an item, by annotator.
    """
    order = np.lexsort((table.annotator_codes, table.item_codes))
    names = table.annotators.astype(object)
    structs = pa.StructArray.from_arrays(
        [
            pa.array(names[table.annotator_codes[order]], type=pa.string()),
            pa.array(annotator_kinds(table)[table.annotator_codes[order]], type=pa.string()),
            pa.array(table.categories.astype(object)[table.label_codes[order]], type=pa.string()),
        ],
        names=["annotator", "kind", "label"],
    )
    offsets = np.zeros(table.n_items + 1, dtype=np.int32)
    np.cumsum(np.bincount(table.item_codes, minlength=table.n_items), out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), structs)


def _agreement(table: AnnotationTable) -> dict[str, Any]:
    """The card's coefficients on the human rows (analytic 95% CIs)."""
    from labelaudit.agreement import agreement_report

    humans = human_rows(table)
    metrics = agreement_report(humans, diagnose=False).to_dict()["metrics"]
    return {
        name: {"value": metrics[name].get("value"), "ci95": metrics[name].get("ci95")}
        for name in _CARD_METRICS
        if name in metrics
    }


def dataset_card(
    name: str, table: AnnotationTable, soft: SoftLabels, agreement: dict[str, Any]
) -> str:
    """The dataset card (Markdown with a YAML header): method, agreement, columns."""
    from labelaudit import __version__
    from labelaudit.report.format import escape_markdown

    kinds = annotator_kinds(table)
    n_other = int((kinds != "human").sum())
    others = f" and {n_other} model or function" if n_other else ""
    lines = [
        "---",
        f"pretty_name: {json.dumps(name)}",
        "tags: [labelaudit, soft-labels, crowdsourcing]",
        "---",
        f"# {escape_markdown(name)}",
        "",
        f"{soft.items.size:,} items labelled {table.n_ratings:,} times by "
        f"{int((kinds == 'human').sum())} human{others} annotators; consensus by "
        f"**{soft.method}**. Categories: "
        + ", ".join(escape_markdown(str(c)) for c in soft.categories)
        + ".",
        "",
        "## Agreement (human annotators, analytic 95% CI)",
        "",
        "| coefficient | value | 95% CI |",
        "|---|---|---|",
    ]
    for metric, figure in agreement.items():
        value, ci = figure.get("value"), figure.get("ci95") or [None, None]
        cells = [_num(value), f"[{_num(ci[0])}, {_num(ci[1])}]"]
        lines.append(f"| {metric} | {cells[0]} | {cells[1]} |")
    summary = soft.summary()
    lines += [
        "",
        "## Method",
        "",
        f"- `label`, `confidence`: the {soft.method} consensus and its winning probability.",
        "- `share_<category>`: raw vote shares; `p_<category>`: the aggregator's posterior.",
        "- `top_share`, `vote_entropy`, `entropy` (bits): ambiguity; mean entropy "
        f"{_num(summary['mean_entropy'])} of at most {_num(summary['max_entropy'])} bits, "
        f"{summary['n_ambiguous']:,} items whose top label holds at most half the votes.",
        "- `annotations`: every annotator's label (`kind` human, model or function).",
        "",
        f"Written by labelaudit {__version__} from {escape_markdown(Path(table.source).name)}.",
        "",
    ]
    return "\n".join(lines)


def _num(value: Any) -> str:
    return "n/a" if value is None else f"{float(value):.3f}"


def export_labels(
    table: AnnotationTable,
    out: str | Path,
    *,
    to: str = "hf",
    method: str = "dawid-skene",
    name: str | None = None,
    **options: Any,
) -> ExportResult:
    """Fit ``method`` on ``table`` and write the training-ready table to ``out``.

    Parameters
    ----------
    table : AnnotationTable
        Categorical annotations (model rows, if any, vote like any annotator; leave them
        out of the table to keep the consensus human).
    out : str or Path
        A folder for ``to="hf"`` (``datasets.Dataset.save_to_disk``; a folder holding a
        saved dataset is replaced, any other non-empty folder refused); a ``.parquet``
        file for ``to="parquet"``.
    to : {"hf", "parquet"}
    method : str
        Consensus method (:data:`labelaudit.consensus.api.METHODS`, categorical).
    name : str, optional
        Dataset name in the card (default: the output's name).
    **options
        Options of :func:`labelaudit.consensus.api.make_aggregator` (``seed``, ...).

    Returns
    -------
    ExportResult

    Raises
    ------
    UsageError
        Unknown target, a numeric method, an occupied folder, or ``datasets`` missing for
        ``to="hf"``.
    """
    from labelaudit.consensus.api import run_consensus
    from labelaudit.models.soft import soft_labels

    if to not in EXPORT_TARGETS:
        raise UsageError(f"--to must be one of {', '.join(EXPORT_TARGETS)}; got {to!r}")
    target = Path(out)
    _check_target(target, to)
    estimator, _ = run_consensus(table, method, **options)
    soft = soft_labels(table, estimator)
    agreement = _agreement(table)
    data = soft.to_arrow().append_column("annotations", annotation_lists(table))
    card = dataset_card(name or target.stem, table, soft, agreement)
    if to == "hf":
        _save_hf(data, card, target)
    else:
        import pyarrow.parquet as pq

        meta = {b"labelaudit.card": card.encode("utf-8")}
        pq.write_table(data.replace_schema_metadata(meta), target)
    return ExportResult(
        to, str(target), data.num_rows, tuple(data.column_names), soft.method, agreement,
        soft.summary(),
    )  # fmt: skip


def _check_target(target: Path, to: str) -> None:
    if to == "parquet":
        if target.suffix.lower() not in (".parquet", ".pq"):
            raise UsageError(f"--to parquet writes a .parquet file; got {str(target)!r}")
        return
    try:
        import datasets  # noqa: F401
    except ImportError:
        raise UsageError(f"--to hf needs the datasets package: {_HF_HINT}") from None
    if target.exists() and (not target.is_dir() or _occupied(target)):
        msg = (
            f"{str(target)!r} exists and is not a saved dataset: choose a new folder "
            "(a folder holding a saved dataset is replaced)"
        )
        raise UsageError(msg)


def _occupied(folder: Path) -> bool:
    """A non-empty folder that is not a dataset saved by ``save_to_disk``."""
    return any(folder.iterdir()) and not (folder / "state.json").is_file()


def _save_hf(data: pa.Table, card: str, target: Path) -> None:
    """Save through a sibling temporary folder, then swap it in (never half-written)."""
    import datasets

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        info = datasets.DatasetInfo(description=card)
        datasets.disable_progress_bars()
        datasets.Dataset(data, info=info).save_to_disk(str(staging))
        (staging / "README.md").write_text(card, encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
