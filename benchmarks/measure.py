"""Timing and peak-memory measurement inside one benchmark process (stdlib only).

Imported by ``worker.py`` (project venv) and by ``irrcac_case.py`` (the irrCAC venv), so it
must not import numpy or labelaudit.

Protocol: the caller builds its data and imports its libraries first; ``measure`` then
resets the kernel's peak-RSS counter (``/proc/self/clear_refs`` = 5), reads VmHWM as the
baseline, makes the warm-up call(s) and the timed calls, and reads VmHWM again. The memory
figure is the peak RSS increase over the loaded-data baseline, over warm-up and timed calls.
"""

from __future__ import annotations

import gc
import os
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "Measurement",
    "children_cpu_s",
    "cpu_busy_s",
    "kb_to_mb",
    "measure",
    "peak_rss_kb",
    "reset_peak_rss",
]

_STATUS = "/proc/self/status"


@dataclass(frozen=True)
class Measurement:
    """Median and raw wall times (s) and the peak RSS increase (MB = 10^6 bytes)."""

    median_s: float
    times_s: list[float]
    n_warm: int
    n_timed: int
    baseline_mb: float
    peak_increase_mb: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return asdict(self)


def _status_kb(field: str) -> int:
    with open(_STATUS, encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not found in {_STATUS}")


def peak_rss_kb() -> int:
    """VmHWM of this process in kB (KiB)."""
    return _status_kb("VmHWM")


def reset_peak_rss() -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
        handle.write("5")


def kb_to_mb(kb: float) -> float:
    """KiB to MB (10^6 bytes)."""
    return kb * 1024.0 / 1e6


def measure(
    run: Callable[[], Any], *, n_warm: int = 1, n_timed: int = 5, slow_s: float | None = None
) -> tuple[Measurement, Any]:
    """Time ``run`` ``n_timed`` times after ``n_warm`` warm-up calls; return the last result.

    With ``slow_s``, a warm-up call slower than that many seconds leaves a single timed
    call. The previous result is released before each call so that it does not count
    towards the next call's peak.
    """
    gc.collect()
    reset_peak_rss()
    baseline = peak_rss_kb()
    result: Any = None
    for _ in range(n_warm):
        result = None
        start = time.perf_counter()
        result = run()
        if slow_s is not None and time.perf_counter() - start > slow_s:
            n_timed = 1
    times: list[float] = []
    for _ in range(n_timed):
        result = None
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    increase = peak_rss_kb() - baseline
    measurement = Measurement(
        median_s=statistics.median(times),
        times_s=times,
        n_warm=n_warm,
        n_timed=n_timed,
        baseline_mb=kb_to_mb(baseline),
        peak_increase_mb=kb_to_mb(increase),
    )
    return measurement, result


def cpu_busy_s() -> float:
    """CPU seconds spent busy by the whole machine since boot, all cores (``/proc/stat``)."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> float:
    """User + system CPU seconds of this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
