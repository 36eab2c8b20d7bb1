"""Annotation guideline files: Markdown with a TOML front matter, read into a typed model.

The file (docs/guidelines.md) starts with a TOML front matter between two ``+++`` lines,
then Markdown. The front matter holds the version, the task type, every label with its
definition, hint and examples, and the optional ``[[confusions]]`` table; the Markdown holds
the numbered rules as headings with a stable id in Pandoc's attribute form::

    +++
    version = "v2"
    task = "categorical"
    [[labels]]
    id = "1"
    name = "response 1 better"
    definition = "Response 1 follows the instruction better."
    [[labels.examples]]
    item = "17"
    expected = "1"
    +++
    ## Ties {#pref.tie.1}
    Choose `0` (tie) only when ...

A section runs from its heading to the next heading of the same or a higher level. Text
(and a label's definition or hint) may cite a section as ``§pref.tie.1``. The JSON schema
of the front matter ships as ``labelaudit/guidelines/guideline.schema.json``. Every error is an
:class:`~labelaudit.exceptions.InputError` naming the file and line.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelaudit.exceptions import InputError
from labelaudit.table.schema import TASKS

__all__ = [
    "CONFUSION_KEYS",
    "EXAMPLE_KEYS",
    "LABEL_KEYS",
    "SCHEMA_PATH",
    "TASKS",
    "TOP_KEYS",
    "Confusion",
    "Example",
    "Guideline",
    "GuidelineLabel",
    "GuidelineSection",
    "parse_guideline",
    "read_guideline",
]

#: The JSON schema of the front matter (shipped with the package).
SCHEMA_PATH = Path(__file__).with_name("guideline.schema.json")
_FENCE = "+++"
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*\{#([A-Za-z0-9_][A-Za-z0-9_.\-]*)\}\s*$")
_ANY_HEADING = re.compile(r"^(#{1,6})\s")
_CITE = re.compile(r"§\s?([A-Za-z0-9_][A-Za-z0-9_.\-]*[A-Za-z0-9_])")
_TOML_LINE = re.compile(r"at line (\d+)")
#: Keys the front matter allows (the JSON schema lists the same).
TOP_KEYS = ("version", "task", "title", "labels", "confusions", "previous")
LABEL_KEYS = ("id", "name", "definition", "hint", "renamed_from", "examples", "sections")
EXAMPLE_KEYS = ("item", "text", "expected", "kind", "section", "note")
CONFUSION_KEYS = ("labels", "sections")


@dataclass(frozen=True)
class Example:
    """A positive or negative example: an item id or inline text, with its expected label."""

    expected: str
    item: str | None = None
    text: str | None = None
    kind: str = "positive"
    section: str | None = None
    note: str = ""
    line: int = 0


@dataclass(frozen=True)
class GuidelineLabel:
    """One label: its code (as in the data), display name, definition, hint and examples."""

    id: str
    name: str
    definition: str
    hint: str = ""
    renamed_from: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    examples: tuple[Example, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class GuidelineSection:
    """A numbered rule: a Markdown heading with a stable id and its text."""

    id: str
    title: str
    text: str
    line: int
    level: int


@dataclass(frozen=True)
class Confusion:
    """An explicit assignment of a label pair to the sections that decide it."""

    labels: tuple[str, str]
    sections: tuple[str, ...]
    line: int = 0


@dataclass(frozen=True)
class Guideline:
    """A parsed guideline file; ``source`` is its path, ``text`` its whole content."""

    source: str
    version: str
    task: str
    title: str
    labels: tuple[GuidelineLabel, ...]
    sections: tuple[GuidelineSection, ...]
    confusions: tuple[Confusion, ...] = ()
    citations: tuple[tuple[str, int], ...] = ()
    text: str = field(default="", repr=False)

    @property
    def label_ids(self) -> tuple[str, ...]:
        """Label codes in file order."""
        return tuple(label.id for label in self.labels)

    def label(self, code: str) -> GuidelineLabel | None:
        """The label with code ``code``, or None."""
        return next((label for label in self.labels if label.id == code), None)

    def section(self, section_id: str) -> GuidelineSection | None:
        """The section with id ``section_id``, or None."""
        return next((s for s in self.sections if s.id == section_id), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON form: version, task, labels (with examples) and sections (id, title, line)."""
        return {
            "source": self.source,
            "version": self.version,
            "task": self.task,
            "title": self.title,
            "labels": [
                {
                    "id": label.id,
                    "name": label.name,
                    "definition": label.definition,
                    "hint": label.hint,
                    "renamed_from": list(label.renamed_from),
                    "sections": list(label.sections),
                    "examples": [
                        {k: getattr(e, k) for k in ("item", "text", "expected", "kind", "section")}
                        for e in label.examples
                    ],
                }
                for label in self.labels
            ],
            "sections": [{"id": s.id, "title": s.title, "line": s.line} for s in self.sections],
            "confusions": [
                {"labels": list(c.labels), "sections": list(c.sections)} for c in self.confusions
            ],
        }


