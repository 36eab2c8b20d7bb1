"""Hygiene of preference pairs: rule-based checks that flag votes, never drop them.

Per vote (a row), computed on the final response texts with pyarrow compute kernels:

- ``identical_pair``: both responses are the same text and continue the same context;
- ``identical_final_response``: both final responses are the same text;
- ``context_mismatch``: the two responses continue different conversations (HH-RLHF);
- ``empty_response``: a final response that is empty or whitespace;
- ``likely_truncated``: a non-empty final response that does not end in terminal
  punctuation (``. ! ? ) ] } " ' ` * : ; >`` and typographic quotes / ellipsis) or leaves
  a code fence open (an odd number of ```` ``` ````);
- ``refusal``: a final response matching common refusal phrases ("I'm sorry", "I cannot",
  "As an AI", ...);
- ``duplicate_vote``: the same annotator, prompt and responses in the same slots again
  (every occurrence after the first);
- ``duplicate_prompt_text``: a prompt whose text equals that of another prompt id;
- ``near_duplicate_prompt``: a prompt whose MinHash signature (64 seeded permutations
  over word 5-shingles of the lower-cased text; LSH with 16 bands of 4 rows) estimates a
  Jaccard similarity of at least ``threshold`` (0.8) with a prompt of smaller code.

Response checks are counted separately for the preferred response of a decisive vote and
for the other one (both responses of a tie count as "other"). Also reported: the tie rate
and the missing-verdict rate per annotator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from labelaudit.preferences.records import BOTH_BAD, FIRST, MISSING, SECOND, TIE, PreferenceTable
from labelaudit.results import clean_number

__all__ = ["Hygiene", "hygiene", "minhash_signatures", "near_duplicates"]

_PUNCTUATION = [".", "!", "?", ")", "]", "}", '"', "'", "`", "*", ":", ";", ">", "”", "’", "…",
                "»", "。", "！", "？"]  # fmt: skip
_REFUSAL = (
    r"(?i)(\bi'?m sorry\b|\bi am sorry\b|\bi apologi[sz]e\b|\bi can(?:not|'t|’t) "
    r"(?:help|assist|provide|do|comply|fulfil)|\bi(?:'m| am) (?:not able|unable) to\b|"
    r"\bas an ai\b|\bas a language model\b|\bi won'?t be able to\b)"
)
_N_PERM, _SHINGLE, _BANDS = 64, 5, 16
_EXAMPLES = 5


@dataclass(frozen=True)
class Hygiene:
    """Counts and examples of every check, tie rates, and the per-vote flags.

    Attributes
    ----------
    checks : list of dict
        ``{"check", "n", "rate", "preferred", "other", "examples"}``; ``examples`` are
        source lines (or record numbers, per ``unit``) of the first flagged votes.
    tie_rates : list of dict
        Per annotator: ``n``, ``tie_rate``, ``missing_rate``.
    near_duplicates : list of dict
        The most similar near-duplicate prompt pairs: ``a``, ``b``, ``jaccard``.
    flags : dict of str to ndarray of bool
        Per vote, per check (not in the JSON): filter with them, nothing is dropped.
    """

    checks: list[dict[str, Any]]
    tie_rates: list[dict[str, Any]]
    near_duplicates: list[dict[str, Any]]
    flags: dict[str, np.ndarray]
    notes: list[str]
    unit: str = "line"

    def to_dict(self) -> dict[str, Any]:
        """``{"checks", "tie_rates", "near_duplicates", "notes", "unit"}``."""
        return {
            "unit": self.unit,
            "checks": [clean_number(c) for c in self.checks],
            "tie_rates": [clean_number(t) for t in self.tie_rates],
            "near_duplicates": [clean_number(n) for n in self.near_duplicates],
            "notes": list(self.notes),
        }


# ---------------------------------------------------------------------------- text checks
def _response_checks(text: pa.Array) -> dict[str, np.ndarray]:
    """Per response: empty, likely truncated, refusal (bool arrays)."""
    filled = pc.fill_null(text, "")
    trimmed = pc.utf8_rtrim_whitespace(filled)
    empty = pc.equal(pc.utf8_length(trimmed), 0)
    last = pc.utf8_slice_codeunits(trimmed, start=-1)
    ends = pc.is_in(last, value_set=pa.array(_PUNCTUATION))
    open_fence = pc.equal(pc.bit_wise_and(pc.count_substring(filled, "```"), 1), 1)
    truncated = pc.and_(pc.invert(empty), pc.or_(pc.invert(ends), open_fence))
    refusal = pc.match_substring_regex(filled, _REFUSAL)
    return {
        name: np.asarray(values.to_numpy(zero_copy_only=False), dtype=bool)
        for name, values in (("empty_response", empty), ("likely_truncated", truncated),
                             ("refusal", refusal))
    }  # fmt: skip


def _text_codes(text: pa.Array) -> np.ndarray:
    """Equal texts get equal codes (dictionary encoding)."""
    encoded = pc.dictionary_encode(pc.fill_null(text, ""))
    return np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)


def _row_flags(table: PreferenceTable) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Per-vote flags and, for response checks, which side (preferred / other) they hit."""
    flags: dict[str, np.ndarray] = {}
    sides: dict[str, np.ndarray] = {}
    same_response = table.first_codes == table.second_codes
    mismatch = (
        table.context_mismatch
        if table.context_mismatch is not None
        else np.zeros(table.n_votes, dtype=bool)
    )
    if table.response_text is not None:
        codes = _text_codes(table.response_text)
        same_text = codes[table.first_codes] == codes[table.second_codes]
        flags["identical_pair"] = (same_text | same_response) & ~mismatch
        flags["identical_final_response"] = same_text | same_response
        for name, per_response in _response_checks(table.response_text).items():
            first, second = per_response[table.first_codes], per_response[table.second_codes]
            flags[name] = first | second
            decisive = [table.choice == FIRST, table.choice == SECOND]
            preferred = np.select(decisive, [first, second], False)
            other = np.select(decisive, [second, first], first | second)
            sides[name] = np.stack([preferred, other])
    else:
        flags["identical_pair"] = same_response & ~mismatch
    if table.context_mismatch is not None:
        flags["context_mismatch"] = mismatch.copy()
    key = (table.annotator_codes * table.n_prompts + table.prompt_codes) * table.n_responses
    key = (key + table.first_codes) * table.n_responses + table.second_codes
    _, first_seen = np.unique(key, return_index=True)
    duplicate = np.ones(table.n_votes, dtype=bool)
    duplicate[first_seen] = False
    flags["duplicate_vote"] = duplicate
    return flags, sides


