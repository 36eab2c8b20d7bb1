"""The tables of the agreement report: coefficients, ICC, pairwise, categories, confusions, items.

The functions here only select, order and format what the report dict already holds; they
never compute a metric. Cells are plain, unescaped strings: each renderer escapes them for
its own format (Markdown, HTML autoescaping, Rich markup).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from labelaudit.report._format import DASH, fmt_ci, fmt_count, fmt_p, fmt_value, text
from labelaudit.report._model import (
    Column,
    Table,
    flat_metrics,
    get_path,
    metric_label,
    metric_names,
)

__all__ = ["build_tables"]

_MAX_EXAMPLES = 5


def build_tables(report: Mapping[str, Any]) -> list[Table]:
    """Every table the report has data for, in display order.

    Parameters
    ----------
    report : Mapping
        The agreement report dict; absent sections are skipped.

    Returns
    -------
    list of Table
        Metrics, ICC, pairwise, per-category, confusions and top disagreements.
    """
    builders: tuple[Callable[[Mapping[str, Any]], Table | None], ...] = (
        _metrics_table,
        _icc_table,
        _pairwise_table,
        _category_table,
        _confusion_table,
        _disagreement_table,
    )
    return [table for build in builders if (table := build(report)) is not None]


def _records(report: Mapping[str, Any], key: str) -> list[Mapping[str, Any]] | None:
    """The list of row mappings under ``key``, or ``None`` when absent."""
    rows = report.get(key)
    if not isinstance(rows, Sequence) or isinstance(rows, str):
        return None
    return [row for row in rows if isinstance(row, Mapping)]


#: Coefficient-specific fields worth a note in the table (the JSON keeps all of them).
_NOTE_KEYS = ("n_items", "se_h0", "z", "p")


def _extra_note(name: str, value: Any) -> str:
    """One coefficient-specific extra field, e.g. ``"z = 40.1200"`` or ``"p < 0.0001"``."""
    if name == "p":
        shown = fmt_p(value)
        return f"p < {shown[1:]}" if shown.startswith("<") else f"p = {shown}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{name} = {text(value)}"
    if isinstance(value, int):
        return f"{name} = {value:,}"
    return f"{name} = {fmt_value(value, 4)}"


def _metric_row(name: str, metric: Mapping[str, Any], report: Mapping[str, Any]) -> tuple[str, ...]:
    """One formatted row of the coefficients table."""
    notes = [text(metric["reason"])] if metric.get("reason") else []
    notes += [
        _extra_note(key, metric[key])
        for key in _NOTE_KEYS
        if metric.get(key) is not None and not isinstance(metric[key], Mapping | list)
    ]
    if isinstance(metric.get("ci95_exact"), list):  # perfect agreement (docs/agreement.md)
        notes.append(f"exact 95% CI (Clopper-Pearson) {fmt_ci(metric['ci95_exact'])}")
    return (
        metric_label(name, report),
        fmt_value(metric.get("value")),
        fmt_ci(metric.get("ci95")),
        fmt_value(metric.get("se"), 4),
        text(metric.get("ci_method") or DASH),
        "; ".join(notes),
    )


def _metrics_table(report: Mapping[str, Any]) -> Table | None:
    """The coefficients table (all metrics but the ICC)."""
    metrics = flat_metrics(report.get("metrics"))
    if not isinstance(metrics, Mapping):
        return None
    names = metric_names(metrics)
    rows = tuple(
        _metric_row(name, metrics[name], report)
        for name in names
        if isinstance(metrics[name], Mapping)
    )
    columns = ("Coefficient", "Value", "95% CI", "SE", "CI method", "Note")
    return Table(
        key="metrics",
        title="Agreement coefficients",
        columns=tuple(Column(c, c in {"Value", "95% CI", "SE"}) for c in columns),
        rows=rows,
        description="Each coefficient with its standard error and 95% confidence interval.",
    )


def _icc_table(report: Mapping[str, Any]) -> Table | None:
    """The intraclass correlation table (interval and ratio levels only)."""
    icc = get_path(report, "metrics", "icc")
    if not isinstance(icc, Mapping):
        return None
    forms = icc.get("forms")
    forms = forms if isinstance(forms, Mapping) else {}
    rows = tuple(
        (
            text(form),
            fmt_value(values.get("value")),
            fmt_ci(values.get("ci95")),
            fmt_value(values.get("F"), 3),
            fmt_count(values.get("df1")),
            fmt_count(values.get("df2")),
            fmt_p(values.get("p")),
        )
        for form, values in forms.items()
        if isinstance(values, Mapping)
    )
    used, raters = fmt_count(icc.get("n_items_used")), fmt_count(icc.get("n_raters"))
    note = f"{used} items used, {raters} raters."
    if icc.get("reason"):
        note += f" {text(icc['reason'])}"
    columns = ("Form", "Value", "95% CI", "F", "df1", "df2", "p")
    return Table(
        key="icc",
        title="Intraclass correlation (ICC)",
        columns=tuple(Column(c, c != "Form") for c in columns),
        rows=rows,
        description="Shrout & Fleiss forms with the F test against zero and 95% CIs.",
        note=note,
    )


def _pairwise_table(report: Mapping[str, Any]) -> Table | None:
    """Agreement between every pair of annotators."""
    records = _records(report, "pairwise")
    if records is None:
        return None
    rows = tuple(
        (
            text(r.get("a")),
            text(r.get("b")),
            fmt_count(r.get("n_items")),
            fmt_value(r.get("percent_agreement")),
            fmt_value(r.get("cohen_kappa")),
        )
        for r in records
    )
    columns = ("Annotator A", "Annotator B", "Items", "Agreement", "Cohen's κ")
    return Table(
        key="pairwise",
        title="Pairwise agreement",
        columns=tuple(Column(c, i >= 2) for i, c in enumerate(columns)),
        rows=rows,
        description="Raw agreement and Cohen's κ on the items both annotators rated.",
    )


def _category_table(report: Mapping[str, Any]) -> Table | None:
    """Per-category specific agreement and one-vs-rest coefficients."""
    records = _records(report, "per_category")
    if records is None:
        return None
    rows = tuple(
        (
            text(r.get("category")),
            fmt_count(r.get("n")),
            fmt_value(r.get("specific_agreement")),
            fmt_value(r.get("kappa_1vr")),
            fmt_value(r.get("alpha_1vr")),
        )
        for r in records
    )
    columns = ("Category", "Ratings", "Specific agreement", "κ (1 vs rest)", "α (1 vs rest)")
    return Table(
        key="per-category",
        title="Per-category agreement",
        columns=tuple(Column(c, i >= 1) for i, c in enumerate(columns)),
        rows=rows,
        description=(
            "Specific agreement: of the rating pairs that involve a category, the share where "
            "both ratings are that category. κ and α treat the category against all others."
        ),
    )


def _examples(items: Any) -> str:
    """Up to five example item ids, then how many more there are."""
    if not isinstance(items, Sequence) or isinstance(items, str):
        return text(items)
    shown = ", ".join(text(i) for i in items[:_MAX_EXAMPLES])
    extra = len(items) - _MAX_EXAMPLES
    return f"{shown} (+{extra} more)" if extra > 0 else shown


def _confusion_table(report: Mapping[str, Any]) -> Table | None:
    """The label pairs most often confused."""
    records = _records(report, "confusions")
    if records is None:
        return None
    rows = tuple(
        (
            text(r.get("label_a")),
            text(r.get("label_b")),
            fmt_count(r.get("count")),
            fmt_value(r.get("share")),
            _examples(r.get("example_items")),
        )
        for r in records
    )
    columns = ("Label A", "Label B", "Count", "Share", "Example items")
    return Table(
        key="confusions",
        title="Most frequent confusions",
        columns=tuple(Column(c, c in {"Count", "Share"}) for c in columns),
        rows=rows,
        description="Pairs of labels that different annotators gave to the same item.",
    )


def _disagreement_table(report: Mapping[str, Any]) -> Table | None:
    """The items with the lowest observed agreement."""
    records = _records(report, "top_disagreements")
    if records is None:
        return None
    rows = tuple(
        (
            text(r.get("item")),
            fmt_count(r.get("n_ratings")),
            fmt_value(r.get("observed_agreement")),
            text(r.get("labels")),
        )
        for r in records
    )
    columns = ("Item", "Ratings", "Observed agreement", "Labels (count)")
    return Table(
        key="disagreements",
        title="Items with most disagreement",
        columns=tuple(Column(c, c in {"Ratings", "Observed agreement"}) for c in columns),
        rows=rows,
        description="Items whose ratings agree least; candidates for adjudication.",
    )
