"""One document model for everything a person sees, and its four renderers.

A :class:`Document` is a title, a :class:`Headline` (the verdict sentence, the key figures
with their intervals against targets or gates, a status), :class:`Section` s of facts,
:class:`DocTable` s and charts, and :class:`Provenance`. Analyses *build* documents; this
module alone turns one into terminal text (Rich, fits the width without breaking a word or
dropping a column), Markdown, HTML (one base template, one table partial) or JSON.

One escaping function per format: :func:`terminal_text` (control characters, ESC and OSC
sequences stripped, Rich markup escaped), :func:`~labelaudit.report.format.escape_markdown`
(Markdown) and Jinja2 autoescaping (HTML). Tables longer than ``top_n`` rows show the top
rows and the count of the rest; the full data stays in the JSON outputs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from labelaudit.report._format import fmt_value, text

__all__ = [
    "DocTable",
    "Document",
    "Figure",
    "Headline",
    "Provenance",
    "Section",
    "category_label",
    "document_from_dict",
    "render_document",
    "render_page",
    "short_path",
    "snippet",
    "terminal_text",
]

#: Rows shown per table before "... and N more rows".
TOP_N = 50
#: Characters of a ``"snippet"`` cell shown in the terminal and in Markdown.
SNIPPET_CHARS = 60
_CONTROL = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b\[[0-?]*[ -/]*[@-~]|[\x00-\x1f\x7f-\x9f]"
)


@dataclass(frozen=True)
class Figure:
    """A key number with its 95% interval, compared with a target or gate when there is one."""

    name: str
    value: float | None
    ci95: tuple[float, float] | None = None
    target: float | None = None
    target_kind: str = "gate"

    @property
    def passed(self) -> bool | None:
        """``value >= target``; ``None`` without a value or a target."""
        if self.value is None or self.target is None:
            return None
        return self.value >= self.target

    def sentence(self) -> str:
        """``"alpha 0.50 [0.34, 0.66]: below the 0.667 gate"``."""
        out = f"{self.name} {fmt_value(self.value, 2)}"
        if self.ci95 is not None:
            out += f" [{fmt_value(self.ci95[0], 2)}, {fmt_value(self.ci95[1], 2)}]"
        if self.passed is not None:
            side = "meets" if self.passed else "below"
            out += f": {side} the {self.target:g} {self.target_kind}"
        return out


@dataclass(frozen=True)
class Headline:
    """The verdict first: one sentence, the figures behind it and a status."""

    sentence: str
    figures: tuple[Figure, ...] = ()
    status: str = "info"  # "pass", "fail" or "info"


@dataclass(frozen=True)
class DocTable:
    """A typed table: ``kinds`` per column are ``"text"``, ``"number"``, ``"link"`` (an anchor
    in the page), ``"href"`` (a ``(text, url)`` pair; renderers without links show the
    text) or ``"snippet"`` (long user text such as an item's text: terminal and Markdown
    show its first words, HTML the snippet with the full text on hover and in an expansion).

    ``key`` (optional) gives the HTML table the id ``{key}-table``. ``details`` names columns
    that HTML shows in a per-row expansion (``<details>``) instead of their own column, so
    a wide table never grows wider than the page; Markdown and JSON show them as ordinary
    columns, and terminal text too unless the table is then too wide for the screen (they
    are left out with a note rather than breaking words).
    """

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    kinds: tuple[str, ...] = ()
    note: str = ""
    top_n: int = TOP_N
    key: str = ""
    details: tuple[str, ...] = ()

    @property
    def main_columns(self) -> tuple[int, ...]:
        """Indices of the columns shown as columns in HTML (all but ``details``)."""
        return tuple(i for i, c in enumerate(self.columns) if c not in self.details)

    @property
    def detail_columns(self) -> tuple[int, ...]:
        """Indices of the columns HTML folds into each row's expansion."""
        return tuple(i for i, c in enumerate(self.columns) if c in self.details)

    @property
    def shown(self) -> tuple[tuple[Any, ...], ...]:
        """The first ``top_n`` rows."""
        return self.rows[: self.top_n]

    @property
    def n_more(self) -> int:
        """Rows not shown (they are in the JSON output)."""
        return max(0, len(self.rows) - self.top_n)

    def kind(self, index: int) -> str:
        """The kind of column ``index`` (``"text"`` when not given)."""
        return self.kinds[index] if index < len(self.kinds) else "text"

    def cell(self, row: Sequence[Any], index: int) -> str:
        """Cell text: numbers formatted, user content as plain (unescaped) text."""
        value = row[index]
        if self.kind(index) == "href" and isinstance(value, tuple):
            value = value[0]
        if self.kind(index) == "number" and isinstance(value, (int, float)):
            return (
                f"{value:,}"
                if isinstance(value, int) and not isinstance(value, bool)
                else (fmt_value(value))
            )
        return text(value)

    def short(self, row: Sequence[Any], index: int) -> str:
        """Cell text, a ``"snippet"`` cell cut to its first words (:func:`snippet`)."""
        full = self.cell(row, index)
        return snippet(full) if self.kind(index) == "snippet" else full


