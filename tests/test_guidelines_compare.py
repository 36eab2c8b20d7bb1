"""Before/after a guideline revision: compare periods, versions recorded at ingest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from labelaudit.agreement import agreement_report
from labelaudit.cli.app import app
from labelaudit.guidelines.compare import compare_periods
from labelaudit.guidelines.example import write_example
from labelaudit.table import read_annotations

runner = CliRunner()


def _table(labels: np.ndarray, categories: tuple[str, ...] = ("a", "b", "c")) -> object:
    n_items, n_raters = labels.shape
    return read_annotations(
        pa.table(
            {
                "item": np.repeat(np.arange(n_items), n_raters).astype(str),
                "annotator": np.tile([f"r{j}" for j in range(n_raters)], n_items),
                "label": np.asarray(categories)[labels.ravel()],
            }
        ),
        categories=list(categories),
    )


@settings(max_examples=25, deadline=None)
@given(
    st.integers(3, 25).flatmap(
        lambda n: st.lists(
            st.lists(st.integers(0, 2), min_size=3, max_size=3), min_size=n, max_size=n
        )
    )
)
def test_identical_periods_differ_by_zero_with_a_ci_holding_zero(rows: list[list[int]]) -> None:
    table = _table(np.asarray(rows))
    result = compare_periods(table, table, n_boot=200, seed=3)
    for row in (*result.coefficients, *result.categories):
        if row["difference"] is None:
            continue
        assert row["difference"] == 0.0
        if row["ci95"] is not None:
            assert row["ci95"][0] <= 0.0 <= row["ci95"][1]
    assert result.verdict in ("no clear change", "undefined")


def test_point_values_match_the_agreement_report() -> None:
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 3, 80)
    noisy = np.where(rng.random((80, 3)) < 0.3, rng.integers(0, 3, (80, 3)), truth[:, None])
    before = _table(noisy)
    after_noisy = _table(np.where(rng.random((80, 3)) < 0.1, 0, truth[:, None]))
    result = compare_periods(before, after_noisy, n_boot=300, seed=0)
    report_b = agreement_report(before, ci="none").to_dict()["metrics"]
    report_a = agreement_report(after_noisy, ci="none").to_dict()["metrics"]
    checked = 0
    for row in result.coefficients:
        if row["metric"] in report_b and report_b[row["metric"]]["value"] is not None:
            checked += 1
            assert row["before"] == pytest.approx(report_b[row["metric"]]["value"], abs=1e-12)
            assert row["after"] == pytest.approx(report_a[row["metric"]]["value"], abs=1e-12)
    assert checked >= 5
    assert result.verdict == "helped"
    assert result.coefficients[0]["metric"] == "krippendorff_alpha"


def test_per_category_matches_diagnostics() -> None:
    from labelaudit.agreement.diagnostics import per_category_agreement

    rng = np.random.default_rng(2)
    table = _table(rng.integers(0, 3, (40, 4)))
    other = _table(rng.integers(0, 3, (30, 4)))
    result = compare_periods(table, other, n_boot=50)
    expected = {r["category"]: r["specific_agreement"] for r in per_category_agreement(table)}
    for row in result.categories:
        assert row["before"] == pytest.approx(expected[row["category"]], abs=1e-12)


def test_worked_example_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = write_example(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init", ".", "--categories", "0,1,2"]).exit_code == 0
    config = tmp_path / "labelaudit.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[guidelines]\nfile = "guidelines-v2.md"\n',
        encoding="utf-8",
    )
    for batch, version, path in files.batches:
        extra = ["--guidelines-version", "v1"] if version == "v1" else []
        result = runner.invoke(app, ["ingest", str(path), "--batch", batch, *extra])
        assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["compare", "--before", "v1", "--after", "v2", "--n-boot", "200", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["periods"]["v1"]["batches"] == ["2024-w01", "2024-w02", "2024-w03"]
    assert data["periods"]["v2"]["batches"] == ["2024-w04", "2024-w05", "2024-w06"]
    assert data["verdict"] == "helped"
    unnamed = runner.invoke(app, ["compare", "--before", "unversioned", "--after", "v2"])
    assert unnamed.exit_code == 2
    assert "no batch labelled under guideline version 'unversioned'" in unnamed.output


def test_weekly_report_lists_rules_most_often_disagreed_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from labelaudit.pipeline_report import Scope, build_pipeline_report, render_pipeline_html
    from labelaudit.project import Project

    files = write_example(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init", ".", "--categories", "0,1,2"]).exit_code == 0
    project = Project.load(tmp_path)
    assert runner.invoke(app, ["ingest", str(files.batches[0][2]), "--batch", "w1"]).exit_code == 0
    assert build_pipeline_report(project, Scope(mode="all"))["guideline_rules"] is None
    config = tmp_path / "labelaudit.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[guidelines]\nfile = "guidelines-v2.md"\n',
        encoding="utf-8",
    )
    report = build_pipeline_report(Project.load(tmp_path), Scope(mode="all"))
    rules = report["guideline_rules"]
    assert rules["version"] == "v2"
    pairs = {(p["label_a"], p["label_b"]): p["count"] for p in report["confusions"]["pairs"]}
    by_section = {r["section"]: r for r in rules["rules"]}
    assert set(by_section) == {"pref.tie.2", "pref.better.2"}  # the [[confusions]] table
    assert by_section["pref.better.2"]["count"] == pairs[("1", "2")]
    assert by_section["pref.tie.2"]["count"] == pairs[("0", "1")] + pairs[("0", "2")]
    assert all("text" in e for r in rules["rules"] for e in r["examples"])
    html = render_pipeline_html(report)
    assert 'id="guideline-rules"' in html and "Order of criteria" in html


def test_unversioned_batches_take_part_only_when_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = write_example(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["init", ".", "--categories", "0,1,2"]).exit_code == 0
    (_, _, first), (_, _, second), (_, _, third) = files.batches[:3]
    assert runner.invoke(app, ["ingest", str(first), "--batch", "a"]).exit_code == 0
    for path, name, version in ((second, "b", "v7"), (third, "c", "v8")):
        args = ["ingest", str(path), "--batch", name, "--guidelines-version", version]
        assert runner.invoke(app, args).exit_code == 0
    named = runner.invoke(
        app, ["compare", "--before", "unversioned", "--after", "v7", "--n-boot", "50",
              "--format", "json"],
    )  # fmt: skip
    assert named.exit_code == 0, named.output
    assert json.loads(named.stdout)["periods"]["unversioned"]["batches"] == ["a"]
    versions = runner.invoke(
        app, ["compare", "--before", "v7", "--after", "v8", "--n-boot", "50", "--format", "json"]
    )
    assert json.loads(versions.stdout)["periods"]["v7"]["batches"] == ["b"]  # "a" left out
    empty = runner.invoke(app, ["ingest", str(first), "--batch", "z", "--guidelines-version", " "])
    assert empty.exit_code == 2 and "--guidelines-version must not be empty" in empty.output
