"""Disagreements linked to rules: which guideline sections decide a confused label pair."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from labelaudit.guidelines.model import Guideline, GuidelineSection

if TYPE_CHECKING:
    from labelaudit.project import Project

__all__ = ["mentioned_labels", "project_rules", "rules_for_confusions", "sections_for_pair"]


def mentioned_labels(guide: Guideline, section: GuidelineSection) -> set[str]:
    """Codes of the labels a section mentions: the label's name as a phrase (case-insensitive,
    whole words) or its code in backticks (`` `1` ``), in the section's title or text."""
    body = f"{section.title}\n{section.text}"
    out = set()
    for label in guide.labels:
        code = re.escape(label.id)
        name = re.escape(label.name)
        if re.search(rf"`{code}`", body) or re.search(rf"(?<!\w){name}(?!\w)", body, re.I):
            out.add(label.id)
    return out


def sections_for_pair(guide: Guideline, a: str, b: str) -> tuple[str, ...]:
    """Section ids deciding between labels ``a`` and ``b``: an explicit ``[[confusions]]``
    entry for the pair when there is one, else every section mentioning both labels."""
    pair = {a, b}
    explicit = [s for c in guide.confusions if set(c.labels) == pair for s in c.sections]
    if explicit:
        return tuple(dict.fromkeys(explicit))
    return tuple(s.id for s in guide.sections if pair <= mentioned_labels(guide, s))


def rules_for_confusions(
    guide: Guideline, confusions: Sequence[Mapping[str, Any]], *, examples: int = 3
) -> list[dict[str, Any]]:
    """Rules most often disagreed on: confusion counts summed per deciding section.

    Parameters
    ----------
    guide : Guideline
    confusions : sequence of mappings
        Rows of :func:`labelaudit.agreement.diagnostics.confusions` (``label_a``,
        ``label_b``, ``count`` and ``example_items`` (item ids) or ``examples`` (dicts
        with ``item`` and optionally ``batch`` and ``text``: the weekly report's pairs).
    examples : int
        Example items kept per section.

    Returns
    -------
    list of dict
        ``section``, ``title``, ``count`` (disagreeing pairs of annotations),
        ``pairs`` (the label pairs, ``"a/b"``) and ``examples`` (``{"item", ...}``), most disagreed
        first; pairs no section decides are returned under ``section`` None.
    """
    by_section: dict[str | None, dict[str, Any]] = {}
    for row in confusions:
        a, b = str(row["label_a"]), str(row["label_b"])
        ids: Sequence[str | None] = sections_for_pair(guide, a, b) or (None,)
        for section_id in ids:
            entry = by_section.setdefault(section_id, {"count": 0, "pairs": [], "examples": []})
            entry["count"] += int(row.get("count", 0))
            entry["pairs"].append(f"{a}/{b}")
            found = row.get("examples") or row.get("example_items") or []
            for example in found:
                shown = dict(example) if isinstance(example, Mapping) else {"item": str(example)}
                known = [e["item"] for e in entry["examples"]]
                if shown["item"] not in known and len(entry["examples"]) < examples:
                    entry["examples"].append(shown)
    out = []
    for section_id, entry in by_section.items():
        section = guide.section(section_id) if section_id else None
        out.append(
            {
                "section": section_id,
                "title": section.title if section else "no section decides this pair",
                "count": entry["count"],
                "pairs": list(dict.fromkeys(entry["pairs"])),
                "examples": entry["examples"],
            }
        )
    out.sort(key=lambda r: (-r["count"], r["section"] is None, r["section"] or ""))
    return out


def project_rules(
    project: Project, confusions: Mapping[str, Any], *, examples: int = 3
) -> dict[str, Any] | None:
    """The weekly report's "rules most often disagreed on": the confused pairs of the
    report (``{"pairs": [...]}``) mapped to the sections of the project's ``[guidelines]``
    file; None when the project names no guideline file.

    Returns
    -------
    dict or None
        ``{"version", "source", "rules"}`` (rules as :func:`rules_for_confusions`).
    """
    from labelaudit.guidelines.project import project_guideline

    guide = project_guideline(project)
    if guide is None:
        return None
    rules = rules_for_confusions(guide, confusions.get("pairs", []), examples=examples)
    return {"version": guide.version, "source": project.config.guidelines.file, "rules": rules}