def snippet(value: str, limit: int = SNIPPET_CHARS) -> str:
    """The first words of ``value`` within ``limit`` characters, ``…`` marking a cut; never
    breaks a word (a first word longer than ``limit`` is cut at ``limit``)."""
    flat = " ".join(value.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit + 1].rsplit(" ", 1)[0] if " " in flat[: limit + 1] else flat[:limit]
    return cut.rstrip(" ,.;:") + "…"


@dataclass(frozen=True)
class Section:
    """A titled group of facts (label, value), tables, SVG charts and explanatory text
    (paragraphs separated by a blank line).

    ``key`` (optional) is the HTML id of the section; a chart with a ``key`` gets the id
    ``chart-{key}``.
    """

    title: str
    facts: tuple[tuple[str, Any], ...] = ()
    tables: tuple[DocTable, ...] = ()
    charts: tuple[Any, ...] = ()  # labelaudit.report.charts.Chart
    text: str = ""
    key: str = ""


@dataclass(frozen=True)
class Provenance:
    """Where the numbers came from: tool version, input files and hash, configuration."""

    tool_version: str = ""
    files: tuple[str, ...] = ()
    input_sha256: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Document:
    """Everything a page, a terminal screen or a notebook cell shows about one result."""

    title: str
    headline: Headline
    sections: tuple[Section, ...] = ()
    provenance: Provenance = field(default_factory=Provenance)

    def to_dict(self) -> dict[str, Any]:
        """The document as JSON-ready data (charts by title only)."""
        out = asdict(self)
        for section, data in zip(self.sections, out["sections"], strict=True):
            data["charts"] = [getattr(chart, "title", "") for chart in section.charts]
        return out


def short_path(path: str | Path, *, full: bool = False, base: Path | None = None) -> str:
    """A file name relative to ``base`` (default: the working directory) unless ``full``.

    Reports show relative names by default (``--provenance full`` gives absolute paths),
    so a page never leaks the folder layout of the machine that made it.
    """
    resolved = Path(path).resolve()
    if full:
        return str(resolved)
    root = (base or Path.cwd()).resolve()
    try:
        return str(resolved.relative_to(root))
    except ValueError:
        return resolved.name


def category_label(code: Any, meanings: Mapping[str, str] | None) -> str:
    """A category code with its meaning from the config: ``"0 (tie)"``; the code alone when
    it has none (``[categories]`` in ``labelaudit.toml``)."""
    shown = text(code)
    meaning = (meanings or {}).get(shown)
    return f"{shown} ({meaning})" if meaning else shown


def terminal_text(value: Any) -> str:
    """User content for a terminal: ESC/OSC/CSI sequences and control characters removed,
    Rich markup escaped (the one terminal escaping function)."""
    from rich.markup import escape

    return escape(_CONTROL.sub("", value if isinstance(value, str) else text(value)))


# ------------------------------------------------------------------------- builders
def document_from_dict(title: str, data: Mapping[str, Any], sentence: str = "") -> Document:
    """A generic document of a result's ``to_dict()``: scalars as facts, lists of records as
    tables, nested mappings as sections. Used for notebook display of every result."""
    facts = tuple((k, v) for k, v in data.items() if _scalar(v))
    sections = [Section("Summary", facts=facts)] if facts else []
    for key, value in data.items():
        if isinstance(value, list) and value and all(isinstance(r, Mapping) for r in value):
            sections.append(
                Section(key.replace("_", " ").capitalize(), tables=(_records(key, value),))
            )
        elif isinstance(value, Mapping) and value:
            inner = tuple((k, v) for k, v in value.items() if _scalar(v))
            if inner:
                sections.append(Section(key.replace("_", " ").capitalize(), facts=inner))
    return Document(title, Headline(sentence or title), tuple(sections))


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _records(title: str, rows: Sequence[Mapping[str, Any]]) -> DocTable:
    columns = tuple(dict.fromkeys(k for row in rows for k in row if _scalar(row[k])))
    kinds = tuple(
        "number"
        if all(isinstance(r.get(c), (int, float)) or r.get(c) is None for r in rows)
        else "text"
        for c in columns
    )
    body = tuple(tuple(row.get(c) for c in columns) for row in rows)
    return DocTable(title.replace("_", " ").capitalize(), columns, body, kinds)


# ------------------------------------------------------------------------ renderers
def render_document(document: Document, output: str, *, width: int = 80) -> str:
    """``document`` as ``"table"`` (terminal text), ``"markdown"``, ``"html"`` or ``"json"``."""
    from labelaudit.report._document_render import render_html, render_markdown, render_terminal

    if output == "json":
        return json.dumps(document.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
    if output == "markdown":
        return render_markdown(document)
    if output == "html":
        return render_html(document)
    return render_terminal(document, width=width)


def render_page(document: Document, environment: Any, template: str, **context: Any) -> str:
    """``document`` as HTML through ``template``, a template of ``environment`` that extends
    the base ``document.html.j2`` (its blocks ``csp``, ``style``, ``head``, ``nav``,
    ``extra`` and ``scripts``), with ``context`` for those blocks (e.g. the pages of
    ``labelaudit serve``). ``environment`` must autoescape and load this package's templates.
    """
    from labelaudit.report._document_render import render_html

    return render_html(document, environment=environment, template=template, **context)
