"""The report's header, footer and table types, shared by the Markdown, HTML and terminal renderers.

The functions here only select, order and format what the report dict already holds; they
never compute a metric. Cells are plain, unescaped strings: each renderer escapes them for
its own format (Markdown, HTML autoescaping, Rich markup).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from labelaudit.methods import METRIC_ORDER
from labelaudit.report._format import (
    DASH,
    fmt_count,
    text,
)

__all__ = [
    "GUIDANCE",
    "Column",
    "Table",
    "flat_metrics",
    "get_path",
    "metric_label",
    "metric_names",
    "provenance",
    "summary",
    "title",
]

_METRIC_LABELS: dict[str, str] = {
    "percent_agreement": "Percent agreement",
    "krippendorff_alpha": "Krippendorff's α",
    "fleiss_kappa": "Fleiss' κ",
    "conger_kappa": "Conger's κ",
    "brennan_prediger": "Brennan–Prediger",
    "cohen_kappa": "Cohen's κ",
    "scott_pi": "Scott's π",
}

GUIDANCE: tuple[str, ...] = (
    "Chance-corrected coefficients (κ, π, α, AC) are 1 for perfect agreement and about 0 for "
    "agreement at chance level; negative values mean systematic disagreement. Percent agreement "
    "ignores chance and looks better the fewer and the more unbalanced the categories are.",
    "The Landis & Koch (1977) bands (below 0 poor, 0.00–0.20 slight, 0.21–0.40 fair, "
    "0.41–0.60 moderate, 0.61–0.80 substantial, 0.81–1.00 almost perfect) are a rough guide "
    "only: a coefficient depends on category prevalence and on the number of categories, so "
    "compare values across studies with care and read the confidence interval, not just the "
    "point estimate.",
    "Which coefficient to quote: Krippendorff's α with its 95% CI is a good default (any number "
    "of annotators, missing ratings, and the distance of the measurement level). With exactly "
    "two annotators Cohen's κ is the customary figure. When one category dominates, chance-"
    "corrected coefficients can be low despite high raw agreement (the kappa paradox): report "
    "Gwet's AC or Brennan–Prediger beside them. For interval or ratio data, quote the ICC form "
    "that matches the design.",
    "Undefined values are shown as an em dash (—) with the reason in the note column.",
)


@dataclass(frozen=True)
class Column:
    """A table column: its header and whether it holds numbers (right-aligned)."""

    name: str
    numeric: bool = False


@dataclass(frozen=True)
class Table:
    """A titled table of formatted, unescaped cells.

    Attributes
    ----------
    key : str
        Stable identifier (the HTML ``id``), e.g. ``"metrics"``.
    title : str
        Section heading.
    columns : tuple of Column
        Column headers.
    rows : tuple of tuple of str
        Formatted cells, one tuple per row, as many cells as columns.
    description : str
        One static sentence saying what the table shows.
    note : str or None
        Extra facts from the report (e.g. why a section is undefined); may hold user content.
    """

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[str, ...], ...]
    description: str = ""
    note: str | None = None


def metric_label(name: str, report: Mapping[str, Any]) -> str:
    """Display name of a coefficient key (``"fleiss_kappa"`` becomes ``"Fleiss' κ"``).

    Parameters
    ----------
    name : str
        Key in ``report["metrics"]``.
    report : Mapping
        The report; its ``weights`` name Gwet's AC1 (identity) or AC2 (other weights).

    Returns
    -------
    str
        The display name; unknown keys are returned unchanged.
    """
    if name == "gwet_ac":
        return "Gwet's AC1" if report.get("weights", "identity") == "identity" else "Gwet's AC2"
    return _METRIC_LABELS.get(name, name)


def flat_metrics(metrics: Any) -> Any:
    """Nested metric groups (structured tasks: ``span_f1.exact.micro``) as flat entries.

    A mapping without a ``value`` key whose entries are all mappings is a group; its
    entries become ``"group · key"`` (recursively). ``icc`` and non-mappings pass through.
    """
    if not isinstance(metrics, Mapping):
        return metrics
    flat: dict[str, Any] = {}
    for name, entry in metrics.items():
        is_group = (
            name != "icc"
            and isinstance(entry, Mapping)
            and "value" not in entry
            and all(isinstance(v, Mapping) for v in entry.values())
        )
        if not is_group:
            flat[name] = entry
            continue
        for key, value in flat_metrics(entry).items():
            flat[f"{name} · {key}"] = value
    return flat


def metric_names(metrics: Mapping[str, Any]) -> list[str]:
    """Coefficient keys in display order: the known ones first, then others; never ``icc``."""
    names = [name for name in METRIC_ORDER if name in metrics]
    return names + [name for name in metrics if name not in METRIC_ORDER and name != "icc"]


def title(report: Mapping[str, Any]) -> str:
    """The report title, naming the input source when known."""
    source = get_path(report, "input", "source")
    if not source:
        return "Agreement report"
    name = str(source).replace("\\", "/").rsplit("/", 1)[-1] or str(source)
    return f"Agreement report: {text(name)}"


def summary(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Header facts: source, counts, level, weights and categories, as (label, value) pairs.

    Parameters
    ----------
    report : Mapping
        The agreement report dict.

    Returns
    -------
    list of (str, str)
        Unescaped label/value pairs in display order.
    """
    categories = report.get("categories")
    listed = DASH
    if isinstance(categories, Sequence) and not isinstance(categories, str):
        listed = f"{len(categories)}: " + ", ".join(_short(text(c)) for c in categories[:20])
        listed += ", …" if len(categories) > 20 else ""
    return [
        ("Source", text(get_path(report, "input", "source"))),
        ("Items", fmt_count(report.get("n_items"))),
        ("Annotators", fmt_count(report.get("n_annotators"))),
        ("Ratings", fmt_count(report.get("n_ratings"))),
        ("Level", text(report.get("level"))),
        ("Weights", text(report.get("weights"))),
        ("Categories", listed),
    ]


def provenance(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Reproducibility facts: tool version, input hash and every configuration entry.

    Parameters
    ----------
    report : Mapping
        The agreement report dict.

    Returns
    -------
    list of (str, str)
        ``("Tool", "labelaudit 0.1.0")``, ``("Input SHA-256", ...)`` and one
        ``("config.<key>", value)`` pair per configuration entry (non-strings as JSON).
    """
    tool = report.get("tool")
    tool = tool if isinstance(tool, Mapping) else {}
    facts = [
        ("Tool", f"{text(tool.get('name', 'labelaudit'))} {text(tool.get('version'))}"),
        ("Input", text(get_path(report, "input", "source"))),
        ("Input SHA-256", text(get_path(report, "input", "sha256"))),
    ]
    config = report.get("config")
    if isinstance(config, Mapping):
        for key, value in config.items():
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            facts.append((f"config.{key}", shown))
    return facts


def _short(value: str, limit: int = 40) -> str:
    """At most ``limit`` characters, an ellipsis marking a cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def get_path(mapping: Mapping[str, Any], *keys: str) -> Any:
    """Nested lookup that returns ``None`` when any level is missing or not a mapping."""
    value: Any = mapping
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
