"""Hover values on the charts and boxes over an item's image (the server's additions to
the reports' drawings; the data goes in escaped attributes, ``static/hover.js`` shows it).

- :func:`hover_points` -- the values of a control chart's points as ``data-hover`` and
  ``<title>`` (a native tooltip without the script) on the SVG markers.
- :func:`image_url` -- the item's image URL (``http``, ``https`` or a ``data:image``),
  from its data columns.
- :func:`boxes` -- a box label (JSON ``[{"x", "y", "width", "height", "label"}]``) as
  boxes to draw; :func:`image_origin` the CSP source that lets the page load the image.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

__all__ = ["IMAGE_COLUMNS", "boxes", "hover_points", "image_origin", "image_url"]

#: Data columns that may hold an item's image URL, in order of preference.
IMAGE_COLUMNS = ("image", "image_url", "img", "picture", "photo", "url")
_USE = re.compile(r"<use\b([^>]*?)/>")
_ORIGIN = re.compile(r"^(https?://[A-Za-z0-9.\-]+(?::\d{1,5})?)(?:/|$)")


def hover_points(svg: str, series: str, labels: Sequence[str], values: Sequence[Any]) -> str:
    """``svg`` with each drawn marker of the group ``series`` (the plotted line's ``gid``)
    carrying ``"label: value"``; markers are the points with a value, in order (a missing
    value is not drawn). The SVG is returned unchanged when the counts disagree."""
    start = svg.find(f'id="{series}"')
    if start < 0:
        return svg
    shown = [
        f"{label}: {value:.4g}"
        for label, value in zip(labels, values, strict=True)
        if value is not None and not (isinstance(value, float) and math.isnan(value))
    ]
    end = svg.find("</g>", svg.find("<use", start))  # the markers' group closes
    if end < 0:
        return svg
    part = svg[start:end]
    if len(_USE.findall(part)) != len(shown):
        return svg
    texts = iter(shown)

    def mark(match: re.Match[str]) -> str:
        text = next(texts)
        return f"<use{match[1]} data-hover={quoteattr(text)}><title>{escape(text)}</title></use>"

    return svg[:start] + _USE.sub(mark, part) + svg[end:]


def image_url(extra: Mapping[str, Any] | None) -> str | None:
    """The first data column of :data:`IMAGE_COLUMNS` holding an ``http(s)`` URL or a
    ``data:image/`` URI (any other scheme is ignored)."""
    values = dict(extra or {})
    for column in IMAGE_COLUMNS:
        value = str(values.get(column) or "").strip()
        if _ORIGIN.match(value) or value.startswith("data:image/"):
            return value
    return None


def image_origin(url: str | None) -> str | None:
    """The URL's ``scheme://host[:port]`` (a CSP source) or None (data URIs need none)."""
    found = _ORIGIN.match(url or "")
    return found[1] if found else None


def boxes(label: str) -> dict[str, Any] | None:
    """``{"unit": "percent" | "pixels", "boxes": [{"x", "y", "width", "height", "label"}]}``
    when ``label`` is a JSON box list, else None. Coordinates within 0-100 are read as
    percentages of the image (Label Studio's convention), others as pixels."""
    if not label.startswith("["):
        return None
    try:
        data = json.loads(label)
    except ValueError:
        return None
    out: list[dict[str, Any]] = []
    for box in data if isinstance(data, list) else []:
        if not isinstance(box, dict):
            return None
        numbers = [box.get(k) for k in ("x", "y", "width", "height")]
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in numbers):
            return None
        name = box.get("label", box.get("rectanglelabels", ""))
        name = ", ".join(map(str, name)) if isinstance(name, list) else str(name)
        x, y, w, h = (float(v) for v in numbers if v is not None)
        out.append({"x": x, "y": y, "width": w, "height": h, "label": name})
    if not out:
        return None
    percent = all(
        float(b["x"]) + float(b["width"]) <= 100 and float(b["y"]) + float(b["height"]) <= 100
        for b in out
    )
    return {"unit": "percent" if percent else "pixels", "boxes": out}
