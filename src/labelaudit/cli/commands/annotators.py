"""``labelaudit annotators``: the annotator table with gold accuracy and outlier flags."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from labelaudit.cli.app import app
from labelaudit.cli.commands.agreement import Task, TaskOpt
from labelaudit.cli.common import (
    AnnotatorColOpt,
    AnnotatorColsOpt,
    CategoricalMethod,
    CategoriesOpt,
    ControlOpt,
    DebugOpt,
    FileArg,
    FormatOpt,
    FromOpt,
    GroundTruthAsGoldOpt,
    IncludeModelsOpt,
    ItemColOpt,
    LabelColOpt,
    LabelConfigOpt,
    LayoutOpt,
    Level,
    LevelOpt,
    OnDuplicateOpt,
    OutputFormat,
    TaskKeyOpt,
    UsersOpt,
    export_options,
    read_table,
)

if TYPE_CHECKING:
    from rich.console import Console


GoldOpt = Annotated[
    Path | None, typer.Option(help="Gold labels file (CSV/TSV/JSONL/JSON/Parquet), one per item.")
]
GoldItemColOpt = Annotated[str, typer.Option(help="Item column of the gold file.")]
GoldLabelColOpt = Annotated[str, typer.Option(help="Gold label column of the gold file.")]
GoldColOpt = Annotated[
    str | None, typer.Option(help="Column of FILE holding gold labels (instead of --gold).")
]
DurationColOpt = Annotated[
    str | None, typer.Option(help="Seconds-per-label column (default: duration_s if present).")
]
TimeColOpt = Annotated[
    str | None, typer.Option(help="Timestamp column (default: created_at if present).")
]
SeedOpt = Annotated[int, typer.Option(help="Seed of tie-breaks and MACE restarts.")]


@app.command("annotators")
def annotators_command(
    file: FileArg,
    gold: GoldOpt = None,
    gold_item_col: GoldItemColOpt = "item",
    gold_label_col: GoldLabelColOpt = "gold_label",
    gold_col: GoldColOpt = None,
    decisions: Annotated[
        Path | None,
        typer.Option(
            help="Adjudicators' decisions: a labelaudit project (pull --as-decisions) or a "
            "file with item and label columns; agreement with them is its own figure."
        ),
    ] = None,
    exclude_gold: Annotated[
        bool, typer.Option(help="Leave gold items out of agreement and the models.")
    ] = False,
    method: Annotated[
        list[CategoricalMethod] | None,
        typer.Option(
            help="Aggregator to fit (repeat) (default: majority, dawid-skene, mace).",
        ),
    ] = None,
    duration_col: DurationColOpt = None,
    time_col: TimeColOpt = None,
    min_labels: Annotated[int, typer.Option(help="Labels needed before any flag.")] = 20,
    min_gold: Annotated[int, typer.Option(help="Gold labels needed for a gold flag.")] = 10,
    min_pool: Annotated[int, typer.Option(help="Annotators needed to form a pool.")] = 5,
    z_threshold: Annotated[float, typer.Option(help="Robust |z| that flags.")] = 3.5,
    run_alpha: Annotated[float, typer.Option(help="Run p-value that may flag.")] = 1e-4,
    kappa_max: Annotated[float, typer.Option(help="Spammer: largest DS kappa.")] = 0.1,
    spam_threshold: Annotated[float, typer.Option(help="Spammer: least MACE spamming.")] = 0.9,
    fail_on_flag: Annotated[bool, typer.Option(help="Exit 1 when an annotator is flagged.")] = (
        False
    ),
    seed: SeedOpt = 0,
    output: FormatOpt = OutputFormat.table,
    input_format: FromOpt = None,
    layout: LayoutOpt = "long",
    item_col: ItemColOpt = None,
    annotator_col: AnnotatorColOpt = None,
    label_col: LabelColOpt = None,
    annotator_cols: AnnotatorColsOpt = None,
    level: LevelOpt = Level.nominal,
    categories: CategoriesOpt = None,
    on_duplicate: OnDuplicateOpt = "error",
    task: TaskOpt = None,
    min_regions: Annotated[
        int, typer.Option(help="Structured labels: regions needed before any flag.")
    ] = 20,
    margin: Annotated[
        float,
        typer.Option(help="Structured labels: flag at this much below the others' agreement."),
    ] = 0.15,
    control: ControlOpt = None,
    task_key: TaskKeyOpt = None,
    label_config: LabelConfigOpt = None,
    include_models: IncludeModelsOpt = False,
    users: UsersOpt = None,
    ground_truth_as_gold: GroundTruthAsGoldOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Annotator table: agreement, gold accuracy, DS/MACE quality, speed, outlier flags.

    Structured labels (--task spans|boxes|multilabel|ranking|text, or what the export
    says) get their own pairwise measures (span F1, box F1, MASI, tau, edit similarity)
    against the others, the consensus and gold, with missed/extra regions.

    Exit code 1 with --fail-on-flag when an annotator is flagged, 2 on bad input.

    Example: labelaudit annotators labels.csv --gold gold.csv --format json
    """
    from labelaudit.exceptions import UsageError
    from labelaudit.quality import (
        DEFAULT_METHODS,
        OutlierRules,
        annotator_report,
        ground_truth_gold,
        load_gold,
    )
    from labelaudit.structured.api import as_task

    methods = [str(m) for m in method] if method else list(DEFAULT_METHODS)
    structured = task is not None and task is not Task.categorical
    table = read_table(
        file,
        input_format,
        layout,
        item_col,
        annotator_col,
        label_col,
        annotator_cols,
        level,
        None if structured else categories,
        on_duplicate,
        export=export_options(
            control, task_key, label_config, include_models, ground_truth_as_gold, users
        ),
    )
    table = as_task(table, task.value if task else None, categories if structured else None)
    if table.schema.is_structured:
        from labelaudit.quality.structured import (
            StructuredRules,
            read_structured_gold,
            structured_annotator_report,
        )

        if method or gold_col or exclude_gold:
            raise UsageError(
                f"--method, --gold-col and --exclude-gold apply to categorical labels, "
                f"not to {table.task}"
            )
        structured_report = structured_annotator_report(
            table,
            gold=read_structured_gold(
                table, str(gold), item_col=gold_item_col, label_col=gold_label_col
            )
            if gold
            else None,
            rules=StructuredRules(min_regions, margin),
            duration_col=duration_col,
            time_col=time_col,
        ).to_dict()
        if decisions is not None:
            structured_report["decisions"] = _decisions(table, decisions)
        render_structured(structured_report, output.value)
        if fail_on_flag and structured_report["n_flagged"]:
            raise typer.Exit(code=1)
        return
    gold_labels = load_gold(
        table, path=gold, column=gold_col, item_col=gold_item_col, label_col=gold_label_col
    )
    if ground_truth_as_gold:
        if gold_labels is not None:
            raise UsageError("--ground-truth-as-gold replaces --gold/--gold-col: pass one")
        table, gold_labels = ground_truth_gold(table)
    rules = OutlierRules(
        min_labels, min_gold, min_pool, z_threshold, run_alpha, kappa_max, spam_threshold
    )
    report = annotator_report(
        table,
        gold=gold_labels,
        methods=methods,
        exclude_gold=exclude_gold,
        duration_col=duration_col,
        time_col=time_col,
        rules=rules,
        seed=seed,
    ).to_dict()
    if decisions is not None:
        report["decisions"] = _decisions(table, decisions)
    render(report, output.value)
    if report.get("decisions") and output.value != "json":
        found = report["decisions"]
        typer.echo(
            f"agreement with adjudicators' decisions ({found['n_items']} disputed items, "
            "a biased sample; not gold):"
        )
        for name, row in found["annotators"].items():
            typer.echo(f"  {name}: {row['agreement']:.2f} ({row['agreed']}/{row['n']})")
    if fail_on_flag and report["n_flagged"]:
        raise typer.Exit(code=1)


