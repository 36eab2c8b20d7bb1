"""End to end: ``labelaudit agreement FILE --format json`` against a user's plain pandas path.

Target (issue 15): on 1,000,000 items x 5 annotators (4.5M rows, string ids, 10% missing),
the default command (analytic CIs, every diagnostic, JSON on stdout) runs at least 2x
faster than ``pandas.read_parquet`` + ``pivot`` + ``krippendorff.alpha`` as a process,
with lower peak memory; the same for CSV against ``pandas.read_csv`` + the same path.
``labelaudit ingest`` of the Parquet file into a fresh project takes at most 1.5x the
command's time; ``labelaudit --help`` and the command on a 10-row file take under 0.5 s.

Every path is a fresh process (``python -c`` or the console script) started one after the
other, in the same run; time = wall time of the process, memory = its peak resident set
size (``ru_maxrss`` from ``os.wait4``, so it includes the interpreter and the imports).
Each path runs once untimed (compiling its bytecode), then ``--repeat`` times (default 3)
and the best time is kept (its peak RSS is the largest seen); other processes' share of
the CPUs during the run is printed beside it. The ingest and the command it is held
against run in alternation, at least five pairs (:func:`ingest_pairs`). Every process,
peer included, runs with
``OPENBLAS_NUM_THREADS=1`` and bytecode (see :func:`child_environment`).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_e2e.py                  # 1M items; prints the table
    .venv/bin/python benchmarks/bench_e2e.py --items 20000    # a smoke run
    .venv/bin/python benchmarks/bench_e2e.py --out docs/benchmarks.md   # also record it

``run_all.py`` runs it as case ``e2e`` and puts its table in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from measure import cpu_busy_s

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MARK_START, MARK_END = "<!-- e2e:start -->", "<!-- e2e:end -->"

PEER = """
import sys, time
import krippendorff, pandas as pd
path, kind = sys.argv[1], sys.argv[2]
frame = pd.read_parquet(path) if kind == "parquet" else pd.read_csv(
    path, dtype={"item": str, "annotator": str})
matrix = frame.pivot(index="annotator", columns="item", values="label")
value = krippendorff.alpha(reliability_data=matrix.to_numpy(dtype=float),
                           level_of_measurement="nominal")
print(repr(float(value)))
"""


@dataclass
class Timing:
    """Best wall time (s) and least CPU time (user + system, s) of the runs, largest peak
    RSS (MB) and the others' CPU share."""

    label: str
    best_s: float
    peak_mb: float
    other_load: float
    output: str
    cpu_s: float
    #: ingest / command wall ratio of each alternating pair (:func:`ingest_pairs`)
    pair_ratios: tuple[float, ...] = ()


def generate(directory: Path, n_items: int, seed: int = 15) -> dict[str, Path]:
    """The long table as Parquet and CSV, plus a 10-row CSV: ``{"parquet", "csv", "tiny"}``.

    Each item has a latent category (5); each of 5 annotators gives it with p = 0.7, else a
    uniform one; 10% of the (item, annotator) cells are missing at random. Item ids are
    strings ``item-<n>`` in random row order, annotators ``annotator-<k>``, labels 0..4.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    n_annotators, q = 5, 5
    truth = rng.integers(0, q, n_items)
    right = rng.random((n_items, n_annotators)) < 0.7
    labels = np.where(right, truth[:, None], rng.integers(0, q, (n_items, n_annotators)))
    present = rng.random((n_items, n_annotators)) >= 0.1
    item_index, annotator_index = np.nonzero(present)
    order = rng.permutation(item_index.size)
    item_index, annotator_index = item_index[order], annotator_index[order]
    item_names = pa.array(np.char.add("item-", np.arange(n_items).astype(str)))
    table = pa.table(
        {
            "item": item_names.take(pa.array(item_index)),
            "annotator": pa.array(np.char.add("annotator-", annotator_index.astype(str))),
            "label": pa.array(labels[item_index, annotator_index].astype(np.int64)),
        }
    )
    paths = {kind: directory / f"e2e.{kind}" for kind in ("parquet", "csv")}
    pq.write_table(table, paths["parquet"])
    pacsv.write_csv(table, paths["csv"])
    paths["tiny"] = directory / "tiny.csv"
    pacsv.write_csv(table.slice(0, 10), paths["tiny"])
    return paths


def child_environment(work: Path) -> dict[str, str]:
    """The environment of every measured process, the same for labelaudit and the peer:
    one BLAS thread (as ``make bench`` sets it; idle OpenBLAS threads otherwise spin on
    the shared cores) and compiled bytecode kept in ``work`` (a machine that sets
    ``PYTHONDONTWRITEBYTECODE`` would otherwise recompile every module on every run,
    which an installed package never does)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(OPENBLAS_NUM_THREADS="1", PYTHONPYCACHEPREFIX=str(work / "pycache"))
    return env


