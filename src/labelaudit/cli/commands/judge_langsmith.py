"""``labelaudit judge from-langsmith``: LangSmith feedback -> verdict lines + human labels."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.commands.judge import judge_app
from labelaudit.cli.common import DebugOpt


@judge_app.command("from-langsmith")
def from_langsmith_command(
    feedback: Annotated[
        Path, typer.Argument(help="LangSmith feedback export (.json, .jsonl or .csv).")
    ],
    out: Annotated[Path, typer.Option(help="Verdict lines to write (JSONL).")],
    humans_out: Annotated[
        Path | None,
        typer.Option(help="Human labels to write (CSV: item, annotator, label)."),
    ] = None,
    runs: Annotated[
        Path | None,
        typer.Option(help="The runs (.json/.jsonl/.csv): items become dataset examples."),
    ] = None,
    key: Annotated[
        str | None, typer.Option(help="Feedback key to audit (needed when there are several).")
    ] = None,
    judge: Annotated[str | None, typer.Option(help="Judge name (default: langsmith:KEY).")] = None,
    debug: DebugOpt = False,
) -> None:
    """Turn a LangSmith evaluator's feedback (source type model) into verdict lines and the
    human feedback of the same key (app/api sources) into labels, for `judge audit`.

    Example: labelaudit judge from-langsmith feedback.json --key correctness
    --out verdicts.jsonl --humans-out humans.csv
    """
    from labelaudit.csvio import write_csv
    from labelaudit.judge.langsmith import read_langsmith_feedback
    from labelaudit.judge.verdicts import write_verdicts

    result = read_langsmith_feedback(feedback, runs=runs, key=key, judge=judge)
    write_verdicts(out, result.verdicts)
    if humans_out is not None:
        write_csv(result.humans, humans_out)
    summary = result.to_dict()
    typer.echo(
        f"{summary['key']}: {summary['n_verdicts']} verdicts by {', '.join(summary['judges'])}"
        f" -> {out}; {summary['n_human_labels']} human labels"
        + (f" -> {humans_out}" if humans_out is not None else "")
        + f"; {summary['n_skipped']} feedback records skipped (no value, user or known source)"
    )
