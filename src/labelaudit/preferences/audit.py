"""Run every preference audit the data support; record the skipped ones with their reasons.

:func:`audit_preferences` is the entry point of the library (and of ``labelaudit
preferences``); :meth:`PreferenceAudit.to_dict` is the stable JSON contract documented in
``docs/preferences.md``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from labelaudit.exceptions import UsageError
from labelaudit.intervals import check_n_boot
from labelaudit.preferences.consistency import consistency_support
from labelaudit.preferences.records import FIRST, SECOND, PreferenceTable
from labelaudit.results import Displayable, clean_number

__all__ = ["AUDITS", "PreferenceAudit", "audit_preferences", "run_preferences"]

AUDITS = (
    "position_bias",
    "length_bias",
    "agreement",
    "gold",
    "consistency",
    "bradley_terry",
    "self_preference",
    "hygiene",
)
_LIST_SECTIONS = ("agreement", "gold", "self_preference")
_MAX_GROUPS = 50


@dataclass(frozen=True)
class PreferenceAudit(Displayable):
    """Results of every audit that ran, and the reasons of those that did not.

    Attributes
    ----------
    input : dict
        Sizes and columns of the table (:meth:`PreferenceTable.describe`) and its SHA-256.
    config : dict
        The options used (seed, bootstrap replicates, alpha, judge families, grouping).
    sections : dict
        ``audit name -> result`` (objects with ``to_dict()``, or lists of them).
    skipped : list of dict
        ``{"audit", "reason"}`` for every audit the data do not support.
    groups : list of dict
        Per-group audits (``by``): ``{"group", "n_votes", <section>: ...}``.
    """

    input: dict[str, Any]
    config: dict[str, Any]
    sections: dict[str, Any]
    skipped: list[dict[str, str]]
    groups: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract: tool, input, config, one key per audit, groups, skipped."""
        from labelaudit import __version__

        out: dict[str, Any] = {
            "tool": {"name": "labelaudit", "version": __version__},
            "input": clean_number(self.input),
            "config": clean_number(self.config),
        }
        for name in AUDITS:
            out[name] = _section_dict(self.sections.get(name), name)
        out["groups"] = self.groups
        out["skipped"] = list(self.skipped)
        return out


def _section_dict(value: Any, name: str) -> Any:
    if value is None:
        return [] if name in _LIST_SECTIONS else None
    if isinstance(value, list):
        return [v.to_dict() for v in value]
    return value.to_dict()


# ---------------------------------------------------------------------------- support
def _unsupported(table: PreferenceTable, name: str, options: Mapping[str, Any]) -> str | None:
    """Why audit ``name`` cannot run on ``table`` (None when it can)."""
    decisive = (table.choice == FIRST) | (table.choice == SECOND)
    reasons: dict[str, Callable[[], str | None]] = {
        "position_bias": lambda: None
        if (table.order_known & decisive).any()
        else "no display order in the data (e.g. DPO chosen/rejected or merged verdicts): "
        "position bias needs the order each pair was shown in",
        "length_bias": lambda: None
        if table.has_text
        else "no response texts, so no lengths (e.g. a label-only MT-Bench release)",
        "agreement": lambda: None
        if _shared_items(table)
        else "no item was judged by two annotators",
        "gold": lambda: None
        if table.gold is not None
        else "no gold verdicts in the data",
        "bradley_terry": lambda: None
        if _model_battles(table)
        else "no votes between responses of two different known models",
        "self_preference": lambda: _self_preference_support(table, options),
        "consistency": lambda: consistency_support(table),
    }  # fmt: skip
    check = reasons.get(name)
    return None if check is None else check()