def timed(command: list[str], cwd: Path) -> tuple[float, float, str, float]:
    """(wall s, peak RSS MB, stdout, CPU s) of one child process (``os.wait4`` gives its
    own peak RSS and CPU time); raises on a non-zero exit."""
    start = time.perf_counter()
    env = child_environment(cwd)
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        child = subprocess.Popen(command, cwd=cwd, stdout=out_file, stderr=err_file, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read().decode(), err_file.read().decode(errors="replace")
    if child.returncode != 0:
        tail = err.strip().splitlines()[-3:]
        raise RuntimeError(f"{' '.join(command)} exited {child.returncode}: {tail}")
    return wall, usage.ru_maxrss * 1024 / 1e6, out, usage.ru_utime + usage.ru_stime


def best_of(
    label: str, command: list[str], cwd: Path, repeat: int, fresh: Path | None = None
) -> Timing:
    """Run ``command`` ``repeat`` times; ``fresh`` is a directory deleted before each run."""
    best, peak, output, cpu = float("inf"), 0.0, "", float("inf")
    busy, own, start = cpu_busy_s(), _children_cpu(), time.monotonic()
    for _ in range(repeat):
        if fresh is not None:
            shutil.rmtree(fresh, ignore_errors=True)
            _init_project(fresh)
        wall, rss, output, used = timed(command, cwd)
        best, peak, cpu = min(best, wall), max(peak, rss), min(cpu, used)
    wall_all = max(time.monotonic() - start, 1e-9)
    foreign = (cpu_busy_s() - busy) - (_children_cpu() - own)
    load = max(0.0, foreign) / (wall_all * (os.cpu_count() or 1))
    print(f"  {label}: {best:.2f} s, CPU {cpu:.2f} s, {peak:.0f} MB (others {load:.0%})",
          file=sys.stderr)  # fmt: skip
    return Timing(label, best, peak, load, output, cpu)


def _children_cpu() -> float:
    usage = os.times()
    return usage.children_user + usage.children_system


def _init_project(directory: Path) -> None:
    subprocess.run([str(BIN / "labelaudit"), "init", str(directory)], check=True,
                   capture_output=True, env=child_environment(directory.parent))  # fmt: skip


def measure_all(paths: dict[str, Path], repeat: int, work: Path) -> dict[str, Timing]:
    """Every path, one process at a time, in one run."""
    cli, python = str(BIN / "labelaudit"), sys.executable
    runs = {
        "help": ([cli, "--help"], None),
        "tiny": ([cli, "agreement", str(paths["tiny"]), "--format", "json"], None),
        "la_parquet": ([cli, "agreement", str(paths["parquet"]), "--format", "json"], None),
        "peer_parquet": ([python, "-c", PEER, str(paths["parquet"]), "parquet"], None),
        "la_csv": ([cli, "agreement", str(paths["csv"]), "--format", "json"], None),
        "peer_csv": ([python, "-c", PEER, str(paths["csv"]), "csv"], None),
    }
    project = work / "project"
    ingest = [cli, "ingest", str(paths["parquet"]), "--project", str(project), "--batch", "b1"]
    for command, _ in runs.values():  # compile each path's bytecode once, untimed
        timed(command, work)
    out = {key: best_of(key, command, work, repeat) for key, (command, _) in runs.items()}
    agreement = runs["la_parquet"][0]
    out["ingest"], out["ingest_command"], ratios = ingest_pairs(
        ingest, agreement, project, work, max(repeat, PAIRS)
    )
    out["ingest"] = replace(out["ingest"], pair_ratios=tuple(ratios))
    return out


def _best(label: str, runs: list[tuple[float, float, float]], load: float) -> Timing:
    """Best wall, largest peak RSS and least CPU of (wall, rss, cpu) runs."""
    walls, peaks, cpus = zip(*runs, strict=True)
    return Timing(label, min(walls), max(peaks), load, "", min(cpus))


#: Alternating (command, ingest) pairs behind the ingest ratio (at least this many).
PAIRS = 5


def ingest_pairs(
    ingest: list[str], command: list[str], project: Path, work: Path, pairs: int
) -> tuple[Timing, Timing, list[float]]:
    """The ingest and the command it is compared with, run in alternation (command, then
    ingest into a fresh project, ``pairs`` times): both see the same state of the machine,
    which drifts over a run of minutes on a shared host. Returns their best timings and
    the ingest / command wall ratio of each pair."""
    walls: dict[str, list[tuple[float, float, float]]] = {"command": [], "ingest": []}
    busy, own, start = cpu_busy_s(), _children_cpu(), time.monotonic()
    for _ in range(pairs):
        wall, rss, _, cpu = timed(command, work)
        walls["command"].append((wall, rss, cpu))
        shutil.rmtree(project, ignore_errors=True)
        _init_project(project)
        wall, rss, _, cpu = timed(ingest, work)
        walls["ingest"].append((wall, rss, cpu))
    wall_all = max(time.monotonic() - start, 1e-9)
    foreign = (cpu_busy_s() - busy) - (_children_cpu() - own)
    load = max(0.0, foreign) / (wall_all * (os.cpu_count() or 1))
    best = {key: _best(key, runs, load) for key, runs in walls.items()}
    ratios = [i[0] / c[0] for c, i in zip(walls["command"], walls["ingest"], strict=True)]
    print(f"  ingest pairs: ratios {', '.join(f'{r:.2f}' for r in ratios)} (others {load:.0%})",
          file=sys.stderr)  # fmt: skip
    return best["ingest"], best["command"], ratios


def check_values(timings: dict[str, Timing]) -> list[str]:
    """Alpha from labelaudit's JSON equals the peer's (to 1e-9) for both inputs."""
    lines = []
    for kind in ("parquet", "csv"):
        ours = json.loads(timings[f"la_{kind}"].output)["metrics"]["krippendorff_alpha"]["value"]
        peer = float(timings[f"peer_{kind}"].output.strip().splitlines()[-1])
        diff = abs(ours - peer)
        lines.append(f"{kind}: alpha labelaudit {ours:.12f}, peer {peer:.12f}, diff {diff:.1e}")
        if diff > 1e-9:
            raise SystemExit(f"values differ: {lines[-1]}")
    return lines


def render(timings: dict[str, Timing], n_items: int, n_rows: int, repeat: int) -> str:
    """The Markdown section (time, peak RSS, ratios, targets)."""
    t = timings

    def row(label: str, peer: str, ours: str, target: str) -> str:
        a, b = t[peer], t[ours]
        speed, memory = a.best_s / b.best_s, a.peak_mb / b.peak_mb
        load = max(a.other_load, b.other_load)
        cells = (f"{a.best_s:.2f} s ({a.cpu_s:.2f} s)", f"{a.peak_mb:.0f}",
                 f"{b.best_s:.2f} s ({b.cpu_s:.2f} s)", f"{b.peak_mb:.0f}", f"{speed:.2f}x",
                 f"{a.cpu_s / b.cpu_s:.2f}x", f"{memory:.2f}x", target, f"{load:.0%}")  # fmt: skip
        return f"| {label} | " + " | ".join(cells) + " |"

    paired = t["ingest_command"]
    ratio = t["ingest"].best_s / paired.best_s
    cpu_ratio = t["ingest"].cpu_s / paired.cpu_s
    pair_ratios = t["ingest"].pair_ratios
    median = statistics.median(pair_ratios)
    return "\n".join(
        [
            f"### End to end: the command as a process ({n_items:,} items x 5 annotators, "
            f"{n_rows:,} rows, string ids, 10% missing)",
            "",
            run_facts(),
            "",
            "| input | peer path (pandas + pivot + krippendorff.alpha): wall (CPU) "
            "| peer peak RSS MB | `labelaudit agreement FILE --format json`: wall (CPU) "
            "| labelaudit peak RSS MB | speed-up (wall) | CPU ratio | memory ratio | target "
            "| others' CPU share |",
            "|---|---|---|---|---|---|---|---|---|---|",
            row("Parquet", "peer_parquet", "la_parquet", ">= 2x faster, less memory"),
            row("CSV", "peer_csv", "la_csv", ">= 2x faster, less memory"),
            "",
            "| other path | wall (CPU) | peak RSS MB | target | others' CPU share |",
            "|---|---|---|---|---|",
            f"| `labelaudit ingest` of the Parquet file (fresh project) | "
            f"{t['ingest'].best_s:.2f} s ({t['ingest'].cpu_s:.2f} s); {ratio:.2f}x the "
            f"command's best wall in the same {len(pair_ratios)} alternating pairs "
            f"({paired.best_s:.2f} s), {cpu_ratio:.2f}x its CPU; median pair "
            f"{median:.2f}x | {t['ingest'].peak_mb:.0f} "
            f"| <= 1.5x the command | {t['ingest'].other_load:.0%} |",
            f"| `labelaudit --help` | {t['help'].best_s:.3f} s ({t['help'].cpu_s:.2f} s) | "
            f"{t['help'].peak_mb:.0f} | < 0.5 s | {t['help'].other_load:.0%} |",
            f"| `labelaudit agreement` on a 10-row CSV | {t['tiny'].best_s:.3f} s "
            f"({t['tiny'].cpu_s:.2f} s) | {t['tiny'].peak_mb:.0f} | < 0.5 s "
            f"| {t['tiny'].other_load:.0%} |",
            "",
            "The ingest ratio compares runs made in alternation (the command, then the "
            "ingest into a fresh project, in pairs), so that both meet the same state of "
            "a shared machine.",
            "",
            f"Best of {repeat} runs per path (wall time of the process, including interpreter "
            "start-up and imports; CPU = the least user + system time of the runs, which "
            "other processes on the machine disturb less than wall time); peak RSS = the "
            "process's `ru_maxrss` (largest of the runs). Each path ran once untimed first; "
            "every process (the peer's too) ran with `OPENBLAS_NUM_THREADS=1` and compiled "
            "bytecode. labelaudit's JSON has every default output: the eight coefficients "
            "with analytic SEs and CIs, pairwise, per-category, confusion and worst-item "
            "diagnostics and the content SHA-256; the peer computes nominal alpha only. "
            "Generated by `benchmarks/bench_e2e.py` (seed 15); the alpha values agree to 1e-9.",
        ]
    )


def run_facts() -> str:
    """Date, machine and versions of this run (stdlib only: the runner stays lean)."""
    import platform
    from datetime import UTC, datetime
    from importlib import metadata

    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), "unknown")  # fmt: skip
    names = ("labelaudit", "numpy", "pyarrow", "scipy", "pandas", "krippendorff", "duckdb")
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in names)
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"Run {date} on {cpu}, {os.cpu_count()} cores, {platform.system()} "
            f"{platform.release()}; Python {platform.python_version()}: {versions}. "
            f"Load average at the end: {load}.")  # fmt: skip


