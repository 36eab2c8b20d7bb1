"""``labelaudit judge``: run an LLM judge on an OpenAI-compatible endpoint; audit its verdicts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from labelaudit.cli.app import app
from labelaudit.cli.commands.preferences import ProjectStoreOpt
from labelaudit.cli.common import DebugOpt, PageFormat, PageFormatOpt

judge_app = typer.Typer(
    name="judge",
    help="LLM-as-judge: run a rubric judge against any OpenAI-compatible endpoint, then "
    "audit its verdicts like an annotator's.",
    no_args_is_help=True,
)
app.add_typer(judge_app, name="judge")


class Orders(StrEnum):
    """Presentation orders of pairwise mode."""

    both = "both"
    ab = "ab"


class SummaryFormat(StrEnum):
    """How the run summary is printed."""

    table = "table"
    json = "json"


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[dict[str, Any]], None] | None]:
    """A Rich progress bar on stderr (done / cached / failed / cost), or nothing."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    fields = (
        "cached {task.fields[cached]} · failed {task.fields[failed]} · ${task.fields[cost]:.4f}"
    )
    columns = (TextColumn("judge"), BarColumn(), MofNCompleteColumn(), TextColumn(fields))
    with Progress(*columns, TimeElapsedColumn(), console=Console(stderr=True)) as bar:
        task = bar.add_task("judge", total=None, cached=0, failed=0, cost=0.0)

        def update(state: dict[str, Any]) -> None:
            bar.update(
                task,
                total=state["total"],
                completed=state["done"],
                cached=state["cached"],
                failed=state["failed"],
                cost=state["cost_usd"],
            )

        yield update


@judge_app.command("run")
def run_command(
    judge_file: Annotated[Path, typer.Argument(help="Judge definition (TOML).")],
    data: Annotated[
        Path,
        typer.Argument(help="Items: JSONL or CSV with an item column and the template's fields."),
    ],
    out: Annotated[Path, typer.Option(help="Verdict file to write (JSONL).")],
    cache: Annotated[
        Path | None,
        typer.Option(
            help="Cache file (DuckDB). Default: the project store inside a project, "
            "else ~/.cache/labelaudit/judge-cache.duckdb."
        ),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither replay nor store answers.")
    ] = False,
    project: Annotated[Path | None, typer.Option(help="Project folder holding the cache.")] = None,
    concurrency: Annotated[int | None, typer.Option(help="Requests in flight at most.")] = None,
    rpm: Annotated[float | None, typer.Option(help="Requests per minute at most.")] = None,
    repeats: Annotated[
        int, typer.Option(help="Send every request K times (repetition stability).")
    ] = 1,
    orders: Annotated[
        Orders, typer.Option(help="Pairwise: both presentation orders or ab only.")
    ] = Orders.both,
    max_cost: Annotated[
        float | None, typer.Option(help="Stop sending at this cost (USD); exit 1.")
    ] = None,
    prices: Annotated[
        Path | None, typer.Option(help="Price table (TOML, USD per 1M tokens).")
    ] = None,
    timeout: Annotated[float | None, typer.Option(help="Seconds per attempt.")] = None,
    max_retries: Annotated[int | None, typer.Option(help="Retries per request.")] = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
    output: Annotated[
        SummaryFormat, typer.Option("--format", help="Summary format.")
    ] = SummaryFormat.table,
    debug: DebugOpt = False,
) -> None:
    """Run a judge on every item; verdicts go to --out, answers to the cache.

    Example: labelaudit judge run judge.toml items.jsonl --out verdicts.jsonl --concurrency 16
    """
    from labelaudit.judge.api import run_judge_files

    with _progress(progress) as callback:
        result = run_judge_files(
            judge_file,
            data,
            out=out,
            cache=cache,
            use_cache=not no_cache,
            project=project,
            prices=prices,
            progress=callback,
            concurrency=concurrency,
            rpm=rpm,
            repeats=repeats,
            orders=orders.value,
            max_cost=max_cost,
            timeout=timeout,
            max_retries=max_retries,
        )
    _print_summary(result.summary.to_dict(), output.value)
    if result.summary.n_tokens_estimated:
        typer.echo(
            f"warning: {result.summary.n_tokens_estimated} answers came without a usable token "
            "count; their tokens (and cost) are estimated at 1 token per 3 bytes of text",
            err=True,
        )
    if result.summary.stopped_by_budget:
        typer.echo(f"stopped: --max-cost {max_cost} USD reached; finished verdicts kept", err=True)
    if result.summary.fatal_error:
        typer.echo(f"error: {result.summary.fatal_error}", err=True)
    raise typer.Exit(code=result.summary.exit_code)


