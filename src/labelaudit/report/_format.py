"""Number and text formatting shared by every renderer (no metric is computed here)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "DASH",
    "as_float",
    "fmt_ci",
    "fmt_count",
    "fmt_p",
    "fmt_value",
    "text",
    "visible_controls",
]

DASH = "\u2014"
"""Shown in place of an undefined (``None``) number."""

# C0 and C1 control characters but tab and line breaks, shown as text such as ``\x1b`` so that
# no terminal escape sequence (ESC) or invisible byte reaches a report.
_CONTROLS = {
    code: f"\\x{code:02x}"
    for code in [*range(0x20), *range(0x7F, 0xA0)]
    if code not in (ord("\t"), ord("\n"), ord("\r"))
}


def visible_controls(value: str) -> str:
    """Replace control characters (but tab, ``\\n`` and ``\\r``) by ``\\xNN`` text."""
    return value.translate(_CONTROLS)


def as_float(value: Any) -> float | None:
    """A finite float, or ``None`` for ``None``, NaN, infinities, booleans and non-numbers.

    Parameters
    ----------
    value : Any
        A number from the report dict (JSON numbers, maybe ``None``).

    Returns
    -------
    float or None
        ``float(value)`` when it is a finite real number, else ``None``.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def fmt_value(value: Any, digits: int = 3) -> str:
    """A number with a fixed number of decimals, or an em dash when undefined.

    Parameters
    ----------
    value : Any
        The number (``None`` or NaN mean undefined).
    digits : int, default 3
        Decimals to show.

    Returns
    -------
    str
        For example ``"0.860"``; ``"—"`` for ``None``. A negative zero prints as zero.
    """
    number = as_float(value)
    if number is None:
        return DASH
    out = f"{number:.{digits}f}"
    return out[1:] if out.startswith("-") and float(out) == 0 else out


def fmt_ci(ci: Any, digits: int = 3) -> str:
    """A 95% interval as ``"[lo, hi]"``, or an em dash when absent or undefined.

    Parameters
    ----------
    ci : Any
        A two-element sequence ``[lo, hi]`` or ``None``.
    digits : int, default 3
        Decimals to show.

    Returns
    -------
    str
        ``"[0.840, 0.880]"`` or ``"—"``.
    """
    if not isinstance(ci, Sequence) or isinstance(ci, str) or len(ci) != 2:
        return DASH
    lo, hi = (as_float(bound) for bound in ci)
    if lo is None or hi is None:
        return DASH
    return f"[{fmt_value(lo, digits)}, {fmt_value(hi, digits)}]"


def fmt_p(value: Any) -> str:
    """A p-value with four decimals, ``"<0.0001"`` below that, em dash when undefined.

    Parameters
    ----------
    value : Any
        The p-value or ``None``.

    Returns
    -------
    str
        The formatted p-value.
    """
    number = as_float(value)
    if number is None:
        return DASH
    return "<0.0001" if number < 1e-4 else f"{number:.4f}"


def fmt_count(value: Any) -> str:
    """An integer count with thousands separators, or an em dash when absent.

    Parameters
    ----------
    value : Any
        The count (an int, or a float holding an integer).

    Returns
    -------
    str
        For example ``"2,997"``.
    """
    number = as_float(value)
    if number is None:
        return DASH
    return f"{int(number):,}" if number.is_integer() else f"{number:,.2f}"


def text(value: Any) -> str:
    """User content as a plain string (``None`` becomes an em dash, mappings are flattened).

    Parameters
    ----------
    value : Any
        An item id, annotator name, label, file name or similar.

    Returns
    -------
    str
        The text with control characters made visible (``"\\x1b"``), otherwise unescaped:
        each renderer escapes it for its own format.
    """
    if value is None:
        return DASH
    if isinstance(value, Mapping):
        return ", ".join(f"{text(k)}: {text(v)}" for k, v in value.items())
    return visible_controls(str(value))
