"""Parse a judge's answer: structured JSON first, then a small set of fixed patterns.

1. The answer is read as JSON (a Markdown code fence around it is allowed; so is text
   around one JSON object). The verdict is the ``verdict_field`` property.
2. When that fails, fixed patterns are tried: the verdict property in broken JSON
   (``"label": "pos"``), FastChat's double brackets (``[[A]]``, ``[[C]]`` = tie,
   ``[[7]]``), LLMBar's ``Output (a)``, ``Label: pos`` / ``Score: 7`` / ``Winner: B``
   lines, or an answer that is nothing but one allowed value.
3. The value is validated: a category (exact, else case-insensitive), a number in the
   scale, ``A`` / ``B`` / ``tie``. Anything else -- no match, two different matches, a
   value outside the allowed ones -- is an error recorded with the raw text. Nothing is
   ever guessed.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labelaudit.judge.definition import JudgeDefinition

__all__ = ["Parsed", "parse_answer"]

_FENCE = re.compile(r"^```[A-Za-z0-9_-]*\s*\n?(.*?)\n?```\s*$", re.DOTALL)
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)"
_WINNER = {"a": "A", "b": "B", "tie": "tie"}


@dataclass(frozen=True)
class Parsed:
    """A parsed verdict (label, number, or ``A``/``B``/``tie`` in slot terms) or an error."""

    verdict: str | float | int | None
    error: str | None = None
    how: str = "json"


def _json_object(text: str) -> dict[str, Any] | None:
    """The answer as a JSON object: whole, inside a code fence, or the outermost braces."""
    stripped = text.strip()
    fence = _FENCE.match(stripped)
    candidates = [fence.group(1).strip()] if fence else [stripped]
    start, end = stripped.find("{"), stripped.rfind("}")
    if 0 <= start < end:
        candidates.append(stripped[start : end + 1])
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except (json.JSONDecodeError, RecursionError):
            continue
        if isinstance(value, dict):
            return value
    return None


def _patterns(judge: JudgeDefinition) -> list[re.Pattern[str]]:
    field = re.escape(judge.verdict_field)
    if judge.mode == "score":
        value = f"({_NUMBER})"
        return [
            re.compile(rf'"{field}"\s*:\s*"?{value}'),
            re.compile(rf"\[\[\s*{value}\s*\]\]"),
            re.compile(rf"(?im)^\W*(?:score|rating|grade)\W*[:=]\s*{value}"),
        ]
    if judge.mode == "pairwise":
        return [
            re.compile(rf'"{field}"\s*:\s*"([^"\n]*)"'),
            re.compile(r"\[\[\s*(A|B|C|tie)\s*\]\]", re.IGNORECASE),
            re.compile(r"\boutput\s*\(([ab])\)", re.IGNORECASE),
            re.compile(r"(?im)^\W*(?:winner|verdict|answer)\W*[:=]\s*\W*(A|B|tie)\b"),
        ]
    return [
        re.compile(rf'"{field}"\s*:\s*"([^"\n]*)"'),
        re.compile(r"\[\[\s*([^\]\n]+?)\s*\]\]"),
        re.compile(r"(?im)^\W*(?:label|verdict|answer|category)\W*[:=]\s*(.+?)\s*$"),
    ]


def _fallback(judge: JudgeDefinition, text: str) -> Parsed:
    """The verdict from the fixed patterns, or an error; never a guess."""
    stripped = text.strip().strip("*`'\".").strip()
    for pattern in _patterns(judge):
        found = {m.group(1).strip() for m in pattern.finditer(text)}
        if len(found) > 1:
            shown = ", ".join(sorted(found))
            return Parsed(None, f"ambiguous answer: several verdicts ({shown})", "pattern")
        if found:
            value = found.pop()
            if judge.pairwise and value.upper() == "C" and pattern.pattern.startswith(r"\[\["):
                value = "tie"  # FastChat's [[C]]
            return _validate(judge, value, "pattern")
    if stripped and "\n" not in stripped and len(stripped) <= 64:
        bare = _validate(judge, stripped, "bare")
        if bare.error is None:
            return bare
    return Parsed(None, "unparseable answer: no JSON object and no verdict pattern", "none")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str) and re.fullmatch(_NUMBER, value.strip()):
        return float(value)
    return None


def _validate(judge: JudgeDefinition, value: Any, how: str) -> Parsed:
    """Check a raw verdict value against the mode's allowed values."""
    if judge.mode == "score":
        number = _number(value)
        low, high = judge.scale or (-math.inf, math.inf)
        if number is None or not low <= number <= high:
            return Parsed(None, f"score {value!r} is not a number from {low} to {high}", how)
        if judge.scale_integer:
            if not number.is_integer():
                return Parsed(None, f"score {value!r} is not a whole number", how)
            return Parsed(int(number), None, how)
        return Parsed(number, None, how)
    if not isinstance(value, str):
        return Parsed(None, f"verdict {value!r} is not a string", how)
    if judge.mode == "pairwise":
        winner = _WINNER.get(value.strip().lower())
        if winner is None or (winner == "tie" and not judge.allow_tie):
            allowed = "A, B or tie" if judge.allow_tie else "A or B"
            return Parsed(None, f"winner {value!r} is not {allowed}", how)
        return Parsed(winner, None, how)
    categories = judge.categories or ()
    if value in categories:
        return Parsed(value, None, how)
    folded = [c for c in categories if c.casefold() == value.strip().casefold()]
    if len(folded) == 1:
        return Parsed(folded[0], None, how)
    return Parsed(None, f"label {value!r} is not one of {list(categories)}", how)


def parse_answer(judge: JudgeDefinition, content: str | None) -> Parsed:
    """Parse one answer text into a verdict (see the module docstring).

    Parameters
    ----------
    judge : JudgeDefinition
    content : str or None
        The ``message.content`` of the completion.

    Returns
    -------
    Parsed
        ``verdict`` (a category, a number, or ``"A"``/``"B"``/``"tie"`` in slot terms) or
        ``error``; ``how`` is ``json``, ``pattern``, ``bare`` or ``none``.
    """
    if content is None or not content.strip():
        return Parsed(None, "empty answer", "none")
    document = _json_object(content)
    if document is not None and judge.verdict_field in document:
        return _validate(judge, document[judge.verdict_field], "json")
    if document is not None:
        return Parsed(None, f"JSON answer without the {judge.verdict_field!r} property", "json")
    return _fallback(judge, content)
