"""Time periods as the project writes them: ``report.period`` in ``labelaudit.toml`` and the
``--since`` option of ``labelaudit report`` (a number and a unit: ``h``, ``d`` or ``w``).

Its own small module so that reading the configuration (which checks ``report.period``)
does not load the report's renderers.
"""

from __future__ import annotations

import re
from datetime import timedelta

from labelaudit.exceptions import UsageError

__all__ = ["parse_period"]

_PERIOD = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_period(text: str) -> timedelta:
    """``"7d"`` -> 7 days; units ``h``, ``d``, ``w`` (UsageError otherwise)."""
    match = _PERIOD.match(text)
    if match is None:
        raise UsageError(
            f"--since takes a number and a unit (h, d or w), e.g. 7d or 4w; got {text!r}"
        )
    return timedelta(**{_UNITS[match[2]]: int(match[1])})
