"""The CLI's one error rule: bad input and failed writes are one ``error:`` line, exit 2.

Every command runs through :func:`labelaudit.cli.app.guarded`; these tests reach it with
real failures (a directory given as the output file, a missing output folder, a file where
a folder is needed) on each command that writes a file.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.cli.common import error_line
from labelaudit.datasets import dataset_path

runner = CliRunner()
BLUEBIRDS = str(dataset_path("bluebirds"))
LS_EXPORT = Path(__file__).parent / "data" / "formats" / "label_studio" / "ls_all_types.json"


def _commands(out: str) -> list[list[str]]:
    return [
        ["consensus", BLUEBIRDS, "--method", "majority", "--out", out],
        ["adjudicate", BLUEBIRDS, "--out", out],
        ["convert", str(LS_EXPORT), "--control", "sentiment", "--out", out],
    ]


@pytest.mark.parametrize("index", range(3))
def test_directory_as_output_is_one_error_line(tmp_path: Path, index: int) -> None:
    target = tmp_path / "taken.csv"
    target.mkdir()
    result = runner.invoke(app, _commands(str(target))[index])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "taken.csv" in lines[0] and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("index", range(3))
def test_missing_output_folder_is_one_error_line(tmp_path: Path, index: int) -> None:
    out = tmp_path / "file.txt"
    out.write_text("x")
    result = runner.invoke(app, _commands(str(out / "sub" / "q.csv"))[index])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr


def test_debug_prints_the_traceback_too(tmp_path: Path) -> None:
    target = tmp_path / "dir.csv"
    target.mkdir()
    result = runner.invoke(app, ["consensus", BLUEBIRDS, "--out", str(target), "--debug"])
    assert result.exit_code == 2
    assert "Traceback" in result.stderr and result.stderr.rstrip().splitlines()[-1].startswith(
        "error: "
    )


def test_error_line_of_os_errors() -> None:
    full = OSError(errno.ENOSPC, "No space left on device", "out/report.html")
    assert error_line(full) == "out/report.html: No space left on device"
    moved = OSError(errno.EXDEV, "Invalid cross-device link", "a.tmp", None, "b.csv")
    assert error_line(moved) == "a.tmp -> b.csv: Invalid cross-device link"
    assert error_line(OSError("plain")) == "plain"
