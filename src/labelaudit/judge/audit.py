"""Audit an LLM judge like an annotator: agreement with humans, biases, stability, triage.

:func:`audit_judge` is the entry point (and ``labelaudit judge audit``'s call). The judge's
verdict lines (from ``labelaudit judge run``) become the annotations of one more
annotator, so the existing analyses apply:

- **pairwise** verdicts (see :mod:`labelaudit.judge._pairwise`): position bias (first-slot
  rate, consistency across the two presentation orders -- LLMBar's positional agreement),
  length bias (needs the response texts: ``data`` and ``judge``), accuracy against gold
  (average over both orders and correct-in-both), agreement with humans with and without
  ties (MT-Bench style, each judge verdict paired with every human vote), Cohen's kappa and
  Krippendorff's alpha with bootstrap intervals resampling prompts -- against the humans
  pooled, each human, and the human consensus -- and self-preference;
- **label / score / reference** verdicts (:mod:`labelaudit.judge._pointwise_audit`):
  agreement with and without the judge, against each human and the consensus, accuracy and
  confusion against gold, the annotator report;
- **both**: verdict counts and failures, repetition stability (Shi et al. 2024: the mean
  over items of the share of the modal verdict among ``--repeats`` repetitions), and the
  disagreement triage: items where the judge contradicts the human consensus (or gold),
  flips between orders, or failed -- in the adjudication queue's JSONL shape.

:meth:`JudgeAudit.to_dict` is the JSON contract (``docs/judge.md``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from labelaudit.exceptions import UsageError
from labelaudit.intervals import check_n_boot
from labelaudit.judge.verdicts import VerdictLines, read_verdicts
from labelaudit.results import Displayable, clean_number

__all__ = [
    "JudgeAudit",
    "audit_judge",
    "confusion_against_gold",
    "repetition_stability",
    "verdict_counts",
]

SECTIONS = (
    "verdicts",
    "agreement",
    "gold",
    "confusion",
    "position_bias",
    "length_bias",
    "self_preference",
    "repetition_stability",
    "annotators",
    "triage",
)


@dataclass(frozen=True)
class JudgeAudit(Displayable):
    """Result of :func:`audit_judge`; ``to_dict()`` is the JSON contract."""

    mode: str
    input: dict[str, Any]
    config: dict[str, Any]
    sections: dict[str, Any]
    skipped: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """``tool``, ``mode``, ``input``, ``config``, one key per section, ``skipped``."""
        from labelaudit import __version__

        out: dict[str, Any] = {
            "tool": {"name": "labelaudit", "version": __version__},
            "mode": self.mode,
            "input": self.input,
            "config": self.config,
        }
        out |= {name: clean_number(self.sections.get(name)) for name in SECTIONS}
        out["skipped"] = list(self.skipped)
        return out

    def triage_lines(self) -> list[str]:
        """The triage entries as JSON lines (the adjudication queue's JSONL shape)."""
        items = (self.sections.get("triage") or {}).get("items", [])
        return [json.dumps(clean_number(e), ensure_ascii=False, allow_nan=False) for e in items]


def verdict_counts(verdicts: VerdictLines) -> list[dict[str, Any]]:
    """Per judge: verdict lines, items, failed verdicts and their share, repetitions."""
    judge = np.asarray(verdicts.judge, dtype=object)
    failed = np.asarray([v is None for v in verdicts.verdict])
    repeat = np.asarray(verdicts.repeat)
    item = np.asarray(verdicts.item, dtype=object)
    out = []
    for name in sorted(set(verdicts.judge)):
        mine = judge == name
        n = int(mine.sum())
        out.append(
            {
                "judge": name,
                "n_verdicts": n,
                "n_items": len(set(item[mine])),
                "n_failed": int(failed[mine].sum()),
                "failed_rate": float(failed[mine].sum() / n),
                "repeats": int(repeat[mine].max()) + 1,
            }
        )
    return out


def repetition_stability(verdicts: VerdictLines) -> list[dict[str, Any]]:
    """Repetition stability per judge (Shi et al. 2024, "Judging the Judges").

    For each judge, item and order with at least two successful repetitions, the share of
    repetitions giving the modal verdict; ``stability`` is its mean over those groups
    (1 = always the same verdict), ``unanimous`` the share of groups with one verdict only.
    Failed repetitions are left out (and counted in ``n_failed``).

    Returns
    -------
    list of dict
        One entry per judge that has repetitions; empty without ``--repeats``.
    """
    ok = np.asarray([v is not None for v in verdicts.verdict])
    if not (np.asarray(verdicts.repeat) > 0).any():
        return []
    judge = np.asarray(verdicts.judge).astype(str)
    group_key = np.char.add(
        np.char.add(judge, "\x1f"),
        np.char.add(np.asarray(verdicts.item).astype(str), np.asarray(verdicts.order).astype(str)),
    )
    value = np.asarray([json.dumps(v) for v in verdicts.verdict])
    groups, group = np.unique(group_key[ok], return_inverse=True)
    _, value_code = np.unique(value[ok], return_inverse=True)
    n_values = int(value_code.max(initial=0)) + 1
    pair, counts = np.unique(group * n_values + value_code, return_counts=True)
    modal = np.zeros(groups.size, dtype=np.int64)
    np.maximum.at(modal, pair // n_values, counts)
    size = np.bincount(group, minlength=groups.size)
    distinct = np.bincount(pair // n_values, minlength=groups.size)
    group_judge = np.char.partition(groups, "\x1f")[:, 0]
    out = []
    for name in sorted(set(judge)):
        keep = (group_judge == name) & (size >= 2)
        failed = int(((judge == name) & ~ok).sum())
        if not keep.any():
            continue
        out.append(
            {
                "judge": name,
                "n_groups": int(keep.sum()),
                "mean_repeats": float(size[keep].mean()),
                "stability": float((modal[keep] / size[keep]).mean()),
                "unanimous": float((distinct[keep] == 1).mean()),
                "n_failed": failed,
            }
        )
    return out


def confusion_against_gold(
    verdicts: VerdictLines,
    gold: Mapping[str, str],
    ids: Mapping[str, tuple[str, str]] | None = None,
) -> list[dict[str, Any]]:
    """Per judge: gold label (rows) x the judge's verdict (columns, plus ``error``).

    Counts every verdict of the first repetition on a gold item (both orders in pairwise
    mode). Pairwise labels are roles, so that items compare: ``response_a`` (the item's
    response shown first in order ``ab``), ``response_b`` and ``tie``.
    """
    from labelaudit.judge._pointwise_audit import label_text

    def role(item: str, label: Any) -> str:
        if label is None:
            return "error"
        if ids is None:
            return label_text(label)
        a, b = ids[item]
        return {a: "response_a", b: "response_b"}.get(str(label), "tie")

    rows = [
        (judge, role(item, gold[item]), role(item, verdict))
        for item, judge, verdict, repeat in zip(
            verdicts.item, verdicts.judge, verdicts.verdict, verdicts.repeat, strict=True
        )
        if repeat == 0 and item in gold
    ]
    if not rows:
        return []
    judges, truth, said = (np.asarray(column, dtype=str) for column in zip(*rows, strict=True))
    names = sorted(set(truth) | set(said) - {"error"})
    columns = [*names, "error"]
    out = []
    for name in sorted(set(judges)):
        mine = judges == name
        t, s = np.searchsorted(names, truth[mine]), np.array([columns.index(x) for x in said[mine]])
        counts = np.bincount(t * len(columns) + s, minlength=len(names) * len(columns))
        matrix = counts.reshape(len(names), len(columns))
        out.append(
            {
                "judge": name,
                "rows": names,
                "columns": columns,
                "counts": matrix.tolist(),
                "n": int(mine.sum()),
                "accuracy": float(np.trace(matrix[:, : len(names)]) / mine.sum()),
            }
        )
    return out


def _sha256(path: str | Path | None) -> str | None:
    if path is None or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def audit_judge(
    verdicts: str | Path | list[str | Path] | VerdictLines,
    *,
    humans: str | Path | None = None,
    gold: str | Path | None = None,
    data: str | Path | None = None,
    judge: str | Path | None = None,
    judge_family: Mapping[str, str] | None = None,
    ids_are_models: bool = False,
    level: str | None = None,
    categories: Any = None,
    ci: str = "analytic",
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.01,
) -> JudgeAudit:
    """Audit judge verdicts against humans and gold (see the module docstring).

    Parameters
    ----------
    verdicts : path, list of paths or VerdictLines
        Verdict files written by ``labelaudit judge run`` (several judges allowed).
    humans : path, optional
        Human annotations, long format (``item``, ``annotator``, ``label``); pairwise labels
        are response ids, ``tie`` or ``both_bad``.
    gold : path, optional
        Gold labels (``item``, ``gold_label``).
    data, judge : path, optional
        Pairwise: the DATA file and the judge file of the run, for the response texts
        (length bias).
    judge_family : mapping, optional
        ``judge -> model name prefix`` for self-preference (pairwise; implies
        ``ids_are_models``).
    ids_are_models : bool
        Pairwise: the response ids are model names (per-model length-controlled win
        rates; self-preference).
    level, categories
        Label/score verdicts: measurement level (default ``ordinal`` for numeric verdicts,
        else ``nominal``) and declared categories.
    ci : {"analytic", "bootstrap", "none"}
        Intervals of the label/score agreement (pairwise always uses the prompt bootstrap).
    n_boot, seed, alpha
        Bootstrap replicates, seed, level of the bias flags (Holm).

    Returns
    -------
    JudgeAudit
    """
    lines = (
        verdicts
        if isinstance(verdicts, VerdictLines)
        else read_verdicts(
            [Path(p) for p in verdicts] if isinstance(verdicts, list) else Path(verdicts)
        )
    )
    if n_boot < 0:
        raise UsageError(f"--n-boot must be >= 0; got {n_boot}")
    check_n_boot(n_boot, minimum=0)
    sections: dict[str, Any] = {"verdicts": verdict_counts(lines)}
    sections["repetition_stability"] = repetition_stability(lines)
    if lines.pairwise:
        mode = "pairwise"
        skipped = _pairwise(
            lines,
            humans,
            gold,
            data,
            judge,
            judge_family,
            ids_are_models,
            n_boot,
            seed,
            alpha,
            sections,
        )
    else:
        mode = "pointwise"
        skipped = _pointwise(lines, humans, gold, level, categories, ci, n_boot, seed, sections)
    if not sections["repetition_stability"]:
        skipped.append({"audit": "repetition_stability", "reason": "no repetitions (--repeats K)"})
    files = {"verdicts": lines.source, "humans": humans, "gold": gold, "data": data, "judge": judge}
    inputs: dict[str, Any] = {k: None if v is None else str(v) for k, v in files.items()}
    inputs["sha256"] = {key: _sha256(value) for key, value in files.items() if key != "verdicts"}
    inputs["n_verdicts"] = len(lines)
    config = {
        "ids_are_models": ids_are_models or bool(judge_family),
        "n_boot": n_boot,
        "seed": seed,
        "alpha": alpha,
        "ci": ci,
        "level": level,
        "judge_family": dict(judge_family or {}),
    }
    return JudgeAudit(mode, inputs, config, sections, skipped)


def _pairwise(
    lines: VerdictLines,
    humans: Any,
    gold: Any,
    data: Any,
    judge: Any,
    judge_family: Mapping[str, str] | None,
    ids_are_models: bool,
    n_boot: int,
    seed: int,
    alpha: float,
    sections: dict[str, Any],
) -> list[dict[str, str]]:
    from labelaudit.judge._pairwise import read_pairwise_inputs
    from labelaudit.judge._pairwise_audit import pairwise_audit

    items = definition = None
    if (data is None) != (judge is None):
        raise UsageError("give --data and --judge together (the response texts need both)")
    if data is not None and judge is not None:
        from labelaudit.judge.data import read_items
        from labelaudit.judge.definition import load_judge

        definition = load_judge(judge)
        fields = ["item", *definition.responses, *(definition.response_ids or ())]
        items = read_items(data, fields=fields)
    inputs = read_pairwise_inputs(
        lines,
        humans=humans,
        gold=gold,
        items=items,
        judge=definition,
        ids_are_models=ids_are_models or bool(judge_family),
    )
    found, skipped = pairwise_audit(
        inputs, judge_family=judge_family, n_boot=n_boot, seed=seed, alpha=alpha
    )
    for entry in skipped:
        if entry["audit"] == "length_bias" and data is None:
            entry["reason"] = "no response texts: pass --data DATA --judge JUDGE.toml"
        if entry["audit"] == "gold" and gold is None:
            entry["reason"] = "no gold labels (--gold FILE)"
    by_order, combined = found["by_order"], found["combined"] or {}
    sections["agreement"] = found["agreement"]
    sections["gold"] = by_order.get("gold")
    sections["position_bias"] = by_order.get("position_bias")
    sections["length_bias"] = by_order.get("length_bias")
    sections["self_preference"] = combined.get("self_preference")
    sections["triage"] = found["triage"]
    if inputs.gold is not None:
        sections["confusion"] = confusion_against_gold(lines, inputs.gold, inputs.ids)
    return skipped


def _pointwise(
    lines: VerdictLines,
    humans: Any,
    gold: Any,
    level: str | None,
    categories: Any,
    ci: str,
    n_boot: int,
    seed: int,
    sections: dict[str, Any],
) -> list[dict[str, str]]:
    from labelaudit.judge._pointwise_audit import pointwise_audit

    numeric = all(isinstance(v, (int, float)) for v in lines.verdict if v is not None)
    chosen = level or ("ordinal" if numeric else "nominal")
    options = {"ci": ci, "n_boot": max(n_boot, 2), "seed": seed}
    found, skipped = pointwise_audit(
        lines,
        humans=humans,
        gold=gold,
        level=chosen,
        categories=categories,
        options=options,
        seed=seed,
    )
    sections.update(found)
    if gold is not None:
        from labelaudit.judge._pairwise import read_gold_rows

        sections["confusion"] = confusion_against_gold(lines, read_gold_rows(Path(gold)))
    return skipped
