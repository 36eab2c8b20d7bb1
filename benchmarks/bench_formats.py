"""Parse speed and peak memory of the Label Studio reader on a large generated export.

Target (issue 5): a 1 GB Label Studio JSON export (choices and spans) parses in under 60 s
with peak memory under 3x the file size. Each control is read in a fresh process, so the
peak resident set size (``ru_maxrss``) is that read's alone (it includes the interpreter
and the imports, ~100 MB).

Usage::

    .venv/bin/python benchmarks/bench_formats.py --generate-mb 1024   # makes /tmp/ls_bench.json
    .venv/bin/python benchmarks/bench_formats.py --file /tmp/ls_bench.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKER = """
import json, sys, time
from labelaudit.io import read_export
start = time.perf_counter()
table, report = read_export(sys.argv[1], from_="label-studio", control=sys.argv[2])
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "rows": table.n_ratings, "items": table.n_items,
                  "task": table.task, "skipped": report.n_skipped}))
"""


def run(path: Path, control: str) -> dict[str, float]:
    """Read one control of the export in a child process; time, rows and peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", WORKER, str(path), control],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(out.stdout)
    result["wall_seconds"] = wall
    result["peak_rss_mib"] = max(peak_kib, before) / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=Path("/tmp/ls_bench.json"))
    parser.add_argument("--generate-mb", type=float, default=None)
    args = parser.parse_args()
    if args.generate_mb is not None:
        sys.path.insert(0, str(HERE))
        from gen_label_studio import generate

        n = generate(args.file, args.generate_mb)
        print(f"generated {args.file}: {n} tasks")
    size_mib = args.file.stat().st_size / 2**20
    print(f"file: {args.file} ({size_mib:.0f} MiB)")
    print("control    task         rows       parse s  wall s  peak RSS MiB  peak/file")
    for control in ("sentiment", "label"):
        r = run(args.file, control)
        print(
            f"{control:<10} {r['task']:<12} {r['rows']:>9,}  {r['seconds']:>7.1f}  "
            f"{r['wall_seconds']:>6.1f}  {r['peak_rss_mib']:>12.0f}  "
            f"{r['peak_rss_mib'] / size_mib:>8.2f}"
        )


if __name__ == "__main__":
    main()
