"""The judge's resource limits: one table of ranges and defaults, checked when read.

Each limit is a judge-file key (validated by :func:`labelaudit.judge.definition.load_judge`,
naming the file and the key) and can be overridden for one run
(:class:`labelaudit.judge.run.RunOptions`, several as CLI options, checked by
:func:`check_option`). ``docs/judge.md`` lists them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from labelaudit.exceptions import UsageError

__all__ = ["LIMITS", "Limit", "check_option"]


@dataclass(frozen=True)
class Limit:
    """Allowed range ``[low, high]`` (inclusive), whether whole numbers, and the default."""

    low: float
    high: float
    integer: bool
    default: float | None
    unit: str = ""

    def expected(self) -> str:
        """``an integer from 1 to 1024`` / ``a number from 1 to 1000000`` (for messages)."""
        kind = "an integer" if self.integer else "a number"
        unit = f" ({self.unit})" if self.unit else ""
        return f"{kind} from {self.low:g} to {self.high:g}{unit}"

    def accepts(self, value: Any) -> bool:
        """True for a number (an int when ``integer``) inside the range; never for bool/nan."""
        kinds = int if self.integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            return False
        return math.isfinite(value) and self.low <= value <= self.high


#: name -> Limit. ``rpm`` has no default (no rate limit unless set).
LIMITS: dict[str, Limit] = {
    "concurrency": Limit(1, 1024, True, 8, "requests in flight"),
    "rpm": Limit(1, 1_000_000, False, None, "requests per minute"),
    "timeout": Limit(0.01, 3600, False, 60.0, "seconds per read, connect or write"),
    "request_deadline": Limit(0.01, 86_400, False, 600.0, "seconds per HTTP attempt, in total"),
    "max_retries": Limit(0, 100, True, 6, "retries per request"),
    "max_response_bytes": Limit(1024, 2**30, True, 8 * 2**20, "bytes of one response body"),
    "max_prompt_chars": Limit(100, 100_000_000, True, 4_000_000, "characters per render"),
    "render_timeout": Limit(0.001, 600, False, 5.0, "seconds per render"),
}


def check_option(name: str, value: Any) -> None:
    """Raise UsageError naming ``--NAME`` when ``value`` (not None) is outside its limit."""
    if value is None:
        return
    limit = LIMITS[name]
    if not limit.accepts(value):
        flag = "--" + name.replace("_", "-")
        raise UsageError(f"{flag} must be {limit.expected()}; got {value!r}")
