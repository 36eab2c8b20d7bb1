"""docs/benchmarks.md: the machine, the versions, the protocol and the measured tables."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from report import CaseResults

PROJECT_PACKAGES = (
    "labelaudit", "numpy", "scipy", "pandas", "krippendorff", "statsmodels", "scikit-learn",
    "pingouin",
)  # fmt: skip
_BLAS_PROBE = (
    "import numpy, threadpoolctl; "
    "print(', '.join(f\"{i['internal_api']} {i.get('version')} {i.get('architecture')} "
    "({i['num_threads']} threads)\" for i in threadpoolctl.threadpool_info()))"
)


def _first(path: str, prefix: str) -> str:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return "unknown"
    return next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith(prefix)), "unknown")


def _ram_gib() -> str:
    total = _first("/proc/meminfo", "MemTotal")
    return f"{int(total.split()[0]) / 1024**2:.1f} GiB" if total != "unknown" else total


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _blas(env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", _BLAS_PROBE], capture_output=True, text=True,
                          env=env, check=False)  # fmt: skip
    return done.stdout.strip() or "unknown"


def _irrcac_info(results: dict[str, CaseResults]) -> dict[str, Any]:
    for job in results.get("irrcac", {}).values():
        if job.side == "peer" and job.payload is not None:
            info: dict[str, Any] = job.payload["info"]
            return info
    return {}


def collect_meta(env: dict[str, str], irrcac: tuple[Path | None, str], command: str,
                 quick: bool, results: dict[str, CaseResults]) -> dict[str, Any]:  # fmt: skip
    """Date, machine, versions and how the run was made."""
    info = _irrcac_info(results)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _first("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "ram": _ram_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": {name: _version(name) for name in PROJECT_PACKAGES},
        "blas": _blas(env),
        "irrcac_status": irrcac[1],
        "irrcac_versions": info.get("versions", {}),
        "irrcac_blas": info.get("blas", ""),
        "command": command,
        "quick": quick,
    }


def _machine(meta: dict[str, Any]) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    irr = meta["irrcac_versions"]
    irr_line = (
        ", ".join(f"{k} {v}" for k, v in irr.items()) + f"; BLAS: {meta['irrcac_blas']}"
        if irr
        else f"not available: {meta['irrcac_status'] or 'case not run'}"
    )
    return "\n".join(
        [
            f"- Date: {meta['date']}",
            f"- Machine: {meta['cpu']}, {meta['cores']} cores, {meta['ram']} RAM, {meta['os']}",
            f"- Python {meta['python']} (project venv): {versions}",
            f"- BLAS in the benchmark processes: {meta['blas']}; "
            f"OPENBLAS_NUM_THREADS: {meta.get('blas_threads') or 'not set (default)'}",
            f"- irrCAC venv (`benchmarks/.venv-irrcac`, Python 3.11): {irr_line}",
            f"- Command: `{meta['command']}` (`make bench` runs the same without arguments)",
        ]
    )


PROTOCOL = """\
- Peer and labelaudit get the same in-memory input: the units x raters matrix (NaN =
  missing; the peer gets its own layout, e.g. raters x units for `krippendorff`, built
  before timing), or the two label vectors for Cohen's kappa. labelaudit's timed call
  includes turning that matrix into its long arrays and item x category counts
  (`np.bincount(item_codes * q + label_codes)`).
- Each (case, tool) runs in its own process (`benchmarks/worker.py`, or
  `benchmarks/irrcac_case.py` in the irrCAC venv), started with `OPENBLAS_CORETYPE` and
  `OPENBLAS_L2_SIZE` unset (only there; tests and CI keep them).
- Time: median wall time of 5 calls after 1 warm-up call, unless the cell says otherwise.
- Memory (ΔRSS): data generated and libraries imported, then the kernel's peak-RSS counter
  is reset (`/proc/self/clear_refs` = 5) and VmHWM is read before and after the warm-up
  and timed calls; the increase is reported in MB (10^6 bytes). For the CLI case the
  number is the peak RSS of the `labelaudit --help` process itself.
- Speed-up = peer time / labelaudit time; memory ratio = peer ΔRSS / labelaudit ΔRSS.
- Values: each case compares labelaudit's numbers with the peer's (abs diff <= 1e-9); with
  no peer (1M continuous values) with an independent numpy closed form.
- Data: a latent true category per item; each rater is right with p = 0.7, else a uniform
  random category (5 categories); 10% of the cells missing completely at random where
  the case says so; continuous scores = latent N(0, 1) + N(0, 0.1^2) with p = 0.7, else
  U(-3, 3) (no ties). Fixed seeds (`benchmarks/cases.py`).
"""

NOTES = """\
- Fleiss (case 3): `chance_corrected` returns percent agreement, Fleiss' kappa, Gwet's AC1
  and Brennan-Prediger, each with Gwet's linearisation SE, t-based CI and p-value, in the
  timed call; statsmodels returns Fleiss' kappa only.
- Cohen (case 4): `cohen_kappa` also computes the large-sample SE, the SE under H0, z, p
  and the CI; sklearn returns the point value only.
- ICC (case 5): when pingouin's warm-up call takes more than 10 s (pingouin 0.6.x needs
  about a minute at this size), it gets 1 timed call instead of 5, and the cell says so;
  labelaudit always gets the median of 5. Both return the six forms with F tests and
  CIs. The six values and F statistics are compared. The >= 50x target was set against
  pingouin 0.6.1 (the research notes: 61-104 s). Measured once outside the runner on
  2026-11-28, on the same data in a Python 3.11 venv with numpy 1.26.4 and scipy 1.12.0,
  `worker.py icc peer` gave 59.6 s (1 warm + 1 timed) and 1168 MB ΔRSS. pingouin 0.7.0,
  which this venv has, is about 300x faster than that.
- Bootstrap (case 6): no peer offers a bootstrap of alpha. The peer row is a naive loop
  of `krippendorff.alpha` over resampled units: 20 replicates timed, multiplied by
  (replicates / 20) - an extrapolation. The value check recomputes labelaudit's first
  replicate with `krippendorff.alpha` on the explicitly resampled matrix.
- irrCAC (case 8): `CAC(df, digits=12)` rounds its outputs to 12 decimals, so differences
  up to 5e-13 are rounding. Each irrCAC call includes the `CAC` constructor; labelaudit's
  `chance_corrected` row is one call that yields AC1, Fleiss and Brennan-Prediger (and
  percent agreement) together, so the same time appears in three rows.
- The machine is shared (2 cores). Before each process the runner waits, up to
  `--max-wait` seconds, until other processes use less than 25% of the CPUs. It marks a
  time with † if they used more than 20% while it ran. Multi-threaded OpenBLAS calls on
  skinny matrices (n x q @ q x q) slow down by 10-25x when another process holds a core,
  so a † time may be far off. Compare ratios within one run rather than absolute seconds.
"""


def render_page(meta: dict[str, Any], tables: str) -> str:
    """The whole Markdown page."""
    quick = "\n**Quick run: reduced sizes, not the target sizes.**\n" if meta["quick"] else ""
    return "\n".join(
        [
            "# Benchmarks: agreement metrics",
            "",
            "Generated by `benchmarks/run_all.py`; do not edit by hand (re-run it instead).",
            "How to run and what each case measures: `benchmarks/README.md`.",
            quick,
            "## Run",
            "",
            _machine(meta),
            "",
            "## Results",
            "",
            tables,
            "",
            "## Protocol",
            "",
            PROTOCOL,
            "## Notes",
            "",
            NOTES,
        ]
    )
