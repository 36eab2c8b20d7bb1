"""Shared JSON input helpers of the preference readers: JSONL lines, JSON documents, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from labelaudit.exceptions import InputError

__all__ = ["field_error", "iter_jsonl", "load_json", "open_binary", "require_file"]


def require_file(path: Path) -> None:
    """Raise InputError unless ``path`` is a readable file."""
    if not path.is_file():
        raise InputError(
            "file not found", source=str(path), expected="a readable file", actual=str(path)
        )


def open_binary(path: Path) -> BinaryIO:
    """Open a file for reading, transparently decompressing gzip data (size-capped; a
    truncated stream is an InputError): :func:`labelaudit.table.source.open_binary`."""
    from labelaudit.table.source import open_binary as open_input

    return open_input(path)  # type: ignore[return-value]


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line, object)`` for each non-blank line of a JSONL file (``.gz`` allowed).

    Raises InputError naming the line for malformed JSON, a non-object, or bad UTF-8.
    """
    require_file(path)
    with open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (ValueError, RecursionError) as error:
                detail = getattr(error, "msg", str(error))
                raise InputError(
                    "malformed JSON line",
                    source=str(path),
                    line=number,
                    expected="one JSON object per line",
                    actual=detail,
                ) from None
            if not isinstance(record, dict):
                raise InputError(
                    "not a JSON object",
                    source=str(path),
                    line=number,
                    expected="one JSON object per line",
                    actual=type(record).__name__,
                )
            yield number, record


def load_json(path: Path) -> Any:
    """Parse a whole JSON document; InputError with the line of a syntax error."""
    require_file(path)
    try:
        with open_binary(path) as handle:
            return json.loads(handle.read())
    except RecursionError:
        raise InputError("malformed JSON", source=str(path), actual="nested too deeply") from None
    except json.JSONDecodeError as error:
        raise InputError(
            "malformed JSON",
            source=str(path),
            line=error.lineno,
            expected="a JSON document",
            actual=f"{error.msg} at column {error.colno}",
        ) from None
    except ValueError as error:  # not UTF-8, or an integer of more than 4,300 digits
        raise InputError(
            "unreadable JSON", source=str(path), expected="UTF-8 JSON", actual=str(error)[:200]
        ) from None


def field_error(
    path: Path,
    line: int,
    field: str,
    expected: str,
    actual: Any,
    *,
    unit: str = "line",
    hint: str | None = None,
) -> InputError:
    """An InputError for a missing or ill-typed field of one record."""
    shown = actual if not isinstance(actual, str) else actual[:80]
    problem = "missing field" if actual is None else "bad field value"
    return InputError(
        problem,
        source=str(path),
        line=line,
        unit=unit,
        field=field,
        expected=expected,
        actual="nothing" if actual is None else shown,
        hint=hint,
    )
