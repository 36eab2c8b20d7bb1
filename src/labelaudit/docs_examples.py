"""Regenerate the example outputs in README.md and docs/*.md from the code (a dev tool).

A Markdown file marks an example with an HTML comment and a closing one::

    <!-- example: agreement labels.csv --categories pos,neutral,neg -->
    ```console
    $ labelaudit agreement labels.csv --categories pos,neutral,neg
    ...what the command prints...
    ```
    <!-- /example -->

``<!-- example lines=N: ... -->`` keeps the first N lines of the output (then ``...``).
:func:`regenerate` runs each marked command with the real CLI at 80 columns in a scratch
folder holding the files the page's shell blocks create (``cat > FILE <<'EOF'``) and links
to the repository's ``src`` and ``tests`` folders, and writes the output between the
markers. ``python -m labelaudit.docs_examples`` rewrites the files in place;
``tests/test_docs_examples.py`` fails when a page differs from what the code prints now.
"""

from __future__ import annotations

import os
import re
import shlex
import tempfile
from pathlib import Path

__all__ = ["DOCUMENTS", "regenerate", "run_example"]

#: The pages whose examples are generated, relative to the repository root.
DOCUMENTS = (
    "README.md",
    "docs/quality.md",
    "docs/structured.md",
    "docs/weak-supervision.md",
    "docs/models.md",
    "docs/plans.md",
)
_MARKER = re.compile(
    r"<!-- example(?: lines=(?P<lines>\d+))?: (?P<args>.+?) -->\n.*?<!-- /example -->",
    re.DOTALL,
)
_HEREDOC = re.compile(r"cat > (\S+) <<'EOF'\n(.*?\n)EOF\n", re.DOTALL)


def run_example(args: str, folder: Path) -> str:
    """What ``labelaudit ARGS`` prints on stdout at 80 columns, run in ``folder``."""
    from typer.testing import CliRunner

    from labelaudit.cli.app import app

    previous = Path.cwd()
    os.chdir(folder)
    try:
        result = CliRunner().invoke(app, shlex.split(args), env={"COLUMNS": "80"})
    finally:
        os.chdir(previous)
    if result.exit_code not in (0, 1):
        raise RuntimeError(f"labelaudit {args} exited {result.exit_code}: {result.output}")
    return result.stdout


def _block(args: str, output: str, lines: int | None) -> str:
    shown = [line.rstrip() for line in output.rstrip("\n").splitlines()]
    if lines is not None and len(shown) > lines:
        shown = [*shown[:lines], "..."]
    body = "\n".join([f"$ labelaudit {args}", *shown])
    limit = f" lines={lines}" if lines is not None else ""
    return f"<!-- example{limit}: {args} -->\n```console\n{body}\n```\n<!-- /example -->"


def regenerate(text: str, root: Path) -> str:
    """``text`` (a Markdown page) with every marked example's output printed anew.

    Parameters
    ----------
    text : str
        The page.
    root : Path
        The repository root (its ``src`` and ``tests`` folders are linked into the
        scratch folder the commands run in).
    """
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        for name in ("src", "tests"):
            (folder / name).symlink_to(root / name, target_is_directory=True)
        for name, content in _HEREDOC.findall(text):
            (folder / name).write_text(content, encoding="utf-8")

        def replace(match: re.Match[str]) -> str:
            lines = int(match["lines"]) if match["lines"] else None
            return _block(match["args"], run_example(match["args"], folder), lines)

        return _MARKER.sub(replace, text)


def main() -> None:
    """Rewrite the examples of every page in :data:`DOCUMENTS` (run from the repository)."""
    root = Path.cwd()
    for name in DOCUMENTS:
        path = root / name
        old = path.read_text(encoding="utf-8")
        new = regenerate(old, root)
        if new != old:
            path.write_text(new, encoding="utf-8")
            print(f"updated {name}")


if __name__ == "__main__":
    main()
