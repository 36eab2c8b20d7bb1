"""``check --format junit|github|gx``: JUnit XML, a GitHub job summary and a Great
Expectations validation result, read back with real parsers (xml.etree, junitparser)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from integration_helpers import build_project
from labelaudit.cli.app import app
from labelaudit.project import Project
from labelaudit.project.check import check_project
from labelaudit.project.gate_formats import check_github, check_gx, check_junit

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Any]:
    return build_project(tmp_path_factory.mktemp("ci"))


def _cases(root: ET.Element) -> dict[str, ET.Element]:
    suites = root.findall("testsuite")
    assert len(suites) == 1
    return {case.attrib["name"]: case for case in suites[0].findall("testcase")}


def test_junit_one_testcase_per_gate_failure_per_failed_gate(demo: tuple[Project, Any]) -> None:
    project, data = demo
    result = check_project(project)  # the degraded batch
    report = result.to_dict()
    root = ET.fromstring(check_junit(report))
    cases = _cases(root)
    assert list(cases) == [g["name"] for g in report["gates"]]
    failed = {g["name"] for g in report["gates"] if g["verdict"] == "fail"}
    assert failed == {"agreement", "in-control"}
    for name, case in cases.items():
        failures = case.findall("failure")
        assert len(failures) == (name in failed)
    (failure,) = cases["agreement"].findall("failure")
    gate = next(g for g in report["gates"] if g["name"] == "agreement")
    assert failure.attrib["type"] == "gate-failed"
    assert failure.attrib["message"].startswith(f"krippendorff_alpha = {gate['value']:.6g}")
    assert failure.text == gate["reason"]
    skipped = cases['fairness <gap> & "quotes"'].findall("skipped")  # escaped, read back
    assert len(skipped) == 1 and "allow_undefined" in skipped[0].attrib["message"]
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.attrib["tests"], suite.attrib["failures"], suite.attrib["skipped"]) == (
        "3",
        "2",
        "1",
    )
    good = ET.fromstring(check_junit(check_project(project, batch=data.batches[1][0]).to_dict()))
    assert not any(c.findall("failure") for c in _cases(good).values())


def test_junit_read_by_junitparser(demo: tuple[Project, Any], tmp_path: Path) -> None:
    junitparser = pytest.importorskip("junitparser")
    project, _ = demo
    path = tmp_path / "gates.xml"
    path.write_text(check_junit(check_project(project).to_dict()), encoding="utf-8")
    xml = junitparser.JUnitXml.fromfile(str(path))
    (suite,) = list(xml)
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (3, 2, 0, 1)
    outcome = {case.name: [type(r).__name__ for r in case.result] for case in suite}
    assert outcome["agreement"] == ["Failure"] and outcome["in-control"] == ["Failure"]
    assert outcome['fairness <gap> & "quotes"'] == ["Skipped"]


def test_junit_control_characters_stay_well_formed() -> None:
    report = {
        "passed": False,
        "batch": "w\x01<1>",
        "notes": ["note \x0b"],
        "gates": [
            {
                "name": "g\x00]]>",
                "metric": "m",
                "op": ">=",
                "threshold": 1.0,
                "value": 0.5,
                "verdict": "fail",
                "reason": "not 0.5 >= 1 \x1f",
            }
        ],
    }
    root = ET.fromstring(check_junit(report))
    (case,) = _cases(root).values()
    assert case.attrib["name"] == "g\ufffd]]>"


def test_gx_shape_and_statistics(demo: tuple[Project, Any]) -> None:
    project, _ = demo
    report = check_project(project).to_dict()
    gx = check_gx(report)
    assert gx["success"] is False and gx["suite_name"] == "labelaudit.gates"
    stats = gx["statistics"]
    assert stats == {
        "evaluated_expectations": 3,
        "successful_expectations": 1,
        "unsuccessful_expectations": 2,
        "success_percent": pytest.approx(100 / 3),
    }
    by_gate = {r["meta"]["gate"]: r for r in gx["results"]}
    alpha = by_gate["agreement"]
    config = alpha["expectation_config"]
    assert config["type"] == config["expectation_type"] == "expect_labelaudit_metric_to_be_between"
    assert config["kwargs"]["min_value"] == 0.667 and config["kwargs"]["max_value"] is None
    assert config["kwargs"]["strict_min"] is False and config["kwargs"]["metric"] == (
        "krippendorff_alpha"
    )
    gate = next(g for g in report["gates"] if g["name"] == "agreement")
    assert alpha["result"]["observed_value"] == gate["value"] and alpha["success"] is False
    control = by_gate["in-control"]["expectation_config"]
    assert control["type"] == "expect_labelaudit_metric_to_equal"
    assert control["kwargs"]["value"] == 0.0
    json.dumps(gx, allow_nan=False)  # strict JSON


def test_gx_empty_suite_has_no_percent() -> None:
    gx = check_gx({"passed": True, "batch": "b", "gates": [], "notes": []})
    assert gx["statistics"]["success_percent"] is None and gx["success"] is True


def test_github_summary(demo: tuple[Project, Any]) -> None:
    project, _ = demo
    text = check_github(check_project(project).to_dict())
    assert text.startswith("### :x: labelaudit check: batch 2024-w04 failed\n")
    assert "| agreement | krippendorff\\_alpha |" in text
    assert "fairness &lt;gap&gt;" in text and "fails 2 of 3 gates" in text


def test_cli_formats_exit_codes_and_out(demo: tuple[Project, Any], tmp_path: Path) -> None:
    project, data = demo
    root = ["--project", str(project.root)]
    junit = runner.invoke(app, ["check", *root, "--format", "junit"])
    assert junit.exit_code == 1
    assert ET.fromstring(junit.stdout).tag == "testsuites"
    out = tmp_path / "gates.xml"
    written = runner.invoke(app, ["check", *root, "--format", "junit", "--out", str(out)])
    assert written.exit_code == 1 and ET.parse(out).getroot().tag == "testsuites"
    good = runner.invoke(app, ["check", *root, "--batch", data.batches[1][0], "--format", "gx"])
    assert good.exit_code == 0 and json.loads(good.stdout)["success"] is True
    summary = runner.invoke(app, ["check", *root, "--format", "github"])
    assert summary.exit_code == 1 and summary.stdout.startswith("### :x: labelaudit check")
    missing = runner.invoke(
        app, ["check", *root, "--format", "junit", "--out", str(tmp_path / "no" / "x.xml")]
    )
    assert missing.exit_code == 2 and "does not exist" in missing.output


# ----------------------------------------------------------------- CI examples, run for real
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_github_workflow_steps_run(tmp_path: Path) -> None:
    """The example workflow's shell steps, run with bash in a checkout-like folder: the
    job fails on the degraded batch (exit 1) after writing the JUnit file and summary."""
    import os
    import shutil
    import subprocess
    import sys

    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load((EXAMPLES / "github-actions" / "labelaudit-check.yml").read_text())
    steps = workflow["jobs"]["gates"]["steps"]
    runs = [s for s in steps if "run" in s and "pip install" not in s["run"]]
    assert [s["name"].split()[0] for s in runs] == ["Ingest", "Gate", "Fail"]
    project, data = build_project(tmp_path / "work")
    repo = tmp_path / "repo"
    shutil.copytree(project.root, repo)
    for store in repo.glob("*.duckdb*"):
        store.unlink()  # a fresh checkout: the store is rebuilt from the batch files
    shutil.copytree(data.batches[0][1].parent, repo / "batches")
    (repo / "batches" / "gold.csv").unlink()
    summary = tmp_path / "summary.md"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        **{k: str(v) for k, v in workflow["env"].items()},
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    codes = [
        subprocess.run(["bash", "-e", "-c", s["run"]], cwd=repo, env=env, check=False).returncode
        for s in runs
    ]
    assert codes == [0, 0, 1]
    root = ET.parse(repo / "labelaudit-gates.xml").getroot()
    assert any(case.findall("failure") for case in _cases(root).values())
    assert summary.read_text().startswith("### :x: labelaudit check: batch 2024-w04 failed")


def test_pre_commit_hook_files_agree() -> None:
    yaml = pytest.importorskip("yaml")
    (published,) = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / ".pre-commit-hooks.yaml").read_text()
    )
    (local,) = yaml.safe_load((EXAMPLES / "pre-commit-hooks.yaml").read_text())["repos"][0]["hooks"]
    assert published["id"] == local["id"] and published["entry"] == local["entry"]
    assert published["files"] == local["files"] == r"^guidelines/.*\.md$"


def test_pre_commit_hook_entry_runs_guidelines_check(tmp_path: Path) -> None:
    """The hook's entry, as pre-commit runs it (filenames appended), on the bundled example
    guidelines (pass) and with a malformed file among them (the commit is refused)."""
    import os
    import shlex
    import shutil
    import subprocess
    import sys

    yaml = pytest.importorskip("yaml")
    (hook,) = yaml.safe_load(
        (Path(__file__).resolve().parents[1] / ".pre-commit-hooks.yaml").read_text()
    )
    examples = (
        Path(__file__).resolve().parents[1] / "src" / "labelaudit" / "guidelines" / "examples"
    )
    folder = tmp_path / "guidelines"
    folder.mkdir()
    for name in ("pandalm-v1.md", "pandalm-v2.md"):
        shutil.copy(examples / name, folder / name)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    files = ["guidelines/pandalm-v1.md", "guidelines/pandalm-v2.md"]
    good = subprocess.run([*shlex.split(hook["entry"]), *files], cwd=tmp_path, env=env, check=False)
    assert good.returncode == 0
    (folder / "broken.md").write_text("+++\nnot toml = = \n+++\n# nothing\n")
    bad = subprocess.run(
        [*shlex.split(hook["entry"]), *files, "guidelines/broken.md"],
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert bad.returncode == 1
