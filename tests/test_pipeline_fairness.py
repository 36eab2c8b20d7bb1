"""A project gate on the cross-group gap: ``[fairness]`` + ``max_group_gap``."""

from __future__ import annotations

from pathlib import Path

from labelaudit.fairness.synthetic import planted_ratings
from labelaudit.project import Project, ingest_batch, init_project
from labelaudit.project.check import check_project

_GATE = """
[fairness]
by = ["vendor"]
n_boot = 50

[[gates]]
name = "vendor-gap"
metric = "max_group_gap"
op = "<="
threshold = 0.3
"""


def _batch(folder: Path, name: str, effect: float, seed: int) -> Path:
    data = planted_ratings(
        n_items=60, n_raters=16, per_item=5, group_shares=[0.5, 0.5], effects=[0, effect],
        seed=seed,
    ).to_pandas()  # fmt: skip
    data["vendor"] = data.pop("group").map({"g0": "acme", "g1": "zeta"})
    path = folder / f"{name}.csv"
    data.to_csv(path, index=False)
    return path


def test_gap_gate_passes_then_fails(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p", level="interval")
    before = project.config.sha256
    project.config_path.write_text(project.config_path.read_text() + _GATE)
    project = Project.load(project.root)
    assert project.config.sha256 != before  # the section counts once it is used
    ingest_batch(project, _batch(tmp_path, "w1", 0.0, 1), batch="w1")
    ingest_batch(project, _batch(tmp_path, "w2", 1.5, 2), batch="w2")
    good = {g.name: g for g in check_project(project, batch="w1").gates}["vendor-gap"]
    bad = {g.name: g for g in check_project(project, batch="w2").gates}["vendor-gap"]
    assert good.verdict == "pass" and good.value is not None and good.value <= 0.3
    assert bad.verdict == "fail" and bad.value is not None and bad.value > 0.3


def test_unused_section_keeps_the_config_hash(tmp_path: Path) -> None:
    project = init_project(tmp_path / "p")
    assert "fairness" not in project.config.to_dict()
