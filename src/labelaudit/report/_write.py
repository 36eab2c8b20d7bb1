"""The one write path of rendered output: documents printed or written atomically."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labelaudit.report.document import Document

__all__ = ["atomic_write_text", "emit_document", "write_output_file", "write_reports"]


def atomic_write_text(path: Path, content: str) -> None:
    """Replace ``path`` with ``content`` (UTF-8) so readers see the old or the new file only.

    The text goes to a temporary file in the same folder, is flushed to disk, then moved
    over ``path`` with :func:`os.replace`. On any error the temporary file is removed and
    ``path`` is left as it was. Lone surrogates are written as ``\\udXXX`` escapes.

    Parameters
    ----------
    path : Path
        Destination file; its folder must exist.
    content : str
        Text to write.
    """
    data = content.encode("utf-8", errors="backslashreplace")
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise


def write_output_file(path: Path, content: str) -> Path:
    """The one write path of rendered output: atomic write, then ``wrote FILE`` on stderr."""
    import sys

    atomic_write_text(path, content)
    sys.stderr.write(f"wrote {path}\n")
    return path


def write_reports(
    report: Mapping[str, Any],
    out_dir: Path,
    stem: str = "pilot",
    *,
    details: Mapping[str, Any] | None = None,
    category_names: Mapping[str, str] | None = None,
    gate: float | None = None,
) -> dict[str, Path]:
    """Write ``{stem}.html``, ``{stem}.md`` and ``{stem}.json`` into ``out_dir``.

    All three are rendered before anything is written, so a report that cannot be rendered
    or serialised (e.g. a NaN, which JSON forbids) leaves ``out_dir`` untouched; each file is
    then replaced atomically. HTML and Markdown are the agreement document
    (:func:`labelaudit.report.builders.agreement_document`); the JSON is the report dict.

    Parameters
    ----------
    report : Mapping
        The agreement report dict (the stable JSON contract).
    out_dir : Path
        Output folder, created if missing.
    stem : str, default "pilot"
        File name without extension.
    details, category_names, gate
        Item text and labels per annotator, category meanings and the target of the
        headline coefficient (see :func:`~labelaudit.report.builders.agreement_document`).

    Returns
    -------
    dict of str to Path
        ``{"html": ..., "markdown": ..., "json": ...}``, the paths written.

    Raises
    ------
    ValueError
        If ``stem`` is empty or holds a path separator, or the report holds NaN or infinity.
    """
    from labelaudit.report.builders import agreement_document
    from labelaudit.report.document import render_document

    if not stem or Path(stem).name != stem or stem in {".", ".."}:
        msg = f"`stem` must be a plain file name without a folder, got {stem!r}"
        raise ValueError(msg)
    document = agreement_document(report, gate=gate, details=details, category_names=category_names)
    contents = {
        "html": (f"{stem}.html", render_document(document, "html")),
        "markdown": (f"{stem}.md", render_document(document, "markdown")),
        "json": (
            f"{stem}.json",
            json.dumps(dict(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n",
        ),
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for kind, (name, content) in contents.items():
        paths[kind] = out_dir / name
        atomic_write_text(paths[kind], content)
    return paths


#: Width of terminal text written to a file (``--format table --out FILE``).
FILE_WIDTH = 100


def emit_document(
    data: Mapping[str, Any],
    document: Document | Callable[[], Document],
    output: str,
    out: Path | None = None,
    *,
    err: bool = False,
) -> None:
    """Print a result or write it atomically to ``out``: ``json`` is ``data`` (the JSON
    contract), ``table``/``markdown``/``html`` are ``document`` through the shared renderers.

    ``document`` may be a function building it: it is called only for a format that shows
    it, so ``--format json`` never draws the charts or lays out the tables.
    ``table`` fits the terminal's width (80 columns when not a terminal; 100 in a file).
    Writing a file prints ``wrote FILE`` on stderr; ``err`` prints to stderr instead of
    stdout (when stdout carries data). Used by every analysis command.
    """
    import shutil
    import sys

    from labelaudit.exceptions import UsageError
    from labelaudit.report.document import render_document

    if out is not None and not out.parent.is_dir():
        raise UsageError(f"--out {out}: the folder {out.parent} does not exist")
    if output == "json":
        content = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    elif output in ("table", "markdown", "html"):
        width = FILE_WIDTH if out is not None else shutil.get_terminal_size((80, 24)).columns
        built = document() if callable(document) else document
        content = render_document(built, output, width=width)
    else:
        raise UsageError(f"unsupported output format {output!r}")
    if out is not None:
        write_output_file(out, content)
    else:
        (sys.stderr if err else sys.stdout).write(content)
