"""Calibration rounds: a reproducible set of items with expert answers, for the platform.

:func:`create_round` picks ``n`` items (seeded; optionally stratified by expected label,
with the review sample's allocation :func:`labelaudit.plans.review.draw_review_sample`)
from the project's gold items, its adjudication queue or its hardest recent disagreements,
with the expected answer where one is known (gold, else the latest expert decision).
:func:`write_round` writes ``round.json`` (the round: items, expected answers, text) and
``tasks.json`` (Label Studio tasks: ``data.text`` and ``data.item``, so the answers read
back with ``--task-key data.item``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labelaudit.exceptions import InputError, UsageError
from labelaudit.project.store import ROWS_OF_ITEMS

if TYPE_CHECKING:
    from labelaudit.project import Project
    from labelaudit.project.store import BatchRecord, Store

__all__ = ["SOURCES", "CalibrationRound", "create_round", "read_round", "write_round"]

SOURCES = ("gold", "queue", "hard")
#: Batches, newest first, whose queue or disagreements ``--from queue|hard`` draws from.
RECENT = 3
ROUND_FILE = "round.json"
TASKS_FILE = "tasks.json"


@dataclass(frozen=True)
class CalibrationRound:
    """A calibration round: its items (``item``, ``expected`` or None, ``text``, ``batch``)."""

    name: str
    source: str
    seed: int
    stratify: str
    guideline_version: str | None
    items: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON form (what ``round.json`` holds)."""
        return {
            "name": self.name,
            "source": self.source,
            "seed": self.seed,
            "stratify": self.stratify,
            "guideline_version": self.guideline_version,
            "n_items": len(self.items),
            "n_with_expected": sum(1 for i in self.items if i["expected"] is not None),
            "items": list(self.items),
        }

    def label_studio_tasks(self) -> list[dict[str, Any]]:
        """Label Studio import tasks: ``{"data": {"item", "text"}, "meta": {"round"}}``."""
        return [
            {"data": {"item": i["item"], "text": i["text"] or ""}, "meta": {"round": self.name}}
            for i in self.items
        ]


def create_round(
    project: Project,
    n_items: int,
    *,
    source: str = "gold",
    stratify: str = "none",
    seed: int = 0,
    name: str = "round",
    gold: dict[str, str] | None = None,
) -> CalibrationRound:
    """Pick ``n_items`` calibration items (see the module docstring).

    Parameters
    ----------
    project : Project
    n_items : int
        Items wanted (all candidates when there are fewer).
    source : {"gold", "queue", "hard"}
        Gold items (expected = gold), the adjudication queue of the :data:`RECENT` latest
        batches, or their items on which annotators disagreed (observed agreement < 1).
    stratify : {"none", "label"}
        Proportional allocation over the expected label (gold) or the most common label.
    seed : int
    name : str
        The round's name (stored with its scores).
    gold : dict item -> label, optional
        Gold answers (default: the project's ``[gold] file``).
    """
    if source not in SOURCES:
        raise UsageError(f"--from must be one of {', '.join(SOURCES)}; got {source!r}")
    if stratify not in ("none", "label"):
        raise UsageError(f"--stratify must be none or label; got {stratify!r}")
    if n_items < 1:
        raise UsageError(f"--items must be at least 1; got {n_items}")
    from labelaudit.guidelines.project import project_gold, project_guideline
    from labelaudit.plans.review import draw_review_sample
    from labelaudit.project.decisions import latest_decisions

    gold = gold if gold is not None else (project_gold(project) or {})
    with project.open_store(read_only=True) as store:
        batches = store.batches()
        if not batches:
            raise UsageError("the project store holds no batch; ingest one first")
        candidates = _candidates(store, batches, source, gold)
        decided = latest_decisions(store)
        expected = {c: gold.get(c, decided.get(c)) for c, _ in candidates}
        rows = [
            {"item": item, "annotator": "", "label": expected[item] or common}
            for item, common in candidates
        ]
        chosen = draw_review_sample(rows, n_items, stratify=stratify, seed=seed)
        items = [row["item"] for row in chosen]
        texts = _texts(store, batches, items)
    guide = project_guideline(project)
    return CalibrationRound(
        name=name,
        source=source,
        seed=seed,
        stratify=stratify,
        guideline_version=guide.version if guide is not None else None,
        items=tuple(
            {
                "item": i,
                "expected": expected[i],
                "text": texts.get(i, (None, ""))[0],
                "batch": texts.get(i, (None, ""))[1],
            }
            for i in items
        ),
    )