def _print_summary(summary: dict[str, Any], output: str) -> None:
    if output == "json":
        import json

        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False))
        return
    cost = summary["cost_usd"]
    shown = "unknown (no price for this model)" if cost is None else f"${cost:.4f}"
    typer.echo(
        f"{summary['judge']} ({summary['model']}): {summary['n_verdicts']} verdicts for "
        f"{summary['n_items']} items; {summary['n_cached']} cached, {summary['n_sent']} sent "
        f"({summary['n_http_attempts']} HTTP attempts), {summary['n_failed']} failed, "
        f"{summary['n_unsent']} not sent; tokens {summary['prompt_tokens']} in / "
        f"{summary['completion_tokens']} out; cost {shown}"
    )
    if summary["out"]:
        typer.echo(f"verdicts: {summary['out']}")


@judge_app.command("audit")
def audit_command(
    verdicts: Annotated[list[Path], typer.Argument(help="Verdict file(s) from `judge run`.")],
    humans: Annotated[
        Path | None, typer.Option(help="Human labels: item, annotator, label (CSV/JSONL).")
    ] = None,
    gold: Annotated[Path | None, typer.Option(help="Gold labels: item, gold_label.")] = None,
    data: Annotated[Path | None, typer.Option(help="Pairwise: the run's DATA (texts).")] = None,
    judge: Annotated[Path | None, typer.Option(help="Pairwise: the run's judge file.")] = None,
    judge_family: Annotated[
        list[str] | None, typer.Option(help="JUDGE=MODEL_PREFIX for self-preference.")
    ] = None,
    ids_are_models: Annotated[
        bool, typer.Option("--ids-are-models", help="Pairwise: response ids are model names.")
    ] = False,
    level: Annotated[str | None, typer.Option(help="Label/score: measurement level.")] = None,
    categories: Annotated[str | None, typer.Option(help="Declared categories, a,b,c.")] = None,
    ci: Annotated[str, typer.Option(help="Label/score CIs: analytic or bootstrap.")] = "analytic",
    n_boot: Annotated[int, typer.Option(help="Bootstrap replicates.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    output: PageFormatOpt = PageFormat.table,
    out: Annotated[
        Path | None, typer.Option(help="Write the output to this file (prints 'wrote FILE').")
    ] = None,
    triage_out: Annotated[
        Path | None, typer.Option(help="Write the triage queue here (JSONL).")
    ] = None,
    project: ProjectStoreOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Audit judge verdicts like an annotator: agreement with humans, position and length
    bias, gold accuracy, repetition stability, self-preference, disagreement triage.

    Example: labelaudit judge audit verdicts.jsonl --humans labels.csv --format html --out a.html
    """
    from labelaudit.cli.commands.preferences import _families, store_in_project
    from labelaudit.judge.audit import audit_judge
    from labelaudit.report.builders_judge import judge_document
    from labelaudit.report.format import emit_document

    audit = audit_judge(
        list(verdicts),
        humans=humans,
        gold=gold,
        data=data,
        judge=judge,
        judge_family=_families(judge_family or []),
        ids_are_models=ids_are_models,
        level=level,
        categories=categories,
        ci=ci,
        n_boot=n_boot,
        seed=seed,
    )
    report = audit.to_dict()
    emit_document(report, lambda: judge_document(report), output.value, out)
    store_in_project(project, "judge", report, verdicts[0].name)
    if triage_out is not None:
        from labelaudit.report.format import atomic_write_text

        atomic_write_text(triage_out, "".join(line + "\n" for line in audit.triage_lines()))
