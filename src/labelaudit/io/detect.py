"""Which reader fits a source: by extension, directory layout and a peek at the first record."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from labelaudit.io._stream import first_record

__all__ = ["PLATFORM_FORMATS", "detect_format", "detect_record", "is_dataset"]

#: Platform export formats :func:`labelaudit.io.read_export` reads (plus ``canonical`` for
#: files written by ``write_table`` and ``huggingface`` for an in-memory Dataset).
PLATFORM_FORMATS = (
    "label-studio",
    "label-studio-min",
    "prodigy",
    "labelbox",
    "doccano",
    "sagemaker",
    "argilla",
    "scale",
    "conll",
)
_JSON_SUFFIXES = {".json", ".jsonl", ".ndjson", ".manifest", ".jsonlines"}
_TABLE_SUFFIXES = {".csv", ".tsv", ".tab", ".parquet", ".pq"}
_ALIASES = {"item", "item_id", "annotator", "annotator_id", "worker", "rater"}


def is_dataset(source: Any) -> bool:
    """True for a Hugging Face ``datasets.Dataset`` (or an object with the same surface)."""
    if isinstance(source, (str, Path, list, tuple)):
        return False
    return hasattr(source, "features") and (hasattr(source, "data") or hasattr(source, "to_arrow"))


def detect_record(record: Any) -> str | None:
    """The platform a single parsed record comes from, or None for a plain table row."""
    if not isinstance(record, dict):
        return None
    keys = set(record)
    if isinstance(record.get("annotations"), list) and "data" in keys:
        return "label-studio"
    if "completions" in keys and "data" in keys:
        return "label-studio"
    if keys & {"_input_hash", "_task_hash", "_view_id", "_session_id", "_annotator_id"}:
        return "prodigy"
    if "data_row" in keys and "projects" in keys:
        return "labelbox"
    if isinstance(record.get("answers"), list) and any(
        isinstance(a, dict) and "workerId" in a for a in record["answers"]
    ):
        return "sagemaker"
    if any(k.endswith("-metadata") and isinstance(record[k], dict) for k in keys):
        return "sagemaker"
    if isinstance(record.get("responses"), dict) or any(k.endswith(".responses") for k in keys):
        return "argilla"
    from labelaudit.io.scale import is_scale_task

    if is_scale_task(record):
        return "scale"
    if "annotator" in keys and "annotation_id" in keys:
        return "label-studio-min"
    if "text" in keys and not keys & _ALIASES:
        for key in ("label", "labels", "entities", "cats", "annotations"):
            if isinstance(record.get(key), list):
                return "doccano"
    return None


def _directory_format(path: Path) -> str | None:
    from labelaudit.io.conll import SUFFIXES

    if any(p.suffix.lower() in SUFFIXES for p in path.iterdir()):
        return "conll"
    if (path / "records.json").is_file() or (path / ".argilla").is_dir():
        return "argilla"
    for candidate in sorted(path.rglob("*.json"))[:5]:
        if detect_record(first_record(candidate)) == "sagemaker":
            return "sagemaker"
    if any(path.glob("*.jsonl")):
        return "doccano"
    return None


def _canonical_table(path: Path) -> bool:
    """True for a CSV/TSV/Parquet file written by ``write_table`` (a ``task_type`` column)."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        try:
            names = pq.read_schema(path).names
        except Exception:
            return False
        return "task_type" in names
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        header = handle.readline()
    delimiter = "\t" if suffix in (".tsv", ".tab") else ","
    return "task_type" in [name.strip().strip('"') for name in header.split(delimiter)]


def detect_format(source: Any) -> str | None:
    """Guess the reader for a source.

    Parameters
    ----------
    source : path, list of paths, or Dataset
        A file, a directory (doccano per-user files, SageMaker worker responses, an Argilla
        ``to_disk`` folder, CoNLL files of several annotators), a ``.zip`` (doccano),
        several files, or an in-memory Dataset.

    Returns
    -------
    str or None
        One of :data:`PLATFORM_FORMATS`, ``"canonical"`` (a table written by
        ``write_table``), ``"huggingface"``, or None when the source looks like a plain
        annotation table (item, annotator, label), which ``read_annotations`` reads.
    """
    if is_dataset(source):
        return "huggingface"
    if isinstance(source, (list, tuple)):
        return detect_format(source[0]) if source else None
    path = Path(source)
    if path.is_dir():
        return _directory_format(path)
    suffix = path.suffix.lower()
    if suffix == ".zip" and zipfile.is_zipfile(path):
        return "doccano"
    if not path.is_file():
        return None
    from labelaudit.io.conll import SUFFIXES, looks_like_conll

    if suffix in SUFFIXES or (suffix in (".txt", "") and looks_like_conll(path)):
        return "conll"
    if suffix in _TABLE_SUFFIXES or (suffix in (".jsonl", ".json") and _looks_canonical(path)):
        return "canonical" if _canonical_or_json(path) else None
    if suffix in _JSON_SUFFIXES or suffix == "":
        return detect_record(first_record(path))
    return None


def _looks_canonical(path: Path) -> bool:
    record = first_record(path)
    return isinstance(record, dict) and {"item", "annotator", "label", "task_type"} <= set(record)


def _canonical_or_json(path: Path) -> bool:
    if path.suffix.lower() in (".jsonl", ".json"):
        return True
    return _canonical_table(path)
