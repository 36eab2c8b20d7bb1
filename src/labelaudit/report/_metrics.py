"""Display names and order of the agreement coefficients (shared by the documents and charts).

The functions here only name and order what the report dict already holds; they never
compute a metric.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from labelaudit.methods import METRIC_ORDER

__all__ = ["flat_metrics", "get_path", "metric_label", "metric_names"]

_METRIC_LABELS: dict[str, str] = {
    "percent_agreement": "Percent agreement",
    "krippendorff_alpha": "Krippendorff's α",
    "fleiss_kappa": "Fleiss' κ",
    "conger_kappa": "Conger's κ",
    "brennan_prediger": "Brennan–Prediger",
    "cohen_kappa": "Cohen's κ",
    "scott_pi": "Scott's π",
}


def metric_label(name: str, report: Mapping[str, Any]) -> str:
    """Display name of a coefficient key (``"fleiss_kappa"`` becomes ``"Fleiss' κ"``).

    Parameters
    ----------
    name : str
        Key in ``report["metrics"]`` (or a flattened ``"group · key"`` name).
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


def get_path(mapping: Mapping[str, Any], *keys: str) -> Any:
    """Nested lookup that returns ``None`` when any level is missing or not a mapping."""
    value: Any = mapping
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
