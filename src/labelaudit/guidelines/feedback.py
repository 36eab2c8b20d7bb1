"""Feedback sheets of a calibration round: one per annotator and a team sheet.

Each sheet is a :class:`~labelaudit.report.document.Document` written as HTML and Markdown,
plus a CSV (plain columns, formula-safe cells: :func:`labelaudit.csvio.write_csv`) for
Google Sheets or Airtable. An annotator's sheet lists every miss with the item text, their
answer, the expected answer and the guideline section that decides it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from labelaudit import __version__
from labelaudit.report.document import DocTable, Document, Figure, Headline, Provenance, Section

if TYPE_CHECKING:
    from labelaudit.guidelines.model import Guideline

__all__ = ["annotator_sheet", "team_sheet", "write_feedback"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _name(code: str, guide: Guideline | None) -> str:
    label = guide.label(code) if guide is not None else None
    return f"{code} ({label.name})" if label is not None and label.name != code else code


def _accuracy(row: Mapping[str, Any]) -> str:
    low, high = row["accuracy_ci95"]
    return f"{row['accuracy']:.2f} [{low:.2f}, {high:.2f}]"


def annotator_sheet(
    data: Mapping[str, Any], annotator: str, guide: Guideline | None = None
) -> Document:
    """One annotator's sheet from :meth:`CalibrationScore.to_dict`."""
    row = next(r for r in data["annotators"] if r["annotator"] == annotator)
    misses = [m for m in data["misses"] if m["annotator"] == annotator]
    kappa = "undefined" if row["kappa"] is None else f"{row['kappa']:.2f}"
    sentence = (
        f"{annotator}: {row['n_correct']} of {row['n_items']} right in calibration round "
        f"{data['round']} (accuracy {_accuracy(row)}, kappa {kappa} against the expert); "
        + (f"{len(misses)} to review below." if misses else "nothing to review.")
    )
    table = DocTable(
        "Your misses",
        ("item", "text", "your answer", "expected", "rule", "rule title"),
        tuple(
            (
                m["item"],
                m["text"] or "",
                _name(m["answer"], guide),
                _name(m["expected"], guide),
                f"§{m['section']}" if m["section"] else "",
                m["section_title"],
            )
            for m in misses
        ),
        ("text", "snippet", "text", "text", "text", "text"),
        key="misses",
    )
    labels = data["labels"]
    matrix = DocTable(
        "Confusion matrix (rows: expected, columns: your answer)",
        ("expected", *(_name(c, guide) for c in labels)),
        tuple(
            (_name(code, guide), *counts)
            for code, counts in zip(labels, row["confusion"], strict=True)
        ),
        ("text", *("number",) * len(labels)),
    )
    status = {"ok": "pass", "needs coaching": "fail"}.get(row["status"], "info")
    figures = (
        Figure("accuracy", row["accuracy"], tuple(row["accuracy_ci95"]), data["target"], "target"),
    )
    sections = [Section("Misses", tables=(table,), key="misses")] if misses else []
    sections.append(Section("Confusion matrix", tables=(matrix,)))
    sections.extend(_rules(misses, guide))
    title = f"Calibration feedback: {annotator} ({data['round']})"
    return Document(
        title, Headline(sentence, figures, status), tuple(sections), Provenance(__version__)
    )


def _rules(misses: list[Mapping[str, Any]], guide: Guideline | None) -> list[Section]:
    """The text of each rule cited by a miss, once."""
    if guide is None:
        return []
    cited = dict.fromkeys(m["section"] for m in misses if m["section"])
    found = [guide.section(s) for s in cited]
    return [
        Section(f"§{s.id} {s.title}", text=s.text, key=f"rule-{s.id}")
        for s in found
        if s is not None
    ]


def team_sheet(data: Mapping[str, Any]) -> Document:
    """The team sheet: annotators ranked, who needs coaching first."""
    rows = data["annotators"]
    coach = [r["annotator"] for r in rows if r["status"] == "needs coaching"]
    sentence = (
        f"Calibration round {data['round']}: {len(rows)} annotators on {data['n_items']} items; "
        + (
            f"needs coaching (accuracy interval below {data['target']:g}): {', '.join(coach)}."
            if coach
            else f"nobody's accuracy interval lies below {data['target']:g}."
        )
    )
    table = DocTable(
        "Annotators, who needs coaching first",
        (
            "rank",
            "annotator",
            "items",
            "right",
            "accuracy",
            "ci95 low",
            "ci95 high",
            "kappa",
            "status",
        ),
        tuple(
            (
                r["rank"],
                r["annotator"],
                r["n_items"],
                r["n_correct"],
                r["accuracy"],
                *r["accuracy_ci95"],
                r["kappa"],
                r["status"],
            )
            for r in rows
        ),
        ("number", "text", "number", "number", "number", "number", "number", "number", "text"),
        key="team",
    )
    return Document(
        f"Calibration round {data['round']}: team",
        Headline(sentence, status="fail" if coach else "pass"),
        (Section("Ranking", tables=(table,), key="team"),),
        Provenance(__version__),
    )


def _safe(name: str, taken: set[str]) -> str:
    base = _UNSAFE.sub("_", name).strip("._") or "annotator"
    stem, n = base, 2
    while stem in taken:
        stem, n = f"{base}-{n}", n + 1
    taken.add(stem)
    return stem


def write_feedback(
    data: Mapping[str, Any], folder: Path, guide: Guideline | None = None, *, xlsx: bool = False
) -> list[Path]:
    """Write ``team.{html,md,csv}`` and ``<annotator>.{html,md,csv}`` into ``folder``.

    With ``xlsx``, also ``feedback.xlsx``: the same flat tables as the CSVs, one sheet for
    the team and one per annotator, for Google Sheets / Airtable / Excel import (text
    cells stay text, nothing is a formula: :func:`labelaudit.sheets.write_xlsx`; needs
    the ``[xlsx]`` extra).

    Returns the paths written (team first). File names keep letters, digits, ``.``, ``_``
    and ``-`` of the annotator's name (others become ``_``; clashes get ``-2``...).
    """
    from labelaudit.csvio import write_csv
    from labelaudit.report.document import render_document
    from labelaudit.report.format import atomic_write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def write(path: Path, content: str) -> None:
        atomic_write_text(path, content)
        written.append(path)

    team = team_sheet(data)
    write(folder / "team.html", render_document(team, "html"))
    write(folder / "team.md", render_document(team, "markdown"))
    columns = ("rank", "annotator", "n_items", "n_correct", "accuracy", "kappa", "status")
    tables = {"team": pa.table({c: [r[c] for r in data["annotators"]] for c in columns})}
    written.append(write_csv(tables["team"], folder / "team.csv"))
    taken = {"team"}
    for row in data["annotators"]:
        name = row["annotator"]
        stem = _safe(name, taken)
        sheet = annotator_sheet(data, name, guide)
        write(folder / f"{stem}.html", render_document(sheet, "html"))
        write(folder / f"{stem}.md", render_document(sheet, "markdown"))
        misses = [m for m in data["misses"] if m["annotator"] == name]
        keys = ("item", "text", "answer", "expected", "section", "section_title")
        tables[stem] = pa.table({k: pa.array([m[k] for m in misses], pa.string()) for k in keys})
        written.append(write_csv(tables[stem], folder / f"{stem}.csv"))
    if xlsx:
        from labelaudit.sheets import write_xlsx

        written.append(write_xlsx(tables, folder / "feedback.xlsx"))
    return written
