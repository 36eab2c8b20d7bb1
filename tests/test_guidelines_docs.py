"""The worked example of docs/guidelines.md runs as written (the first ``bash`` block)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app

DOC = Path(__file__).resolve().parents[1] / "docs" / "guidelines.md"
_BLOCK = re.compile(r"```bash\n(.*?)```", re.DOTALL)
_HEREDOC = re.compile(r"cat >> (\S+) <<'EOF'\n(.*?\n)EOF\n", re.DOTALL)


def _steps(block: str) -> list[tuple[str, object]]:
    """("append", (file, text)), ("cd", folder) and ("labelaudit", args) in order."""
    steps: list[tuple[str, object]] = []
    position = 0
    for match in _HEREDOC.finditer(block):
        steps += _lines(block[position : match.start()])
        steps.append(("append", (match.group(1), match.group(2))))
        position = match.end()
    return steps + _lines(block[position:])


def _lines(text: str) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if not words:
            continue
        assert words[0] in ("labelaudit", "cd"), f"the walkthrough runs only these: {line}"
        out.append(("cd", words[1]) if words[0] == "cd" else ("labelaudit", words[1:]))
    return out


def test_walkthrough_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    block = _BLOCK.search(DOC.read_text(encoding="utf-8"))
    assert block is not None
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    outputs = {}
    for kind, value in _steps(block.group(1)):
        if kind == "cd":
            monkeypatch.chdir(Path.cwd() / str(value))
        elif kind == "append":
            name, text = value  # type: ignore[misc]
            with (Path.cwd() / name).open("a", encoding="utf-8") as handle:
                handle.write(text)
        else:
            args = list(value)  # type: ignore[call-overload]
            result = runner.invoke(app, args)
            assert result.exit_code == 0, (args, result.output)
            outputs[" ".join(args[:2])] = result.stdout
    assert "The revision helped" in outputs["compare --before"]
    assert (Path.cwd() / "feedback" / "annotator3.html").is_file()
    assert (Path.cwd() / "judge.toml").is_file()
    compare = runner.invoke(app, ["compare", "--before", "v1", "--after", "v2", "--format", "json"])
    data = json.loads(compare.stdout)
    alpha = data["coefficients"][0]
    documented = " ".join(DOC.read_text(encoding="utf-8").split())
    assert f"{alpha['before']:.3f} under v1 to {alpha['after']:.3f} under v2" in documented
    assert " ".join(data["sentence"].split()) in documented  # the numbers the page shows
