"""The local engine against Spark local mode on the same Parquet file (issue 21).

Data: ``--annotations`` rows (default 10M): items rated by 5 annotators each with 10%
missing, 5 categories, string ids (the profile count is bounded: at most 6^5 profiles).
Each path runs in a fresh process, one after the other:

* ``local``: ``read_annotations(parquet)`` + ``agreement_report`` (analytic CIs, diagnostics),
  then majority-vote consensus written to CSV (``run_consensus``);
* ``spark``: a ``local[2]`` SparkSession (driver memory ``--driver-memory``), ``read_spark``
  + ``spark_profiles`` (DataFrame aggregations) + ``profile_report`` (the finish from the
  profiles, no expansion), then ``spark_consensus(frame, "majority", out=...)`` (vote
  counts per item on Spark, streamed to the CSV one partition at a time).

With ``--annotators``: the annotator report instead (default methods: majority vote,
Dawid-Skene, MACE; no gold, no timing columns): ``local`` = ``read_annotations`` +
``annotator_report``; ``spark`` = session + ``read_spark`` + ``spark_annotator_statistics``
(every figure as Spark aggregations) + ``finish_annotator_report`` (the local finish).

Printed: wall time of each step, the Python process's peak RSS and, for Spark, the driver
JVM's peak RSS (VmHWM of the JVM process), the profiles that came back to the driver, the
largest difference between the two reports (float summation order: items are summed in
another order) and whether the two consensus files are byte-identical. Timing never runs
in the tests.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_spark.py --annotations 1000000
    .venv/bin/python benchmarks/bench_spark.py                 # 10M annotations
    .venv/bin/python benchmarks/bench_spark.py --annotators --annotations 100000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def generate(path: Path, annotations: int, seed: int = 0) -> int:
    """Write the Parquet file; returns its rows."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    n_items = int(annotations / (5 * 0.9))
    truth = rng.integers(0, 5, n_items)
    item = np.repeat(np.arange(n_items), 5)
    annotator = np.tile(np.arange(5), n_items)
    correct = rng.random(item.size) < 0.7
    label = np.where(correct, truth[item], rng.integers(0, 5, item.size))
    keep = rng.random(item.size) < 0.9
    item, annotator, label = (
        item[keep][:annotations],
        annotator[keep][:annotations],
        label[keep][:annotations],
    )
    table = pa.table(
        {
            "item": pa.array(np.char.add("item-", item.astype(str))),
            "annotator": pa.array(np.char.add("ann-", annotator.astype(str))),
            "label": pa.array(np.char.add("c", label.astype(str))),
        }
    )
    pq.write_table(table, path, row_group_size=1 << 20)
    return table.num_rows


def _peak_kb(pid: int | str = "self") -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def run_local(path: Path) -> dict[str, Any]:
    """Read + agreement report, then majority consensus to CSV, in this process."""
    from labelaudit import read_annotations
    from labelaudit.agreement import agreement_report
    from labelaudit.consensus.api import run_consensus

    start = time.perf_counter()
    table = read_annotations(path)
    read_s = time.perf_counter() - start
    report = agreement_report(table).to_dict()
    total = time.perf_counter() - start
    run_consensus(table, "majority", out=path.with_name("local.csv"))
    return {
        "read_s": read_s,
        "total_s": total,
        "consensus_s": time.perf_counter() - start - total,
        "python_peak_mb": _peak_kb() / 1e3,
        "report": report,
    }


def run_spark(path: Path, driver_memory: str) -> dict[str, Any]:
    """Spark session, profiles, report from them, then majority consensus streamed to
    CSV, in this process (the JVM is its child)."""
    from labelaudit.agreement.api import profile_report
    from labelaudit.spark.engine import read_spark, spark_profiles, spark_session
    from labelaudit.spark.outputs import spark_consensus

    start = time.perf_counter()
    spark = spark_session("local[2]", memory=driver_memory)
    session_s = time.perf_counter() - start
    frame, locator = read_spark(spark, path)
    profiles = spark_profiles(frame, locator=locator)
    statistics_s = time.perf_counter() - start - session_s
    report = profile_report(profiles).to_dict()
    total = time.perf_counter() - start
    python_peak = _peak_kb() / 1e3
    spark_consensus(frame, "majority", out=path.with_name("spark.csv"), locator=locator)
    jvm = spark.sparkContext._gateway.proc.pid
    out = {
        "session_s": session_s,
        "statistics_s": statistics_s,
        "finish_s": total - session_s - statistics_s,
        "total_s": total,
        "consensus_s": time.perf_counter() - start - total,
        "named_items": profiles.table.n_items,
        "named_ratings": profiles.table.n_ratings,
        "driver_jvm_peak_mb": _peak_kb(jvm) / 1e3,
        "python_peak_agreement_mb": python_peak,
        "python_peak_mb": _peak_kb() / 1e3,
        "report": report,
    }
    spark.stop()
    return out


def run_local_annotators(path: Path) -> dict[str, Any]:
    """Read + annotator report (majority, Dawid-Skene, MACE), in this process."""
    from labelaudit import read_annotations
    from labelaudit.quality import annotator_report

    start = time.perf_counter()
    table = read_annotations(path)
    read_s = time.perf_counter() - start
    report = annotator_report(table).to_dict()
    report["input"] = None
    return {
        "read_s": read_s,
        "total_s": time.perf_counter() - start,
        "python_peak_mb": _peak_kb() / 1e3,
        "report": report,
    }


