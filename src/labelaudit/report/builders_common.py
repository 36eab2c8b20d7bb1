"""Pieces every document builder shares: provenance, who chose what (category meanings come
from :func:`labelaudit.report.document.category_label`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from labelaudit.report._format import text
from labelaudit.report.document import Provenance, category_label, short_path

__all__ = ["category_label", "provenance", "who_chose"]


def provenance(data: Mapping[str, Any], *, full: bool = False) -> Provenance:
    """Tool version, the input files (relative unless ``full``), the input hash and the config."""
    given = data.get("input") or {}
    sources = [given.get(k) for k in ("source", "verdicts", "humans", "gold", "data", "judge")]
    flat = [s for v in sources for s in (v if isinstance(v, list) else [v]) if isinstance(s, str)]
    sha = given.get("sha256")
    return Provenance(
        tool_version=str((data.get("tool") or {}).get("version", "")),
        files=tuple(short_path(source, full=full) for source in flat),
        input_sha256=sha if isinstance(sha, str) else None,
        config=dict(data.get("config") or {}),
    )


def who_chose(labels: Mapping[str, Any], names: Mapping[str, str] | None = None) -> str:
    """``"2 (response 2 better): ann2, ann3; 0 (tie): ann1"``: each label given, most chosen
    first, with the annotators who gave it (labels of one item, by annotator)."""
    groups: dict[str, list[str]] = {}
    for annotator, label in labels.items():
        groups.setdefault(text(label), []).append(text(annotator))
    ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return "; ".join(f"{category_label(label, names)}: {', '.join(who)}" for label, who in ordered)
