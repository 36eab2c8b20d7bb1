"""The pipeline demo: weekly batches cut from the bundled PandaLM test set, one degraded.

:func:`demo_batches` writes the batch files and a honeypot gold file; ``labelaudit demo``
(:mod:`labelaudit.cli.commands.demo`) ingests them into a fresh project, runs the gates on
every batch and writes the report.

- The PandaLM test set (999 items x 3 annotators, labels 0/1/2; Fleiss' kappa 0.86) is cut
  in item order into ``n_batches`` weekly batches (166 or 167 items each), long layout,
  with the item's ``instruction`` as an extra column (stored with the annotations).
- Degraded batches: in each, every label of one annotator is replaced, with probability
  ``share``, by a uniformly random label (seeded ``numpy.random.default_rng``).
- Honeypot gold: ``gold_per_batch`` items per batch on which the three annotators agreed in
  the original data, with that label (an illustration of gold questions: PandaLM has no
  separate expert gold).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from labelaudit.csvio import write_csv

__all__ = ["DEMO_NAME", "DemoData", "DemoResult", "demo_batches", "run_demo"]

DEMO_NAME = "pandalm-demo"
ANNOTATORS = ("annotator1", "annotator2", "annotator3")
CATEGORIES = ("0", "1", "2")
#: What the PandaLM codes mean (datasets/data/pandalm/SOURCE.md), as ``[categories]``.
MEANINGS = '\n[categories]\n0 = "tie"\n1 = "response 1 better"\n2 = "response 2 better"\n'


@dataclass(frozen=True)
class DemoData:
    """The files :func:`demo_batches` wrote: ``(batch name, path)`` pairs and the gold file."""

    batches: tuple[tuple[str, Path], ...]
    gold: Path
    degraded: tuple[str, ...]


def demo_batches(
    out_dir: Path,
    *,
    n_batches: int = 6,
    degraded: tuple[int, ...] = (5,),
    annotator: str = "annotator3",
    share: float = 0.6,
    gold_per_batch: int = 20,
    seed: int = 0,
) -> DemoData:
    """Write the weekly batch CSVs and ``gold.csv`` into ``out_dir``.

    Parameters
    ----------
    out_dir : Path
        Folder for ``2024-wNN.csv`` and ``gold.csv`` (created).
    n_batches : int
        Batches, cut in item order.
    degraded : tuple of int
        Positions (0-based) of the degraded batches.
    annotator : str
        Whose labels are partly randomised there.
    share : float
        Probability that one of that annotator's labels is replaced by a random one.
    gold_per_batch : int
        Honeypot items per batch (unanimous in the original data).
    seed : int
        Seed of the randomisation and of the honeypot choice.

    Returns
    -------
    DemoData
    """
    from labelaudit.datasets import dataset_path

    records = json.loads(dataset_path("pandalm").read_text(encoding="utf-8"))
    items = np.array([str(r["idx"]) for r in records], dtype=object)
    labels = np.array([[str(r[a]) for a in ANNOTATORS] for r in records], dtype=object)
    text = np.array([str(r.get("instruction", "")) for r in records], dtype=object)
    rng = np.random.default_rng(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    unanimous = (labels == labels[:, :1]).all(axis=1)
    batches, gold_rows, names = [], [], []
    for number, rows in enumerate(np.array_split(np.arange(items.size), n_batches)):
        name = f"2024-w{number + 1:02d}"
        batch_labels = labels[rows].copy()
        if number in degraded:
            column = ANNOTATORS.index(annotator)
            swap = rng.random(rows.size) < share
            random = np.asarray(CATEGORIES, dtype=object)[rng.integers(0, 3, rows.size)]
            batch_labels[swap, column] = random[swap]
            names.append(name)
        path = out_dir / f"{name}.csv"
        _write_long(path, items[rows], batch_labels, text[rows])
        batches.append((name, path))
        candidates = rows[unanimous[rows]]
        chosen = rng.choice(candidates, size=min(gold_per_batch, candidates.size), replace=False)
        gold_rows.append(np.sort(chosen))
    gold = np.concatenate(gold_rows)
    gold_path = out_dir / "gold.csv"
    write_csv(
        pa.table({"item": items[gold].astype(str), "gold_label": labels[gold, 0].astype(str)}),
        gold_path,
    )
    return DemoData(tuple(batches), gold_path, tuple(names))


def _write_long(path: Path, items: np.ndarray, labels: np.ndarray, text: np.ndarray) -> None:
    """item, annotator, label, instruction rows (one per item and annotator)."""
    k = len(ANNOTATORS)
    table = pa.table(
        {
            "item": np.repeat(items, k).astype(str),
            "annotator": np.tile(np.asarray(ANNOTATORS), items.size),
            "label": labels.ravel().astype(str),
            "instruction": np.repeat(text, k).astype(str),
        }
    )
    write_csv(table, path)


@dataclass(frozen=True)
class DemoResult:
    """What :func:`run_demo` did: the project, each batch's check, and the report path."""

    project: Path
    checks: tuple[tuple[str, int], ...]
    report: Path


