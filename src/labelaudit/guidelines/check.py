"""``guidelines check``: a guideline against the project, its gold, a Label Studio config and
its previous version.

Findings are results (the command exits 1 when there is one); a guideline label that the
project does not declare is bad input (:class:`~labelaudit.exceptions.InputError`, exit 2).
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelaudit.exceptions import InputError
from labelaudit.guidelines.model import Guideline, parse_guideline

__all__ = [
    "DIFF_KEYS",
    "GuidelineCheck",
    "GuidelineDiff",
    "check_guideline",
    "diff_guidelines",
    "previous_from_git",
]


#: The lists of a :class:`GuidelineDiff`, in the order they are shown.
DIFF_KEYS = (
    "labels_added",
    "labels_removed",
    "labels_renamed",
    "definitions_changed",
    "sections_added",
    "sections_removed",
    "sections_changed",
)


@dataclass(frozen=True)
class GuidelineDiff:
    """What changed from ``before`` to ``after``: labels and sections by id."""

    before: str
    after: str
    labels_added: tuple[str, ...] = ()
    labels_removed: tuple[str, ...] = ()
    labels_renamed: tuple[tuple[str, str], ...] = ()
    definitions_changed: tuple[str, ...] = ()
    sections_added: tuple[str, ...] = ()
    sections_removed: tuple[str, ...] = ()
    sections_changed: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether anything differs."""
        return any(getattr(self, name) for name in DIFF_KEYS)

    def summary(self) -> str:
        """One line: ``v1 -> v2: labels +1 -1, 1 renamed; sections +2, 1 changed``."""
        if not self.changed:
            return f"{self.before} -> {self.after}: no change in labels or sections"
        return (
            f"{self.before} -> {self.after}: labels +{len(self.labels_added)} "
            f"-{len(self.labels_removed)}, {len(self.labels_renamed)} renamed, "
            f"{len(self.definitions_changed)} definitions changed; sections "
            f"+{len(self.sections_added)} -{len(self.sections_removed)}, "
            f"{len(self.sections_changed)} changed"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form (lists of ids; renames as ``[old, new]``)."""
        out: dict[str, Any] = {"before": self.before, "after": self.after}
        for name in DIFF_KEYS:
            out[name] = [list(v) if isinstance(v, tuple) else v for v in getattr(self, name)]
        out["summary"] = self.summary()
        return out


@dataclass(frozen=True)
class GuidelineCheck:
    """Findings of :func:`check_guideline`: ``(kind, line, message)`` each, and the diff."""

    source: str
    version: str
    findings: tuple[tuple[str, int, str], ...] = ()
    diff: GuidelineDiff | None = None
    n_labels: int = 0
    n_sections: int = 0
    checked: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """No finding."""
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        """JSON form (stable keys)."""
        return {
            "source": self.source,
            "version": self.version,
            "ok": self.ok,
            "n_labels": self.n_labels,
            "n_sections": self.n_sections,
            "checked": list(self.checked),
            "findings": [{"kind": k, "line": n, "message": m} for k, n, m in self.findings],
            "diff": None if self.diff is None else self.diff.to_dict(),
        }


def check_guideline(
    guide: Guideline,
    *,
    categories: Sequence[str] | None = None,
    gold: Mapping[str, str] | None = None,
    config_labels: Sequence[str] | None = None,
    previous: Guideline | None = None,
) -> GuidelineCheck:
    """Check a guideline.

    Parameters
    ----------
    guide : Guideline
    categories : sequence of str, optional
        The project's declared categories: each needs a definition; a guideline label
        outside them raises :class:`InputError` (file:line).
    gold : mapping item -> label, optional
        Gold answers: an example on a gold item must expect the gold label.
    config_labels : sequence of str, optional
        Labels of an existing Label Studio config: missing on either side is a finding.
    previous : Guideline, optional
        The previous version, for the diff summary.
    """
    checked = ["examples", "references"]
    findings: list[tuple[str, int, str]] = []
    if categories is not None:
        checked.append("project")
        findings.extend(_project(guide, categories))
    findings.extend(_examples(guide, gold))
    if gold is not None:
        checked.append("gold")
    findings.extend(_references(guide))
    if config_labels is not None:
        checked.append("label_config")
        findings.extend(
            ("label_config", 1, f"label {code!r} missing in the config")
            for code in guide.label_ids
            if code not in config_labels
        )
        findings.extend(
            ("label_config", 1, f"config label {code!r} not in the guideline")
            for code in config_labels
            if code not in guide.label_ids
        )
    diff = diff_guidelines(previous, guide) if previous is not None else None
    return GuidelineCheck(
        guide.source,
        guide.version,
        tuple(findings),
        diff,
        len(guide.labels),
        len(guide.sections),
        tuple(checked),
    )


def _project(guide: Guideline, categories: Sequence[str]) -> list[tuple[str, int, str]]:
    """A guideline label outside the project is an error; a category without a definition
    is a finding."""
    for label in guide.labels:
        if label.id not in categories:
            raise InputError(
                "label not in the project",
                source=guide.source,
                line=label.line,
                field="id",
                expected="one of the project's categories " + ", ".join(categories),
                actual=label.id,
            )
    out = []
    for code in categories:
        found = guide.label(code)
        if found is None or not found.definition.strip():
            out.append(("definition", 1, f"category {code!r} has no definition"))
    return out


def _examples(guide: Guideline, gold: Mapping[str, str] | None) -> list[tuple[str, int, str]]:
    """Examples expect a label of the guideline, and agree with the gold on gold items."""
    out = []
    for example in (e for label in guide.labels for e in label.examples):
        if example.expected not in guide.label_ids:
            out.append(
                ("example", example.line, f"example expects unknown label {example.expected!r}")
            )
        truth = None if gold is None or example.item is None else gold.get(example.item)
        if truth is not None and truth != example.expected:
            out.append(
                (
                    "gold",
                    example.line,
                    f"example item {example.item!r} expects {example.expected!r} "
                    f"but its gold label is {truth!r}",
                )
            )
    return out


def _references(guide: Guideline) -> list[tuple[str, int, str]]:
    """Every cited section (``§id`` in text, examples, labels, confusions) must exist."""
    ids = {s.id for s in guide.sections}
    cited: list[tuple[str, int]] = list(guide.citations)
    for label in guide.labels:
        cited.extend((s, label.line) for s in label.sections)
        cited.extend((e.section, e.line) for e in label.examples if e.section)
    for confusion in guide.confusions:
        cited.extend((s, confusion.line) for s in confusion.sections)
    return [
        ("reference", line, f"section {section!r} is referenced but not defined")
        for section, line in cited
        if section not in ids
    ]


def diff_guidelines(before: Guideline, after: Guideline) -> GuidelineDiff:
    """Labels added/removed/renamed (``renamed_from``, or a removed and an added label with
    the same name), definitions changed, sections added/removed/changed (text differs)."""
    old = {label.id: label for label in before.labels}
    new = {label.id: label for label in after.labels}
    renamed = []
    for label in after.labels:
        if label.id in old:
            continue
        source = next((r for r in label.renamed_from if r in old and r not in new), None)
        if source is None:
            source = next(
                (c for c, o in old.items() if c not in new and o.name == label.name), None
            )
        if source is not None:
            renamed.append((source, label.id))
    moved_from = {a for a, _ in renamed}
    moved_to = {b for _, b in renamed}
    old_sections = {s.id: s for s in before.sections}
    new_sections = {s.id: s for s in after.sections}
    return GuidelineDiff(
        before=before.version,
        after=after.version,
        labels_added=tuple(c for c in new if c not in old and c not in moved_to),
        labels_removed=tuple(c for c in old if c not in new and c not in moved_from),
        labels_renamed=tuple(renamed),
        definitions_changed=tuple(
            c for c in new if c in old and new[c].definition.strip() != old[c].definition.strip()
        ),
        sections_added=tuple(s for s in new_sections if s not in old_sections),
        sections_removed=tuple(s for s in old_sections if s not in new_sections),
        sections_changed=tuple(
            s
            for s in new_sections
            if s in old_sections
            and (new_sections[s].text, new_sections[s].title)
            != (old_sections[s].text, old_sections[s].title)
        ),
    )


def previous_from_git(path: Path) -> Guideline | None:
    """The version of ``path`` committed at ``HEAD`` (``git show HEAD:./name``), or None
    when the file is not in a git repository or not committed."""
    path = Path(path).resolve()
    try:
        shown = subprocess.run(
            ["git", "-C", str(path.parent), "show", f"HEAD:./{path.name}"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if shown.returncode != 0:
        return None
    return parse_guideline(shown.stdout, source=f"git HEAD:{path.name}")
