"""Self-preference: does a judge favour responses of its own model family?

Zheng et al. (2023, sec. 3.3) define self-enhancement as a judge's win rate for its own
model minus the human win rate on the same items. Here, for judge J mapped to the model
name prefix P (``--judge-family J=P``), the *items* are prompt-and-pair units that J and
at least one human judged, where exactly one response's model starts with P. Win rate =
mean over votes of 1 (own-family response preferred), 1/2 (tie or both bad), 0 -- J's votes
on those items, and all human votes on those items. ``delta`` = J's rate minus the human
rate; its 95% interval comes from a bootstrap resampling prompts (``n_boot``, ``seed``).
The same difference for every other model (``by_model``) is the control: a judge that is
merely more decisive than humans raises every strong model, not only its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from labelaudit.preferences._stats import bootstrap_prompts, percentile_ci
from labelaudit.preferences.position import pct
from labelaudit.preferences.records import FIRST, SECOND, PreferenceTable
from labelaudit.results import clean_number

__all__ = ["SelfPreference", "self_preference"]


@dataclass(frozen=True)
class SelfPreference:
    """Self-preference of one judge."""

    judge: str
    family: str
    n_items: int
    n_judge_votes: int
    n_human_votes: int
    judge_win_rate: float | None
    human_win_rate: float | None
    delta: float | None
    ci95: tuple[float, float] | None
    by_model: list[dict[str, Any]]
    verdict: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "judge": self.judge,
            "family": self.family,
            "n_items": self.n_items,
            "n_judge_votes": self.n_judge_votes,
            "n_human_votes": self.n_human_votes,
            "judge_win_rate": clean_number(self.judge_win_rate),
            "human_win_rate": clean_number(self.human_win_rate),
            "delta": clean_number(self.delta),
            "ci95": clean_number(list(self.ci95)) if self.ci95 else None,
            "by_model": [clean_number(r) for r in self.by_model],
            "verdict": self.verdict,
        }


def _win_rates(
    table: PreferenceTable, judge: int, own: np.ndarray, n_boot: int, seed: int
) -> dict[str, Any]:
    """Judge and human win rates of the responses flagged ``own`` (bool per response)."""
    own_first, own_second = own[table.first_codes], own[table.second_codes]
    target = own_first ^ own_second
    valid = target & (table.choice >= 0)
    score = np.select(
        [table.choice == FIRST, table.choice == SECOND], [own_first * 1.0, own_second * 1.0], 0.5
    )
    is_judge = valid & (table.annotator_codes == judge)
    is_human = valid & (table.annotator_kind[table.annotator_codes] == "human")
    shared = np.intersect1d(table.item_codes[is_judge], table.item_codes[is_human])
    on_shared = np.isin(table.item_codes, shared)
    j, h = is_judge & on_shared, is_human & on_shared
    prompts = table.prompt_codes
    size = table.n_prompts
    per_prompt = np.column_stack([
        np.bincount(prompts[j], score[j], size), np.bincount(prompts[j], minlength=size),
        np.bincount(prompts[h], score[h], size), np.bincount(prompts[h], minlength=size),
    ]).astype(np.float64)  # fmt: skip
    total = per_prompt.sum(axis=0)
    out: dict[str, Any] = {"n_items": int(shared.size), "n_judge": int(total[1])}
    out["n_human"] = int(total[3])
    if total[1] == 0 or total[3] == 0:
        return out | {"judge": None, "human": None, "delta": None, "ci95": None}
    out |= {"judge": total[0] / total[1], "human": total[2] / total[3]}
    out["delta"] = out["judge"] - out["human"]
    out["ci95"] = None
    if n_boot > 0:
        reps = bootstrap_prompts(per_prompt, n_boot, seed, _delta)
        low, high = percentile_ci(reps[:, None])
        out["ci95"] = None if np.isnan(low[0]) else (float(low[0]), float(high[0]))
    return out


def _delta(sums: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        out: np.ndarray = sums[:, 0] / sums[:, 1] - sums[:, 2] / sums[:, 3]
    return out


def self_preference(
    table: PreferenceTable,
    judge_family: Mapping[str, str],
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> list[SelfPreference]:
    """Each mapped judge's win rate for its own model family minus the humans' rate.

    Parameters
    ----------
    table : PreferenceTable
        Needs model names, human votes and the judges' votes.
    judge_family : mapping of str to str
        Judge (annotator) name -> model name prefix of its family.
    n_boot, seed : int
        Bootstrap (prompts resampled) of the difference.
    """
    names = list(map(str, table.annotators))
    models = np.array([str(m) for m in table.models], dtype=object)
    response_model = np.where(
        table.response_model >= 0, models[np.maximum(table.response_model, 0)], ""
    ).astype(str)
    out = []
    for judge, prefix in judge_family.items():
        code = names.index(judge)
        own = _win_rates(table, code, np.char.startswith(response_model, prefix), n_boot, seed)
        by_model = []
        for model in map(str, table.models):
            rates = _win_rates(table, code, response_model == model, 0, seed)
            by_model.append({"model": model, "n_items": rates["n_items"],
                             "judge_win_rate": rates["judge"], "human_win_rate": rates["human"],
                             "delta": rates["delta"]})  # fmt: skip
        out.append(_result(judge, prefix, own, by_model))
    return out


def _result(
    judge: str, prefix: str, own: dict[str, Any], by_model: list[dict[str, Any]]
) -> SelfPreference:
    if own["delta"] is None:
        verdict = f"{judge}: no item judged by it and by humans with one {prefix}* response"
    else:
        verdict = (
            f"{judge} prefers its own family ({prefix}*) in {pct(own['judge'])} of its votes "
            f"against {pct(own['human'])} of human votes on the same {own['n_items']} items: "
            f"{100 * own['delta']:+.1f} points"
        )
        if own["ci95"] is not None:
            low, high = own["ci95"]
            verdict += f" (95% CI {100 * low:+.1f} to {100 * high:+.1f})"
    return SelfPreference(
        judge, prefix, own["n_items"], own["n_judge"], own["n_human"], own["judge"],
        own["human"], own["delta"], own["ci95"], by_model, verdict,
    )  # fmt: skip
