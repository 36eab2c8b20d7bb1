"""``check``: the quality gates of ``labelaudit.toml`` evaluated on one stored batch.

A gate ``metric op threshold`` reads the batch's stored headline value of ``metric``
(``batch_metrics``, any kind: ``krippendorff_alpha``, ``fleiss_kappa``,
``gold_error_rate``, ``mean_confidence``, ``adjudication_queue``, ``n_flagged``,
``max_group_gap`` with a ``[fairness]`` section, ...) or one
of two values computed from the control charts of the history up to that batch
(:mod:`labelaudit.project.history`):

- ``out_of_control``: the number of batch-level charts (agreement individuals, EWMA,
  CUSUM; gold error p-chart) that signal at the batch;
- ``drifting_annotators``: the number of annotators whose own agreement or gold-error
  chart signals at the batch.

Verdicts are ``pass``, ``fail`` or ``undefined`` (no value, with the stored reason); an
undefined value fails its gate unless the gate says ``allow_undefined = true``. Nothing is
recomputed from the annotations.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from labelaudit.exceptions import UsageError
from labelaudit.project.alert import AlertResult, post_json
from labelaudit.project.config import Gate, ProjectConfig
from labelaudit.project.history import load_history
from labelaudit.project.layout import Project
from labelaudit.project.store import BatchRecord, Store
from labelaudit.results import Displayable, clean_number

__all__ = [
    "CheckResult",
    "GateResult",
    "check_project",
    "check_store",
    "evaluate_gates",
    "gate_failed",
    "gate_failures",
    "render_check",
    "send_alert",
]

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}
#: Gate metrics computed from the control charts, not read from ``batch_metrics``.
CHART_METRICS = ("out_of_control", "drifting_annotators")
#: What the reason of an undefined value says when ``allow_undefined`` lets the gate pass.
ALLOWED_UNDEFINED = "allowed by allow_undefined"
#: Kinds searched for a plain metric name, in this order.
_KIND_ORDER = ("agreement", "consensus", "gold", "annotators", "fairness")


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict on one batch; ``value`` None = undefined (``reason`` says why)."""

    name: str
    metric: str
    op: str
    threshold: float
    value: float | None
    verdict: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """``{"name", "metric", "op", "threshold", "value", "verdict", "reason"}``."""
        out = dict(self.__dict__)
        out["value"] = clean_number(self.value)
        return out