def _decisions(table: Any, source: Path) -> dict[str, Any]:
    """Agreement of each annotator with the decisions of ``source`` (project or file)."""
    from labelaudit.quality.gold_scores import decision_agreement

    if (source / "labelaudit.toml").is_file():
        from labelaudit.project import find_project
        from labelaudit.project.pull import read_decisions

        items, labels = read_decisions(find_project(source))
        return decision_agreement(table, items, labels, f"{source} (decisions)")
    from labelaudit.table import load_source

    raw, _ = load_source(source, None)
    for column in ("item", "label"):
        if column not in raw.column_names:
            from labelaudit.exceptions import InputError

            raise InputError(
                "not a decisions file", source=str(source), field=column,
                expected="columns item and label", actual=", ".join(raw.column_names),
            )  # fmt: skip
    items = [str(v) for v in raw.column("item").to_pylist()]
    labels = [str(v) for v in raw.column("label").to_pylist()]
    return decision_agreement(table, items, labels, str(source))


# ------------------------------------------------------------------------------ render
_HEADERS = (
    ("annotator", "annotator", False),
    ("labels", "n_labels", True),
    ("LOO", "loo_agreement", True),
    ("gold (95% CI)", "gold", True),
    ("DS", "ds_accuracy", True),
    ("DS κ", "ds_kappa", True),
    ("spam", "mace_spamming", True),
    ("JS", "js_divergence", True),
    ("s/label", "median_seconds", True),
    ("run", "longest_run", True),
    ("flags", "flags", False),
)


