"""Writing judge definitions: the TOML that :func:`labelaudit.judge.load_judge` reads back.

:func:`judge_toml` is the one writer of judge files (``labelaudit judge init``); every file
it writes is parsed again by :func:`labelaudit.judge.definition.parse_judge` before it is
returned, so it never writes a file the reader refuses.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from typing import Any

from labelaudit.judge.definition import parse_judge
from labelaudit.project.config import toml_string

__all__ = ["judge_toml"]


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        if "\n" in value and "'''" not in value and _literal_safe(value):
            return "'''\n" + value + "'''"
        return toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def _literal_safe(text: str) -> bool:
    """A TOML multi-line literal string holds no control character but tab and newline."""
    return all(c in "\t\n" or (ord(c) >= 0x20 and ord(c) != 0x7F) for c in text)


def judge_toml(values: Mapping[str, Any], *, comment: str = "", source: str = "<judge>") -> str:
    """The TOML text of a judge definition.

    Parameters
    ----------
    values : mapping
        Top-level keys of the judge file (``name``, ``mode``, ``model``, ``base_url``,
        ``categories``, ``template``, ...); a mapping value becomes a table (``params``).
    comment : str
        Lines written first as ``#`` comments.
    source : str
        Name used if the result fails validation.

    Returns
    -------
    str
        TOML that :func:`parse_judge` accepts (checked here).

    Raises
    ------
    InputError
        The values do not make a valid judge (the reader's message).
    """
    lines = [f"# {line}".rstrip() for line in comment.splitlines()]
    tables = {k: v for k, v in values.items() if isinstance(v, Mapping)}
    lines += [f"{k} = {_value(v)}" for k, v in values.items() if k not in tables]
    for name, table in tables.items():
        lines += ["", f"[{name}]", *(f"{k} = {_value(v)}" for k, v in table.items())]
    text = "\n".join(lines) + "\n"
    parse_judge(tomllib.loads(text), source=source)
    return text
