"""Run the agreement-metric speed benchmarks: one process per (case, tool), one table.

Usage (from the repository root)::

    .venv/bin/python benchmarks/run_all.py                 # everything; writes docs/benchmarks.md
    .venv/bin/python benchmarks/run_all.py --only 1 --only icc   # some cases (numbers or keys)
    .venv/bin/python benchmarks/run_all.py --quick         # small sizes: a smoke run
    .venv/bin/python benchmarks/run_all.py --only e2e      # the end-to-end command only

Partial and quick runs print the tables but write docs/benchmarks.md only with ``--out``.
Every worker runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (see README.md); the
irrCAC case runs in ``benchmarks/.venv-irrcac``, created on first use.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

import bench_e2e
from cases import CASES, Case, Options, irrcac_matrix
from measure import children_cpu_s, cpu_busy_s
from page import collect_meta, render_page
from report import CaseResults, JobResult, render_tables

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
DEFAULT_DOC = ROOT / "docs" / "benchmarks.md"
IRRCAC_VENV = BENCH / ".venv-irrcac"
IRRCAC_REQUIREMENTS = ("irrCAC==0.4.4", "numpy<2", "pandas<2.3", "threadpoolctl")
BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
TIMEOUT_S = 1800.0
QUIET_LOAD = 0.25  # share of all cores used by other processes below which we start a job


def bench_env(blas_threads: int | None = None) -> dict[str, str]:
    """This environment without the OpenBLAS overrides (both unset together)."""
    env = {k: v for k, v in os.environ.items() if k not in BLAS_VARIABLES}
    if blas_threads is not None:
        env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = str(blas_threads)
    return env


def machine_load(seconds: float) -> float:
    """Share of all cores busy over the next ``seconds`` (this runner sleeps meanwhile)."""
    before = cpu_busy_s()
    time.sleep(seconds)
    return (cpu_busy_s() - before) / (seconds * (os.cpu_count() or 1))


def wait_for_quiet(max_wait: float) -> float:
    """Wait (up to ``max_wait`` s) until other processes use < QUIET_LOAD of the CPUs."""
    deadline = time.monotonic() + max_wait
    load = machine_load(2.0)
    while load > QUIET_LOAD and time.monotonic() < deadline:
        print(f" (machine busy: {load:.0%}, waiting)", end="", file=sys.stderr, flush=True)
        time.sleep(10.0)
        load = machine_load(2.0)
    return load


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="CASE",
        help="case number or key (repeatable, or comma-separated)",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"Markdown report (default for a full run: {DEFAULT_DOC})",
    )
    parser.add_argument("--json", type=Path, default=None, help="also dump the raw results")
    parser.add_argument(
        "--render",
        type=Path,
        default=None,
        help="re-render the report from a --json dump instead of running",
    )
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help="seconds per process")
    parser.add_argument(
        "--max-wait",
        type=float,
        default=180.0,
        help="seconds to wait for other processes to calm down before a job",
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS in the workers",
    )
    return parser.parse_args(argv)  # fmt: skip


def select_cases(only: list[str]) -> list[Case]:
    """The cases named by ``--only`` ('2' selects 2a and 2b); all when empty."""
    wanted = {w.strip() for item in only for w in item.split(",") if w.strip()}
    if not wanted:
        return list(CASES)
    chosen = [c for c in CASES if wanted & {c.key, c.number, c.number.rstrip("ab")}]
    known = {name for c in CASES for name in (c.key, c.number, c.number.rstrip("ab"))}
    if unknown := wanted - known:
        raise SystemExit(f"unknown case(s): {', '.join(sorted(unknown))}")
    return chosen


# --------------------------------------------------------------------------- irrCAC venv
def _run_quiet(command: list[str], env: dict[str, str]) -> str | None:
    """None on success, else the command and the tail of its output."""
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode == 0:
        return None
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-6:])
    return f"`{' '.join(command)}` exited {done.returncode}:\n{tail}"


def ensure_irrcac(env: dict[str, str]) -> tuple[Path | None, str]:
    """The irrCAC venv's python (created if missing), or None and why it is unavailable."""
    python = IRRCAC_VENV / "bin" / "python"
    if not python.exists():
        base = shutil.which("python3.11")
        if base is None:
            return None, "python3.11 is not on PATH, so the irrCAC venv cannot be created"
        pip = [str(python), "-m", "pip", "install", "--quiet", *IRRCAC_REQUIREMENTS]
        for command in ([base, "-m", "venv", str(IRRCAC_VENV)], pip):
            if (error := _run_quiet(command, env)) is not None:
                return None, error
    error = _run_quiet([str(python), "-c", "import irrCAC.raw"], env)
    return (None, error) if error else (python, "ok")


# --------------------------------------------------------------------------- jobs
def run_job(command: list[str], env: dict[str, str], timeout: float) -> tuple[Any, str | None]:
    """(payload, None) from the last stdout line, or (None, error).

    The payload gains ``other_load``: the share of all cores that other processes used
    while the job ran (machine busy time minus the job's own CPU time).
    """
    busy, own, start = cpu_busy_s(), children_cpu_s(), time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                              timeout=timeout, check=False)  # fmt: skip
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:.0f} s"
    foreign = (cpu_busy_s() - busy) - (children_cpu_s() - own)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        errors = done.stderr.strip().splitlines() or [f"exit code {done.returncode}"]
        return None, errors[-1]
    payload = json.loads(lines[-1])
    wall = max(time.monotonic() - start, 1e-9)
    payload["other_load"] = max(0.0, foreign) / (wall * (os.cpu_count() or 1))
    return payload, None


