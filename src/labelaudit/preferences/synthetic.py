"""Synthetic pairwise preference votes with planted biases, for tests, examples and benchmarks.

Each prompt gets ``responses_per_prompt`` responses from distinct models (texts of random
words, lengths log-normal); every pair of them is voted on by ``humans_per_pair`` distinct
human annotators in a random display order, and by each judge in *both* orders with
probability ``judge_rate``. A decisive verdict follows::

    logit P(first wins) = position[a] + length_coef * z + skill[m_first] - skill[m_second]

with ``z = (len_first - len_second) / s`` and ``s`` the root mean square length difference
(the scale :func:`labelaudit.preferences.length.length_logit` estimates on), except that an
annotator with a planted ``first_slot_rate`` picks the first slot with that probability
whatever the responses. Ties happen with probability ``tie_rate``. Everything is vectorised;
texts are slices of one buffer of fixed-width words (no Python loop over rows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pyarrow as pa

from labelaudit.preferences.columns import from_columns
from labelaudit.preferences.records import PreferenceTable

__all__ = ["make_preference_columns", "make_preferences"]

_WORD = 6  # bytes per word: five letters and a space


def _vocabulary(rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` random five-letter words plus a space, as a (size, 6) uint8 array."""
    letters = rng.integers(ord("a"), ord("z") + 1, size=(size, _WORD - 1), dtype=np.uint8)
    return np.concatenate([letters, np.full((size, 1), ord(" "), dtype=np.uint8)], axis=1)


def _texts(rng: np.random.Generator, words: np.ndarray, vocabulary: np.ndarray) -> pa.Array:
    """Strings of ``words[i]`` random words each, built as slices of one buffer."""
    ids = rng.integers(0, vocabulary.shape[0], size=int(words.sum()))
    data = vocabulary[ids].ravel()
    offsets = np.zeros(words.size + 1, dtype=np.int64)
    np.cumsum(words * _WORD, out=offsets[1:])
    return pa.LargeStringArray.from_buffers(
        words.size, pa.py_buffer(offsets), pa.py_buffer(data.tobytes())
    )


def make_preference_columns(
    *,
    n_prompts: int = 200,
    n_models: int = 6,
    responses_per_prompt: int = 4,
    n_humans: int = 5,
    humans_per_pair: int = 2,
    judges: tuple[str, ...] = (),
    judge_rate: float = 1.0,
    first_slot_rate: Mapping[str, float] | None = None,
    position_logit: Mapping[str, float] | None = None,
    length_coef: float = 0.0,
    tie_rate: float = 0.1,
    skill_spread: float = 1.0,
    mean_words: float = 60.0,
    prompt_words: int = 30,
    seed: int = 0,
) -> dict[str, object]:
    """Columns of synthetic votes (the keyword arguments of :func:`from_columns`).

    Parameters
    ----------
    n_prompts, n_models, responses_per_prompt : int
        Prompts; models; responses per prompt (distinct models, so at most ``n_models``).
    n_humans, humans_per_pair : int
        Human annotators ``human_00``...; distinct humans voting on each pair.
    judges : tuple of str
        Judge names; each votes on a pair in both orders with probability ``judge_rate``.
    first_slot_rate : mapping, optional
        Annotator -> planted probability of picking the first slot (decisive votes).
    position_logit : mapping, optional
        Annotator -> additive log-odds of the first slot in the logistic model.
    length_coef : float
        Planted log-odds per standard length difference.
    tie_rate : float
        Probability of a tie.
    skill_spread : float
        Model strengths run evenly from ``-skill_spread`` to ``skill_spread`` (log-odds).
    mean_words, prompt_words : float, int
        Mean response length and prompt length, in words of 6 characters.
    seed : int

    Returns
    -------
    dict
        ``prompt``, ``first``, ``second``, ``first_text``, ``second_text``, ``first_model``,
        ``second_model``, ``prompt_text``, ``choice``, ``annotator``, ``kind`` and
        ``order_known`` arrays, plus ``skill`` (model -> planted strength).
    """
    rng = np.random.default_rng(seed)
    k = responses_per_prompt
    models = np.array([f"model_{m:02d}" for m in range(n_models)], dtype=object)
    picked = np.argsort(rng.random((n_prompts, n_models)), axis=1)[:, :k]  # models per prompt
    words = np.maximum(1, rng.lognormal(np.log(mean_words), 0.5, size=n_prompts * k)).astype(
        np.int64
    )
    pairs = np.array(list(combinations(range(k), 2)))
    prompt = np.repeat(np.arange(n_prompts), pairs.shape[0])
    left = prompt * k + np.tile(pairs[:, 0], n_prompts)
    right = prompt * k + np.tile(pairs[:, 1], n_prompts)
    votes = _voters(rng, left.size, n_humans, humans_per_pair, judges, judge_rate)
    pair_index, annotator, swap = votes
    first = np.where(swap, right[pair_index], left[pair_index])
    second = np.where(swap, left[pair_index], right[pair_index])
    names = np.array([f"human_{h:02d}" for h in range(n_humans)] + list(judges), dtype=object)
    planted = _Planted(
        _skills(n_models, skill_spread), dict(position_logit or {}), dict(first_slot_rate or {}),
        length_coef, tie_rate,
    )  # fmt: skip
    choice = _choices(rng, first, second, words, picked.ravel(), names[annotator], planted)
    response_ids = np.char.mod("r%d", np.arange(n_prompts * k)).astype(object)
    vocabulary = _vocabulary(rng, 5000)
    texts = _texts(rng, words, vocabulary)
    prompt_texts = _texts(rng, np.full(n_prompts, prompt_words), vocabulary)
    prompt_ids = np.char.mod("p%d", np.arange(n_prompts)).astype(object)
    vote_prompt = prompt[pair_index]
    return {
        "prompt": prompt_ids[vote_prompt],
        "prompt_text": prompt_texts.take(pa.array(vote_prompt)),
        "first": response_ids[first],
        "second": response_ids[second],
        "first_text": texts.take(pa.array(first)),
        "second_text": texts.take(pa.array(second)),
        "first_model": models[picked.ravel()[first]],
        "second_model": models[picked.ravel()[second]],
        "choice": np.array(["first", "second", "tie"], dtype=object)[choice],
        "annotator": names[annotator],
        "kind": np.where(annotator < n_humans, "human", "judge").astype(object),
        "order_known": np.ones(first.size, dtype=bool),
        "skill": dict(zip(models, _skills(n_models, skill_spread), strict=True)),
    }