def _shared_items(table: PreferenceTable) -> bool:
    valid = table.outcome >= 0
    key = np.unique(table.item_codes[valid] * table.n_annotators + table.annotator_codes[valid])
    return bool(np.unique(key // table.n_annotators).size < key.size)


def _model_battles(table: PreferenceTable) -> bool:
    a = table.response_model[table.first_codes]
    b = table.response_model[table.second_codes]
    return bool(((a >= 0) & (b >= 0) & (a != b) & (table.choice >= 0)).any())


def _self_preference_support(table: PreferenceTable, options: Mapping[str, Any]) -> str | None:
    if not options.get("judge_family"):
        return "no --judge-family JUDGE=MODEL_PREFIX given"
    if not (table.annotator_kind == "human").any() or not _model_battles(table):
        return "needs human votes and model names beside the judge's"
    return None


# ---------------------------------------------------------------------------- running
def _runners(options: Mapping[str, Any]) -> dict[str, Callable[[PreferenceTable], Any]]:
    from labelaudit.preferences.agreement import agreement
    from labelaudit.preferences.bradley_terry import Ratings, ratings_by_raters
    from labelaudit.preferences.consistency import consistency
    from labelaudit.preferences.gold import gold_accuracy
    from labelaudit.preferences.hygiene import hygiene
    from labelaudit.preferences.length import length_bias
    from labelaudit.preferences.position import position_bias
    from labelaudit.preferences.self_preference import self_preference

    seed, n_boot, alpha = options["seed"], options["n_boot"], options["alpha"]
    families = options["judge_family"]
    return {
        "position_bias": lambda t: position_bias(t, alpha=alpha),
        "length_bias": lambda t: length_bias(t, alpha=alpha),
        "agreement": lambda t: agreement(t, n_boot=n_boot, seed=seed),
        "gold": gold_accuracy,
        "consistency": consistency,
        "bradley_terry": lambda t: Ratings(ratings_by_raters(t, n_boot=n_boot, seed=seed)),
        "self_preference": lambda t: self_preference(t, families, n_boot=n_boot, seed=seed),
        "hygiene": lambda t: hygiene(t, seed=seed),
    }


def audit_preferences(
    table: PreferenceTable,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    alpha: float = 0.01,
    judge_family: Mapping[str, str] | None = None,
    by: str | None = None,
    audits: tuple[str, ...] = AUDITS,
    input_sha256: str | None = None,
) -> PreferenceAudit:
    """Run every audit the data support.

    Parameters
    ----------
    table : PreferenceTable
    n_boot : int, default 1000
        Bootstrap replicates for agreement, Bradley-Terry and self-preference intervals.
    seed : int, default 0
        Seed of every random step.
    alpha : float, default 0.01
        Level of the position and length flags (Holm-corrected across annotators).
    judge_family : mapping of str to str, optional
        ``judge name -> model name prefix`` for the self-preference audit.
    by : str, optional
        A metadata column (``turn``, ``subset``, ``category``...): position, length,
        agreement and gold audits are repeated within each of its values (at most 50).
    audits : tuple of str
        The audits to consider (default all, see :data:`AUDITS`).
    input_sha256 : str, optional
        Recorded in ``input``.

    Returns
    -------
    PreferenceAudit

    Raises
    ------
    UsageError
        Unknown audit name, ``by`` column or judge, or a bad option value.
    """
    options = _options(table, n_boot, seed, alpha, judge_family, by, audits)
    sections, skipped = _run(table, audits, options)
    groups = _groups(table, by, options) if by else []
    described = table.describe() | {"sha256": input_sha256}
    return PreferenceAudit(described, options, sections, skipped, groups)


def _options(
    table: PreferenceTable,
    n_boot: int,
    seed: int,
    alpha: float,
    judge_family: Mapping[str, str] | None,
    by: str | None,
    audits: tuple[str, ...],
) -> dict[str, Any]:
    unknown = [a for a in audits if a not in AUDITS]
    if unknown:
        raise UsageError(f"unknown audit(s) {unknown}; expected some of {list(AUDITS)}")
    if n_boot < 0 or not 0.0 < alpha < 1.0:
        raise UsageError(f"n_boot must be >= 0 and alpha in (0, 1); got {n_boot}, {alpha}")
    check_n_boot(n_boot, minimum=0)
    if by is not None and by not in table.meta:
        raise UsageError(f"--by {by!r}: no such metadata column; available: {sorted(table.meta)}")
    names = set(map(str, table.annotators))
    missing = [judge for judge in (judge_family or {}) if judge not in names]
    if missing:
        raise UsageError(
            f"--judge-family: unknown judge(s) {missing}; annotators are {sorted(names)[:20]}"
        )
    return {
        "n_boot": n_boot,
        "seed": seed,
        "alpha": alpha,
        "judge_family": dict(judge_family or {}),
        "by": by,
        "audits": list(audits),
    }


def _run(
    table: PreferenceTable, audits: tuple[str, ...], options: Mapping[str, Any]
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    runners = _runners(options)
    sections: dict[str, Any] = {}
    skipped: list[dict[str, str]] = []
    for name in audits:
        if name not in runners:
            continue
        reason = _unsupported(table, name, options)
        if reason is not None:
            skipped.append({"audit": name, "reason": reason})
            continue
        sections[name] = runners[name](table)
    return sections, skipped


def _groups(table: PreferenceTable, by: str, options: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Position, length, agreement and gold audits within each value of ``by``."""
    values = np.unique(table.meta[by].astype(str))
    if values.size > _MAX_GROUPS:
        raise UsageError(f"--by {by!r} has {values.size} values; at most {_MAX_GROUPS} allowed")
    audits = ("position_bias", "length_bias", "agreement", "gold")
    out = []
    for value in values:
        subset = table.filter(table.meta[by] == value)
        sections, skipped = _run(subset, audits, options)
        entry: dict[str, Any] = {"group": str(value), "n_votes": subset.n_votes}
        entry |= {name: _section_dict(sections.get(name), name) for name in audits}
        entry["skipped"] = skipped
        out.append(entry)
    return out


def input_sha256(path: Path) -> str | None:
    """SHA-256 of a file (None for a folder)."""
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_preferences(
    path: str | Path,
    *,
    format: str,
    reader_options: Mapping[str, Any] | None = None,
    **audit_options: Any,
) -> PreferenceAudit:
    """Read a preference file with :func:`read_preferences` and audit it (the CLI's call).

    Parameters
    ----------
    path : str or Path
    format : str
        One of :data:`labelaudit.preferences.readers.SOURCES`.
    reader_options : mapping, optional
        Options of the reader (column names...); None values are dropped.
    **audit_options
        Passed to :func:`audit_preferences`.
    """
    from labelaudit.preferences.readers import read_preferences

    options = {k: v for k, v in (reader_options or {}).items() if v is not None}
    table = read_preferences(path, format=format, **options)
    return audit_preferences(table, input_sha256=input_sha256(Path(path)), **audit_options)