def read_guideline(path: str | Path) -> Guideline:
    """Read and validate a guideline file (see the module docstring for the format).

    Raises
    ------
    InputError
        Unreadable file, missing or malformed front matter, an unknown or mistyped key, a
        duplicate label or section id (each with the file and line).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("guideline file not found", source=str(path), expected="a file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError("not UTF-8 text", source=str(path), actual=str(error)) from None
    return parse_guideline(text, source=str(path))


def parse_guideline(text: str, *, source: str = "<guideline>") -> Guideline:
    """Parse guideline ``text`` (front matter + Markdown); ``source`` names it in errors."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != _FENCE:
        raise InputError(
            "missing front matter",
            source=source,
            line=1,
            expected=f"a first line '{_FENCE}' opening the TOML front matter",
            actual=lines[0] if lines else "",
        )
    close = next((i for i in range(1, len(lines)) if lines[i].strip() == _FENCE), None)
    if close is None:
        raise InputError(
            "front matter never closed", source=source, line=1, expected=f"a closing '{_FENCE}'"
        )
    front = "\n".join(lines[1:close])
    try:
        data = tomllib.loads(front)
    except tomllib.TOMLDecodeError as error:
        match = _TOML_LINE.search(str(error))
        line = int(match.group(1)) + 1 if match else close + 1
        raise InputError(
            "malformed TOML front matter", source=source, line=line, actual=str(error)
        ) from None
    reader = _Front(source, lines[1:close])
    labels = reader.labels(data)
    sections = _sections(lines, close + 1, source)
    citations = tuple(
        (match.group(1), number + 1)
        for number in range(close + 1, len(lines))
        for match in _CITE.finditer(lines[number])
    ) + tuple(
        (match.group(1), label.line)
        for label in labels
        for match in _CITE.finditer(f"{label.definition}\n{label.hint}")
    )
    return Guideline(
        source=source,
        version=reader.text(data, "version", None, 1),
        task=reader.choice(data, "task", "categorical", TASKS),
        title=reader.text(data, "title", "", 1) if "title" in data else "",
        labels=labels,
        sections=sections,
        confusions=reader.confusions(data, {label.id for label in labels}),
        citations=citations,
        text=text,
    )


def _sections(lines: list[str], start: int, source: str) -> tuple[GuidelineSection, ...]:
    """Headings with ``{#id}``; a section's text runs to the next heading of level <= its own."""
    heads: list[tuple[int, int, str, str]] = []  # (line index, level, id, title)
    levels: list[tuple[int, int]] = []  # every heading: (line index, level)
    fenced = False
    for index in range(start, len(lines)):
        line = lines[index]
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if fenced:
            continue
        match = _HEADING.match(line)
        if match:
            heads.append((index, len(match.group(1)), match.group(3), match.group(2)))
        if _ANY_HEADING.match(line):
            levels.append((index, len(line) - len(line.lstrip("#"))))
    seen: dict[str, int] = {}
    out = []
    for index, level, section_id, title in heads:
        if section_id in seen:
            raise InputError(
                f"duplicate section id {section_id!r} (first at line {seen[section_id]})",
                source=source,
                line=index + 1,
                expected="a section id used once",
                actual=section_id,
            )
        seen[section_id] = index + 1
        end = next((i for i, lv in levels if i > index and lv <= level), len(lines))
        body = "\n".join(lines[index + 1 : end]).strip()
        out.append(GuidelineSection(section_id, title, body, index + 1, level))
    return tuple(out)


