"""Verdict lines and run summaries: the output of ``labelaudit judge run`` and its reader.

A verdict line (JSON, one per line): ``item``, ``judge``, ``order`` (``"ab"``/``"ba"`` in
pairwise mode, else null), ``verdict`` (a category, a score, or the preferred response's
original id or ``"tie"``), ``raw`` (the answer text, or the body of a failed request),
``error`` (null, or why there is no verdict), ``prompt_tokens``, ``completion_tokens``,
``cost_usd`` (the tokens at the price table's prices; null without a price), ``cached``
(answer replayed from the cache), ``request_sha256`` (the cache key); then ``repeat``
(0-based repetition of ``--repeats``), ``first`` and ``second`` (pairwise: the response
ids in the order shown); then ``tokens_estimated`` (true when the endpoint sent no usable
token count and the counts are estimated from the text, see
:func:`labelaudit.judge.prices.estimate_tokens`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from labelaudit.results import clean_number

__all__ = [
    "LINE_FIELDS",
    "JudgeRun",
    "RunSummary",
    "Verdict",
    "VerdictLines",
    "read_verdicts",
    "write_verdicts",
]


class Verdict(NamedTuple):
    """One verdict line (see the module docstring for the fields)."""

    item: str
    judge: str
    order: str | None
    verdict: str | float | int | None
    raw: str | None
    error: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    cached: bool
    request_sha256: str
    repeat: int = 0
    first: str | None = None
    second: str | None = None
    tokens_estimated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON line, fields in contract order (every number here is finite)."""
        return dict(zip(LINE_FIELDS, self, strict=True))


LINE_FIELDS: tuple[str, ...] = Verdict._fields


@dataclass(frozen=True)
class RunSummary:
    """Counts, tokens and cost of a run; ``exit_code`` is 0, 1 (budget) or 2 (fatal)."""

    judge: str
    model: str
    mode: str
    n_items: int
    n_requests: int
    n_cached: int
    n_sent: int
    n_failed: int
    n_unsent: int
    n_verdicts: int
    n_http_attempts: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    cached_cost_usd: float | None
    max_cost: float | None
    stopped_by_budget: bool
    fatal_error: str | None
    elapsed_s: float
    cache: str | None
    prices: dict[str, Any]
    cache_writes: dict[str, Any] | None = None
    out: str | None = None
    n_tokens_estimated: int = 0

    @property
    def exit_code(self) -> int:
        """2 after a fatal endpoint error, 1 when ``max_cost`` stopped the run, else 0."""
        return 2 if self.fatal_error else (1 if self.stopped_by_budget else 0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        out = {name: clean_number(getattr(self, name)) for name in self.__dataclass_fields__}
        out["prices"] = self.prices
        out["cache_writes"] = self.cache_writes
        return out


@dataclass(frozen=True)
class JudgeRun:
    """The verdicts of a run and its summary."""

    verdicts: list[Verdict]
    summary: RunSummary


def write_verdicts(path: Path, verdicts: list[Verdict]) -> None:
    """Write verdict lines (JSONL, UTF-8) atomically to ``path``."""
    from labelaudit.report.format import atomic_write_text

    lines = [json.dumps(v.to_dict(), ensure_ascii=False, allow_nan=False) for v in verdicts]
    atomic_write_text(path, "".join(line + "\n" for line in lines))


@dataclass(frozen=True)
class VerdictLines:
    """Verdict lines read back for an audit: one entry per line, in file order.

    Attributes
    ----------
    item, judge : list of str
    order : list of str or None
        ``"ab"``, ``"ba"`` (pairwise) or None.
    verdict : list
        A category (str), a score (number), a response id or ``"tie"``; None on error.
    error : list of str or None
    repeat : list of int
    first, second : list of str or None
        Pairwise: the response ids in the order shown.
    lines : list of int
        Line of each verdict in its file.
    source : str
        File name(s).
    """

    item: list[str]
    judge: list[str]
    order: list[str | None]
    verdict: list[Any]
    error: list[str | None]
    repeat: list[int]
    first: list[str | None]
    second: list[str | None]
    lines: list[int]
    source: str

    def __len__(self) -> int:
        return len(self.item)

    @property
    def pairwise(self) -> bool:
        """True when the lines come from a pairwise run (they carry an order)."""
        return any(order is not None for order in self.order)


def _line_error(path: Path, line: int, key: str, expected: str, actual: Any) -> Exception:
    from labelaudit.exceptions import InputError

    return InputError(
        "invalid verdict line",
        source=str(path),
        line=line,
        field=key,
        expected=expected,
        actual=actual,
        hint="pass the JSONL written by `labelaudit judge run --out`",
    )


def _check_line(path: Path, line: int, record: dict[str, Any]) -> None:
    for key in ("item", "judge"):
        if not isinstance(record.get(key), str) or not record[key]:
            raise _line_error(path, line, key, "a non-empty string", record.get(key))
    order = record.get("order")
    if order not in (None, "ab", "ba"):
        raise _line_error(path, line, "order", '"ab", "ba" or null', order)
    verdict = record.get("verdict")
    if verdict is not None and (
        isinstance(verdict, bool) or not isinstance(verdict, (str, int, float))
    ):
        raise _line_error(path, line, "verdict", "a string, a number or null", verdict)
    repeat = record.get("repeat", 0)
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 0:
        raise _line_error(path, line, "repeat", "a non-negative integer", repeat)
    if order is not None:
        for key in ("first", "second"):
            if not isinstance(record.get(key), str) or not record[key]:
                raise _line_error(
                    path, line, key, "the id of the response shown there", record.get(key)
                )
        if verdict is not None and verdict not in (
            record["first"],
            record["second"],
            "tie",
            "both_bad",
        ):
            raise _line_error(
                path,
                line,
                "verdict",
                f"{record['first']!r}, {record['second']!r} or 'tie'",
                verdict,
            )


def read_verdicts(paths: list[Path] | Path) -> VerdictLines:
    """Read and validate verdict files (JSONL written by ``labelaudit judge run``).

    Raises
    ------
    InputError
        A malformed line (file, line, field, expected, actual), a file mixing pairwise and
        pointwise verdicts, or no verdict at all.
    """
    from labelaudit.exceptions import InputError
    from labelaudit.jsonio import iter_jsonl

    files = [paths] if isinstance(paths, Path) else list(paths)
    columns: dict[str, list[Any]] = {name: [] for name in VerdictLines.__dataclass_fields__}
    del columns["source"]
    for path in files:
        for line, record in iter_jsonl(Path(path)):
            _check_line(Path(path), line, record)
            for key in ("item", "judge", "order", "verdict", "error", "first", "second"):
                columns[key].append(record.get(key))
            columns["repeat"].append(record.get("repeat", 0))
            columns["lines"].append(line)
    source = ", ".join(map(str, files))
    if not columns["item"]:
        raise InputError(
            "empty input", source=source, expected="at least one verdict line", actual=0
        )
    kinds = {order is None for order in columns["order"]}
    if len(kinds) > 1:
        raise InputError(
            "pairwise and pointwise verdicts mixed",
            source=source,
            field="order",
            expected="verdicts of one mode (all with an order, or all without)",
            actual="both",
        )
    return VerdictLines(**columns, source=source)