def _cell(row: dict[str, Any], key: str) -> str:
    from labelaudit.report.format import DASH

    value = row.get(key)
    if key == "gold":
        if row["gold_accuracy"] is None:
            return DASH
        low, high = row["gold_ci95"]
        return f"{row['gold_accuracy']:.2f} ({low:.2f}-{high:.2f})"
    if key == "flags":
        return ", ".join(row["flags"])
    if value is None:
        return DASH
    if isinstance(value, float):
        return f"{value:.1f}" if key == "median_seconds" else f"{value:.2f}"
    return str(value)


def render(report: dict[str, Any], output: str) -> None:
    """Print the annotator report as JSON, a Markdown table or Rich tables."""
    if output == "json":
        import json

        typer.echo(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False))
        return
    from labelaudit.report.format import DASH

    cells = [[_cell(row, key) for _, key, _ in _HEADERS] for row in report["annotators"]]
    keep = [j for j in range(len(_HEADERS)) if any(row[j] not in (DASH, "") for row in cells)]
    headers = [_HEADERS[j] for j in keep]  # columns empty for everybody are left out
    rows = [[row[j] for j in keep] for row in cells]
    if output == "markdown":
        from labelaudit.report.format import visible_controls

        def escape(cell: str) -> str:
            return visible_controls(cell).replace("|", "\\|").replace("\n", " ")

        typer.echo("| " + " | ".join(h for h, _, _ in headers) + " |")
        typer.echo("|" + "|".join("---:" if n else "---" for _, _, n in headers) + "|")
        for row in rows:
            typer.echo("| " + " | ".join(escape(c) for c in row) + " |")
        for flag in report["flags"]:
            typer.echo(
                f"- **{escape(flag['annotator'])}** {flag['metric']}: {escape(flag['reason'])}"
            )
        return
    from rich.console import Console

    _render_rich(report, headers, rows, Console())


def _render_rich(
    report: dict[str, Any],
    headers: list[tuple[str, str, bool]],
    rows: list[list[str]],
    console: Console,
) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from labelaudit.report.format import visible_controls

    table = Table(
        title=Text(f"Annotators of {visible_controls(report['input']['source'])}"),
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
        caption=Text(
            "LOO: agreement with the others' majority; DS: Dawid-Skene accuracy; "
            "spam: MACE spamming probability; JS: label divergence (bits); run: longest run"
        ),
    )
    for header, _, numeric in headers:
        table.add_column(
            Text(header),
            justify="right" if numeric else "left",
            overflow="fold",
            no_wrap=numeric,
            min_width=None if numeric else 8,
        )
    for cells in rows:  # Text cells: user content is shown literally, never as markup
        table.add_row(*(Text(visible_controls(cell)) for cell in cells))
    console.print(table, emoji=False)
    if report["flags"]:
        flags = Table(title=Text(f"{report['n_flagged']} annotator(s) flagged"))
        for header in ("annotator", "metric", "reason"):
            flags.add_column(Text(header), overflow="fold")
        for flag in report["flags"]:
            flags.add_row(
                *(Text(visible_controls(str(flag[k]))) for k in ("annotator", "metric", "reason"))
            )
        console.print(flags, emoji=False)
    else:
        console.print(Text("No annotator flagged."))
    for note in [*report["notes"], *(f"{k}: {v}" for k, v in report["reasons"].items())]:
        console.print(Text(visible_controls(note), style="dim"))


