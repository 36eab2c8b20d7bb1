"""End-to-end tests of ``labelaudit agreement`` and ``labelaudit demo`` on real data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.datasets import PANDALM_OPTIONS, dataset_path

runner = CliRunner()
METRIC_KEYS = {"value", "se", "ci95", "ci_method", "reason"}


def pandalm_args() -> list[str]:
    return [
        str(dataset_path("pandalm")),
        "--layout",
        "wide",
        "--item-col",
        "idx",
        "--annotator-cols",
        str(PANDALM_OPTIONS["annotator_cols"]),
        "--categories",
        "0,1,2",
    ]


def run_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["agreement", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def pandalm() -> dict[str, Any]:
    return run_json(*pandalm_args())


def test_json_contract(pandalm: dict[str, Any]) -> None:
    assert pandalm["n_items"] == 999 and pandalm["n_annotators"] == 3
    assert pandalm["n_ratings"] == 2997 and pandalm["level"] == "nominal"
    assert pandalm["weights"] == "identity" and pandalm["categories"] == ["0", "1", "2"]
    assert list(pandalm["metrics"]) == [
        "percent_agreement",
        "krippendorff_alpha",
        "fleiss_kappa",
        "gwet_ac",
        "conger_kappa",
        "brennan_prediger",
    ]
    for name, metric in pandalm["metrics"].items():
        assert set(metric) >= METRIC_KEYS, name
        # "analytic: SOURCE[; bounded ...]" (docs/agreement.md): the family, then the source
        assert metric["ci_method"].startswith("analytic: Gwet 2014 t(n-1)"), name
        assert metric["ci95"][0] < metric["value"] <= metric["ci95"][1]
    assert {"a", "b", "n_items", "percent_agreement", "cohen_kappa"} == set(pandalm["pairwise"][0])
    assert {"category", "n", "specific_agreement", "kappa_1vr", "alpha_1vr"} <= set(
        pandalm["per_category"][0]
    )
    confusion = pandalm["confusions"][0]
    assert {"label_a", "label_b", "count", "share", "example_items"} <= set(confusion)
    assert len(confusion["example_items"]) <= 5
    worst = pandalm["top_disagreements"][0]
    assert {"item", "n_ratings", "observed_agreement", "labels"} <= set(worst)
    assert pandalm["input"]["sha256"] and pandalm["tool"]["name"] == "labelaudit"


def test_pandalm_reproduces_published_pairwise_kappas(pandalm: dict[str, Any]) -> None:
    """PandaLM (Wang et al., ICLR 2024) reports pairwise kappas 0.85 / 0.88 / 0.86."""
    kappas = sorted(round(pair["cohen_kappa"], 2) for pair in pandalm["pairwise"])
    assert kappas == [0.85, 0.86, 0.88]
    counts = {row["category"]: row["n"] for row in pandalm["per_category"]}
    assert sum(counts.values()) == 2997


def test_bluebirds_shows_low_agreement() -> None:
    result = run_json(str(dataset_path("bluebirds")))
    assert result["n_annotators"] == 39 and result["n_items"] == 108
    assert 0.10 <= result["metrics"]["krippendorff_alpha"]["value"] <= 0.16


def test_two_annotators_add_cohen_and_scott(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    rows = (
        ["item,annotator,label"]
        + [f"{i},a,{i % 3}" for i in range(30)]
        + [f"{i},b,{(i * 7) % 3 if i % 4 else i % 3}" for i in range(30)]
    )
    path.write_text("\n".join(rows) + "\n")
    metrics = run_json(str(path))["metrics"]
    assert {"cohen_kappa", "scott_pi"} <= set(metrics)
    assert {"se_h0", "z", "p"} <= set(metrics["cohen_kappa"])


def test_interval_level_adds_icc_and_bootstrap_is_seeded(tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    rows = ["item,rater,score"] + [
        f"{i},r{g},{(i * 3 + g * (i % 2)) % 7 + 1}" for i in range(25) for g in range(3)
    ]
    path.write_text("\n".join(rows) + "\n")
    args = [
        str(path),
        "--label-col",
        "score",
        "--level",
        "interval",
        "--ci",
        "bootstrap",
        "--n-boot",
        "200",
        "--seed",
        "7",
    ]
    first, second = run_json(*args), run_json(*args)
    assert first["metrics"] == second["metrics"]
    assert set(first["metrics"]["icc"]["forms"]) == {
        "ICC(1,1)",
        "ICC(A,1)",
        "ICC(C,1)",
        "ICC(1,k)",
        "ICC(A,k)",
        "ICC(C,k)",
    }
    alpha = first["metrics"]["krippendorff_alpha"]
    assert alpha["ci_method"] == "bootstrap" and alpha["se"] > 0
    other_seed = run_json(*args[:-1], "8")
    assert other_seed["metrics"]["krippendorff_alpha"]["se"] != alpha["se"]


def test_markdown_table_and_report_files(tmp_path: Path) -> None:
    markdown = runner.invoke(app, ["agreement", *pandalm_args(), "--format", "markdown"])
    assert markdown.exit_code == 0 and "fleiss" in markdown.stdout.lower()
    table = runner.invoke(
        app, ["agreement", *pandalm_args(), "--report", str(tmp_path / "out" / "pilot")]
    )
    assert table.exit_code == 0, table.output
    assert "Krippendorff" in table.stdout or "krippendorff" in table.stdout
    for suffix in ("html", "md", "json"):
        assert (tmp_path / "out" / f"pilot.{suffix}").is_file()


def test_bad_input_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("item,annotator,label\n1,a,x\n1,a,y\n")
    command = [sys.executable, "-m", "labelaudit", "agreement", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "bad.csv:3: duplicate (item, annotator) pair" in result.stderr
    debug = subprocess.run([*command, "--debug"], capture_output=True, text=True, check=False)
    assert debug.returncode == 2 and "Traceback" in debug.stderr
    usage = runner.invoke(app, ["agreement", str(path), "--level", "nominl"])
    assert usage.exit_code == 2


def test_demo_writes_pilot_reports(tmp_path: Path) -> None:
    """The pipeline demo: 6 weekly PandaLM batches, the degraded last one fails its gates,
    the demo itself exits 0 and ends with the report's path; a second run replaces it."""
    for _ in range(2):
        result = runner.invoke(app, ["demo", "--out-dir", str(tmp_path)])
        assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == f"Report written to {(tmp_path / 'report.html').resolve()}"
    project = (tmp_path / "project").resolve()
    assert lines[-2] == f"Serve the dashboard: labelaudit serve --project {project}"
    assert "$ labelaudit check --batch 2024-w06    # exit 1" in lines
    assert "$ labelaudit check --batch 2024-w05    # exit 0" in lines
    status = runner.invoke(
        app, ["status", "--project", str(tmp_path / "project"), "--format", "json"]
    )
    batches = json.loads(status.stdout)["batches"]
    assert [b["n_items"] for b in batches] == [167, 167, 167, 166, 166, 166]
    html = (tmp_path / "report.html").read_text()
    assert html.count("<svg") == 3 and '<section class="headline fail" id="headline">' in html
    assert "Batch 2024-w06 fails 2 of 2 gates" in html
    pilot = json.loads((tmp_path / "pilot.json").read_text())
    assert pilot["n_items"] == 999 and (tmp_path / "pilot.html").is_file()
    assert (tmp_path / "pilot.md").is_file()


def test_help_lists_commands() -> None:
    env = dict(os.environ, COLUMNS="120")
    result = subprocess.run(
        [sys.executable, "-m", "labelaudit", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert "agreement" in result.stdout and "demo" in result.stdout