def run_spark_annotators(path: Path, driver_memory: str) -> dict[str, Any]:
    """Spark session, the annotator statistics on Spark, the local finish."""
    from labelaudit.quality.annotator_report import finish_annotator_report
    from labelaudit.spark.annotators import spark_annotator_statistics
    from labelaudit.spark.engine import read_spark, spark_session

    start = time.perf_counter()
    spark = spark_session("local[2]", memory=driver_memory)
    session_s = time.perf_counter() - start
    frame, locator = read_spark(spark, path)
    statistics = spark_annotator_statistics(frame, locator=locator)
    statistics_s = time.perf_counter() - start - session_s
    methods = tuple(statistics.fits)
    report = finish_annotator_report(statistics, methods=methods).to_dict()
    report["input"] = None
    total = time.perf_counter() - start
    jvm = spark.sparkContext._gateway.proc.pid
    out = {
        "session_s": session_s,
        "statistics_s": statistics_s,
        "finish_s": total - session_s - statistics_s,
        "total_s": total,
        "driver_jvm_peak_mb": _peak_kb(jvm) / 1e3,
        "python_peak_mb": _peak_kb() / 1e3,
        "report": report,
    }
    spark.stop()
    return out


WORKERS = {
    "local": lambda file, memory: run_local(file),
    "spark": run_spark,
    "local-annotators": lambda file, memory: run_local_annotators(file),
    "spark-annotators": run_spark_annotators,
}


def _largest_gap(a: Any, b: Any, path: str = "", relative: bool = False) -> tuple[float, str]:
    """The largest difference between two report dicts, absolute (or relative to
    max(1, |value|)) (inf when not the same shape or a non-number differs) and where."""
    if isinstance(b, dict):
        if not isinstance(a, dict) or a.keys() != b.keys():
            return float("inf"), path
        gaps = [_largest_gap(a[k], b[k], f"{path}.{k}", relative) for k in b]
        return max(gaps, default=(0.0, path))
    if isinstance(b, list):
        if not isinstance(a, list) or len(a) != len(b):
            return float("inf"), path
        pairs = enumerate(zip(a, b, strict=True))
        gaps = [_largest_gap(x, y, f"{path}[{i}]", relative) for i, (x, y) in pairs]
        return max(gaps, default=(0.0, path))
    if isinstance(a, float) and isinstance(b, float):
        scale = max(1.0, abs(b)) if relative else 1.0
        return (0.0 if a != a and b != b else abs(a - b) / scale), path
    return (0.0 if a == b else float("inf")), path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--annotations", type=int, default=10_000_000)
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument(
        "--annotators", action="store_true", help="time the annotator report instead"
    )
    parser.add_argument("--path", choices=tuple(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.path:  # a worker process
        print(json.dumps(WORKERS[args.path](args.file, args.driver_memory)))
        return 0
    if args.annotators:
        return compare_annotators(args.annotations, args.driver_memory)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "annotations.parquet"
        rows = generate(path, args.annotations)
        results = {}
        for name in ("local", "spark"):
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--path",
                    name,
                    "--file",
                    str(path),
                    "--driver-memory",
                    args.driver_memory,
                ],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            results[name] = json.loads(done.stdout.strip().splitlines()[-1])
        files = (path.with_name(f"{name}.csv").read_bytes() for name in ("local", "spark"))
        same = next(files) == next(files)
    local, spark = results["local"], results["spark"]
    gap, where = _largest_gap(
        {k: v for k, v in spark.pop("report").items() if k != "input"},
        {k: v for k, v in local.pop("report").items() if k != "input"},
    )
    print(f"annotations: {rows:,}  cpus: {os.cpu_count()}  load: {os.getloadavg()[0]:.1f}")
    print("local:", json.dumps({k: round(v, 2) for k, v in local.items()}))
    print("spark:", json.dumps({k: round(v, 2) for k, v in spark.items()}))
    print(
        f"spark / local time: {spark['total_s'] / local['total_s']:.1f}x; largest difference "
        f"between the reports: {gap:.2e} at {where or '-'}; consensus files "
        f"{'byte-identical' if same else 'DIFFER'}"
    )
    return 0 if gap < 1e-9 and same else 1


def _worker(name: str, path: Path, driver_memory: str) -> dict[str, Any]:
    """Run one path in a fresh process; its JSON result."""
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--path",
            name,
            "--file",
            str(path),
            "--driver-memory",
            driver_memory,
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def compare_annotators(annotations: int, driver_memory: str) -> int:
    """The annotator report, local against Spark; the largest difference of the reports."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "annotations.parquet"
        rows = generate(path, annotations)
        load = [os.getloadavg()[0]]
        local = _worker("local-annotators", path, driver_memory)
        load.append(os.getloadavg()[0])
        spark = _worker("spark-annotators", path, driver_memory)
        load.append(os.getloadavg()[0])
    gap, where = _largest_gap(spark.pop("report"), local.pop("report"), relative=True)
    print(f"annotators report; annotations: {rows:,}  cpus: {os.cpu_count()}  load: {load}")
    print("local:", json.dumps({k: round(v, 2) for k, v in local.items()}))
    print("spark:", json.dumps({k: round(v, 2) for k, v in spark.items()}))
    print(
        f"spark / local time: {spark['total_s'] / local['total_s']:.1f}x; largest difference "
        f"between the reports (relative to max(1, |value|)): {gap:.2e} at {where or '-'}"
    )
    return 0 if gap < 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
