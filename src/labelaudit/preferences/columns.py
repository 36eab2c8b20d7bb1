"""Build a :class:`~labelaudit.preferences.records.PreferenceTable` from per-vote columns.

The boundary of the preference audits: validation (naming line and field) and integer
coding happen once here, vectorised with pyarrow compute and numpy; only the error path
looks at single rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.exceptions import InputError
from labelaudit.preferences.records import (
    BOTH_BAD,
    FIRST,
    KINDS,
    MISSING,
    SECOND,
    TIE,
    PreferenceTable,
)

__all__ = ["from_columns", "sorted_codes"]

_CHOICE_CODES = {
    "first": FIRST,
    "a": FIRST,
    "second": SECOND,
    "b": SECOND,
    "tie": TIE,
    "both_bad": BOTH_BAD,
    "bothbad": BOTH_BAD,
    "tie (bothbad)": BOTH_BAD,
    "missing": MISSING,
    "error": MISSING,
    "": MISSING,
}


# ---------------------------------------------------------------------------- building
Strings: TypeAlias = pa.Array | pa.ChunkedArray


def _as_strings(values: Any, n: int) -> pa.ChunkedArray:
    """Large strings of length n (chunked: big text columns are never copied into one)."""
    if isinstance(values, str) or values is None:
        values = pa.array([values] * n, type=pa.large_string())
    elif not isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = pa.array(
            np.asarray(values, dtype=object), type=pa.large_string(), from_pandas=True
        )
    if isinstance(values, pa.Array):
        values = pa.chunked_array([values])
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = pc.cast(values, pa.large_string())
    return values


def _join(first: pa.ChunkedArray, second: pa.ChunkedArray) -> pa.ChunkedArray:
    """The two slot columns one after the other (chunks are shared, nothing is copied)."""
    if first.type != second.type:
        first, second = pc.cast(first, pa.large_string()), pc.cast(second, pa.large_string())
    return pa.chunked_array([*first.chunks, *second.chunks], type=first.type)


def _dictionary(values: Strings, nulls: bool = False) -> tuple[pa.Array, np.ndarray]:
    """Distinct values (hash order) and the int64 index of every entry; with ``nulls``,
    null is one more value (else nulls must have been rejected)."""
    options = {"null_encoding": "encode" if nulls else "mask"}
    encoded = pc.dictionary_encode(values, **options)
    if isinstance(encoded, pa.Array):
        encoded = pa.chunked_array([encoded])
    if encoded.num_chunks == 0:
        return pa.array([], values.type), np.zeros(0, dtype=np.int64)
    if len({len(c.dictionary) for c in encoded.chunks}) > 1:  # chunks encoded apart
        encoded = pa.chunked_array([pc.dictionary_encode(values.combine_chunks(), **options)])
    parts = [c.indices.to_numpy(zero_copy_only=False) for c in encoded.chunks]
    return encoded.chunks[0].dictionary, np.concatenate(parts).astype(np.int64)


def sorted_codes(values: Strings, nulls: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct strings (object array) and the int64 code of every entry.

    Hash-encodes with pyarrow, then sorts the (small) dictionary, so codes do not depend
    on the order of the rows. With ``nulls`` a null is one more value (sorted last); else
    nulls must have been rejected before.
    """
    dictionary, indices = _dictionary(values, nulls)
    order = pc.sort_indices(dictionary).to_numpy(zero_copy_only=False).astype(np.int64)
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    names = dictionary.take(pa.array(order)).to_numpy(zero_copy_only=False)
    return names.astype(object), rank[indices]


@dataclass
class _Where:
    """Error locations: source name, line of each row, unit, user field names."""

    source: str
    n: int
    line_of: Callable[[int], int]
    unit: str
    fields: Mapping[str, str]

    def error(self, row: int, problem: str, **facts: Any) -> InputError:
        """An InputError at vote ``row`` (0-based; rows past n wrap to the second slot)."""
        return InputError(
            problem,
            source=self.source,
            line=self.line_of(row % max(self.n, 1)),
            unit=self.unit,
            **facts,
        )

    def field(self, name: str) -> str:
        return self.fields.get(name, name)


def _require(values: Strings, name: str, where: _Where) -> None:
    """Raise on the first null or empty entry of a required column."""
    empty = pc.fill_null(pc.equal(pc.utf8_length(values), 0), True)
    bad = np.flatnonzero(empty.to_numpy(zero_copy_only=False))
    if bad.size:
        raise where.error(
            int(bad[0]),
            f"missing {name}",
            field=where.field(name),
            expected=f"a non-empty {name}",
            actual="",
            hint=f"fill in the {name} or remove the record",
        )


