"""LangSmith feedback -> judge verdict lines and human labels, for ``labelaudit judge audit``.

LangSmith stores every evaluation result as *feedback* on a run: an LLM-as-judge evaluator
writes ``feedback_source.type = "model"``, a person in an annotation queue or the UI
``"app"`` (``"api"`` when sent by a script), with ``user_name`` / ``user_id``. Fields used
(``langsmith.schemas.Feedback``, the REST ``/feedback`` objects, ``Client.list_feedback``):

- ``run_id``: the run judged, the item (an evaluator and the people of an annotation queue
  give feedback on the same run). With the runs (``Client.list_runs`` /
  ``langsmith.schemas.Run``: ``id``, ``reference_example_id``) the item is the dataset
  example the run answered instead, so feedback on several runs of one example lines up
  (a judge's later verdicts on the same example are its repeats 1, 2, ...);
- ``key``: the feedback key (``correctness``, ``helpfulness``, ...); one key is audited;
- ``value`` (a category) or else ``score`` (a number; a boolean score is 1 / 0): the
  verdict, or the human label;
- ``feedback_source.type``; ``feedback_source.user_name`` or ``user_id`` (the annotator);
  for a model source the evaluator's name is ``feedback_source.metadata.__run.name`` when
  present, else ``langsmith:KEY``.

Shapes read: a JSON array (or ``{"feedback": [...]}``), JSONL, CSV with the flattened
columns pandas' ``json_normalize`` gives (``feedback_source.type``,
``feedback_source.user_name``, ...), or the client's objects themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from labelaudit.exceptions import InputError, UsageError
from labelaudit.judge.verdicts import Verdict

__all__ = ["HUMAN_SOURCES", "LangSmithFeedback", "read_langsmith_feedback"]

#: ``feedback_source.type`` values written by people (the UI, annotation queues, scripts).
HUMAN_SOURCES = frozenset({"app", "api", "human"})


@dataclass(frozen=True)
class LangSmithFeedback:
    """Judge verdicts and human labels read from LangSmith feedback of one key."""

    key: str
    verdicts: list[Verdict]
    humans: pa.Table
    n_feedback: int
    n_skipped: int

    def to_dict(self) -> dict[str, Any]:
        """``{"key", "n_feedback", "n_verdicts", "n_human_labels", "n_skipped", "judges"}``."""
        return {
            "key": self.key,
            "n_feedback": self.n_feedback,
            "n_verdicts": len(self.verdicts),
            "n_human_labels": self.humans.num_rows,
            "n_skipped": self.n_skipped,
            "judges": sorted({v.judge for v in self.verdicts}),
        }


def _as_dict(record: Any) -> dict[str, Any]:
    """A pydantic object (``langsmith.schemas``) or a mapping as a plain JSON-like dict."""
    if hasattr(record, "model_dump"):
        return dict(record.model_dump(mode="json"))
    if hasattr(record, "dict") and not isinstance(record, Mapping):
        return dict(record.dict())
    return dict(record)


def _nested(record: Mapping[str, Any], dotted: str) -> Any:
    """``record["a"]["b"]`` or the flattened ``record["a.b"]`` (CSV columns)."""
    if dotted in record:
        return record[dotted]
    value: Any = record
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _records(source: Any, name: str) -> list[tuple[int, dict[str, Any]]]:
    """``(line or position, record)`` from a file or from objects."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.suffix.lower() == ".json":
            from labelaudit.jsonio import load_json

            data = load_json(path)
            if isinstance(data, Mapping):
                data = data.get(name) or data.get("results") or []
            if not isinstance(data, list):
                raise InputError(
                    f"not a list of {name}",
                    source=str(path),
                    expected=f"a JSON array of {name} objects",
                    actual=type(data).__name__,
                )
            return [(i + 1, _as_dict(r)) for i, r in enumerate(data) if isinstance(r, Mapping)]
        from labelaudit.judge.data import read_rows

        return read_rows(path)
    return [(i + 1, _as_dict(r)) for i, r in enumerate(source)]


def _example_of_run(runs: Any) -> dict[str, str]:
    """``run id -> reference_example_id`` (runs without an example keep their own id)."""
    mapping = {}
    for _, run in _records(runs, "runs"):
        run_id = run.get("id")
        if run_id:
            mapping[str(run_id)] = str(run.get("reference_example_id") or run_id)
    return mapping