@dataclass(frozen=True)
class CheckResult(Displayable):
    """All gates on one batch. ``to_dict()`` is the ``check --format json`` contract."""

    passed: bool
    batch: str
    gates: tuple[GateResult, ...]
    alert: AlertResult | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def exit_code(self) -> int:
        """0 when every gate passed, 1 otherwise."""
        return 0 if self.passed else 1

    def to_document(self) -> Any:
        """The verdict (which gates failed, by how much) and the gate table as a document."""
        from labelaudit.project.documents import check_document

        return check_document(self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        """``{"passed", "batch", "gates": [...], "notes": [...], "alert": {...} | null}``."""
        return {
            "passed": self.passed,
            "batch": self.batch,
            "gates": [gate.to_dict() for gate in self.gates],
            "notes": list(self.notes),
            "alert": self.alert.to_dict() if self.alert is not None else None,
        }


def evaluate_gates(
    gates: Sequence[Gate], values: dict[str, tuple[float | None, str | None]]
) -> list[GateResult]:
    """Compare each gate's metric with its threshold.

    Parameters
    ----------
    gates : sequence of Gate
    values : dict of str to (value, reason)
        The batch's values by metric name; None = undefined, with its reason.

    Returns
    -------
    list of GateResult
        ``pass`` / ``fail`` when the value is defined; ``undefined`` otherwise (which
        fails the gate unless ``allow_undefined``; the reason says so).
    """
    out = []
    for gate in gates:
        value, reason = values.get(gate.metric, (None, _unknown(gate.metric, values)))
        if value is None:
            policy = ALLOWED_UNDEFINED if gate.allow_undefined else "fails the gate"
            reason = f"undefined ({reason or 'no value'}); {policy}"
            out.append(_result(gate, None, "undefined", reason))
            continue
        holds = _OPS[gate.op](value, gate.threshold)
        shown = f"{value:.6g} {gate.op} {gate.threshold:g}"
        text = shown if holds else f"not {shown}"
        out.append(_result(gate, value, "pass" if holds else "fail", text + (reason or "")))
    return out


def gate_failed(gate: Mapping[str, Any]) -> bool:
    """True when a gate of :meth:`CheckResult.to_dict` counts as failed: ``fail``, or
    ``undefined`` without ``allow_undefined``."""
    if gate["verdict"] == "fail":
        return True
    return gate["verdict"] == "undefined" and ALLOWED_UNDEFINED not in str(gate.get("reason"))


def gate_failures(gate: Gate, values: Sequence[float | None]) -> list[int]:
    """Indices of the values (one per batch) that fail ``gate``, as :func:`evaluate_gates`
    judges them: a defined value that breaks ``op threshold``, or an undefined one unless
    the gate has ``allow_undefined``. Used to mark every failing batch on a chart."""
    x = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    defined = np.isfinite(x)
    with np.errstate(invalid="ignore"):
        holds = np.asarray(_OPS[gate.op](x, gate.threshold))  # type: ignore[arg-type]
    failed = (defined & ~holds) | (~defined & (not gate.allow_undefined))
    return [int(i) for i in np.flatnonzero(failed)]


def _result(gate: Gate, value: float | None, verdict: str, reason: str) -> GateResult:
    return GateResult(gate.name, gate.metric, gate.op, gate.threshold, value, verdict, reason)


def _unknown(metric: str, values: dict[str, Any]) -> str:
    known = ", ".join(sorted(values))
    return f"no stored metric {metric!r} for this batch; known: {known}"


def check_project(project: Project, *, batch: str | None = None) -> CheckResult:
    """Evaluate the project's gates on one batch (default: the latest one).

    Parameters
    ----------
    project : Project
    batch : str, optional
        Batch name; the latest batch when omitted.

    Returns
    -------
    CheckResult
        Without the alert (see :func:`send_alert`).

    Raises
    ------
    UsageError
        Empty store, unknown batch, or a reference period naming unknown batches.
    """
    with project.open_store(read_only=True) as store:
        return check_store(store, project.config, batch=batch)


def check_store(
    store: Store, config: ProjectConfig, *, batch: str | None = None, history: Any = None
) -> CheckResult:
    """:func:`check_project` on an open store; ``history``, a
    :class:`~labelaudit.project.history.HistoryMonitor` ending at ``batch``, is reused
    instead of loaded again."""
    record, position = _pick(store, batch)
    values = _stored_values(store, record.batch_id)
    if history is None or len(history.batches) != position + 1:  # charts end at the batch
        history = load_history(
            store, config.monitor, upto=position + 1, metric=config.task.tracked_metric
        )
    signals = history.signals(position)
    drifting = history.drifting(position)
    note = history.limits_note()
    suffix = f" ({note})" if note else ""
    values["out_of_control"] = (float(len(signals)), _signal_text(signals) + suffix)
    people = ", ".join(f"{d['annotator']} ({d['chart']})" for d in drifting)
    values["drifting_annotators"] = (
        float(len(drifting)),
        f"; drifting: {people}" if people else "",
    )
    gates = evaluate_gates(config.gates, values)
    passed = all(
        g.verdict == "pass" or (g.verdict == "undefined" and _gate(config.gates, g).allow_undefined)
        for g in gates
    )
    notes = (note,) if note else ()
    return CheckResult(passed=passed, batch=record.name, gates=tuple(gates), notes=notes)


def _gate(gates: Sequence[Gate], result: GateResult) -> Gate:
    return next(g for g in gates if g.name == result.name and g.metric == result.metric)


def _signal_text(signals: list[str]) -> str:
    return f"; signals: {', '.join(signals)}" if signals else ""


def _pick(store: Store, name: str | None) -> tuple[BatchRecord, int]:
    batches = store.batches()
    if not batches:
        raise UsageError(
            "the project store holds no batch yet; ingest one first "
            "(labelaudit ingest FILE --batch NAME)"
        )
    if name is None:
        return batches[-1], len(batches) - 1
    for position, record in enumerate(batches):
        if record.name == name:
            return record, position
    listed = ", ".join(repr(b.name) for b in batches[-5:])
    raise UsageError(f"no batch named {name!r}; the latest batches are {listed}")


def _stored_values(store: Store, batch_id: int) -> dict[str, tuple[float | None, str | None]]:
    """The batch's headline values by metric name (first kind in ``_KIND_ORDER`` wins)."""
    rows = store.execute(
        "SELECT kind, metric, value, reason FROM batch_metrics WHERE batch_id = ?", (batch_id,)
    ).fetchall()
    rank = {kind: i for i, kind in enumerate(_KIND_ORDER)}
    rows.sort(key=lambda row: rank.get(row[0], len(rank)))
    values: dict[str, tuple[float | None, str | None]] = {}
    for _, metric, value, reason in rows:
        values.setdefault(metric, (value, reason))
    return values


def send_alert(project: Project, result: CheckResult) -> CheckResult:
    """POST the check result to ``[alert] url`` when configured (and, with ``on =
    "failure"``, only when a gate failed); returns the result with its ``alert`` set."""
    alert = project.config.alert
    if alert.url is None or (alert.on == "failure" and result.passed):
        return result
    outcome = post_json(alert.url, result.to_dict(), timeout_s=alert.timeout_s)
    return replace(result, alert=outcome)


def render_check(report: dict[str, Any], *, markdown: bool = False, width: int = 80) -> str:
    """The check result dict as text for people: the verdict sentence (which gates failed,
    by how much) and the gate table, as 80-column terminal text or Markdown.

    Parameters
    ----------
    report : dict
        :meth:`CheckResult.to_dict`.
    markdown : bool
        GitHub-flavoured Markdown (user content escaped) instead of terminal text.
    width : int
        Columns of the terminal text.

    Returns
    -------
    str
    """
    from labelaudit.project.documents import check_document
    from labelaudit.report.document import render_document

    return render_document(check_document(report), "markdown" if markdown else "table", width=width)