class _Front:
    """Typed reads of the front matter with file:line errors (lines of its table headers)."""

    def __init__(self, source: str, lines: list[str]) -> None:
        self.source = source
        self.label_lines = self._header_lines(lines, "[[labels]]")
        self.example_lines = self._header_lines(lines, "[[labels.examples]]")
        self.confusion_lines = self._header_lines(lines, "[[confusions]]")
        self.key_lines: dict[str, int] = {}
        for number, line in enumerate(lines, start=2):
            key = line.split("=", 1)[0].strip()
            if "=" in line and key and key not in self.key_lines:
                self.key_lines[key] = number

    @staticmethod
    def _header_lines(lines: list[str], header: str) -> list[int]:
        return [n for n, line in enumerate(lines, start=2) if line.strip() == header]

    def error(self, problem: str, line: int, key: str, expected: str, actual: Any) -> InputError:
        return InputError(
            problem, source=self.source, line=line, field=key, expected=expected, actual=actual
        )

    def text(self, table: dict[str, Any], key: str, default: str | None, line: int) -> str:
        value = table.get(key, default)
        if value is None:
            raise self.error("missing key", line, key, "a string", None)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.error("wrong type", self.key_lines.get(key, line), key, "a string", value)
        return value

    def choice(
        self, table: dict[str, Any], key: str, default: str, allowed: tuple[str, ...]
    ) -> str:
        value = table.get(key, default)
        if value not in allowed:
            raise self.error(
                "unknown value", self.key_lines.get(key, 1), key, " | ".join(allowed), value
            )
        return str(value)

    def strings(self, table: dict[str, Any], key: str, line: int) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error("wrong type", line, key, "a list of strings", value)
        return tuple(value)

    def keys(self, table: dict[str, Any], allowed: tuple[str, ...], line: int, where: str) -> None:
        for key in table:
            if key not in allowed:
                raise self.error(f"unknown key in {where}", line, key, ", ".join(allowed), key)

    def labels(self, data: dict[str, Any]) -> tuple[GuidelineLabel, ...]:
        self.keys(data, TOP_KEYS, 1, "the front matter")
        raw = data.get("labels")
        if not isinstance(raw, list) or not raw:
            raise self.error("no labels", 1, "labels", "one [[labels]] table per label", raw)
        out: list[GuidelineLabel] = []
        seen: dict[str, int] = {}
        n_examples = 0
        for number, table in enumerate(raw):
            line = self.label_lines[number] if number < len(self.label_lines) else 1
            self.keys(table, LABEL_KEYS, line, "[[labels]]")
            code = table.get("id")
            if isinstance(code, int) and not isinstance(code, bool):
                code = str(code)
            code = self.text({"id": code}, "id", None, line)
            if code in seen:
                raise self.error(
                    f"duplicate label id (first at line {seen[code]})", line, "id", "unique", code
                )
            seen[code] = line
            examples = []
            for example in table.get("examples", []):
                e_line = (
                    self.example_lines[n_examples] if n_examples < len(self.example_lines) else line
                )
                n_examples += 1
                examples.append(self.example(example, e_line, code))
            out.append(
                GuidelineLabel(
                    id=code,
                    name=self.text(table, "name", code, line),
                    definition=self.text(table, "definition", "", line),
                    hint=self.text(table, "hint", "", line),
                    renamed_from=self.strings(table, "renamed_from", line),
                    sections=self.strings(table, "sections", line),
                    examples=tuple(examples),
                    line=line,
                )
            )
        return tuple(out)

    def example(self, table: dict[str, Any], line: int, code: str) -> Example:
        self.keys(table, EXAMPLE_KEYS, line, "[[labels.examples]]")
        if ("item" in table) == ("text" in table):
            raise self.error("an example needs item or text", line, "item", "exactly one", None)
        item = table.get("item")
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        expected = table.get("expected", code)
        if isinstance(expected, int) and not isinstance(expected, bool):
            expected = str(expected)
        kind = table.get("kind", "positive")
        if kind not in ("positive", "negative"):
            raise self.error("unknown value", line, "kind", "positive | negative", kind)
        return Example(
            expected=self.text({"expected": expected}, "expected", None, line),
            item=None if item is None else self.text({"item": item}, "item", None, line),
            text=None if "text" not in table else self.text(table, "text", None, line),
            kind=kind,
            section=None if "section" not in table else self.text(table, "section", None, line),
            note=self.text(table, "note", "", line),
            line=line,
        )

    def confusions(self, data: dict[str, Any], known: set[str]) -> tuple[Confusion, ...]:
        out = []
        for number, table in enumerate(data.get("confusions", [])):
            line = self.confusion_lines[number] if number < len(self.confusion_lines) else 1
            self.keys(table, CONFUSION_KEYS, line, "[[confusions]]")
            pair = tuple(str(v) for v in table.get("labels", []))
            if len(pair) != 2 or pair[0] == pair[1]:
                raise self.error("wrong labels", line, "labels", "two different labels", pair)
            for code in pair:
                if code not in known:
                    raise self.error("unknown label", line, "labels", "a label of the file", code)
            sections = self.strings(table, "sections", line)
            out.append(Confusion((pair[0], pair[1]), sections, line))
        return tuple(out)