def _verdict_value(record: Mapping[str, Any]) -> str | float | int | None:
    value = _nested(record, "value")
    if isinstance(value, str) and value != "":
        return value
    score = _nested(record, "score")
    if isinstance(score, bool):
        return int(score)
    if isinstance(score, (int, float)):
        return score
    if isinstance(score, str) and score.strip():
        try:
            number = float(score)
        except ValueError:
            return score
        return int(number) if number.is_integer() else number
    return None


def read_langsmith_feedback(
    feedback: Any,
    *,
    runs: Any = None,
    key: str | None = None,
    judge: str | None = None,
) -> LangSmithFeedback:
    """Read LangSmith feedback into verdict lines (model sources) and human labels.

    Parameters
    ----------
    feedback : path or iterable
        A ``.json`` / ``.jsonl`` / ``.csv`` export, or ``langsmith.schemas.Feedback``
        objects (or dicts) as ``Client.list_feedback`` yields them.
    runs : path or iterable, optional
        The runs (``Client.list_runs``): items become dataset examples.
    key : str, optional
        The feedback key to audit; required when the feedback holds several.
    judge : str, optional
        Name of the judge (default ``langsmith:KEY``).

    Returns
    -------
    LangSmithFeedback
        ``verdicts`` (:class:`~labelaudit.judge.verdicts.Verdict`, pointwise) and
        ``humans`` (``item``, ``annotator``, ``label`` text columns).

    Raises
    ------
    InputError
        A record without ``run_id`` or ``key`` (file, line, field), or no feedback at all.
    UsageError
        Several keys and no ``key``, or an unknown ``key``.
    """
    records = _records(feedback, "feedback")
    source = str(feedback) if isinstance(feedback, (str, Path)) else "feedback objects"
    for line, record in records:
        for field in ("run_id", "key"):
            if not _nested(record, field):
                raise InputError(
                    "invalid LangSmith feedback",
                    source=source,
                    line=line,
                    field=field,
                    expected="a non-empty value (a LangSmith feedback record)",
                    actual=_nested(record, field),
                )
    keys = sorted({str(_nested(r, "key")) for _, r in records})
    if not keys:
        raise InputError("empty input", source=source, expected="feedback records", actual=0)
    chosen = _choose_key(keys, key)
    examples = _example_of_run(runs) if runs is not None else None
    name = judge or f"langsmith:{chosen}"
    return _collect(records, chosen, name, examples)


def _choose_key(keys: Sequence[str], key: str | None) -> str:
    if key is None:
        if len(keys) > 1:
            raise UsageError(
                f"the feedback holds several keys; pick one with --key: {', '.join(keys)}"
            )
        return keys[0]
    if key not in keys:
        raise UsageError(f"no feedback with key {key!r}; keys: {', '.join(keys)}")
    return key


def _collect(
    records: Iterable[tuple[int, dict[str, Any]]],
    key: str,
    judge: str,
    examples: dict[str, str] | None,
) -> LangSmithFeedback:
    verdicts: list[Verdict] = []
    labels: dict[tuple[str, str], str] = {}
    repeats: dict[str, int] = {}
    n_feedback = skipped = 0
    for _, record in records:
        if str(_nested(record, "key")) != key:
            continue
        n_feedback += 1
        run_id = str(_nested(record, "run_id"))
        item = examples.get(run_id, run_id) if examples is not None else run_id
        value = _verdict_value(record)
        kind = str(_nested(record, "feedback_source.type") or "").lower()
        if kind in HUMAN_SOURCES:
            who = _nested(record, "feedback_source.user_name") or _nested(
                record, "feedback_source.user_id"
            )
            if value is None or not who:
                skipped += 1
                continue
            labels[(item, str(who))] = str(value)
            continue
        if kind != "model":
            skipped += 1
            continue
        repeat = repeats.get(item, 0)
        repeats[item] = repeat + 1
        error = None if value is not None else "feedback without value or score"
        raw = _nested(record, "comment")
        verdicts.append(
            Verdict(
                item,
                judge,
                None,
                value,
                None if raw is None else str(raw),
                error,
                None,
                None,
                None,
                False,
                "",
                repeat,
            )
        )
    humans = pa.table(
        {
            "item": pa.array([i for i, _ in labels], pa.string()),
            "annotator": pa.array([a for _, a in labels], pa.string()),
            "label": pa.array(list(labels.values()), pa.string()),
        }
    )
    return LangSmithFeedback(key, verdicts, humans, n_feedback, skipped)
