"""Readers of preference data: DPO JSONL, Anthropic HH-RLHF, and the dispatcher.

The CSV reader lives in :mod:`._csv`; the MT-Bench, PandaLM, LLMBar and Label Studio
readers in :mod:`._eval_readers`. Every reader
returns a :class:`~labelaudit.preferences.records.PreferenceTable`; malformed input raises
:class:`~labelaudit.exceptions.InputError` naming the file, the line (or record) and the
field. Large JSONL files take a vectorised pyarrow path; when that path cannot be used or
finds a problem, the line-by-line path reads the file again to locate the error exactly.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.exceptions import InputError, UsageError
from labelaudit.jsonio import field_error, iter_jsonl, require_file
from labelaudit.preferences.columns import from_columns
from labelaudit.preferences.records import PreferenceTable

__all__ = ["SOURCES", "read_dpo", "read_hh_rlhf", "read_preferences"]

SOURCES = ("dpo", "hh-rlhf", "mtbench", "pandalm", "llmbar", "label-studio", "csv")
_ASSISTANT = "\n\nAssistant:"


def read_preferences(source: str | Path, *, format: str, **options: Any) -> PreferenceTable:
    """Read a preference file (or folder) of the given format.

    Parameters
    ----------
    source : str or Path
        The file; ``mtbench``, ``pandalm`` and ``llmbar`` also take a folder.
    format : {"dpo", "hh-rlhf", "mtbench", "pandalm", "llmbar", "label-studio", "csv"}
        The source format.
    **options
        Passed to the reader (e.g. the column names of :func:`read_csv`).

    Returns
    -------
    PreferenceTable

    Raises
    ------
    UsageError
        Unknown format, or an option the reader does not take.
    InputError
        Unreadable or malformed input (file, line, field named).
    """
    from labelaudit.preferences import _eval_readers
    from labelaudit.preferences._csv import read_csv

    readers: dict[str, Callable[..., PreferenceTable]] = {
        "dpo": read_dpo,
        "hh-rlhf": read_hh_rlhf,
        "csv": read_csv,
        "mtbench": _eval_readers.read_mtbench,
        "pandalm": _eval_readers.read_pandalm,
        "llmbar": _eval_readers.read_llmbar,
        "label-studio": _eval_readers.read_label_studio,
    }
    if format not in readers:
        raise UsageError(f"unknown preference format {format!r}; expected one of {SOURCES}")
    reader = readers[format]
    try:
        inspect.signature(reader).bind(Path(source), **options)
    except TypeError as error:
        raise UsageError(f"--from {format}: {error}") from None
    return reader(Path(source), **options)


# ---------------------------------------------------------------------------- arrow JSONL
def _arrow_jsonl(path: Path) -> pa.Table | None:
    """The JSONL file as a pyarrow table, or None when pyarrow cannot read it as is."""
    import pyarrow.json as pj

    try:
        stream = pa.input_stream(str(path), compression="detect")
        return pj.read_json(stream, read_options=pj.ReadOptions(block_size=1 << 26))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
        return None


def _strings(table: pa.Table, names: Sequence[str]) -> bool:
    """True when every named column exists and holds strings."""
    return all(
        name in table.column_names and pa.types.is_string(table.schema.field(name).type)
        for name in names
    )


def _optional(table: pa.Table, *names: str) -> pa.Array | None:
    """The first named string column present, else None."""
    for name in names:
        if _strings(table, [name]):
            return table.column(name).combine_chunks()
    return None


# ---------------------------------------------------------------------------- DPO
def read_dpo(path: Path, *, kind: str = "human", annotator: str = "unknown") -> PreferenceTable:
    """DPO-style JSONL: ``prompt``, ``chosen``, ``rejected`` per line (``.gz`` allowed).

    ``chosen`` and ``rejected`` are strings (the responses) or chat message lists
    (``[{"role", "content"}]``, TRL's conversational format), whose last message is the
    response and whose earlier messages are the context (then ``prompt`` may be absent).
    Optional fields: ``prompt_id``/``id``, ``annotator``, ``chosen_model``/
    ``rejected_model``, ``score_chosen``/``score_rejected``. The display order is unknown:
    the chosen response is stored in the first slot with ``choice = first``. A line with
    ``responses`` (strings) and ``ranks`` (1 = best) or ``scores`` (higher = better), and
    optional ``models``, is a k-way ranking, expanded into its C(k, 2) pairs
    (:mod:`labelaudit.preferences.rankings`).

    Parameters
    ----------
    path : Path
        The JSONL file.
    kind : {"human", "judge"}
        Who made the preferences, when the file does not say.
    annotator : str
        Annotator name when the records carry none.

    Returns
    -------
    PreferenceTable
    """
    require_file(path)
    table = _arrow_jsonl(path)
    if table is not None and _strings(table, ["prompt", "chosen", "rejected"]):
        try:
            return _dpo_from_arrow(table, path, kind, annotator)
        except InputError:
            pass  # the line-by-line path below names the exact line
    return _dpo_from_lines(path, kind, annotator)


def _dpo_from_arrow(table: pa.Table, path: Path, kind: str, annotator: str) -> PreferenceTable:
    prompt = table.column("prompt").combine_chunks()
    ids = _optional(table, "prompt_id", "id")
    n = table.num_rows
    return from_columns(
        prompt=prompt if ids is None else ids,
        prompt_text=prompt,
        first_text=table.column("chosen").combine_chunks(),
        second_text=table.column("rejected").combine_chunks(),
        choice=pa.array(["first"] * n),
        order_known=False,
        annotator=_optional(table, "annotator") or annotator,
        kind=kind,
        first_model=_optional(table, "chosen_model"),
        second_model=_optional(table, "rejected_model"),
        unit="record",
        source=str(path),
        fields={"first": "chosen", "second": "rejected", "first_model": "chosen_model"},
        notes=["display order unknown: chosen stored in the first slot"],
    )


def _render(messages: Any) -> str:
    """Chat messages as ``role: content`` paragraphs (strings pass through)."""
    if isinstance(messages, str):
        return messages
    return "\n\n".join(f"{m.get('role', '')}: {m.get('content', '')}" for m in messages)


def _split_chat(value: Any, path: Path, line: int, name: str) -> tuple[str | None, str]:
    """(context, final response) of a string or a chat message list."""
    if isinstance(value, str):
        return None, value
    valid = (
        isinstance(value, list)
        and value
        and all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in value)
    )
    if not valid:
        raise field_error(
            path,
            line,
            name,
            'a string or a list of {"role", "content"} messages',
            value if value is None else type(value).__name__,
        )
    return (_render(value[:-1]) if len(value) > 1 else None), value[-1]["content"]


def _prompt_of(record: dict[str, Any], fallback: str | None, path: Path, line: int) -> str:
    prompt = record.get("prompt")
    if prompt is None:
        prompt = fallback
    if not isinstance(prompt, (str, list)) or not prompt:
        raise field_error(path, line, "prompt", "a non-empty string or message list", prompt)
    return _render(prompt)


def _pair_record(record: dict[str, Any], path: Path, line: int, annotator: str) -> dict[str, Any]:
    """One chosen/rejected record as vote fields."""
    chosen_context, chosen = _split_chat(record.get("chosen"), path, line, "chosen")
    rejected_context, rejected = _split_chat(record.get("rejected"), path, line, "rejected")
    text = _prompt_of(record, chosen_context, path, line)
    identity = record.get("prompt_id", record.get("id"))
    return {
        "prompt": text if identity is None else str(identity),
        "prompt_text": text,
        "first_text": chosen,
        "second_text": rejected,
        "annotator": str(record.get("annotator") or annotator),
        "first_model": record.get("chosen_model"),
        "second_model": record.get("rejected_model"),
        "first_score": record.get("score_chosen", record.get("chosen_score")),
        "second_score": record.get("score_rejected", record.get("rejected_score")),
        "mismatch": chosen_context != rejected_context and record.get("prompt") is None,
        "line": line,
    }


def _ranking_record(
    record: dict[str, Any], path: Path, line: int, annotator: str
) -> dict[str, Any]:
    """A ``responses`` + ``ranks`` (1 = best) or ``scores`` (higher = better) record."""
    responses = record.get("responses")
    if not (isinstance(responses, list) and all(isinstance(r, str) for r in responses)):
        raise field_error(path, line, "responses", "a list of response strings", responses)
    key = "ranks" if "ranks" in record else "scores"
    values = record.get(key)
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)] if (
        isinstance(values, list)
    ) else []  # fmt: skip
    if not isinstance(values, list) or len(numbers) != len(values) or len(values) != len(responses):
        raise field_error(path, line, key, f"{len(responses)} numbers, one per response", values)
    models = record.get("models")
    text = _prompt_of(record, None, path, line)
    identity = record.get("prompt_id", record.get("id"))
    return {
        "prompt": text if identity is None else str(identity),
        "prompt_text": text,
        "responses": responses,
        "ranks": numbers if key == "ranks" else [-float(v) for v in numbers],
        "models": models if isinstance(models, list) and len(models) == len(responses) else None,
        "annotator": str(record.get("annotator") or annotator),
        "line": line,
    }


def _dpo_from_lines(path: Path, kind: str, annotator: str) -> PreferenceTable:
    from labelaudit.preferences.rankings import ranking_columns

    pairs, ranked = [], []
    for line, record in iter_jsonl(path):
        if "responses" in record and "chosen" not in record:
            ranked.append(_ranking_record(record, path, line, annotator))
        else:
            pairs.append(_pair_record(record, path, line, annotator))
    names = ("prompt", "prompt_text", "first_text", "second_text", "annotator", "first_model",
             "second_model", "line")  # fmt: skip
    columns = {name: [p[name] for p in pairs] for name in names}
    choices = ["first"] * len(pairs)
    mismatch = [p["mismatch"] for p in pairs]
    scores = ([p["first_score"] for p in pairs], [p["second_score"] for p in pairs])
    notes = ["display order unknown: chosen stored in the first slot"] if pairs else []
    if ranked:
        expanded = ranking_columns(ranked)
        for name in names:
            columns[name] += list(expanded[name])
        choices += list(expanded["choice"])
        mismatch += [False] * len(expanded["choice"])
        scores = (scores[0] + [None] * len(expanded["choice"]),
                  scores[1] + [None] * len(expanded["choice"]))  # fmt: skip
        notes.append(f"{len(ranked)} rankings expanded into {len(expanded['choice'])} pairs")
    has_models = any(columns["first_model"]) or any(columns["second_model"])
    return from_columns(
        prompt=columns["prompt"],
        prompt_text=columns["prompt_text"],
        first_text=columns["first_text"],
        second_text=columns["second_text"],
        choice=choices,
        order_known=False,
        annotator=columns["annotator"],
        kind=kind,
        first_model=columns["first_model"] if has_models else None,
        second_model=columns["second_model"] if has_models else None,
        first_score=_scores(scores[0]),
        second_score=_scores(scores[1]),
        context_mismatch=np.array(mismatch, dtype=bool),
        lines=columns["line"],
        source=str(path),
        fields={"first": "chosen", "second": "rejected", "first_model": "chosen_model"},
        notes=notes,
    )


def _scores(values: list[Any]) -> np.ndarray | None:
    if not any(isinstance(v, (int, float)) for v in values):
        return None
    return np.array(
        [float(v) if isinstance(v, (int, float)) else np.nan for v in values], dtype=np.float64
    )


# ---------------------------------------------------------------------------- HH-RLHF
def read_hh_rlhf(path: Path, *, kind: str = "human", annotator: str = "unknown") -> PreferenceTable:
    """Anthropic HH-RLHF JSONL (``.jsonl.gz`` allowed): ``chosen`` / ``rejected`` transcripts.

    Each transcript is split at its last ``"\\n\\nAssistant:"``: the text before is the
    context (the prompt id is the chosen transcript's context), the text after, trimmed on
    the left, is the final response. ``context_mismatch`` marks pairs whose two contexts
    differ. The display order is unknown; the chosen response is in the first slot.
    """
    require_file(path)
    table = _arrow_jsonl(path)
    if table is not None and _strings(table, ["chosen", "rejected"]):
        try:
            return _hh_from_arrow(table, path, kind, annotator)
        except InputError:
            pass  # the line-by-line path below names the exact line
    return _hh_from_lines(path, kind, annotator)


def _split_transcripts(values: pa.Array) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """Context, final response and a validity mask of HH transcripts (vectorised)."""
    parts = pc.split_pattern(values, _ASSISTANT, max_splits=1, reverse=True)
    ok = pc.fill_null(pc.equal(pc.list_value_length(parts), 2), False)
    mask = ok.to_numpy(zero_copy_only=False)
    safe = pc.if_else(ok, parts, pa.scalar(["", ""], type=parts.type))
    context = pc.list_element(safe, 0)
    final = pc.utf8_ltrim_whitespace(pc.list_element(safe, 1))
    return context, final, mask


def _hh_from_arrow(table: pa.Table, path: Path, kind: str, annotator: str) -> PreferenceTable:
    chosen_context, chosen, ok_chosen = _split_transcripts(table.column("chosen").combine_chunks())
    rejected_context, rejected, ok_rejected = _split_transcripts(
        table.column("rejected").combine_chunks()
    )
    if not (ok_chosen.all() and ok_rejected.all()):
        raise InputError("transcript without an Assistant turn")
    n = table.num_rows
    return from_columns(
        prompt=chosen_context,
        prompt_text=chosen_context,
        first_text=chosen,
        second_text=rejected,
        choice=pa.array(["first"] * n),
        order_known=False,
        annotator=annotator,
        kind=kind,
        context_mismatch=pc.not_equal(chosen_context, rejected_context),
        unit="record",
        source=str(path),
        fields={"first": "chosen", "second": "rejected"},
        notes=["display order unknown: chosen stored in the first slot"],
    )


def _hh_from_lines(path: Path, kind: str, annotator: str) -> PreferenceTable:
    contexts, chosen, rejected, mismatch, lines = [], [], [], [], []
    for line, record in iter_jsonl(path):
        parts = []
        for name in ("chosen", "rejected"):
            value = record.get(name)
            if not isinstance(value, str) or _ASSISTANT not in value:
                raise field_error(
                    path,
                    line,
                    name,
                    'a transcript containing "\\n\\nAssistant:"',
                    value if not isinstance(value, str) else value[-80:],
                    hint="--from hh-rlhf reads Human/Assistant transcripts; try --from dpo",
                )
            context, _, final = value.rpartition(_ASSISTANT)
            parts.append((context, final.lstrip()))
        contexts.append(parts[0][0])
        chosen.append(parts[0][1])
        rejected.append(parts[1][1])
        mismatch.append(parts[0][0] != parts[1][0])
        lines.append(line)
    return from_columns(
        prompt=contexts,
        prompt_text=contexts,
        first_text=chosen,
        second_text=rejected,
        choice=["first"] * len(lines),
        order_known=False,
        annotator=annotator,
        kind=kind,
        context_mismatch=np.array(mismatch, dtype=bool),
        lines=lines,
        source=str(path),
        fields={"first": "chosen", "second": "rejected"},
        notes=["display order unknown: chosen stored in the first slot"],
    )
