"""``labelaudit slices``: output formats, the gap gate and bad input (one error line, exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.fairness.synthetic import planted_ratings


def _file(tmp_path: Path) -> Path:
    data = planted_ratings(
        n_items=80, n_raters=20, per_item=5, group_shares=[0.5, 0.5], effects=[0, 1.0], seed=7
    )
    path = tmp_path / "ratings.csv"
    data.to_pandas().to_csv(path, index=False)
    return path


def test_formats_and_gate(tmp_path: Path) -> None:
    path = _file(tmp_path)
    runner = CliRunner()
    for output in ("table", "markdown"):
        result = runner.invoke(
            app, ["slices", str(path), "--by", "group", "--n-boot", "50", "--format", output]
        )
        assert result.exit_code == 0, result.output
        assert "offset" in result.output.lower()
    result = runner.invoke(
        app,
        [
            "slices",
            str(path),
            "--by",
            "group",
            "--n-boot",
            "50",
            "--format",
            "json",
            "--max-gap",
            "0.2",
        ],
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["max_group_gap"] > 0.2
    result = runner.invoke(
        app, ["slices", str(path), "--by", "group", "--n-boot", "50", "--max-gap", "5"]
    )
    assert result.exit_code == 0 and "PASS" in result.output


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text("item,annotator,label,vendor\ni1,a,1,x\ni2,a,2,y\ni2,b,3,x\n")
    runner = CliRunner()
    result = runner.invoke(app, ["slices", str(path), "--by", "vendor"])
    assert result.exit_code == 2
    assert "ratings.csv:3" in result.stderr and "field 'vendor'" in result.stderr
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["slices", str(_file(tmp_path)), "--by", "nope"])
    assert result.exit_code == 2 and "no such column" in result.stderr
    result = runner.invoke(
        app, ["slices", str(_file(tmp_path)), "--by", "group", "--reference", "group"]
    )
    assert result.exit_code == 2 and "BY=GROUP" in result.stderr
