"""A small real project for the integration tests: four PandaLM demo batches, the last
degraded, honeypot gold, and gates that pass, fail and are undefined (allowed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labelaudit.project import Project, ingest_batch, init_project
from labelaudit.project.config import toml_string
from labelaudit.project.demo import demo_batches

#: A gate whose metric is never stored: undefined, allowed.
EXTRA_GATE = """
[[gates]]
name = "fairness <gap> & \\"quotes\\""
metric = "max_group_gap"
op = "<="
threshold = 0.3
allow_undefined = true
"""


def build_project(folder: Path) -> tuple[Project, Any]:
    """Init, configure gold and an extra gate, ingest four weekly batches (last degraded)."""
    data = demo_batches(folder / "batches", n_batches=4, degraded=(3,))
    project = init_project(folder / "project", categories=("0", "1", "2"))
    config = project.root / "labelaudit.toml"
    text = config.read_text().replace(
        '# file = "gold.csv"', f"file = {toml_string(str(data.gold))}"
    )
    config.write_text(text + EXTRA_GATE)
    project = Project.load(project.root)
    for name, path in data.batches:
        ingest_batch(project, path, batch=name)
    return project, data
