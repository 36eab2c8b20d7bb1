"""The worked example of docs/guidelines.md as a project: two guideline versions, six
batches ingested under them, one scored calibration round with feedback sheets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labelaudit.guidelines import read_guideline
from labelaudit.guidelines.calibration import create_round, write_round
from labelaudit.guidelines.example import write_example
from labelaudit.guidelines.feedback import write_feedback
from labelaudit.guidelines.project import batch_version_recorder
from labelaudit.guidelines.scoring import score_round
from labelaudit.guidelines.stored import store_calibration
from labelaudit.project.ingest import ingest_batch
from labelaudit.project.layout import Project, init_project
from labelaudit.project.tokens import create_token
from labelaudit.table import read_annotations


def example_project(root: Path) -> dict[str, Any]:
    """Build the example in ``root``; returns the paths and a reader token."""
    files = write_example(root)
    init_project(root, name="guidelines-example", categories=("0", "1", "2"))
    config = root / "labelaudit.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            '# file = "gold.csv"', 'file = "batches/gold.csv"'
        )
        + '\n[guidelines]\nfile = "guidelines-v2.md"\n',
        encoding="utf-8",
    )
    project = Project.load(root)
    for batch, version, path in files.batches:
        record = batch_version_recorder(project, batch, version)
        ingest_batch(project, path, batch=batch, on_commit=record)
    round_ = create_round(project, 30, stratify="label", seed=0, name="round-1")
    write_round(round_, root / "round-1")
    guide = read_guideline(root / "guidelines-v2.md")
    score = score_round(round_, read_annotations(files.answers), guide=guide).to_dict()
    write_feedback(score, root / "feedback", guide)
    with project.open_store() as store:
        store_calibration(store, round_.name, round_.guideline_version, score["annotators"])
        token = create_token(store, role="reader", name="reader")
    return {"root": root, "files": files, "score": score, "token": token}
