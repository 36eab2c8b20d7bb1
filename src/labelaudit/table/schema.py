"""Task schema: measurement level and the declared, ordered category list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labelaudit._typing import LEVELS, Level
from labelaudit.exceptions import UsageError

__all__ = ["ANNOTATOR_KINDS", "TASKS", "TaskSchema"]

#: Task types. ``categorical`` labels live in the ``label`` column; every other task keeps
#: its structured label in the table's ``payload`` column (see :class:`AnnotationTable`)
#: and a canonical JSON string of it in ``label`` (so exact-match agreement still works).
TASKS = (
    "categorical",
    "multilabel",
    "spans",
    "boxes",
    "ranking",
    "text",
    "pairwise",
    "polygons",
    "cuboids",
    "keypoints",
)

#: Who produced a row (the optional ``annotator_kind`` column; ``human`` when absent): a
#: person, a model (e.g. Label Studio predictions, named by ``model_version``) or a
#: labelling function. Human agreement leaves the others out unless asked.
ANNOTATOR_KINDS = ("human", "model", "function")


@dataclass(frozen=True)
class TaskSchema:
    """What kind of labels a table holds.

    Parameters
    ----------
    level : {"nominal", "ordinal", "interval", "ratio"}
        Measurement level (Krippendorff 2011; Stevens 1946). It picks alpha's distance
        metric and says whether labels must be numbers (interval, ratio).
    categories : tuple of str, optional
        The declared categories, in order. They may include categories nobody used
        (Brennan-Prediger, Gwet's AC1/AC2 and weighted coefficients depend on them); they
        give the order of string labels at ordinal level. ``None`` means "infer from the
        data" (numbers sorted by value, strings sorted lexicographically). For structured
        tasks they are the vocabulary of the labels inside the payload (e.g. NER tags).
    task : str
        One of :data:`TASKS`; ``categorical`` by default.
    """

    level: Level = "nominal"
    categories: tuple[str, ...] | None = None
    task: str = "categorical"

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            msg = f"task must be one of {', '.join(TASKS)}; got {self.task!r}"
            raise UsageError(msg)
        if self.level not in LEVELS:
            msg = f"level must be one of {', '.join(LEVELS)}; got {self.level!r}"
            raise UsageError(msg)
        if self.categories is not None:
            if len(self.categories) == 0:
                raise UsageError("categories, when given, must not be empty")
            seen: set[str] = set()
            for category in self.categories:
                if category in seen:
                    msg = f"category {category!r} is declared twice"
                    raise UsageError(msg)
                seen.add(category)

    @classmethod
    def create(
        cls, level: str = "nominal", categories: Any = None, task: str = "categorical"
    ) -> TaskSchema:
        """Build a schema from loose user input (a comma-separated string or a sequence)."""
        if isinstance(categories, str):
            categories = [c.strip() for c in categories.split(",") if c.strip() != ""]
        if categories is not None:
            categories = tuple(str(c) for c in categories)
        return cls(level=level, categories=categories, task=task)  # type: ignore[arg-type]

    @property
    def is_structured(self) -> bool:
        """True for every task whose label lives in the ``payload`` column."""
        return self.task != "categorical"

    @property
    def is_quantitative(self) -> bool:
        """True at interval and ratio level, where labels must be numbers."""
        return self.level in ("interval", "ratio")

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"level": str, "categories": [str] | null, "task": str}``."""
        return {
            "task": self.task,
            "level": self.level,
            "categories": list(self.categories) if self.categories is not None else None,
        }