# ---------------------------------------------------------------------------- MinHash
def _shingle_hashes(text: pa.Array, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the word 5-shingles of each text and the text each belongs to."""
    words = pc.utf8_split_whitespace(pc.utf8_lower(pc.fill_null(text, "")))
    counts = pc.list_value_length(words).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = words.flatten()
    ids = np.asarray(pc.dictionary_encode(flat).indices.to_numpy(zero_copy_only=False), np.uint64)
    rng = np.random.default_rng(seed)
    multipliers = rng.integers(1, 2**63, size=_SHINGLE, dtype=np.uint64) | np.uint64(1)
    ends = np.cumsum(counts)
    owner = np.repeat(np.arange(counts.size), counts)
    hashes = np.zeros(ids.size, dtype=np.uint64)
    for offset in range(_SHINGLE):  # fixed five steps: combine word i..i+4
        shifted = np.zeros(ids.size, dtype=np.uint64)
        shifted[: max(ids.size - offset, 0)] = ids[offset:] + np.uint64(1)
        inside = np.arange(ids.size) + offset < ends[owner] if ids.size else shifted > 0
        hashes += np.where(inside, shifted, np.uint64(0)) * multipliers[offset]
    start_of_text = np.r_[0, ends[:-1]]
    # a shingle starts at every position with 5 words left, or at the start of a short text
    keep = np.arange(ids.size) + _SHINGLE <= ends[owner] if ids.size else np.zeros(0, bool)
    keep |= (np.arange(ids.size) == start_of_text[owner]) & (counts[owner] < _SHINGLE)
    return hashes[keep], owner[keep]


def minhash_signatures(text: pa.Array, *, seed: int = 0) -> np.ndarray:
    """MinHash signatures (64 permutations over word 5-shingles), shape (n_texts, 64).

    Permutation k maps a shingle hash x to ``a_k x + b_k`` (mod 2^64, a_k odd: a bijection);
    the signature is the minimum over the text's shingles. Texts without words get the
    maximum value in every slot. Seeded: the same seed gives the same signatures.
    """
    hashes, owner = _shingle_hashes(text, seed)
    n = len(text)
    signature = np.full((n, _N_PERM), np.iinfo(np.uint64).max, dtype=np.uint64)
    if hashes.size == 0:
        return signature
    rng = np.random.default_rng(seed + 1)
    a = rng.integers(1, 2**63, size=_N_PERM, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=_N_PERM, dtype=np.uint64)
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    for k in range(_N_PERM):  # 64 fixed permutations, each vectorised over all shingles
        signature[owner[starts], k] = np.minimum.reduceat(hashes * a[k] + b[k], starts)
    return signature


def near_duplicates(
    text: pa.Array, *, threshold: float = 0.8, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (i, j), i < j, of texts whose estimated Jaccard similarity >= ``threshold``.

    Candidates come from LSH over the signatures (16 bands of 4 rows; each text is paired
    with the first text of every band bucket it falls in), then the similarity is
    estimated as the share of equal signature slots. Exact duplicates are included.

    Returns
    -------
    (i, j, jaccard) : ndarrays
    """
    signature = minhash_signatures(text, seed=seed)
    n = signature.shape[0]
    rows = _N_PERM // _BANDS
    pairs = []
    for band in range(_BANDS):  # 16 fixed bands
        key = signature[:, band * rows : (band + 1) * rows]
        band_hash = (key * np.array([1, 3, 5, 7], dtype=np.uint64)[:rows]).sum(axis=1)
        order = np.argsort(band_hash, kind="stable")
        ordered = band_hash[order]
        head = np.maximum.accumulate(np.where(np.r_[True, ordered[1:] != ordered[:-1]],
                                              np.arange(n), 0))  # fmt: skip
        member = np.flatnonzero(head != np.arange(n))
        pairs.append(np.stack([order[head[member]], order[member]], axis=1))
    if not pairs or sum(p.shape[0] for p in pairs) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    both = np.concatenate(pairs)
    both = np.unique(np.sort(both, axis=1), axis=0)
    similarity = (signature[both[:, 0]] == signature[both[:, 1]]).mean(axis=1)
    keep = similarity >= threshold
    return both[keep, 0], both[keep, 1], similarity[keep]


# ---------------------------------------------------------------------------- assembling
def _prompt_flags(
    table: PreferenceTable, threshold: float, seed: int
) -> tuple[dict[str, np.ndarray], list[dict[str, Any]]]:
    """Per-vote duplicate and near-duplicate prompt flags, and the closest pairs."""
    if table.prompt_text is None:
        return {}, []
    codes = _text_codes(table.prompt_text)
    _, first_seen = np.unique(codes, return_index=True)
    duplicate = np.ones(table.n_prompts, dtype=bool)
    duplicate[first_seen] = False
    distinct = np.sort(first_seen)
    i, j, similarity = near_duplicates(
        table.prompt_text.take(pa.array(distinct)), threshold=threshold, seed=seed
    )
    near = np.zeros(table.n_prompts, dtype=bool)
    near[distinct[j]] = True
    order = np.argsort(-similarity, kind="stable")[:10]
    names = table.prompts[distinct]
    examples = [
        {"a": str(names[i[k]])[:120], "b": str(names[j[k]])[:120], "jaccard": float(similarity[k])}
        for k in order
    ]
    flags = {
        "duplicate_prompt_text": duplicate[table.prompt_codes],
        "near_duplicate_prompt": near[table.prompt_codes],
    }
    return flags, examples


def _tie_rates(table: PreferenceTable) -> list[dict[str, Any]]:
    who, size = table.annotator_codes, table.n_annotators
    total = np.bincount(who, minlength=size)
    answered = np.bincount(who[table.choice != MISSING], minlength=size)
    ties = np.bincount(who[(table.choice == TIE) | (table.choice == BOTH_BAD)], minlength=size)
    return [
        {"annotator": str(table.annotators[a]), "kind": str(table.annotator_kind[a]),
         "n": int(total[a]), "tie_rate": ties[a] / answered[a] if answered[a] else None,
         "missing_rate": 1.0 - answered[a] / total[a]}
        for a in np.flatnonzero(total > 0)
    ]  # fmt: skip


def hygiene(table: PreferenceTable, *, threshold: float = 0.8, seed: int = 0) -> Hygiene:
    """Run every hygiene check the data allow; flag, never drop.

    Parameters
    ----------
    table : PreferenceTable
    threshold : float, default 0.8
        Estimated Jaccard similarity from which two prompts are near-duplicates.
    seed : int, default 0
        Seed of the MinHash permutations.

    Returns
    -------
    Hygiene
    """
    flags, sides = _row_flags(table)
    prompt_flags, examples = _prompt_flags(table, threshold, seed)
    flags |= prompt_flags
    checks = []
    for name, flag in flags.items():
        hits = np.flatnonzero(flag)
        entry: dict[str, Any] = {"check": name, "n": int(hits.size)}
        entry["rate"] = hits.size / table.n_votes if table.n_votes else None
        if name in sides:
            entry["preferred"] = int(sides[name][0].sum())
            entry["other"] = int(sides[name][1].sum())
        lines = np.unique([table.line_of(int(row)) for row in hits[: _EXAMPLES * 8]])
        entry["examples"] = [int(line) for line in lines[:_EXAMPLES]]
        checks.append(entry)
    notes = []
    if table.response_text is None:
        notes.append("no response texts: empty, truncation and refusal checks not run")
    if table.prompt_text is None:
        notes.append("no prompt texts: duplicate and near-duplicate prompt checks not run")
    return Hygiene(checks, _tie_rates(table), examples, flags, notes, table.unit)