def run_demo(out_dir: Path, *, echo: Callable[[str], None]) -> DemoResult:
    """Init a project in ``out_dir/project``, ingest the weekly batches, check each one and
    write ``out_dir/report.html``.

    Parameters
    ----------
    out_dir : Path
        Output folder; a project left there by an earlier demo is replaced.
    echo : callable
        Receives each line to show (the equivalent command, then its output).

    Returns
    -------
    DemoResult
        ``checks`` holds each batch's check exit code (1 on the degraded batch is expected).
    """
    from labelaudit.pipeline_report import Scope, build_pipeline_report, write_pipeline_report
    from labelaudit.project.check import check_project, render_check
    from labelaudit.project.ingest import ingest_batch
    from labelaudit.project.layout import Project, init_project

    out_dir = out_dir.resolve()
    root = out_dir / "project"
    _clear_previous(out_dir, root)
    data = demo_batches(out_dir / "batches")
    echo(f"$ labelaudit init {root} --categories 0,1,2")
    init_project(root, name=DEMO_NAME, categories=CATEGORIES)
    config = root / "labelaudit.toml"
    text = config.read_text(encoding="utf-8").replace(
        '# file = "gold.csv"', 'file = "../batches/gold.csv"'
    )
    config.write_text(text + MEANINGS, encoding="utf-8")
    project = Project.load(root)
    checks = []
    for name, path in data.batches:
        echo(f"$ labelaudit ingest {path.name} --batch {name}")
        echo("  " + ingest_batch(project, path, batch=name).message())
        result = check_project(project, batch=name)
        echo(f"$ labelaudit check --batch {name}    # exit {result.exit_code}")
        if not result.passed:
            echo(f"  (exit 1 is expected: {name} was degraded on purpose)")
            verdict = render_check(result.to_dict(), width=78)
            echo("\n".join("  " + line for line in verdict.splitlines()))
        checks.append((name, result.exit_code))
    report = build_pipeline_report(project, Scope(mode="all"))
    path = write_pipeline_report(report, out_dir / "report.html")
    echo(f"$ labelaudit report --all --out {path}")
    return DemoResult(root, tuple(checks), path)


def _clear_previous(out_dir: Path, root: Path) -> None:
    """Remove the project and batches of an earlier demo (only a project named like it)."""
    import shutil
    import tomllib

    config = root / "labelaudit.toml"
    if not config.exists():
        return
    name = tomllib.loads(config.read_text(encoding="utf-8")).get("project", {}).get("name")
    if name != DEMO_NAME:
        from labelaudit.exceptions import UsageError

        raise UsageError(f"{root} holds another project ({name!r}); choose another --out-dir")
    shutil.rmtree(root)
    shutil.rmtree(out_dir / "batches", ignore_errors=True)
