"""Real annotation data bundled with labelaudit, for the demo, examples and tests.

- ``pandalm``: the PandaLM human-annotated test set (Wang et al., ICLR 2024; Apache-2.0):
  999 response pairs, 3 annotators, labels 0 = tie, 1 = response 1 better,
  2 = response 2 better. Published pairwise Cohen's kappas 0.85 / 0.88 / 0.86.
- ``bluebirds``: Welinder et al. (NIPS 2010; Clear BSD, notice in its SOURCE.md): 108
  images x 39 workers, binary labels, expert truth in ``truth.csv``.

Each folder under ``data/`` keeps the upstream SOURCE.md with origin and licence.
"""

from __future__ import annotations

from pathlib import Path

from labelaudit.table import AnnotationTable, read_annotations

__all__ = [
    "DATA_DIR",
    "PANDALM_CATEGORY_NAMES",
    "dataset_path",
    "load_bluebirds",
    "load_pandalm",
    "pandalm_texts",
]

DATA_DIR = Path(__file__).parent / "data"

_FILES = {
    "pandalm": "pandalm/testset-v1.json",
    "bluebirds": "bluebirds/answers.csv",
    "bluebirds-truth": "bluebirds/truth.csv",
}


def dataset_path(name: str) -> Path:
    """Path of a bundled file: ``pandalm``, ``bluebirds`` or ``bluebirds-truth``."""
    if name not in _FILES:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(_FILES)}")
    return DATA_DIR / _FILES[name]


PANDALM_OPTIONS = {
    "layout": "wide",
    "item_col": "idx",
    "annotator_cols": "annotator1,annotator2,annotator3",
    "categories": "0,1,2",
}


def load_pandalm() -> AnnotationTable:
    """The PandaLM test set as a table: 2,997 labels, 999 items, 3 annotators."""
    return read_annotations(dataset_path("pandalm"), **PANDALM_OPTIONS)


#: What the PandaLM label codes mean (its README).
PANDALM_CATEGORY_NAMES = {"0": "tie", "1": "response 1 better", "2": "response 2 better"}


def pandalm_texts() -> dict[str, str]:
    """Each PandaLM item's text (its instruction, then its input when there is one), by id."""
    import json

    records = json.loads(dataset_path("pandalm").read_text(encoding="utf-8"))
    return {
        str(r["idx"]): " ".join(part for part in (r["instruction"], r.get("input")) if part)
        for r in records
    }


def load_bluebirds() -> AnnotationTable:
    """Bluebirds: 4,212 binary labels, 108 items, 39 workers (columns task, worker, label)."""
    return read_annotations(dataset_path("bluebirds"))
