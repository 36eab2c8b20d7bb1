"""``labelaudit calibration``: create a calibration round, score it, write feedback sheets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import (
    AnnotatorColOpt,
    DebugOpt,
    FromOpt,
    ItemColOpt,
    LabelColOpt,
    Level,
    TaskKeyOpt,
    read_table,
)
from labelaudit.cli.pages import OutOpt, PageFormat, PageFormatOpt, emit_document

calibration_app = typer.Typer(
    name="calibration",
    help="Calibration rounds: items with expert answers, per-annotator scores and feedback.",
    no_args_is_help=True,
)
app.add_typer(calibration_app, name="calibration")

ProjectOpt = Annotated[
    Path | None,
    typer.Option(help="Project folder (default: nearest parent holding labelaudit.toml)."),
]


@calibration_app.command("create")
def create_command(
    items: Annotated[int, typer.Option("--items", help="Items in the round.")],
    source: Annotated[
        str, typer.Option("--from", help="gold | queue (adjudication queue) | hard.")
    ] = "gold",
    stratify: Annotated[str, typer.Option(help="none | label.")] = "none",
    seed: Annotated[int, typer.Option(help="Seed of the draw.")] = 0,
    name: Annotated[str | None, typer.Option(help="Round name (default: the folder name).")] = None,
    gold: Annotated[
        Path | None,
        typer.Option(help="Gold file (item, gold_label; default: the project's [gold] file)."),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out-dir", help="Folder for the round.")] = Path(
        "calibration"
    ),
    project: ProjectOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Pick a reproducible calibration round and write round.json and tasks.json (Label
    Studio tasks: data.item and data.text).

    Example: labelaudit calibration create --items 30 --from gold --out-dir round-1
    (answers from Label Studio: calibration score ROUND export.json --task-key data.item)
    """
    from labelaudit.guidelines.calibration import create_round, write_round
    from labelaudit.guidelines.project import gold_map
    from labelaudit.project import find_project

    found = find_project(project)
    round_ = create_round(
        found,
        items,
        source=source,
        stratify=stratify,
        seed=seed,
        name=name or out_dir.resolve().name,
        gold=gold_map(gold) if gold is not None else None,
    )
    paths = write_round(round_, out_dir)
    known = sum(1 for i in round_.items if i["expected"] is not None)
    typer.echo(
        f"round {round_.name}: {len(round_.items)} items ({known} with an expected answer) "
        f"from {source}; wrote {paths[0]} and {paths[1]}"
    )


@calibration_app.command("score")
def score_command(
    round_dir: Annotated[Path, typer.Argument(help="The round folder (or its round.json).")],
    answers: Annotated[Path, typer.Argument(help="Annotators' answers (table or export).")],
    expert: Annotated[
        str | None,
        typer.Option(help="Annotator in ANSWERS whose answers are the expected ones."),
    ] = None,
    target: Annotated[float, typer.Option(help="Accuracy wanted (coaching below).")] = 0.9,
    feedback_dir: Annotated[
        Path | None,
        typer.Option("--feedback-dir", help="Write the feedback sheets here (HTML, MD, CSV)."),
    ] = None,
    xlsx: Annotated[
        bool,
        typer.Option(
            "--xlsx", help="Also write feedback.xlsx in --feedback-dir (needs labelaudit[xlsx])."
        ),
    ] = False,
    guidelines: Annotated[
        Path | None,
        typer.Option(help="Guideline file for the deciding rules (default: the project's)."),
    ] = None,
    store: Annotated[
        bool, typer.Option("--store/--no-store", help="Store the scores in the project.")
    ] = True,
    project: ProjectOpt = None,
    input_format: FromOpt = None,
    item_col: ItemColOpt = None,
    annotator_col: AnnotatorColOpt = None,
    label_col: LabelColOpt = None,
    task_key: TaskKeyOpt = None,
    output: PageFormatOpt = PageFormat.table,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Score each annotator against the expert answers: accuracy (Wilson CI), kappa,
    confusion matrix, every miss with its deciding rule; write feedback sheets and store
    the scores (trends on the annotator page of labelaudit serve).

    Example: labelaudit calibration score round-1 answers.csv --feedback-dir feedback
    """
    from labelaudit.guidelines import read_guideline
    from labelaudit.guidelines.calibration import read_round
    from labelaudit.guidelines.feedback import team_sheet, write_feedback
    from labelaudit.guidelines.project import project_guideline
    from labelaudit.guidelines.scoring import score_round
    from labelaudit.guidelines.stored import store_calibration
    from labelaudit.project import find_project

    round_ = read_round(round_dir)
    found = find_project(project) if (store or guidelines is None) else None
    guide = read_guideline(guidelines) if guidelines is not None else None
    if guide is None and found is not None:
        guide = project_guideline(found)
    table = read_table(
        answers,
        input_format,
        "long",
        item_col,
        annotator_col,
        label_col,
        None,
        Level.nominal,
        None,
        "error",
        task_key=task_key,
    )
    result = score_round(round_, table, guide=guide, expert=expert, target=target)
    data = result.to_dict()
    if feedback_dir is not None:
        written = write_feedback(data, feedback_dir, guide, xlsx=xlsx)
        typer.echo(f"wrote {len(written)} feedback files into {feedback_dir}", err=True)
    if store and found is not None:
        with found.open_store() as opened:
            store_calibration(opened, round_.name, round_.guideline_version, data["annotators"])
    emit_document(team_sheet(data), data, output, out)
