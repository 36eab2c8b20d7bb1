"""``labelaudit guidelines`` (check a guideline file, write its Label Studio config),
``labelaudit compare`` (before/after a revision) and ``labelaudit judge init
--from-guidelines``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.app import app
from labelaudit.cli.commands.judge import judge_app
from labelaudit.cli.common import DebugOpt
from labelaudit.cli.pages import OutOpt, PageFormat, PageFormatOpt, emit_document

guidelines_app = typer.Typer(
    name="guidelines",
    help="Annotation guidelines as versioned files (docs/guidelines.md): check, platform config.",
    no_args_is_help=True,
)
app.add_typer(guidelines_app, name="guidelines")

GuidelineArg = Annotated[
    Path, typer.Argument(help="Guideline file (Markdown with a TOML front matter).")
]
ProjectDirOpt = Annotated[
    Path | None,
    typer.Option("--project", help="Project folder: its categories and gold are checked too."),
]


@guidelines_app.command("check")
def check_command(
    file: GuidelineArg,
    project: ProjectDirOpt = None,
    label_config: Annotated[
        Path | None,
        typer.Option(help="An existing Label Studio config (XML): labels missing on either side."),
    ] = None,
    gold: Annotated[
        Path | None, typer.Option(help="Gold file (item, gold_label; default: the project's).")
    ] = None,
    previous: Annotated[
        Path | None,
        typer.Option(help="Previous version of the file (default: the file at git HEAD)."),
    ] = None,
    output: PageFormatOpt = PageFormat.table,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Check a guideline: definitions for every project category, examples' labels,
    examples on gold items against the gold, referenced sections, and what changed since
    the previous version. Exit 1 when a problem is found.

    Example: labelaudit guidelines check guidelines.md --project .
    """
    from labelaudit.guidelines import check_guideline, previous_from_git, read_guideline
    from labelaudit.guidelines.documents import check_document
    from labelaudit.guidelines.project import gold_map, project_gold

    guide = read_guideline(file)
    categories = gold_answers = None
    if project is not None:
        from labelaudit.project import find_project

        found = find_project(project)
        declared = found.config.task.categories
        categories = [str(c) for c in declared] if declared else None
        gold_answers = project_gold(found)
    if gold is not None:
        gold_answers = gold_map(gold)
    config_labels = None
    if label_config is not None:
        from labelaudit.io import parse_label_config

        parsed = parse_label_config(label_config)
        config_labels = [label for c in parsed.controls.values() for label in c.labels]
    before = read_guideline(previous) if previous is not None else previous_from_git(file)
    result = check_guideline(
        guide,
        categories=categories,
        gold=gold_answers,
        config_labels=config_labels,
        previous=before,
    )
    data = result.to_dict()
    emit_document(check_document(data), data, output, out)
    if not result.ok:
        raise typer.Exit(1)


@guidelines_app.command("label-config")
def label_config_command(
    file: GuidelineArg,
    data_field: Annotated[str, typer.Option(help="Task-data field shown ($text).")] = "text",
    control: Annotated[str, typer.Option(help="Name of the control tag.")] = "label",
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Write the Label Studio labelling config (XML) of the guideline's labels and hints.

    Example: labelaudit guidelines label-config guidelines.md --out config.xml
    """
    from labelaudit.guidelines import label_studio_config, read_guideline
    from labelaudit.report.format import write_output_file

    xml = label_studio_config(read_guideline(file), data_field=data_field, control=control)
    if out is None:
        typer.echo(xml, nl=False)
    else:
        write_output_file(out, xml)


@app.command("compare")
def compare_command(
    before: Annotated[str, typer.Option(help="Guideline version before the revision (e.g. v3).")],
    after: Annotated[str, typer.Option(help="Guideline version after it (e.g. v4).")],
    project: Annotated[
        Path | None,
        typer.Option(help="Project folder (default: nearest parent holding labelaudit.toml)."),
    ] = None,
    n_boot: Annotated[int, typer.Option(help="Bootstrap replicates per period.")] = 1000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    output: PageFormatOpt = PageFormat.table,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Agreement before and after a guideline revision: each coefficient, each category
    and each annotator, with a bootstrap 95% interval on the difference (items resampled
    within each period) and a sentence on whether the revision helped. Batches ingested
    without a version form the period "unversioned", compared only when named.

    Example: labelaudit compare --before v1 --after v2 --project .
    """
    from labelaudit.guidelines.compare import compare_versions
    from labelaudit.guidelines.documents import compare_document
    from labelaudit.project import find_project

    result = compare_versions(find_project(project), before, after, n_boot=n_boot, seed=seed)
    data = result.to_dict()
    emit_document(compare_document(data), data, output, out)


@judge_app.command("init")
def judge_init_command(
    from_guidelines: Annotated[
        Path, typer.Option("--from-guidelines", help="Guideline file whose rules the judge gets.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Judge TOML to write.")] = Path("judge.toml"),
    model: Annotated[str, typer.Option(help="Model name.")] = "gpt-4o-mini",
    base_url: Annotated[
        str, typer.Option(help="OpenAI-compatible endpoint root.")
    ] = "http://127.0.0.1:8000/v1",
    field: Annotated[
        list[str] | None, typer.Option(help="DATA field shown to the judge (repeatable).")
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Write a judge TOML whose prompt carries the guideline's label definitions, examples
    and edge-case rules, so the judge is audited against the same rules as the annotators.

    Example: labelaudit judge init --from-guidelines guidelines.md --out judge.toml
    """
    from labelaudit.guidelines import read_guideline
    from labelaudit.guidelines.judge import judge_from_guideline
    from labelaudit.report.format import write_output_file

    text = judge_from_guideline(
        read_guideline(from_guidelines), model=model, base_url=base_url, fields=field or ["text"]
    )
    write_output_file(out, text)


@guidelines_app.command("example")
def example_command(
    folder: Annotated[Path, typer.Argument(help="Folder for the example's files (created).")],
    debug: DebugOpt = False,
) -> None:
    """Write the worked example of docs/guidelines.md: two guideline versions, six PandaLM
    batches (the first three simulate a misread rule), gold and calibration answers.

    Example: labelaudit guidelines example gl-example
    """
    from labelaudit.guidelines.example import write_example

    files = write_example(folder)
    typer.echo(
        f"wrote {files.guidelines[0].name}, {files.guidelines[1].name}, "
        f"{len(files.batches)} batches and {files.gold.name} in {files.gold.parent}, "
        f"{files.answers.name} into {folder}"
    )
