"""MIL-STD-105E (1989) normal-inspection single sampling plans, as a comparison column.

MIL-STD-105E is a US government work in the public domain; ANSI/ASQ Z1.4 and ISO 2859-1
derive from it. Two tables are encoded:

- Table I, sample size code letters: the letter for a lot size and inspection level;
- Table II-A, single sampling plans for normal inspection: the sample size of each letter
  and the (Ac, Re) pair for an AQL.

Table II-A is diagonal: along a diagonal (one letter down, one AQL column left) n times the
AQL is constant, so the entry depends on ``d = letter index + AQL index - 14``: below 0 an
arrow down (use the first plan below), 0 is (0, 1), 1 an arrow up (use the plan above),
2 an arrow down, and 3, 4, ... are (1, 2), (2, 3), (3, 4), (5, 6), (7, 8), (10, 11),
(14, 15), (21, 22), (30, 31), (44, 45); beyond, an arrow up. Only letters A-E (samples of
2-13) reach (30, 31) and (44, 45): from F (20) down, every cell past (21, 22) is an arrow
up. The last row (R) holds no arrow down: its cell at d = 2 (AQL 0.015) points up. When
the sample is at least the lot, the standard says inspect every item (``n = N``).

Source: MIL-STD-105E, 10 May 1989, Table II-A "Single sampling plans for normal
inspection (Master table)", page 19 of the 74-page legible copy (Department of Defense,
approved for public release); checked row by row in ``tests/test_plans.py``.
"""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np

from labelaudit.exceptions import UsageError

__all__ = ["AQLS", "LETTERS", "SAMPLE_SIZES", "code_letter", "lookup", "plan_for_letter"]

LETTERS = "ABCDEFGHJKLMNPQR"
SAMPLE_SIZES = (2, 3, 5, 8, 13, 20, 32, 50, 80, 125, 200, 315, 500, 800, 1250, 2000)
#: Table II-A AQL columns, percent nonconforming (up to 10) or nonconformities per 100 units.
AQLS: tuple[float, ...] = (0.010, 0.015, 0.025, 0.040, 0.065, 0.10, 0.15, 0.25, 0.40, 0.65)
AQLS += (1.0, 1.5, 2.5, 4.0, 6.5, 10.0, 15.0, 25.0, 40.0, 65.0, 100.0, 150.0, 250.0, 400.0)
AQLS += (650.0, 1000.0)
_ACCEPT = (1, 2, 3, 5, 7, 10, 14, 21, 30, 44)  # Ac for d = 3, 4, ...; Re = Ac + 1
_LAST_LARGE_ROW = 4  # E: the last letter whose row reaches (30, 31) and (44, 45)
#: Table I upper ends of the lot-size ranges.
_LOT_TOPS = (8, 15, 25, 50, 90, 150, 280, 500, 1200, 3200, 10000, 35000, 150000, 500000)
_LEVELS = {
    "S-1": "AAAABBBBCCCCDDD",
    "S-2": "AAABBBCCCDDDEEE",
    "S-3": "AABBCCDDEEFFGGH",
    "S-4": "AABCCDEEFGGHJJK",
    "I": "AABCCDEFGHJKLMN",
    "II": "ABCDEFGHJKLMNPQ",
    "III": "BCDEFGHJKLMNPQR",
}


def code_letter(batch_size: int, level: str = "II") -> str:
    """Table I: the sample size code letter of a lot of ``batch_size`` at ``level``."""
    if level not in _LEVELS:
        raise UsageError(f"inspection level must be one of {', '.join(_LEVELS)}; got {level!r}")
    if batch_size < 2:
        raise UsageError(f"MIL-STD-105E covers lots of 2 or more items; got {batch_size}")
    return _LEVELS[level][bisect.bisect_left(_LOT_TOPS, batch_size)]


def _cell(letter_index: int, aql_index: int) -> str | tuple[int, int]:
    d = letter_index + aql_index - 14
    if d < 0 or d == 2:
        return "down"
    if d == 0:
        return (0, 1)
    if d == 1 or d - 3 >= len(_ACCEPT):
        return "up"
    if letter_index > _LAST_LARGE_ROW and _ACCEPT[d - 3] > 21:
        return "up"
    return (_ACCEPT[d - 3], _ACCEPT[d - 3] + 1)


def plan_for_letter(letter: str, aql_percent: float) -> dict[str, Any]:
    """Table II-A: the plan for a code letter and a standard AQL (percent), arrows followed.

    Returns ``{"letter", "n", "c", "r"}`` of the plan the arrows lead to (an arrow up in the
    first row, which the table never holds, is read as down; an arrow down in the last row,
    likewise, as up).
    """
    if aql_percent not in AQLS:
        raise UsageError(f"AQL {aql_percent}% is not a MIL-STD-105E column; use one of {AQLS}")
    row, column = LETTERS.index(letter), AQLS.index(aql_percent)
    step = 0
    while True:
        cell = _cell(row, column)
        if isinstance(cell, tuple):
            return {"letter": LETTERS[row], "n": SAMPLE_SIZES[row], "c": cell[0], "r": cell[1]}
        last = row == len(LETTERS) - 1
        step = step or (1 if (cell == "down" and not last) or row == 0 else -1)
        row += step
        if not 0 <= row < len(LETTERS):
            raise UsageError(f"no MIL-STD-105E plan for letter {letter} at AQL {aql_percent}%")


def nearest_aql(aql: float) -> float:
    """The Table II-A column (percent) nearest to ``aql`` (a fraction) on a log scale."""
    percent = max(aql * 100.0, AQLS[0])
    return min(AQLS, key=lambda a: abs(np.log(a) - np.log(percent)))


def lookup(batch_size: int, aql: float, *, level: str = "II") -> dict[str, Any] | None:
    """The normal-inspection single plan for a lot and an AQL (a fraction; the nearest
    standard column is used). ``{"code_letter", "level", "aql_percent", "letter", "n",
    "c", "r", "full_inspection"}``; ``n`` is capped at the lot size (full inspection);
    None for lots below 2."""
    if batch_size < 2:
        return None
    letter = code_letter(batch_size, level)
    column = nearest_aql(aql)
    plan = plan_for_letter(letter, column)
    full = plan["n"] >= batch_size
    return {
        "code_letter": letter,
        "level": level,
        "aql_percent": column,
        "letter": plan["letter"],
        "n": min(plan["n"], batch_size),
        "c": plan["c"],
        "r": plan["r"],
        "full_inspection": full,
    }
