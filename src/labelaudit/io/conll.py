"""CoNLL-2003 files (one token a line, BIO or BIOES tags) as span annotations.

The CoNLL-2003 shared task format (Tjong Kim Sang & De Meulder 2003): one token per line,
whitespace-separated columns (``word POS chunk NER``: the token first, the tag last), a
blank line between sentences, ``-DOCSTART-`` lines between documents. Label Studio's
CONLL2003 export (``word -X- _ TAG``) is the same shape.

* **Items** are sentences, named by position: ``s3`` (third sentence), or ``doc2-s3``
  when the file has ``-DOCSTART-`` lines (third sentence of the second document). Files
  of several annotators are aligned by these names; the same sentence must have the same
  tokens in every file (else an error names both files' lines).
* **Text**: the tokens joined by one space; every span is (start of its first token,
  end of its last token) in characters over that text, end exclusive, and the tokens'
  own offsets are kept (the ``tokens`` column, for token-level agreement).
* **Annotators**: one per file (the file name without its extension; a directory reads
  every ``.conll`` file in it), or, with ``annotators`` (``--annotator-cols a,b,c``), the
  last ``len(annotators)`` columns of one file, one annotator each.
* **Tags**: ``O`` or ``PREFIX-TYPE``. A tag column that uses any ``E-``/``S-`` (or
  BILOU's ``L-``/``U-``) is read as BIOES, strictly: ``I-``/``E-`` must continue an open
  span of the same type, ``B-``/``S-``/``O`` must not interrupt one, and a sentence must
  not end inside one. Otherwise the column is BIO (IOB1 or IOB2) and read as conlleval
  and seqeval do by default: ``I-X`` after ``O`` or after another type starts a span.
  A malformed tag or a bad sequence is an :class:`InputError` naming file, line and
  annotator (exit 2 on the command line).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from labelaudit.exceptions import InputError, UsageError
from labelaudit.io._collect import Collector, Options
from labelaudit.io._payload import spans_value

__all__ = ["DOCSTART", "SUFFIXES", "looks_like_conll", "read", "tag_spans"]

DOCSTART = "-DOCSTART-"
#: File extensions read as CoNLL (a directory reads every file with one of them).
SUFFIXES = (".conll", ".conll03", ".iob", ".bio", ".bioes")
_TAG = re.compile(r"^(?:O|[BIESLU]-\S+)$")
_STRICT = frozenset("ESLU")


@dataclass
class _Sentence:
    """One sentence: its item name, tokens, their line numbers and the tag columns."""

    item: str
    tokens: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    tags: list[list[str]] = field(default_factory=list)


def looks_like_conll(path: Path, peek: int = 20) -> bool:
    """True when the first lines of a text file are CoNLL token lines (or ``-DOCSTART-``)."""
    try:
        with path.open(encoding="utf-8", errors="strict") as handle:
            seen = 0
            for raw in handle:
                parts = raw.split()
                if not parts:
                    continue
                if parts[0] == DOCSTART:
                    return True
                if len(parts) < 2 or not _TAG.match(parts[-1]) or raw.lstrip()[:1] in "{[":
                    return False
                seen += 1
                if seen >= peek:
                    break
            return seen > 0
    except (UnicodeDecodeError, OSError):
        return False


def _files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES))
        else:
            files.append(path)
    if not files:
        raise InputError(
            "no CoNLL files",
            source=str(paths[0]),
            expected=f"files ending in {', '.join(SUFFIXES)}",
            actual="none in the directory",
        )
    return files


def _sentences(path: Path, n_tags: int) -> list[_Sentence]:
    """Parse a file into sentences with ``n_tags`` tag columns (the last ones)."""
    sentences: list[_Sentence] = []
    doc, in_doc, has_docs = 0, 0, False
    current: _Sentence | None = None
    with path.open("rb") as handle:
        for number, data in enumerate(handle, start=1):
            raw = _decode(data, path, number)
            parts = raw.split()
            if not parts:
                current = None
                continue
            if parts[0] == DOCSTART:
                doc, in_doc, has_docs, current = doc + 1, 0, True, None
                continue
            if len(parts) < n_tags + 1:
                raise InputError(
                    "too few columns",
                    source=str(path),
                    line=number,
                    field="columns",
                    expected=f"a token and {n_tags} tag column(s)",
                    actual=f"{len(parts)} column(s): {raw.strip()[:60]!r}",
                )
            if current is None:
                in_doc += 1
                name = f"doc{doc}-s{in_doc}" if has_docs else f"s{in_doc}"
                current = _Sentence(name, tags=[[] for _ in range(n_tags)])
                sentences.append(current)
            current.tokens.append(parts[0])
            current.lines.append(number)
            for k, tag in enumerate(parts[len(parts) - n_tags :]):
                current.tags[k].append(tag)
    return sentences


def _decode(data: bytes, path: Path, line: int) -> str:
    try:
        return data.decode("utf-8-sig" if line == 1 else "utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            "not UTF-8 text",
            source=str(path),
            line=line,
            field="bytes",
            expected="UTF-8 text",
            actual=f"byte {data[error.start : error.start + 1]!r} at column {error.start + 1}",
        ) from None


def _bad(path: Path, line: int, who: str, problem: str, expected: str, actual: str) -> InputError:
    return InputError(
        problem,
        source=str(path),
        line=line,
        field=f"tag ({who})",
        expected=expected,
        actual=actual,
    )


def tag_spans(
    tags: Sequence[str], strict: bool, *, path: Path, lines: Sequence[int], who: str
) -> list[tuple[int, int, str]]:
    """Token spans ``(first, last + 1, type)`` of one sentence's tags (see the module doc).

    Raises
    ------
    InputError
        A malformed tag, or (``strict``, BIOES) a tag that breaks the sequence.
    """
    spans: list[tuple[int, int, str]] = []
    open_at, open_type = -1, ""
    for k, tag in enumerate(tags):
        if not _TAG.match(tag):
            raise _bad(path, lines[k], who, "malformed tag", "O or B-/I-/E-/S-TYPE", tag)
        prefix, kind = (tag, "") if tag == "O" else (tag[0], tag[2:])
        prefix = {"L": "E", "U": "S"}.get(prefix, prefix)
        inside = open_at >= 0
        continues = inside and kind == open_type and prefix in "IE"
        if strict and inside and not continues:
            raise _bad(
                path,
                lines[k],
                who,
                "bad tag sequence",
                f"I-{open_type} or E-{open_type} (a span of {open_type} is open)",
                tag,
            )
        if strict and not inside and prefix in "IE":
            raise _bad(path, lines[k], who, "bad tag sequence", f"B-{kind} or S-{kind} first", tag)
        if inside and not continues:
            spans.append((open_at, k, open_type))
            open_at = -1
        if prefix in "BS" or (prefix in "IE" and not continues):
            open_at, open_type = k, kind
        if open_at >= 0 and prefix in "ES":
            spans.append((open_at, k + 1, open_type))
            open_at = -1
    if open_at >= 0:
        if strict:
            raise _bad(
                path,
                lines[-1],
                who,
                "bad tag sequence",
                f"E-{open_type} to close the span before the sentence ends",
                tags[-1],
            )
        spans.append((open_at, len(tags), open_type))
    return spans


def _check_tokens(reference: dict[str, tuple[Path, _Sentence]], path: Path, s: _Sentence) -> None:
    first = reference.setdefault(s.item, (path, s))
    if first[1] is s or first[1].tokens == s.tokens:
        return
    other = first[1]
    k = next(
        (i for i, (a, b) in enumerate(zip(other.tokens, s.tokens, strict=False)) if a != b),
        min(len(other.tokens), len(s.tokens)),
    )
    line = s.lines[min(k, len(s.lines) - 1)]
    where = other.lines[min(k, len(other.lines) - 1)]
    raise InputError(
        f"sentence {s.item} differs from {first[0].name} line {where}",
        source=str(path),
        line=line,
        field="token",
        expected=other.tokens[k] if k < len(other.tokens) else "the end of the sentence",
        actual=s.tokens[k] if k < len(s.tokens) else "the end of the sentence",
        hint="files of several annotators are aligned by sentence position: they must "
        "hold the same sentences in the same order",
    )


def read(
    paths: list[Path],
    col: Collector,
    *,
    task_key: str | None,
    options: Options,
    annotators: Sequence[str] | None = None,
) -> None:
    """Read CoNLL files into the collector (see the module docstring)."""
    if task_key is not None:
        raise UsageError("--task-key does not apply to CoNLL files: sentences are items")
    names = list(annotators or [])
    files = _files(paths)
    if names and len(files) > 1:
        raise UsageError("--annotator-cols reads the tag columns of one CoNLL file; got several")
    reference: dict[str, tuple[Path, _Sentence]] = {}
    for path in files:
        who = names or [path.stem]
        sentences = _sentences(path, len(who))
        col.report.n_records += sum(len(s.tokens) for s in sentences)
        strict = [
            any(t[:1] in _STRICT and t[1:2] == "-" for s in sentences for t in s.tags[k])
            for k in range(len(who))
        ]
        for s in sentences:
            _check_tokens(reference, path, s)
            starts, ends, position = [], [], 0
            for token in s.tokens:
                starts.append(position)
                ends.append(position + len(token))
                position += len(token) + 1
            text = " ".join(s.tokens)
            tokens = [{"start": a, "end": b} for a, b in zip(starts, ends, strict=True)]
            for k, name in enumerate(who):
                found = tag_spans(s.tags[k], strict[k], path=path, lines=s.lines, who=name)
                ann = col.begin(s.lines[0], s.item, name, batch=path.name, text=text, tokens=tokens)
                value = spans_value((starts[a], ends[b - 1], kind) for a, b, kind in found)
                col.add(ann, "label", "spans", value)
