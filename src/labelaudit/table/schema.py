"""Task schema: measurement level and the declared, ordered category list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labelaudit._typing import LEVELS, Level
from labelaudit.exceptions import UsageError

__all__ = ["TaskSchema"]


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
        data" (numbers sorted by value, strings sorted lexicographically).
    """

    level: Level = "nominal"
    categories: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
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
    def create(cls, level: str = "nominal", categories: Any = None) -> TaskSchema:
        """Build a schema from loose user input (a comma-separated string or a sequence)."""
        if isinstance(categories, str):
            categories = [c.strip() for c in categories.split(",") if c.strip() != ""]
        if categories is not None:
            categories = tuple(str(c) for c in categories)
        return cls(level=level, categories=categories)  # type: ignore[arg-type]

    @property
    def is_quantitative(self) -> bool:
        """True at interval and ratio level, where labels must be numbers."""
        return self.level in ("interval", "ratio")

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"level": str, "categories": [str] | null}``."""
        return {
            "level": self.level,
            "categories": list(self.categories) if self.categories is not None else None,
        }
