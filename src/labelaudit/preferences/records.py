"""Pairwise preference records: one row per vote, integer-coded once at the boundary.

A *vote* is one annotator's (human or LLM judge) verdict on two responses to one prompt.
The choice is stored in **slot terms** -- ``first``, ``second``, ``tie``, ``both_bad`` or
missing -- next to the responses in the order they were shown (``first_codes`` was in the
first slot). When the display order is unknown (DPO chosen/rejected, merged judge verdicts)
``order_known`` is False and "first" is only the source's own orientation; position audits
then skip the row.

Every audit works on the integer codes below (numpy) and never loops over rows. An *item*
is a prompt with an unordered pair of responses; ``lo``/``hi`` orient it canonically (the
response with the smaller code is ``lo``) so that votes shown in either order compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = [
    "BOTH_BAD",
    "CHOICES",
    "FIRST",
    "KINDS",
    "MISSING",
    "SECOND",
    "TIE",
    "PreferenceTable",
]

FIRST, SECOND, TIE, BOTH_BAD, MISSING = 0, 1, 2, 3, -1
CHOICES = ("first", "second", "tie", "both_bad")
KINDS = ("human", "judge")


@dataclass(frozen=True, eq=False)
class PreferenceTable:
    """Validated pairwise preference votes with integer codes.

    Build it with a reader (:func:`labelaudit.preferences.read_preferences`) or
    :func:`labelaudit.preferences.columns.from_columns`; audits trust it.

    Attributes
    ----------
    prompts, responses, models, annotators : ndarray of str
        Code -> name, sorted (codes do not depend on row order). ``models`` may be empty.
    annotator_kind : ndarray of str, shape (n_annotators,)
        ``"human"`` or ``"judge"``.
    prompt_codes, first_codes, second_codes, annotator_codes : ndarray of int64, shape (n,)
        Per vote: the prompt, the responses in the first and second slot, the annotator.
    choice : ndarray of int8, shape (n,)
        ``FIRST`` (0), ``SECOND`` (1), ``TIE`` (2), ``BOTH_BAD`` (3) or ``MISSING`` (-1,
        an unparseable judge output or an empty cell).
    order_known : ndarray of bool, shape (n,)
        True when ``first_codes`` really was shown first.
    response_prompt, response_model : ndarray of int64, shape (n_responses,)
        Prompt of each response; its model code or -1.
    response_length : ndarray of int64, shape (n_responses,)
        Characters of the final response text; -1 when the text is unknown.
    response_text, prompt_text : pyarrow.Array or None
        Final response text per response code; prompt text per prompt code.
    gold : ndarray of int8 or None, shape (n,)
        Gold verdict in slot terms (same codes as ``choice``; -1 = no gold).
    first_score, second_score : ndarray of float64 or None, shape (n,)
        Optional per-response scores given with the vote (NaN = none).
    context_mismatch : ndarray of bool or None, shape (n,)
        True when the two responses continue different conversations (HH-RLHF).
    meta : dict of str to ndarray
        Per-vote metadata (``turn``, ``subset``, ``category``...), object arrays of str.
    lines : ndarray of int64, shape (n,), or None
        Line (or record) of the source each vote came from; ``unit`` says which. None:
        the 1-based record number (``unit`` is then ``"record"``).
    source : str
        File name(s) the votes came from.
    notes : list of str
        What the reader did beyond plain parsing (rows excluded, assumptions).
    """

    prompts: np.ndarray
    responses: np.ndarray
    models: np.ndarray
    annotators: np.ndarray
    annotator_kind: np.ndarray
    prompt_codes: np.ndarray
    first_codes: np.ndarray
    second_codes: np.ndarray
    annotator_codes: np.ndarray
    choice: np.ndarray
    order_known: np.ndarray
    response_prompt: np.ndarray
    response_model: np.ndarray
    response_length: np.ndarray
    response_text: pa.Array | None = None
    prompt_text: pa.Array | None = None
    gold: np.ndarray | None = None
    first_score: np.ndarray | None = None
    second_score: np.ndarray | None = None
    context_mismatch: np.ndarray | None = None
    meta: dict[str, np.ndarray] = field(default_factory=dict)
    lines: np.ndarray | None = None
    unit: str = "line"
    source: str = "<input>"
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ sizes
    @property
    def n_votes(self) -> int:
        """Number of votes (rows)."""
        return int(self.choice.shape[0])

    @property
    def n_prompts(self) -> int:
        """Number of distinct prompts."""
        return int(self.prompts.shape[0])

    @property
    def n_responses(self) -> int:
        """Number of distinct responses."""
        return int(self.responses.shape[0])

    @property
    def n_annotators(self) -> int:
        """Number of distinct annotators and judges."""
        return int(self.annotators.shape[0])

    @property
    def has_text(self) -> bool:
        """True when every response's final text (hence its length) is known."""
        return bool(self.n_responses and (self.response_length >= 0).all())

    @property
    def has_models(self) -> bool:
        """True when some responses carry a model name."""
        return bool((self.response_model >= 0).any())

    # ------------------------------------------------------------------ derived codes
    @cached_property
    def lo(self) -> np.ndarray:
        """Canonical first response of each vote's item (the smaller code), shape (n,)."""
        return np.minimum(self.first_codes, self.second_codes)

    @cached_property
    def hi(self) -> np.ndarray:
        """Canonical second response of each vote's item (the larger code), shape (n,)."""
        return np.maximum(self.first_codes, self.second_codes)

    @cached_property
    def swapped(self) -> np.ndarray:
        """True where the first slot holds ``hi`` (the item shown in reverse), shape (n,)."""
        return self.first_codes > self.second_codes

    @cached_property
    def outcome(self) -> np.ndarray:
        """Verdict in canonical item terms, int8 (n,): 0 ``lo`` wins, 1 ``hi`` wins, 2 tie.

        ``both_bad`` counts as a tie (as Chatbot Arena's ``tie (bothbad)``); -1 = missing.
        """
        out = np.full(self.n_votes, -1, dtype=np.int8)
        decisive = (self.choice == FIRST) | (self.choice == SECOND)
        out[decisive] = (self.choice[decisive] == SECOND) ^ self.swapped[decisive]
        out[(self.choice == TIE) | (self.choice == BOTH_BAD)] = 2
        return out

    @cached_property
    def winner(self) -> np.ndarray:
        """Response code of the preferred response, -1 for ties and missing, shape (n,)."""
        return np.select(
            [self.choice == FIRST, self.choice == SECOND],
            [self.first_codes, self.second_codes],
            default=-1,
        )

    @cached_property
    def item_codes(self) -> np.ndarray:
        """Code of each vote's item (prompt + unordered response pair), shape (n,)."""
        pair = self.lo * max(self.n_responses, 1) + self.hi
        _, pair_code = np.unique(pair, return_inverse=True)
        key = self.prompt_codes * (int(pair_code.max(initial=0)) + 1) + pair_code
        _, codes = np.unique(key, return_inverse=True)
        return codes.astype(np.int64)

    @cached_property
    def n_items(self) -> int:
        """Number of distinct items."""
        return int(self.item_codes.max(initial=-1)) + 1

    @cached_property
    def item_prompt(self) -> np.ndarray:
        """Prompt code of each item, shape (n_items,)."""
        out = np.zeros(self.n_items, dtype=np.int64)
        out[self.item_codes] = self.prompt_codes
        return out

    def rater_groups(self) -> list[tuple[str, np.ndarray]]:
        """``(name, vote mask)`` of every rater group: all humans pooled, then each judge."""
        kinds = self.kinds()
        groups = []
        if (kinds == "human").any():
            groups.append(("human", kinds == "human"))
        for a in np.flatnonzero(self.annotator_kind == "judge"):
            mask = self.annotator_codes == a
            if mask.any():
                groups.append((str(self.annotators[a]), mask))
        return groups

    def kinds(self) -> np.ndarray:
        """Kind of each vote's annotator, object array (n,)."""
        return self.annotator_kind[self.annotator_codes]

    def line_of(self, row: int) -> int:
        """Source line (or record) of vote ``row`` (0-based)."""
        return int(self.lines[row]) if self.lines is not None else row + 1

    # ------------------------------------------------------------------ subsets
    def filter(self, mask: np.ndarray) -> PreferenceTable:
        """The votes where ``mask`` (bool, shape (n,)) is True; code spaces are kept.

        Annotators, prompts and responses keep their codes (some may have no vote left),
        so results of a subset line up with the whole table.
        """
        keep = np.asarray(mask, dtype=bool)
        per_row = {
            name: (None if value is None else value[keep])
            for name, value in (
                ("prompt_codes", self.prompt_codes),
                ("first_codes", self.first_codes),
                ("second_codes", self.second_codes),
                ("annotator_codes", self.annotator_codes),
                ("choice", self.choice),
                ("order_known", self.order_known),
                ("gold", self.gold),
                ("first_score", self.first_score),
                ("second_score", self.second_score),
                ("context_mismatch", self.context_mismatch),
                ("lines", self.lines),
            )
        }
        meta = {name: values[keep] for name, values in self.meta.items()}
        return replace(self, meta=meta, notes=list(self.notes), **per_row)  # type: ignore[arg-type]

    def describe(self) -> dict[str, Any]:
        """Sizes and columns present, JSON-ready."""
        return {
            "source": self.source,
            "n_votes": self.n_votes,
            "n_prompts": self.n_prompts,
            "n_responses": self.n_responses,
            "n_items": self.n_items,
            "n_models": int(self.models.size),
            "n_annotators": self.n_annotators,
            "annotators": [
                {"annotator": str(name), "kind": str(kind)}
                for name, kind in zip(self.annotators, self.annotator_kind, strict=True)
            ],
            "order_known": int(self.order_known.sum()),
            "unit": self.unit,
            "has_text": self.has_text,
            "has_gold": bool(self.gold is not None and (self.gold >= 0).any()),
            "meta": sorted(self.meta),
            "notes": list(self.notes),
        }
