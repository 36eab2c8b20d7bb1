"""``labelaudit lf apply`` / ``lf analyze`` and ``consensus --method label-model``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.table import read_annotations

runner = CliRunner()

LFS = """
from labelaudit.weak import labeling_function

LABELS = ["HAM", "SPAM"]


@labeling_function()
def check_out(x):
    return "SPAM" if "check out" in x.text else None


@labeling_function(vectorized=True)
def has_link(batch):
    return batch["text"].str.contains("http").map({True: "SPAM", False: None})


@labeling_function()
def short(x):
    return "HAM" if len(x.text.split()) < 3 else None


@labeling_function(name="song")
def song(x):
    return "HAM" if "song" in x.text else None
"""

COMMENTS = [
    ("c1", "check out http://spam.example now"),
    ("c2", "nice song"),
    ("c3", "check out my song http://x.example"),
    ("c4", "i like this song a lot"),
    ("c5", "great"),
    ("c6", "what a day it was"),
]
GOLD = {"c1": "SPAM", "c2": "HAM", "c3": "SPAM", "c4": "HAM", "c5": "HAM", "c6": "HAM"}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    lfs = tmp_path / "lfs.py"
    lfs.write_text(LFS)
    data = tmp_path / "comments.csv"
    data.write_text("id,text\n" + "".join(f'{i},"{t}"\n' for i, t in COMMENTS))
    gold = tmp_path / "gold.csv"
    gold.write_text("item,gold_label\n" + "".join(f"{i},{g}\n" for i, g in GOLD.items()))
    return {"lfs": lfs, "data": data, "gold": gold, "dir": tmp_path}


def test_apply_then_analyze(files: dict[str, Path]) -> None:
    votes = files["dir"] / "votes.csv"
    args = ["lf", "apply", str(files["lfs"]), str(files["data"]), "--id-col", "id"]
    result = runner.invoke(app, [*args, "--out", str(votes), "--format", "json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["n_records"] == 6 and summary["n_votes"] == 9
    assert [lf["n_votes"] for lf in summary["labeling_functions"]] == [2, 2, 2, 3]
    table = read_annotations(votes)
    assert set(table.to_pandas()["annotator_kind"]) == {"function"}

    report = files["dir"] / "lfs.html"
    result = runner.invoke(
        app,
        ["lf", "analyze", str(votes), "--gold", str(files["gold"]), "--n-records", "6",
         "--format", "html", "--out", str(report)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = report.read_text()
    assert "LF analysis" in page and "<svg" in page and "check_out" in page
    result = runner.invoke(
        app, ["lf", "analyze", str(votes), "--gold", str(files["gold"]), "--n-records", "6",
              "--format", "json"],
    )  # fmt: skip
    data = json.loads(result.stdout)
    by_name = {lf["lf"]: lf for lf in data["lfs"]}
    assert by_name["song"]["correct"] == 2 and by_name["song"]["incorrect"] == 1
    assert by_name["song"]["coverage"] == pytest.approx(0.5)
    assert data["label_coverage"] == pytest.approx(5 / 6)
    assert data["top_conflicts"][0]["item"] == "c3"


def test_label_model_consensus_on_votes(files: dict[str, Path]) -> None:
    votes = files["dir"] / "votes.csv"
    args = ["lf", "apply", str(files["lfs"]), str(files["data"]), "--id-col", "id"]
    assert runner.invoke(app, [*args, "--out", str(votes)]).exit_code == 0
    out = files["dir"] / "labels.csv"
    result = runner.invoke(
        app,
        ["consensus", str(votes), "--method", "label-model", "--class-balance", "0.4,0.6",
         "--out", str(out), "--soft", "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["method"] == "label-model" and summary["n_items"] == 5
    assert summary["parameters"]["class_balance"] == "0.4,0.6"
    assert "p_SPAM" in out.read_text().splitlines()[0]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("return 1 / 0", "'bad' raised ZeroDivisionError: division by zero"),
        ("return 'MAYBE'", "'bad' returned a label outside the declared set"),
    ],
)
def test_bad_lf_exits_2_with_one_line(files: dict[str, Path], body: str, message: str) -> None:
    files["lfs"].write_text(LFS + f"\n\n@labeling_function()\ndef bad(x):\n    {body}\n")
    out = files["dir"] / "votes.csv"
    result = runner.invoke(
        app, ["lf", "apply", str(files["lfs"]), str(files["data"]), "--out", str(out)]
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert "comments.csv record 1" in lines[0]
    result = runner.invoke(
        app,
        ["lf", "apply", str(files["lfs"]), str(files["data"]), "--out", str(out),
         "--on-error", "abstain", "--format", "json"],
    )  # fmt: skip
    if "raised" in message:
        assert result.exit_code == 0, result.output
        errors = {lf["lf"]: lf["errors"] for lf in json.loads(result.stdout)["labeling_functions"]}
        assert errors["bad"] == 6
    else:
        assert result.exit_code == 2


def test_fit_on_with_unknown_lf_is_a_usage_error(files: dict[str, Path]) -> None:
    votes = files["dir"] / "votes.csv"
    args = ["lf", "apply", str(files["lfs"]), str(files["data"]), "--id-col", "id"]
    assert runner.invoke(app, [*args, "--out", str(votes)]).exit_code == 0
    other = files["dir"] / "other.csv"
    other.write_text("item,annotator,label\nx,check_out,SPAM\nx,mystery,HAM\ny,song,HAM\n")
    result = runner.invoke(
        app, ["consensus", str(other), "--method", "label-model", "--fit-on", str(votes)]
    )
    assert result.exit_code == 2
    assert "'mystery' is not one of the labeling functions" in result.stderr
