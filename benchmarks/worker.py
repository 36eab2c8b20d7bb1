"""Run one (case, tool) of ``cases.py`` in this process and print the result as JSON.

Usage: ``python benchmarks/worker.py CASE TOOL [--quick] [--data FILE.npy]``. ``run_all.py``
starts one such process per (case, tool) with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset.
The last line of stdout is the JSON payload.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cases import Bench, Options, find_case
from measure import kb_to_mb, measure


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("case")
    parser.add_argument("tool")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data", type=Path, default=None)
    return parser.parse_args(argv)


def run_bench(bench: Bench) -> dict[str, Any]:
    """Measure ``bench`` and collect its check values."""
    measurement, result = measure(
        bench.run, n_warm=bench.n_warm, n_timed=bench.n_timed, slow_s=bench.slow_s
    )
    values = bench.check(result)
    payload: dict[str, Any] = {
        "measurement": measurement.to_dict(),
        "time_s": measurement.median_s * bench.scale,
        "scale": bench.scale,
        "memory_mb": measurement.peak_increase_mb,
        "memory_kind": "increase",
        "values": {k: v for k, v in values.items() if not k.startswith("info:")},
        "info": {k[5:]: v for k, v in values.items() if k.startswith("info:")} | bench.info,
    }
    if bench.child_memory:
        payload["memory_mb"] = kb_to_mb(payload["info"]["child peak RSS kB"])
        payload["memory_kind"] = "child peak"
    return payload


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    tool = find_case(args.case).tool(args.tool)
    if tool.factory is None:
        print(f"tool {args.tool!r} runs in the irrCAC venv (irrcac_case.py)", file=sys.stderr)
        return 2
    bench = tool.factory(Options(quick=args.quick, data=args.data))
    print(json.dumps(run_bench(bench)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
