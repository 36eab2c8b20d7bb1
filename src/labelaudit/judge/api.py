"""File-level entry points of the judge (the CLI's calls): run from files, audit from files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from labelaudit.judge.verdicts import JudgeRun

__all__ = ["run_judge_files"]


def run_judge_files(
    judge_file: str | Path,
    data: str | Path,
    *,
    out: str | Path,
    cache: str | Path | None = None,
    use_cache: bool = True,
    project: str | Path | None = None,
    prices: str | Path | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
    **options: Any,
) -> JudgeRun:
    """Load the judge, open the cache, run on DATA, write ``out``, close the cache.

    Parameters
    ----------
    judge_file : path
        Judge definition (TOML), see :func:`labelaudit.judge.definition.load_judge`.
    data : path
        Items (JSONL or CSV).
    out : path
        Verdict file (JSONL), written atomically at the end.
    cache : path, optional
        Cache file (DuckDB). Default: :func:`labelaudit.judge.cache.open_cache` (the
        project store inside a project, else the user's cache folder).
    use_cache : bool
        False: no cache at all (nothing replayed, nothing stored).
    project : path, optional
        Project folder whose store holds the cache (``--project``).
    prices : path, optional
        Price table (TOML); default the packaged examples.
    progress : callable, optional
        Progress callback (see :func:`labelaudit.judge.run.run_judge`).
    **options
        Fields of :class:`labelaudit.judge.run.RunOptions` (None values are dropped).

    Returns
    -------
    JudgeRun
    """
    from labelaudit.judge.cache import open_cache
    from labelaudit.judge.client import require_httpx
    from labelaudit.judge.definition import load_judge
    from labelaudit.judge.prices import load_prices
    from labelaudit.judge.run import RunOptions, run_judge

    require_httpx()
    judge = load_judge(judge_file)
    price_table = load_prices(prices)
    run_options = RunOptions(**{k: v for k, v in options.items() if v is not None})
    opened = open_cache(cache, project=project) if use_cache else None
    try:
        return run_judge(
            judge,
            data,
            cache=opened,
            prices=price_table,
            options=run_options,
            out=out,
            progress=progress,
        )
    finally:
        if opened is not None:
            opened.close()
