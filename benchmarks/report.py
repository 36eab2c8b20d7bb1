"""Tables of a benchmark run: timings side by side, value checks and targets (Markdown)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cases import Case

TOLERANCE = 1e-9
EM_DASH = "—"
BUSY_LOAD = 0.2  # share of all cores used by other processes that flags a measurement
BUSY_MARK = " †"


@dataclass(frozen=True)
class JobResult:
    """The outcome of one (case, tool) process: its JSON payload or an error."""

    case: str
    tool: str
    label: str
    side: str
    payload: dict[str, Any] | None
    error: str | None = None

    @property
    def time_s(self) -> float | None:
        """Median wall time (extrapolated when the bench says so)."""
        return None if self.payload is None else float(self.payload["time_s"])

    @property
    def memory_mb(self) -> float | None:
        """Peak RSS increase in MB (peak RSS of the child processes for the CLI case)."""
        return None if self.payload is None else float(self.payload["memory_mb"])

    @property
    def values(self) -> dict[str, float]:
        """Numbers to compare across tools."""
        return {} if self.payload is None else dict(self.payload["values"])


CaseResults = dict[str, JobResult]


@dataclass(frozen=True)
class Comparison:
    """One checked number: labelaudit's against the peer's (or an independent reference)."""

    case: Case
    quantity: str
    reference_label: str
    reference: float
    ours: float

    @property
    def diff(self) -> float:
        """Absolute difference."""
        return abs(self.ours - self.reference)

    @property
    def ok(self) -> bool:
        """Within :data:`TOLERANCE`."""
        return self.diff <= TOLERANCE


# --------------------------------------------------------------------------- formatting
def md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A GitHub Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def fmt_seconds(seconds: float) -> str:
    """3 significant digits, in seconds."""
    return f"{seconds:.3g} s"


def fmt_ratio(value: float | None) -> str:
    """``12.3x``; a dash when undefined."""
    if value is None:
        return EM_DASH
    return f"{value:.0f}x" if value >= 100 else f"{value:.1f}x"


def _time_cell(job: JobResult | None) -> str:
    if job is None:
        return EM_DASH
    if job.payload is None:
        return f"failed: {job.error}"
    m = job.payload["measurement"]
    cell = fmt_seconds(float(job.payload["time_s"]))
    if m["n_warm"] != 1 or m["n_timed"] != 5:
        cell += f" ({m['n_warm']} warm + {m['n_timed']} timed)"
    if job.payload["scale"] != 1.0:
        cell += f" (extrapolated x{job.payload['scale']:g} from {fmt_seconds(m['median_s'])})"
    if (job.payload.get("other_load") or 0.0) > BUSY_LOAD:
        cell += BUSY_MARK
    return cell


def _memory_cell(job: JobResult | None) -> str:
    if job is None or job.payload is None:
        return EM_DASH
    cell = f"{float(job.payload['memory_mb']):.1f}"
    return (
        cell + " (peak RSS of the CLI process)"
        if job.payload["memory_kind"] != "increase"
        else cell
    )


def _time(job: JobResult | None) -> float | None:
    return None if job is None else job.time_s


def _mem(job: JobResult | None) -> float | None:
    return None if job is None else job.memory_mb


def ratio(peer: float | None, ours: float | None, floor: float = 0.0) -> float | None:
    """peer / ours; None when either is missing or ours is at most ``floor``."""
    if peer is None or ours is None or ours <= floor:
        return None
    return peer / ours


# --------------------------------------------------------------------------- main table
MAIN_HEADER = (
    "#", "case (input)", "peer", "peer time", "peer ΔRSS MB", "labelaudit",
    "labelaudit time", "labelaudit ΔRSS MB", "speed-up", "memory ratio",
)  # fmt: skip


def _row(case: Case, peer: JobResult | None, ours: JobResult | None, quick: bool) -> list[str]:
    speed = ratio(_time(peer), _time(ours))
    memory = ratio(_mem(peer), _mem(ours), floor=1.0)
    return [
        case.number,
        f"{case.title} ({case.describe(quick)})",
        peer.label if peer else EM_DASH,
        _time_cell(peer),
        _memory_cell(peer),
        ours.label if ours else EM_DASH,
        _time_cell(ours),
        _memory_cell(ours),
        fmt_ratio(speed),
        fmt_ratio(memory),
    ]


def main_rows(
    cases: Sequence[Case], results: dict[str, CaseResults], quick: bool
) -> list[list[str]]:
    """One row per (peer, labelaudit) pair, or per labelaudit tool when there is no peer."""
    rows: list[list[str]] = []
    for case in cases:
        got = results.get(case.key, {})
        if case.pairs:
            rows += [_row(case, got.get(p), got.get(o), quick) for p, o in case.pairs]
        else:
            rows += [_row(case, None, job, quick) for job in got.values() if job.side == "ours"]
    return rows


# --------------------------------------------------------------------------- value checks
def _merged(got: CaseResults, side: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for job in got.values():
        if job.side == side:
            out |= job.values
    return out


def _peer_label(got: CaseResults) -> str:
    labels = [job.label for job in got.values() if job.side == "peer"]
    return labels[0].split(" (")[0] if len(labels) == 1 else "irrCAC (digits=12)"


def comparisons(case: Case, got: CaseResults) -> list[Comparison]:
    """labelaudit's numbers against the peer's, else against an independent reference."""
    peer, ours = _merged(got, "peer"), _merged(got, "ours")
    out: list[Comparison] = []
    for key, value in ours.items():
        if key.startswith("ref:"):
            continue
        if key in peer:
            out.append(Comparison(case, key, _peer_label(got), peer[key], value))
        elif "ref:" + key in ours:
            out.append(Comparison(case, key, "numpy closed form", ours["ref:" + key], value))
    return out


def check_rows(checks: Sequence[Comparison]) -> list[list[str]]:
    """Rows of the value-check table."""
    return [
        [c.case.number, c.quantity, c.reference_label, f"{c.reference:.15g}", f"{c.ours:.15g}",
         f"{c.diff:.1e}", "yes" if c.ok else "**no**"]
        for c in checks
    ]  # fmt: skip


CHECK_HEADER = ("#", "quantity", "compared with", "reference", "labelaudit", "abs diff", "<= 1e-9")


# --------------------------------------------------------------------------- targets
Evaluation = tuple[str, bool | None]


def _speed(got: CaseResults, minimum: float, peer: str = "peer", ours: str = "ours") -> Evaluation:
    p, o = got.get(peer), got.get(ours)
    value = ratio(_time(p), _time(o))
    if value is None:
        return "not measured", None
    return f"{value:.1f}x", value >= minimum


def _speed_memory(got: CaseResults, speed: float, memory: float) -> Evaluation:
    text, fast = _speed(got, speed)
    p, o = got.get("peer"), got.get("ours")
    value = ratio(_mem(p), _mem(o))
    if value is None or fast is None:
        return text + ", memory not measured", None
    assert p is not None and o is not None
    memo = f"{o.memory_mb:.0f} vs {p.memory_mb:.0f} MB ({value:.1f}x less)"
    return f"{text} faster; {memo}", fast and value >= memory


def _absolute(got: CaseResults, seconds: float, megabytes: float | None = None) -> Evaluation:
    job = got.get("ours")
    if job is None or job.time_s is None or job.memory_mb is None:
        return "not measured", None
    met = job.time_s < seconds and (megabytes is None or job.memory_mb < megabytes)
    return f"{fmt_seconds(job.time_s)}, {job.memory_mb:.0f} MB", met


def _equal(case: Case, got: CaseResults) -> Evaluation:
    checks = comparisons(case, got)
    if not checks:
        return "not measured", None
    worst = max(c.diff for c in checks)
    return f"{len(checks)} number(s), max abs diff {worst:.1e}", all(c.ok for c in checks)


@dataclass(frozen=True)
class Target:
    """A case's target and how to read it off the results."""

    case: str
    text: str
    evaluate: Callable[[Case, CaseResults], Evaluation]