_SHORT = {
    "span_f1_exact": "F1 exact",
    "span_f1_overlap": "F1 overlap",
    "box_f1_50": "F1@.5",
    "box_f1_50_95": "F1@.5:.95",
    "mean_iou": "IoU",
    "masi_agreement": "MASI",
    "kendall_tau": "tau",
    "text_similarity": "similarity",
    "boundary_errors": "boundary",
    "label_confusions": "label conf.",
}


def render_structured(report: dict[str, Any], output: str) -> None:
    """Print the structured annotator report: JSON, or one table (Markdown / Rich) with the
    flags and every rule that could not run below it."""
    if output == "json":
        import json

        typer.echo(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False))
        return
    from labelaudit.report.format import DASH, visible_controls

    primary = report["primary_metric"]
    rows = report["annotators"]
    measures = [k for k in rows[0] if f"{k}_ci95" in rows[0]] if rows else [primary]
    counts = [k for k in ("missed", "extra", *list(_SHORT)[-2:]) if rows and k in rows[0]]

    def number(value: Any) -> str:
        return DASH if value is None else f"{value:.2f}"

    def cell(row: dict[str, Any], key: str) -> str:
        interval = row.get(f"{key}_ci95") if key == primary else None
        text = number(row[key])
        return f"{text} ({interval[0]:.2f}-{interval[1]:.2f})" if interval else text

    headers = [
        "annotator",
        "regions",
        *(_SHORT.get(m, m) for m in measures),
        "others",
        "vs cons.",
        *(_SHORT.get(c, c) for c in counts),
        "flags",
    ]
    cells = [
        [
            row["annotator"],
            str(row["n_regions"]),
            *(cell(row, m) for m in measures),
            number(row[f"others_{primary}"]),
            number(row["vs_consensus"].get(primary)),
            *(str(row[c]) for c in counts),
            ", ".join(f["rule"] for f in row["flags"]),
        ]
        for row in rows
    ]
    lines = [f"{f['annotator']}: {f['rule']}: {f['reason']}" for f in report["flags"]]
    lines += [
        f"not run: {n['rule']}"
        + (f" for {n['annotator']}" if "annotator" in n else "")
        + f": {n['reason']}"
        for n in report["rules_not_run"]
    ]
    title = f"Annotators ({report['task']}, best first by {primary} with the others)"
    if output == "markdown":

        def escape(text: str) -> str:
            return visible_controls(text).replace("|", "\\|").replace("\n", " ")

        typer.echo(f"# {title}\n")
        typer.echo("| " + " | ".join(headers) + " |")
        typer.echo("|" + "|".join("---" for _ in headers) + "|")
        for row_cells in cells:
            typer.echo("| " + " | ".join(escape(c) for c in row_cells) + " |")
        typer.echo("")
        for line in lines:
            typer.echo(f"- {escape(line)}")
        return
    _rich_structured(title, headers, cells, lines, bool(report["flags"]))


def _rich_structured(
    title: str, headers: list[str], cells: list[list[str]], lines: list[str], flagged: bool
) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from labelaudit.report.format import visible_controls

    console = Console()
    grid = Table(
        title=Text(title),
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
        caption=Text("others: the other annotators with each other; 95% CI over items"),
    )
    for k, header in enumerate(headers):
        grid.add_column(Text(header), overflow="fold", min_width=6 if k == 0 else None)
    for row_cells in cells:
        grid.add_row(*(Text(visible_controls(c)) for c in row_cells))
    console.print(grid, emoji=False)
    if not flagged:
        console.print(Text("No annotator flagged."))
    for line in lines:
        console.print(Text(visible_controls(line)))
