"""A project batch with labeling-function votes: stored LF analysis and the weekly report."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelaudit.pipeline_report import Scope, build_pipeline_report, render_pipeline_html
from labelaudit.project import Project, ingest_batch, init_project
from labelaudit.project.config import toml_string


def batch_csv(path: Path, week: int, with_lfs: bool) -> Path:
    """10 items, 3 humans; with ``with_lfs`` three LFs vote on some items."""
    lines = ["item,annotator,label,annotator_kind"]
    for i in range(10):
        truth = "SPAM" if i % 2 else "HAM"
        for a in range(3):
            label = truth if (i + a) % 5 else ("HAM" if truth == "SPAM" else "SPAM")
            lines.append(f"w{week}-{i},ann{a},{label},human")
        if with_lfs:
            if i % 2:
                lines.append(f"w{week}-{i},lf_link,SPAM,function")
            if i < 6:
                lines.append(f"w{week}-{i},lf_short,HAM,function")
            if i % 3 == 0:
                lines.append(f"w{week}-{i},lf_song,{truth},function")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    folder = tmp_path_factory.mktemp("weak-project")
    gold = folder / "gold.csv"
    gold.write_text("item,gold_label\nw2-1,SPAM\nw2-2,HAM\nw2-3,SPAM\nw2-4,HAM\n")
    created = init_project(folder / "project", categories=("HAM", "SPAM"))
    config = created.config_path
    text = config.read_text().replace('# file = "gold.csv"', f"file = {toml_string(str(gold))}")
    config.write_text(text)
    loaded = Project.load(created.root)
    ingest_batch(loaded, batch_csv(folder / "w1.csv", 1, with_lfs=False), batch="w1")
    ingest_batch(loaded, batch_csv(folder / "w2.csv", 2, with_lfs=True), batch="w2")
    return loaded


def test_batch_with_lf_votes_stores_the_lf_analysis(project: Project) -> None:
    report = build_pipeline_report(project, Scope(mode="all"))
    found = report["labeling_functions"]
    assert found["batch"] == "w2"
    assert found["n_records"] == 10 and found["n_lfs"] == 3
    by_name = {lf["lf"]: lf for lf in found["lfs"]}
    assert by_name["lf_link"]["coverage"] == pytest.approx(0.5)
    assert by_name["lf_short"]["coverage"] == pytest.approx(0.6)
    # gold w2-1..w2-4: lf_link votes SPAM on 1, 3 (right); lf_short HAM on 1..4 (2 right)
    assert (by_name["lf_link"]["correct"], by_name["lf_link"]["incorrect"]) == (2, 0)
    assert (by_name["lf_short"]["correct"], by_name["lf_short"]["incorrect"]) == (2, 2)
    assert found["label_coverage"] == pytest.approx(0.9)  # all but w2-8
    page = render_pipeline_html(report)
    assert "Labeling functions (batch w2)" in page and "lf_short" in page


def test_batches_without_lf_votes_have_no_lf_section(project: Project) -> None:
    report = build_pipeline_report(project, Scope(mode="batch", batch="w1"))
    assert report["labeling_functions"] is None
    assert "Labeling functions" not in render_pipeline_html(report)
