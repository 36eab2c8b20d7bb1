"""The worked example of docs/guidelines.md, on the bundled PandaLM test set.

:func:`write_example` writes two guideline versions (``guidelines-v1.md``,
``guidelines-v2.md``, bundled beside this module), six weekly batches cut from PandaLM
(:func:`labelaudit.project.demo.demo_batches`) and the honeypot ``gold.csv``. The first
three batches stand for the weeks labelled under v1: there one annotator (``annotator3``)
misreads the rules, simulated as in the demo by replacing 40% of their labels with a
random one (seeded). The last three are the original labels, standing for the weeks under
v2. ``calibration-answers.csv`` holds every batch's labels (item, annotator, label): the
annotators' answers to any calibration round drawn from these items. PandaLM had no
guideline revision: the difference the example measures is the simulated one, which the
docs say.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EXAMPLE_VERSIONS", "ExampleFiles", "write_example"]

_HERE = Path(__file__).with_name("examples")
#: Batch name -> guideline version it was labelled under.
EXAMPLE_VERSIONS = {
    "2024-w01": "v1",
    "2024-w02": "v1",
    "2024-w03": "v1",
    "2024-w04": "v2",
    "2024-w05": "v2",
    "2024-w06": "v2",
}


@dataclass(frozen=True)
class ExampleFiles:
    """What :func:`write_example` wrote."""

    folder: Path
    guidelines: tuple[Path, Path]
    batches: tuple[tuple[str, str, Path], ...]  # (batch, version, file)
    gold: Path
    answers: Path


def write_example(folder: Path) -> ExampleFiles:
    """Write the example's files into ``folder`` (created; existing files are replaced)."""
    from labelaudit.project.demo import demo_batches

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    guides = []
    for version in ("v1", "v2"):
        target = folder / f"guidelines-{version}.md"
        shutil.copyfile(_HERE / f"pandalm-{version}.md", target)
        guides.append(target)
    data = demo_batches(folder / "batches", degraded=(0, 1, 2), share=0.4, seed=16)
    batches = tuple((name, EXAMPLE_VERSIONS[name], path) for name, path in data.batches)
    answers = folder / "calibration-answers.csv"
    _answers(tuple(path for _, path in data.batches), answers)
    return ExampleFiles(folder, (guides[0], guides[1]), batches, data.gold, answers)


def _answers(paths: tuple[Path, ...], target: Path) -> None:
    """item, annotator, label of every batch: the annotators' answers on any round's items."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from labelaudit.csvio import write_csv

    read = pacsv.ConvertOptions(column_types={"item": pa.string(), "label": pa.string()})
    tables = [pacsv.read_csv(p, convert_options=read) for p in paths]
    write_csv(pa.concat_tables(tables).select(["item", "annotator", "label"]), target)