TARGETS: tuple[Target, ...] = (
    Target("alpha_nominal", ">= 3x faster, <= 1/2 of the peer's memory increase",
           lambda c, g: _speed_memory(g, 3.0, 2.0)),
    Target("alpha_interval", "< 2 s and < 500 MB", lambda c, g: _absolute(g, 2.0, 500.0)),
    Target("alpha_interval_small", "equal to the peer (1e-9)", _equal),
    Target("fleiss", ">= 3x faster", lambda c, g: _speed(g, 3.0)),
    Target("cohen", ">= 2x faster", lambda c, g: _speed(g, 2.0)),
    Target("icc", ">= 50x faster", lambda c, g: _speed(g, 50.0)),
    Target("bootstrap", "< 10 s", lambda c, g: _absolute(g, 10.0)),
    Target("cli", "median < 0.5 s", lambda c, g: _absolute(g, 0.5)),
    Target("irrcac", "values and SEs equal irrCAC's (1e-9)", _equal),
)  # fmt: skip


def target_rows(
    cases: Sequence[Case], results: dict[str, CaseResults], quick: bool = False
) -> list[list[str]]:
    """Rows of the target table for the cases that ran (quick sizes flagged)."""
    by_key = {case.key: case for case in cases}
    rows = []
    for target in TARGETS:
        case = by_key.get(target.case)
        if case is None:
            continue
        measured, met = target.evaluate(case, results.get(case.key, {}))
        verdict = EM_DASH if met is None else ("met" if met else "**not met**")
        verdict += " (quick sizes)" if quick and met is not None else ""
        rows.append([case.number, case.title, target.text, measured, verdict])
    return rows


TARGET_HEADER = ("#", "case", "target", "measured", "verdict")


def render_tables(cases: Sequence[Case], results: dict[str, CaseResults], quick: bool) -> str:
    """The three tables of a run as one Markdown block."""
    checks = [c for case in cases for c in comparisons(case, results.get(case.key, {}))]
    return "\n\n".join(
        [
            "### Time and memory\n\n"
            + md_table(MAIN_HEADER, main_rows(cases, results, quick))
            + f"\n\n{BUSY_MARK.strip()} = other processes used more than {BUSY_LOAD:.0%} of"
            " the machine's CPU time while this measurement ran.",
            "### Values: labelaudit against the peer\n\n"
            + md_table(CHECK_HEADER, check_rows(checks)),
            "### Targets\n\n" + md_table(TARGET_HEADER, target_rows(cases, results, quick)),
        ]
    )