def _choice_codes(values: Strings, name: str, where: _Where) -> np.ndarray:
    """Choice strings (case-insensitive, trimmed; null or empty = missing) -> int8 codes."""
    norm = pc.fill_null(pc.utf8_lower(pc.utf8_trim_whitespace(values)), "")
    names, codes = sorted_codes(norm)
    lookup = np.array([_CHOICE_CODES.get(str(n), -9) for n in names], dtype=np.int8)
    out = lookup[codes] if codes.size else np.zeros(0, dtype=np.int8)
    bad = np.flatnonzero(out == -9)
    if bad.size:
        raise where.error(
            int(bad[0]),
            f"unknown {name}",
            field=where.field(name),
            expected="first, second, tie or both_bad (empty = missing)",
            actual=str(values[int(bad[0])].as_py()),
            hint="map the labels to first/second/tie/both_bad",
        )
    return out


def _one_per_code(
    codes: np.ndarray,
    values: Strings,
    size: int,
    what: str,
    name: str,
    where: _Where,
    check: bool = True,
) -> pa.Array:
    """One value per code (``codes``, ``values``: shape (k n,), the rows repeated k times).

    A null value means "unknown" and agrees with any value; the kept value is the first
    non-null one. Raises InputError when one code (``what``: "response", "annotator")
    carries two different non-null values of field ``name`` (unless ``check`` is False:
    the codes were derived from the values); the error names the vote's line.
    """
    null = pc.is_null(values).to_numpy(zero_copy_only=False).astype(bool)
    order = np.lexsort((null, codes))
    ordered = codes[order]
    new = np.r_[True, ordered[1:] != ordered[:-1]]
    starts = np.flatnonzero(new)
    representative = np.empty_like(codes)
    representative[order] = order[starts][np.cumsum(new) - 1]
    if check:
        _check_same(values, representative, null, what, name, where)
    index = np.zeros(size, dtype=np.int64)
    index[ordered[starts]] = order[starts]
    return _take(values, index)


def _take(values: Strings, index: np.ndarray) -> pa.Array:
    """``values[index]`` as one array, taking from each chunk in place (a chunked take
    would first copy every chunk into one, gigabytes for a text column)."""
    if isinstance(values, pa.Array):
        return values.take(pa.array(index))
    bounds = np.cumsum([0] + [len(chunk) for chunk in values.chunks])
    chunk_of = np.searchsorted(bounds, index, side="right") - 1
    pieces, positions = [], []
    for c, chunk in enumerate(values.chunks):  # a loop over chunks, not rows
        where = np.flatnonzero(chunk_of == c)
        if where.size:
            pieces.append(chunk.take(pa.array(index[where] - bounds[c])))
            positions.append(where)
    if not pieces:
        return pa.array([], type=values.type)
    gathered = pa.concat_arrays(pieces)
    return gathered.take(pa.array(np.argsort(np.concatenate(positions), kind="stable")))


def _check_same(
    values: Strings,
    representative: np.ndarray,
    null: np.ndarray,
    what: str,
    name: str,
    where: _Where,
) -> None:
    _, value_codes = _dictionary(values, nulls=True)
    same = (value_codes == value_codes[representative]) | null
    if not same.all():
        bad = int(np.flatnonzero(~same)[0])
        raise where.error(
            bad,
            f"one {what} with two different {name} values",
            field=where.field(name),
            expected=f"the same {name} wherever the {what} appears",
            actual=str(values[bad].as_py())[:80],
            hint=f"give distinct ids to distinct {what}s",
        )


