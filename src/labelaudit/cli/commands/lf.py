"""``labelaudit lf``: apply labeling functions to records and analyse their votes."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import (
    DebugOpt,
    FileArg,
    Level,
    PageFormat,
    PageFormatOpt,
    RawCsvOpt,
    read_table,
)

lf_app = typer.Typer(
    help="Labeling functions (weak supervision): apply them, analyse their votes.",
    no_args_is_help=True,
)
app.add_typer(lf_app, name="lf")


class OnError(StrEnum):
    """What an LF that raises does."""

    raise_ = "raise"
    abstain = "abstain"


@lf_app.command("apply")
def apply_command(
    lfs: Annotated[Path, typer.Argument(help="Python file defining @labeling_function s.")],
    data: FileArg,
    out: Annotated[
        Path, typer.Option(help="Write the votes here (.csv, .tsv, .jsonl or .parquet).")
    ],
    labels: Annotated[
        str | None,
        typer.Option(help="The label set, comma-separated (default: LABELS in the LF file)."),
    ] = None,
    id_col: Annotated[
        str | None, typer.Option(help="Column naming each record (default: its row number).")
    ] = None,
    on_error: Annotated[
        OnError,
        typer.Option(help="An LF that raises: stop naming the record, or count it as abstain."),
    ] = OnError.raise_,
    output: PageFormatOpt = PageFormat.table,
    raw_csv: RawCsvOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Run every labeling function of LFS on every record of DATA; write the votes.

    The votes are a canonical annotation table (item, annotator = LF name, label,
    annotator_kind = function; an abstain is no row): every labelaudit command reads it.

    Example: labelaudit lf apply lfs.py comments.csv --labels HAM,SPAM --out votes.csv
    """
    from labelaudit.exceptions import UsageError
    from labelaudit.io import write_table
    from labelaudit.weak import apply_lfs, lf_run_summary, load_lfs

    functions, declared = load_lfs(lfs)
    label_set = [x.strip() for x in labels.split(",") if x.strip()] if labels else declared
    if not label_set:
        raise UsageError(f"no label set: pass --labels or define LABELS = [...] in {lfs}")
    if out.suffix.lower() not in (".csv", ".tsv", ".jsonl", ".ndjson", ".parquet", ".pq"):
        raise UsageError(f"--out {out}: use a .csv, .tsv, .jsonl or .parquet extension")
    table = apply_lfs(functions, data, labels=label_set, id_col=id_col, on_error=on_error.value)
    write_table(table, out, raw_csv=raw_csv)
    summary = lf_run_summary(table)
    typer.echo(f"wrote {table.n_ratings:,} votes to {out}", err=True)
    _emit(summary, output.value)


@lf_app.command("analyze")
def analyze_command(
    votes: FileArg,
    gold: Annotated[
        Path | None, typer.Option(help="Gold labels file (CSV/TSV/JSONL/JSON/Parquet).")
    ] = None,
    gold_item_col: Annotated[str, typer.Option(help="Item column of the gold file.")] = "item",
    gold_label_col: Annotated[
        str, typer.Option(help="Gold label column of the gold file.")
    ] = "gold_label",
    n_records: Annotated[
        int | None,
        typer.Option(
            help="Records the LFs ran on, counting those no LF voted on (printed by `lf "
            "apply`; default: the items with a vote)."
        ),
    ] = None,
    class_balance: Annotated[
        str | None,
        typer.Option(help="Class prior of the label model, one number per category."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write the report here.")] = None,
    queue_out: Annotated[
        Path | None,
        typer.Option(
            help="Write the items the LFs conflict on, most conflicted first, as an "
            "adjudication queue (reason lf_conflict; .csv, .tsv, .parquet, else JSONL)."
        ),
    ] = None,
    queue_top: Annotated[
        int | None,
        typer.Option(help="Queue only the N most conflicted items (default: all).", min=1),
    ] = None,
    raw_csv: RawCsvOpt = False,
    output: PageFormatOpt = PageFormat.table,
    debug: DebugOpt = False,
) -> None:
    """Snorkel's LF summary (coverage, overlaps, conflicts, accuracy on gold with 95% CI)
    plus each LF's agreement with the others and its label-model accuracy.

    VOTES is a vote table (from `lf apply`, or any annotation table whose annotators are
    labeling functions).

    With --queue-out, the conflicted items also go to an adjudication queue file in the
    shape `labelaudit adjudicate` writes (majority consensus, every LF's vote).

    Example: labelaudit lf analyze votes.csv --gold gold.csv --n-records 1586
    """
    from labelaudit.exceptions import UsageError
    from labelaudit.quality import read_gold
    from labelaudit.report.builders_weak import lf_analysis_document
    from labelaudit.report.format import emit_document
    from labelaudit.weak import lf_analysis

    if queue_top is not None and queue_out is None:
        raise UsageError("--queue-top applies to --queue-out: add --queue-out FILE")
    table = read_table(votes, None, "long", None, None, None, None, Level.nominal, None, "error")
    found = None
    if gold is not None:
        found = read_gold(gold, table, item_col=gold_item_col, label_col=gold_label_col)
    result = lf_analysis(table, gold=found, n_records=n_records, class_balance=class_balance)
    data = result.to_dict()
    if queue_out is not None:
        from labelaudit.quality import write_queue
        from labelaudit.weak import lf_conflict_queue

        queue = lf_conflict_queue(table, top=queue_top)
        write_queue(queue, queue_out, raw_csv=raw_csv)
        typer.echo(f"queued {len(queue.entries):,} conflicted items in {queue_out}", err=True)
    emit_document(data, lf_analysis_document(data), output.value, out)


def _emit(summary: dict[str, Any], output: str) -> None:
    from labelaudit.report.document import document_from_dict
    from labelaudit.report.format import emit_document

    sentence = (
        f"{summary['n_lfs']} labeling functions on {summary['n_records']:,} records: "
        f"{summary['n_votes']:,} votes on {summary['n_items_voted']:,} records "
        f"(use --n-records {summary['n_records']} with `lf analyze` and the label model)."
    )
    emit_document(summary, document_from_dict("LF votes", summary, sentence), output)
