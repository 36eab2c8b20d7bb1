"""Write the HTML, Markdown and JSON reports atomically."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from labelaudit.report._html import render_html
from labelaudit.report._markdown import render_markdown

__all__ = ["atomic_write_text", "emit_rendered", "write_output_file", "write_reports"]


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


def write_reports(report: Mapping[str, Any], out_dir: Path, stem: str = "pilot") -> dict[str, Path]:
    """Write ``{stem}.html``, ``{stem}.md`` and ``{stem}.json`` into ``out_dir``.

    All three are rendered before anything is written, so a report that cannot be rendered
    or serialised (e.g. a NaN, which JSON forbids) leaves ``out_dir`` untouched; each file is
    then replaced atomically.

    Parameters
    ----------
    report : Mapping
        The agreement report dict (the stable JSON contract).
    out_dir : Path
        Output folder, created if missing.
    stem : str, default "pilot"
        File name without extension.

    Returns
    -------
    dict of str to Path
        ``{"html": ..., "markdown": ..., "json": ...}``, the paths written.

    Raises
    ------
    ValueError
        If ``stem`` is empty or holds a path separator, or the report holds NaN or infinity.
    """
    if not stem or Path(stem).name != stem or stem in {".", ".."}:
        msg = f"`stem` must be a plain file name without a folder, got {stem!r}"
        raise ValueError(msg)
    contents = {
        "html": (f"{stem}.html", render_html(report)),
        "markdown": (f"{stem}.md", render_markdown(report)),
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


def emit_rendered(
    report: Mapping[str, Any],
    output: str,
    out: Path | None,
    *,
    terminal: Callable[[Mapping[str, Any], Any], None],
    html: Callable[[Mapping[str, Any]], str],
    markdown: Callable[[Mapping[str, Any]], str] | None = None,
) -> None:
    """Print ``report`` or write it atomically to ``out`` as table, json, markdown or html.

    ``terminal(report, console)`` draws the Rich tables (to the screen, or recorded as
    120-column text for ``out``); ``html`` and ``markdown`` return the page. Used by every
    command whose result has its own renderers (preference and judge audits).
    """
    import sys

    from labelaudit.exceptions import UsageError

    if out is not None and not out.parent.is_dir():
        raise UsageError(f"--out {out}: the folder {out.parent} does not exist")
    if output == "table":
        from rich.console import Console

        if out is None:
            terminal(report, Console())
            return
        with open(os.devnull, "w") as sink:
            console = Console(record=True, width=120, file=sink)
            terminal(report, console)
        content = console.export_text()
    elif output == "json":
        content = json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    elif output == "markdown" and markdown is not None:
        content = markdown(report)
    elif output == "html":
        content = html(report)
    else:
        raise UsageError(f"unsupported output format {output!r}")
    if out is None:
        sys.stdout.write(content)
    else:
        write_output_file(out, content)