def _responses_from_text(
    prompt_codes: np.ndarray, first_text: Strings, second_text: Strings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Response identity = (prompt, final text): names ``#k``, and the two code arrays."""
    both = _join(first_text, second_text)
    _, text_codes = sorted_codes(both, nulls=True)
    key = np.tile(prompt_codes, 2) * (int(text_codes.max(initial=0)) + 1) + text_codes
    _, codes = np.unique(key, return_inverse=True)
    n_responses = int(codes.max(initial=-1)) + 1
    names = np.char.mod("#%d", np.arange(n_responses)).astype(object)
    return names, codes[: prompt_codes.size], codes[prompt_codes.size :]


def _codes_of(values: Strings) -> tuple[np.ndarray, np.ndarray]:
    """Sorted names and codes of a string column with gaps (null or empty -> -1)."""
    present = pc.fill_null(pc.greater(pc.utf8_length(values), 0), False)
    mask = present.to_numpy(zero_copy_only=False)
    names, codes = sorted_codes(values.filter(present))
    out = np.full(mask.size, -1, dtype=np.int64)
    out[mask] = codes
    return names, out


def _floats(values: Any, n: int) -> np.ndarray | None:
    if values is None:
        return None
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
    out = np.asarray(values, dtype=np.float64)
    return np.broadcast_to(out, (n,)).copy()


def _bools(values: Any, n: int) -> np.ndarray:
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        values = values.to_numpy(zero_copy_only=False)
    return np.broadcast_to(np.asarray(values, dtype=bool), (n,)).copy()


def _responses(
    prompt_ids: Strings,
    prompt_codes: np.ndarray,
    ids: tuple[Any, Any],
    texts: tuple[Any, Any],
    where: _Where,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Strings | None]:
    """Response names, first and second codes, prompt of each response, text per response."""
    n = prompt_codes.size
    text = None
    if texts[0] is not None or texts[1] is not None:
        text = _join(_as_strings(texts[0], n), _as_strings(texts[1], n))
    if ids[0] is None or ids[1] is None:
        if text is None:
            raise InputError(
                "no responses",
                source=where.source,
                field=f"{where.field('first')}, {where.field('second')}",
                expected="response ids or response texts",
                actual="neither",
            )
        names, first, second = _responses_from_text(prompt_codes, text[:n], text[n:])
    else:
        both = _join(_as_strings(ids[0], n), _as_strings(ids[1], n))
        for part, name in ((both[:n], "first"), (both[n:], "second")):
            _require(part, name, where)
        names, codes = sorted_codes(both)
        first, second = codes[:n], codes[n:]
        _one_per_code(
            codes,
            _join(prompt_ids, prompt_ids),
            names.size,
            "response",
            "prompt",
            where,
        )
    codes = np.concatenate([first, second])
    response_prompt = np.zeros(names.size, dtype=np.int64)
    response_prompt[codes] = np.tile(prompt_codes, 2)
    per_text = (
        None if text is None else _one_per_code(codes, text, names.size, "response", "text", where)
    )
    return names, first, second, response_prompt, per_text


def _models(
    models: tuple[Any, Any], codes: np.ndarray, n_responses: int, where: _Where
) -> tuple[np.ndarray, np.ndarray]:
    """Model names and the model code of each response (-1 = unknown)."""
    if models[0] is None and models[1] is None:
        return np.zeros(0, dtype=object), np.full(n_responses, -1, dtype=np.int64)
    n = codes.size // 2
    both = _join(_as_strings(models[0], n), _as_strings(models[1], n))
    _one_per_code(codes, both, n_responses, "response", "model", where)
    names, model_codes = _codes_of(both)
    out = np.full(n_responses, -1, dtype=np.int64)
    out[codes] = model_codes
    return names, out


def _annotators(
    annotator: Any, kind: Any, n: int, where: _Where
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Annotator names, kinds (one per annotator) and the code of each vote."""
    ids = _as_strings(annotator, n)
    _require(ids, "annotator", where)
    names, codes = sorted_codes(ids)
    kinds = pc.fill_null(pc.utf8_lower(pc.utf8_trim_whitespace(_as_strings(kind, n))), "")
    valid = pc.is_in(kinds, value_set=pa.array(KINDS)).to_numpy(zero_copy_only=False)
    if not valid.all():
        bad = int(np.flatnonzero(~valid)[0])
        raise where.error(
            bad,
            "unknown annotator kind",
            field=where.field("kind"),
            expected="human or judge",
            actual=str(kinds[bad].as_py()),
        )
    per = _one_per_code(codes, kinds, names.size, "annotator", "kind", where)
    return names, per.to_numpy(zero_copy_only=False).astype(object), codes


def from_columns(
    *,
    prompt: Any,
    choice: Any,
    first: Any = None,
    second: Any = None,
    annotator: Any = "unknown",
    kind: Any = "human",
    order_known: Any = True,
    first_text: Any = None,
    second_text: Any = None,
    first_model: Any = None,
    second_model: Any = None,
    prompt_text: Any = None,
    gold: Any = None,
    first_score: Any = None,
    second_score: Any = None,
    context_mismatch: Any = None,
    meta: Mapping[str, Any] | None = None,
    lines: Any = None,
    line_of: Callable[[int], int] | None = None,
    unit: str = "line",
    source: str = "<input>",
    fields: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
) -> PreferenceTable:
    """Validate per-vote columns and integer-code them into a :class:`PreferenceTable`.

    Parameters
    ----------
    prompt, choice : array-like of str, shape (n,)
        Prompt id and choice (``first``/``a``, ``second``/``b``, ``tie``, ``both_bad``;
        empty, ``missing`` or ``error`` = missing) of each vote.
    first, second : array-like of str, optional
        Ids of the responses in the first and second slot. Omitted: a response is
        identified by its prompt and its final text (``first_text``/``second_text``).
    annotator, kind : str or array-like of str
        Who voted, and whether that is a ``human`` or a ``judge`` (one kind per annotator).
    order_known : bool or array-like of bool
        Whether ``first`` really was shown first.
    first_text, second_text, first_model, second_model, prompt_text : optional
        Final response texts, model names, prompt texts (null = unknown).
    gold : array-like of str, optional
        Gold verdict in the same terms as ``choice``.
    first_score, second_score : array-like of float, optional
    context_mismatch : array-like of bool, optional
    meta : mapping of str to array-like, optional
        Per-vote metadata kept as strings (``turn``, ``subset``...).
    lines, line_of, unit, source, fields : optional
        Where each vote came from: 1-based line (or record) of each vote, or a function
        mapping a 0-based vote to it (called on the error path only); ``fields`` maps
        canonical names (``prompt``, ``choice``, ``first``...) to the user's field names.
    notes : sequence of str
        Reader notes kept with the table.

    Raises
    ------
    InputError
        Missing prompt/response/annotator, an unknown choice or kind, or one id used with
        two different texts, models, prompts or kinds; the error names line and field.
    """
    n = len(choice)
    if n == 0:
        raise InputError(
            "empty input", source=source, expected="at least one vote", actual="no record"
        )
    line_array = None if lines is None else np.asarray(lines, dtype=np.int64)
    if line_of is None:
        line_of = (
            (lambda row: row + 1) if line_array is None else (lambda row: int(line_array[row]))
        )
    where = _Where(source, n, line_of, unit, fields or {})
    prompt_ids = _as_strings(prompt, n)
    _require(prompt_ids, "prompt", where)
    choice_codes = _choice_codes(_as_strings(choice, n), "choice", where)
    prompts, prompt_codes = sorted_codes(prompt_ids)
    responses, first_codes, second_codes, response_prompt, text = _responses(
        prompt_ids, prompt_codes, (first, second), (first_text, second_text), where
    )
    codes = np.concatenate([first_codes, second_codes])
    models, response_model = _models((first_model, second_model), codes, responses.size, where)
    annotators, annotator_kind, annotator_codes = _annotators(annotator, kind, n, where)
    return PreferenceTable(
        prompts=prompts,
        responses=responses,
        models=models,
        annotators=annotators,
        annotator_kind=annotator_kind,
        prompt_codes=prompt_codes,
        first_codes=first_codes,
        second_codes=second_codes,
        annotator_codes=annotator_codes,
        choice=choice_codes,
        order_known=_bools(order_known, n),
        response_prompt=response_prompt,
        response_model=response_model,
        response_length=_lengths(text, responses.size),
        response_text=text,
        prompt_text=None
        if prompt_text is None
        else _one_per_code(
            prompt_codes, _as_strings(prompt_text, n), prompts.size, "prompt", "prompt_text", where
        ),
        gold=_gold(gold, n, where),
        first_score=_floats(first_score, n),
        second_score=_floats(second_score, n),
        context_mismatch=None if context_mismatch is None else _bools(context_mismatch, n),
        meta={
            name: pc.fill_null(_as_strings(values, n), "")
            .to_numpy(zero_copy_only=False)
            .astype(object)
            for name, values in (meta or {}).items()
        },
        lines=line_array,
        unit=unit if line_array is not None else "record",
        source=source,
        notes=list(notes),
    )


def _lengths(text: Strings | None, size: int) -> np.ndarray:
    """Characters of each response's text, -1 when unknown."""
    if text is None:
        return np.full(size, -1, dtype=np.int64)
    lengths = pc.fill_null(pc.utf8_length(text), -1)
    return lengths.to_numpy(zero_copy_only=False).astype(np.int64)


def _gold(gold: Any, n: int, where: _Where) -> np.ndarray | None:
    if gold is None:
        return None
    codes = _choice_codes(_as_strings(gold, n), "gold", where)
    return codes if (codes >= 0).any() else None
