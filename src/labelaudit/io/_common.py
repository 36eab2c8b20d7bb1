"""Small helpers shared by the platform readers."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from labelaudit.exceptions import RecordRejected as Reject

__all__ = ["MISSING", "Reject", "as_int", "as_number", "check_box", "key_text", "lookup"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def lookup(record: Any, path: str) -> Any:
    """``record["a"]["b"]`` for ``path="a.b"``; MISSING when a step is absent.

    A key that itself contains dots (``"sentiment.responses"``) is tried whole first.
    """
    if isinstance(record, dict) and path in record:
        return record[path]
    current = record
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return MISSING
    return current


def key_text(value: Any) -> str | None:
    """A task key as text: strings as they are, numbers without '.0', others as JSON-ish text."""
    if value is MISSING or value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (str, int, float)):
        return str(value)
    import json

    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def as_number(value: Any, name: str) -> float:
    """A finite number, or Reject naming the field."""
    if type(value) is int:
        return float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise Reject(f"{name} is not a number", repr(value))
    return float(value)


def as_int(value: Any, name: str) -> int:
    """An integer (integral floats accepted), or Reject naming the field."""
    if type(value) is int:
        return value
    number = as_number(value, name)
    if not number.is_integer():
        raise Reject(f"{name} is not an integer", repr(value))
    return int(number)


def check_box(
    x: float, y: float, width: float, height: float, size: Iterable[float | None]
) -> None:
    """Reject a box with no area or reaching outside the image (when its size is known)."""
    image_width, image_height = size
    if width <= 0 or height <= 0:
        raise Reject("box with no area", f"width={width}, height={height}")
    tolerance = 1e-6
    outside = x < -tolerance or y < -tolerance
    if image_width is not None:
        outside |= x + width > image_width * (1 + tolerance) + tolerance
    if image_height is not None:
        outside |= y + height > image_height * (1 + tolerance) + tolerance
    if outside:
        raise Reject(
            "box outside the image",
            f"x={x:g}, y={y:g}, width={width:g}, height={height:g}, "
            f"image={image_width}x{image_height}",
        )


def check_span(start: int, end: int, text: str | None) -> None:
    """Reject spans that end before they start, are empty, or run past the text."""
    if end < start:
        raise Reject("span end before start", f"start={start}, end={end}")
    if end == start:
        raise Reject("empty span", f"start={start}, end={end}")
    if start < 0 or (text is not None and end > len(text)):
        length = "?" if text is None else len(text)
        raise Reject("span outside the text", f"start={start}, end={end}, text length={length}")