def record(section: str, path: Path) -> None:
    """Put ``section`` between the e2e markers of ``path`` (appended when absent)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"{MARK_START}\n{section}\n{MARK_END}"
    if MARK_START in text and MARK_END in text:
        head, rest = text.split(MARK_START, 1)
        text = head + block + rest.split(MARK_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def generate_in_child(directory: Path, n_items: int) -> tuple[dict[str, Path], int]:
    """:func:`generate` in a child process, so that this runner never imports numpy or
    pyarrow: a forked child's ``ru_maxrss`` can start from its parent's resident size."""
    done = subprocess.run([sys.executable, __file__, "--generate", str(directory), str(n_items)],
                          check=True, capture_output=True, text=True)  # fmt: skip
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return {k: Path(v) for k, v in found["paths"].items()}, int(found["n_rows"])


def run(n_items: int, repeat: int) -> str:
    """Generate, measure and check; returns the Markdown section."""
    with tempfile.TemporaryDirectory(prefix="labelaudit-e2e-") as tmp:
        work = Path(tmp)
        print(f"e2e: generating {n_items:,} items ...", file=sys.stderr)
        paths, n_rows = generate_in_child(work, n_items)
        timings = measure_all(paths, repeat, work)
        for line in check_values(timings):
            print(f"  {line}", file=sys.stderr)
    return render(timings, n_items, n_rows, repeat)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None, help="record the table in this file")
    parser.add_argument("--generate", nargs=2, metavar=("DIR", "ITEMS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate:
        import pyarrow.parquet as pq

        paths = generate(Path(args.generate[0]), int(args.generate[1]))
        n_rows = pq.ParquetFile(paths["parquet"]).metadata.num_rows
        print(json.dumps({"paths": {k: str(v) for k, v in paths.items()}, "n_rows": n_rows}))
        return 0
    section = run(args.items, args.repeat)
    print(section)
    if args.out is not None:
        record(section, args.out)
        print(f"\nwrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
