"""``labelaudit review-score``: error rate of a reviewed sample and its accept/reject verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import DebugOpt, FormatOpt, OutputFormat, fail


@app.command("review-score")
def review_score_command(
    sample: Annotated[Path, typer.Argument(help="Review sample written by labelaudit sample.")],
    decisions: Annotated[Path, typer.Argument(help="CSV/JSONL: item, annotator, correct.")],
    plan_n: Annotated[int, typer.Option(help="Plan sample size n.")],
    plan_c: Annotated[int, typer.Option(help="Plan acceptance number c.")],
    record: Annotated[
        bool, typer.Option(help="Store the result for the batch (for the review gate).")
    ] = False,
    project: Annotated[Path | None, typer.Option(help="Project folder (with --record).")] = None,
    output: FormatOpt = OutputFormat.table,
    debug: DebugOpt = False,
) -> None:
    """Horvitz-Thompson error rate with its 95% CI; exit 1 when the plan rejects the batch.

    Example: labelaudit review-score review.jsonl decisions.csv --plan-n 131 --plan-c 3
    """
    from labelaudit.cli.commands.plan import emit
    from labelaudit.exceptions import LabelAuditError
    from labelaudit.plans import score_review
    from labelaudit.plans.decisions import read_decisions, read_sample

    try:
        rows = read_sample(sample)
        score = score_review(rows, read_decisions(decisions, rows), plan_n=plan_n, plan_c=plan_c)
        if record:
            from labelaudit.plans.store import record_review
            from labelaudit.project import find_project

            record_review(find_project(project), str(rows[0].get("batch", "")), score)
    except LabelAuditError as error:
        raise fail(error, debug) from None
    report = score.to_dict()
    low, high = report["ci95"]
    facts = [
        (
            "decision",
            f"{report['decision'].upper()} ({report['errors']} wrong of "
            f"{report['reviewed']}; plan n={plan_n}, c={plan_c})",
        ),
        ("error rate", f"{report['error_rate']:.4f} (95% CI {low:.4f}-{high:.4f})"),
        *(("note", note) for note in report["notes"]),
    ]
    emit(report, output, facts, report["strata"], "Review score")
    raise typer.Exit(code=score.exit_code)