def _command(case: Case, tool: str, factory: bool, opts: Options, irrcac: Path | None) -> list[str]:
    data = ["--data", str(opts.data)] if opts.data is not None else []
    if not factory:
        return [str(irrcac), str(BENCH / "irrcac_case.py"), tool, *data]
    quick = ["--quick"] if opts.quick else []
    return [sys.executable, str(BENCH / "worker.py"), case.key, tool, *quick, *data]


def run_case(case: Case, opts: Options, env: dict[str, str], irrcac: tuple[Path | None, str],
             limits: tuple[float, float]) -> CaseResults:  # fmt: skip
    """Every tool of ``case``, each in its own process, one after the other.

    ``limits`` = (timeout per process, longest wait for a quiet machine), in seconds.
    """
    out: CaseResults = {}
    error: str | None
    for tool in case.tools:
        print(f"  case {case.number} {tool.label} ...", end="", file=sys.stderr, flush=True)
        if tool.factory is None and irrcac[0] is None:
            payload, error = None, f"irrCAC unavailable: {irrcac[1]}"
        else:
            load_before = wait_for_quiet(limits[1]) if limits[1] > 0 else None
            command = _command(case, tool.key, tool.factory is not None, opts, irrcac[0])
            payload, error = run_job(command, env, limits[0])
            if payload is not None:
                payload["load_before"] = load_before
        out[tool.key] = JobResult(case.key, tool.key, tool.label, tool.side, payload, error)
        shown = f"{payload['time_s']:.3g} s" if payload else f"FAILED: {error}"
        print(f" {shown}", file=sys.stderr, flush=True)
    return out


def run_all(cases: list[Case], quick: bool, env: dict[str, str], limits: tuple[float, float],
            irrcac: tuple[Path | None, str]) -> dict[str, CaseResults]:  # fmt: skip
    """Run the cases; case 8's ratings go to a temporary .npy shared by both venvs."""
    results: dict[str, CaseResults] = {}
    with tempfile.TemporaryDirectory(prefix="labelaudit-bench-") as tmp:
        for case in cases:
            opts = Options(quick=quick)
            if case.needs_data_file:
                path = Path(tmp) / f"{case.key}.npy"
                np.save(path, irrcac_matrix(opts))
                opts = Options(quick=quick, data=path)
            print(f"case {case.number}: {case.title} ({case.describe(quick)})", file=sys.stderr)
            results[case.key] = run_case(case, opts, env, irrcac, limits)
    return results


# --------------------------------------------------------------------------- output
def _dump(path: Path, meta: dict[str, Any], results: dict[str, CaseResults]) -> None:
    jobs = [asdict(job) for got in results.values() for job in got.values()]
    path.write_text(json.dumps({"meta": meta, "jobs": jobs}, indent=1) + "\n", encoding="utf-8")


def _load(path: Path) -> tuple[dict[str, Any], dict[str, CaseResults]]:
    dump = json.loads(path.read_text(encoding="utf-8"))
    results: dict[str, CaseResults] = {}
    for job in dump["jobs"]:
        results.setdefault(job["case"], {})[job["tool"]] = JobResult(**job)
    return dump["meta"], results


def _command_line(argv: list[str] | None) -> str:
    args = sys.argv[1:] if argv is None else argv
    return " ".join([".venv/bin/python benchmarks/run_all.py", *args])


def _wants_e2e(only: list[str]) -> tuple[bool, list[str]]:
    """(run the end-to-end case?, the other --only names)."""
    names = [w.strip() for item in only for w in item.split(",") if w.strip()]
    rest = [name for name in names if name != "e2e"]
    return not names or "e2e" in names, rest


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    e2e, only = _wants_e2e(args.only)
    cases = select_cases(only) if only or not args.only else []
    env = bench_env(args.blas_threads)
    if args.render is not None:
        meta, results = _load(args.render)
        cases = [c for c in CASES if c.key in results]
    else:
        irrcac = ensure_irrcac(env) if any(c.key == "irrcac" for c in cases) else (None, "")
        limits = (args.timeout, args.max_wait)
        results = run_all(cases, args.quick, env, limits, irrcac)
        meta = collect_meta(env, irrcac, _command_line(argv), args.quick, results)
        meta["blas_threads"] = args.blas_threads
    tables = render_tables(cases, results, bool(meta["quick"])) if cases else ""
    if e2e and args.render is None:
        items = 20_000 if args.quick else 1_000_000
        section = bench_e2e.run(items, repeat=1 if args.quick else 3)
        tables = f"{tables}\n\n{bench_e2e.MARK_START}\n{section}\n{bench_e2e.MARK_END}".strip()
    print(tables)
    if args.json is not None:
        _dump(args.json, meta, results)
    full = not args.only and not args.quick
    out = args.out if args.out is not None else (DEFAULT_DOC if full else None)
    if out is not None:
        out.write_text(render_page(meta, tables), encoding="utf-8")
        print(f"\nwrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
