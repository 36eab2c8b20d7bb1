"""Token prices: a TOML table of USD per 1 million input and output tokens per model.

The packaged default (``labelaudit/judge/prices.toml``) holds a few well-known models as
dated *examples to be checked*; ``--prices FILE`` replaces it. Format::

    as_of = "2025-04"                  # optional, recorded in the run summary
    [models."gpt-4o-mini"]
    input = 0.15                       # USD per 1M prompt tokens
    output = 0.60                      # USD per 1M completion tokens

cost = (prompt_tokens * input + completion_tokens * output) / 1e6. A model is looked up by
its exact name; a model not in the table has no cost (None).

When an endpoint sends no usable token count, :func:`estimate_tokens` estimates it from
the text: one token per :data:`BYTES_PER_TOKEN` bytes of UTF-8, rounded up. English text
averages about 4 characters per token with common BPE tokenizers and CJK text about one
token per character (3 UTF-8 bytes), so 3 bytes per token errs on the high side: a budget
(``max_cost``) computed from estimates stops early rather than late.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from labelaudit.exceptions import InputError

__all__ = ["BYTES_PER_TOKEN", "Price", "PriceTable", "estimate_tokens", "load_prices"]

#: UTF-8 bytes per token assumed when an endpoint reports no usage (see the module doc).
BYTES_PER_TOKEN = 3


def estimate_tokens(n_bytes: int) -> int:
    """Estimated tokens of ``n_bytes`` bytes of UTF-8 text: ``ceil(n_bytes / 3)``."""
    return -(-n_bytes // BYTES_PER_TOKEN)


@dataclass(frozen=True)
class Price:
    """USD per 1 million input (prompt) and output (completion) tokens."""

    input: float
    output: float

    def cost(self, prompt_tokens: int | None, completion_tokens: int | None) -> float | None:
        """USD for the given usage; None when the usage is unknown."""
        if prompt_tokens is None or completion_tokens is None:
            return None
        return (prompt_tokens * self.input + completion_tokens * self.output) / 1e6


@dataclass(frozen=True)
class PriceTable:
    """Prices by model name, with where they came from."""

    prices: dict[str, Price]
    source: str
    as_of: str | None = None
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def price(self, model: str) -> Price | None:
        """The price of ``model`` (exact name), or None."""
        return self.prices.get(model)

    def describe(self, model: str) -> dict[str, Any]:
        """JSON-ready: the table's source and date, and the price used for ``model``."""
        price = self.price(model)
        return {
            "source": self.source,
            "as_of": self.as_of,
            "note": self.note,
            "model": model,
            "input_per_million": None if price is None else price.input,
            "output_per_million": None if price is None else price.output,
        }


def _error(source: str, key: str, expected: str, actual: Any) -> InputError:
    return InputError(
        "invalid price table", source=source, field=key, expected=expected, actual=actual
    )


def load_prices(path: str | Path | None = None) -> PriceTable:
    """Read a price table (the packaged default when ``path`` is None).

    Raises
    ------
    InputError
        Unreadable file, TOML error, or a price that is not a non-negative number (the key
        is named, e.g. ``models."gpt-4o".input``).
    """
    if path is None:
        source = "labelaudit/judge/prices.toml (packaged examples)"
        text = files("labelaudit.judge").joinpath("prices.toml").read_text("utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(
                "cannot read the price table",
                source=source,
                expected="a readable UTF-8 TOML file",
                actual=str(error),
            ) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(
            "TOML syntax error", source=source, expected="valid TOML", actual=str(error)
        ) from None
    models = document.get("models", {})
    if not isinstance(models, dict):
        raise _error(source, "models", 'a table of [models."NAME"] tables', models)
    prices = {}
    for name, entry in models.items():
        if not isinstance(entry, dict) or set(entry) != {"input", "output"}:
            raise _error(source, f'models."{name}"', "a table with input and output", entry)
        for side in ("input", "output"):
            value = entry[side]
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not (math.isfinite(value) and value >= 0)
            ):
                raise _error(
                    source, f'models."{name}".{side}', "a non-negative number (USD/1M)", value
                )
        prices[name] = Price(float(entry["input"]), float(entry["output"]))
    as_of, note = document.get("as_of"), document.get("note")
    return PriceTable(
        prices, source, None if as_of is None else str(as_of), None if note is None else str(note)
    )