# On the codes (the wanted names first): which of these items are stored, and each one's
# extra per batch holding it.
_STORED = "SELECT DISTINCT i.name " + ROWS_OF_ITEMS
_TEXTS = (
    "SELECT i.name, c.batch_id, any_value(c.extra) "
    + ROWS_OF_ITEMS
    + "GROUP BY i.name, c.batch_id ORDER BY c.batch_id"
)


def _candidates(
    store: Store, batches: list[BatchRecord], source: str, gold: dict[str, str]
) -> list[tuple[str, str]]:
    """``(item, most common or gold label)`` of every candidate, in a stable order."""
    from labelaudit.agreement.diagnostics import top_disagreements
    from labelaudit.project.decisions import batch_queue, batch_table

    if source == "gold":
        stored = {str(r[0]) for r in store.execute(_STORED, (sorted(gold),)).fetchall()}
        found = [(item, label) for item, label in gold.items() if item in stored]
        if not found:
            raise UsageError(
                "no gold item in the stored batches: name a gold file in [gold] of "
                "labelaudit.toml, or use --from queue / hard"
            )
        return sorted(found)
    found = []
    for batch in batches[-RECENT:]:  # the recent batches, a few
        table = batch_table(store, batch)
        if source == "queue":
            entries = batch_queue(table).entries
            found += [(str(e["item"]), str(e.get("consensus_label") or "")) for e in entries]
        else:
            found += [
                (str(row["item"]), max(row["labels"], key=row["labels"].get))
                for row in top_disagreements(table, top=table.n_items)
                if row["observed_agreement"] < 1.0
            ]
    if not found:
        raise UsageError(f"no {source} item in the {RECENT} latest batches")
    return sorted(dict(found).items())


def _texts(
    store: Store, batches: list[BatchRecord], items: list[str]
) -> dict[str, tuple[str | None, str]]:
    """Each item's text (from its newest batch) and that batch's name."""
    from labelaudit.pipeline_report import item_text

    names = {b.batch_id: b.name for b in batches}
    rows = store.execute(_TEXTS, (items,)).fetchall()
    return {str(item): (item_text(extra), names[batch]) for item, batch, extra in rows}


def write_round(round_: CalibrationRound, folder: Path) -> tuple[Path, Path]:
    """Write ``round.json`` and ``tasks.json`` (Label Studio) into ``folder`` (created)."""
    from labelaudit.report.format import atomic_write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = json.dumps(round_.to_dict(), indent=2, ensure_ascii=False) + "\n"
    tasks = json.dumps(round_.label_studio_tasks(), indent=2, ensure_ascii=False) + "\n"
    atomic_write_text(folder / ROUND_FILE, data)
    atomic_write_text(folder / TASKS_FILE, tasks)
    return folder / ROUND_FILE, folder / TASKS_FILE


def read_round(path: Path) -> CalibrationRound:
    """Read a round folder (or its ``round.json``).

    Raises
    ------
    InputError
        Missing file, not JSON, or a missing key.
    """
    path = Path(path)
    file = path / ROUND_FILE if path.is_dir() else path
    if not file.is_file():
        raise InputError("calibration round not found", source=str(file), expected=ROUND_FILE)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        items = tuple(
            {
                "item": str(i["item"]),
                "expected": None if i.get("expected") is None else str(i["expected"]),
                "text": i.get("text"),
                "batch": i.get("batch"),
            }
            for i in data["items"]
        )
        return CalibrationRound(
            name=str(data["name"]),
            source=str(data.get("source", "")),
            seed=int(data.get("seed", 0)),
            stratify=str(data.get("stratify", "none")),
            guideline_version=data.get("guideline_version"),
            items=items,
        )
    except json.JSONDecodeError as error:
        raise InputError("not JSON", source=str(file), line=error.lineno) from None
    except (KeyError, TypeError, ValueError) as error:
        raise InputError(
            "not a calibration round", source=str(file), field=str(error), expected="name, items"
        ) from None
