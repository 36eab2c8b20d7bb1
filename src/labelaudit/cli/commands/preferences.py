"""``labelaudit preferences``: position, length, agreement and other audits of preference data."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import (
    ControlOpt,
    DebugOpt,
    LabelConfigOpt,
    PageFormat,
    PageFormatOpt,
    TaskKeyOpt,
    UsersOpt,
    export_options,
)

if TYPE_CHECKING:
    from labelaudit.io import ExportOptions


class Source(StrEnum):
    """Preference data formats."""

    dpo = "dpo"
    hh_rlhf = "hh-rlhf"
    mtbench = "mtbench"
    pandalm = "pandalm"
    llmbar = "llmbar"
    label_studio = "label-studio"
    csv = "csv"


ColOpt = Annotated[
    str | None,
    typer.Option(help="--from csv: column name (default: as the option).", rich_help_panel="CSV"),
]


#: ``--project DIR``: also keep the audit in a project (``labelaudit serve`` shows it).
ProjectStoreOpt = Annotated[
    Path | None,
    typer.Option(
        "--project",
        help="Also store the audit in this project (labelaudit serve shows it).",
    ),
]


@app.command("preferences")
def preferences_command(
    file: Annotated[
        Path, typer.Argument(help="Preference file (or folder for mtbench/pandalm/llmbar).")
    ],
    source: Annotated[Source, typer.Option("--from", help="Input format.")],
    output: PageFormatOpt = PageFormat.table,
    out: Annotated[
        Path | None, typer.Option(help="Write the output to this file (prints 'wrote FILE').")
    ] = None,
    judge_family: Annotated[
        list[str] | None,
        typer.Option(help="JUDGE=MODEL_PREFIX: the model family of a judge (repeatable)."),
    ] = None,
    by: Annotated[
        str | None, typer.Option(help="Repeat audits per value of a metadata column.")
    ] = None,
    prompt_col: ColOpt = None,
    first_col: ColOpt = None,
    second_col: ColOpt = None,
    choice_col: ColOpt = None,
    annotator_col: ColOpt = None,
    kind_col: ColOpt = None,
    first_model_col: ColOpt = None,
    second_model_col: ColOpt = None,
    gold_col: ColOpt = None,
    kind: Annotated[str | None, typer.Option(help="dpo/hh-rlhf/csv: human or judge.")] = None,
    authors: Annotated[bool, typer.Option(help="mtbench: keep the authors' votes.")] = False,
    control: ControlOpt = None,
    task_key: TaskKeyOpt = None,
    label_config: LabelConfigOpt = None,
    users: UsersOpt = None,
    seed: Annotated[int, typer.Option(help="Random seed (bootstraps).")] = 0,
    n_boot: Annotated[int, typer.Option(help="Bootstrap replicates.")] = 1000,
    alpha: Annotated[float, typer.Option(help="Level of the bias flags (Holm).")] = 0.01,
    project: ProjectStoreOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Audit pairwise preference votes: position and length bias, agreement, consistency,
    Bradley-Terry ratings, self-preference and hygiene (every audit the data support).

    Example: labelaudit preferences votes.csv --from csv --format json --out audit.json
    """
    from labelaudit.preferences.audit import run_preferences
    from labelaudit.report.builders_audit import preferences_document
    from labelaudit.report.format import emit_document

    columns = {name: value for name, value in locals().items() if name.endswith("_col")}
    audit = run_preferences(
        file,
        format=source.value,
        reader_options=_reader_options(
            source,
            columns,
            kind,
            authors,
            export_options(control, task_key, label_config, users=users),
        ),
        judge_family=_families(judge_family or []),
        by=by,
        n_boot=n_boot,
        seed=seed,
        alpha=alpha,
    )
    report = audit.to_dict()
    emit_document(report, lambda: preferences_document(report), output.value, out)
    store_in_project(project, "preferences", report, file.name)


def store_in_project(root: Path | None, kind: str, report: dict[str, Any], name: str) -> None:
    """Store ``report`` as a ``kind`` audit named ``name`` in the project at ``root`` (if
    given) and say so on stderr (stdout may be the JSON document)."""
    if root is None:
        return
    from labelaudit.project.audits import store_audit
    from labelaudit.project.layout import Project

    audit_id = store_audit(Project.load(root), kind, report, name=name)
    typer.echo(f"stored {kind} audit {audit_id} in {root}", err=True)


def _reader_options(
    source: Source,
    columns: dict[str, str | None],
    kind: str | None,
    authors: bool,
    export: ExportOptions,
) -> dict[str, object]:
    """Reader keyword arguments; options that do not apply to ``source`` are refused."""
    from labelaudit.exceptions import UsageError

    given = {name: value for name, value in columns.items() if value is not None}
    if given and source is not Source.csv:
        names = ", ".join("--" + name.replace("_", "-") for name in given)
        raise UsageError(f"{names} only apply to --from csv")
    if authors and source is not Source.mtbench:
        raise UsageError("--authors only applies to --from mtbench")
    if kind is not None and source not in (Source.dpo, Source.hh_rlhf, Source.csv):
        raise UsageError("--kind only applies to --from dpo, hh-rlhf or csv")
    chosen = {k: v for k, v in export.read_kwargs().items() if v not in (None, False)}
    if chosen and source is not Source.label_studio:
        names = ", ".join("--" + name.replace("_", "-") for name in chosen)
        raise UsageError(f"{names} only apply to --from label-studio")
    options: dict[str, object] = dict(given)
    options.update(chosen)
    if kind is not None:
        options["kind"] = kind
    if authors:
        options["authors"] = True
    return options


def _families(values: list[str]) -> dict[str, str]:
    """``["gpt4_pair=gpt-4"]`` -> ``{"gpt4_pair": "gpt-4"}``."""
    from labelaudit.exceptions import UsageError

    out = {}
    for value in values:
        judge, sep, prefix = value.partition("=")
        if not sep or not judge.strip() or not prefix.strip():
            raise UsageError(f"--judge-family expects JUDGE=MODEL_PREFIX; got {value!r}")
        out[judge.strip()] = prefix.strip()
    return out