def _skills(n_models: int, spread: float) -> np.ndarray:
    """Planted model strengths (log-odds), evenly spread from -spread to spread."""
    return np.linspace(-spread, spread, n_models)


def _voters(
    rng: np.random.Generator,
    n_pairs: int,
    n_humans: int,
    humans_per_pair: int,
    judges: tuple[str, ...],
    judge_rate: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pair index, annotator code, swapped) of every vote."""
    humans = np.argsort(rng.random((n_pairs, n_humans)), axis=1)[:, :humans_per_pair]
    pair_index = [np.repeat(np.arange(n_pairs), humans_per_pair)]
    annotator = [humans.ravel()]
    swap = [rng.random(n_pairs * humans_per_pair) < 0.5]
    for j in range(len(judges)):
        chosen = np.flatnonzero(rng.random(n_pairs) < judge_rate)
        pair_index.append(np.repeat(chosen, 2))
        annotator.append(np.full(2 * chosen.size, n_humans + j))
        swap.append(np.tile([False, True], chosen.size))
    return np.concatenate(pair_index), np.concatenate(annotator), np.concatenate(swap)


@dataclass(frozen=True)
class _Planted:
    """The planted effects of the choice model."""

    skill: np.ndarray
    position_logit: dict[str, float]
    first_slot_rate: dict[str, float]
    length_coef: float
    tie_rate: float


def _choices(
    rng: np.random.Generator,
    first: np.ndarray,
    second: np.ndarray,
    words: np.ndarray,
    model_of: np.ndarray,
    who: np.ndarray,
    planted: _Planted,
) -> np.ndarray:
    """0 first, 1 second, 2 tie for every vote, by the model in the module docstring."""
    diff = (words[first] - words[second]) * float(_WORD)
    scale = float(np.sqrt(np.mean(diff**2))) or 1.0
    offset = np.zeros(first.size)
    for name, value in planted.position_logit.items():
        offset[who == name] = value
    logit = offset + planted.length_coef * diff / scale
    logit += planted.skill[model_of[first]] - planted.skill[model_of[second]]
    p_first = 1.0 / (1.0 + np.exp(-logit))
    for name, rate in planted.first_slot_rate.items():
        p_first[who == name] = rate
    choice = np.where(rng.random(first.size) < p_first, 0, 1)
    return np.where(rng.random(first.size) < planted.tie_rate, 2, choice)


def make_preferences(**options: object) -> PreferenceTable:
    """A :class:`PreferenceTable` of synthetic votes (see :func:`make_preference_columns`)."""
    columns: dict[str, Any] = make_preference_columns(**options)  # type: ignore[arg-type]
    columns.pop("skill")
    return from_columns(source="<synthetic>", **columns)
