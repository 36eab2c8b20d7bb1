"""``labelaudit slices``: agreement and label shifts by annotator group and data slice."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import (
    AnnotatorColOpt,
    CategoriesOpt,
    DebugOpt,
    FileArg,
    FormatOpt,
    FromOpt,
    ItemColOpt,
    LabelColOpt,
    Level,
    LevelOpt,
    NaValuesOpt,
    OutputFormat,
    read_table,
)


@app.command("slices")
def slices_command(
    file: FileArg,
    by: Annotated[
        list[str],
        typer.Option(help="Attribute: annotator group (vendor, region, ...) or item slice."),
    ],
    annotators_meta: Annotated[
        Path | None, typer.Option(help="Annotator attributes: an annotator column + columns.")
    ] = None,
    items_meta: Annotated[
        Path | None, typer.Option(help="Item attributes (slices): an item column + columns.")
    ] = None,
    show_small_groups: Annotated[
        bool, typer.Option(help="Show figures of groups with fewer than --min-raters raters.")
    ] = False,
    min_raters: Annotated[int, typer.Option(help="Smallest group whose figures are shown.")] = 5,
    reference: Annotated[
        list[str] | None,
        typer.Option(help="BY=GROUP: reference group of the contrasts (default: largest)."),
    ] = None,
    gold: Annotated[
        Path | None, typer.Option(help="Gold labels (item, gold_label) for the metric table.")
    ] = None,
    positive: Annotated[
        str | None, typer.Option(help="Positive labels, comma-separated: binary rates.")
    ] = None,
    perspectives_out: Annotated[
        Path | None,
        typer.Option(help="Write group-conditional soft labels per item (.jsonl, .parquet)."),
    ] = None,
    max_gap: Annotated[
        float | None,
        typer.Option(help="Gate: exit 1 when the largest group offset gap exceeds this."),
    ] = None,
    mixed_model: Annotated[
        bool, typer.Option(help="Also fit MixedLM rating ~ group + (1|item) (statsmodels).")
    ] = False,
    n_boot: Annotated[int, typer.Option(help="Bootstrap replicates.")] = 1000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 0,
    output: FormatOpt = OutputFormat.table,
    input_format: FromOpt = None,
    item_col: ItemColOpt = None,
    annotator_col: AnnotatorColOpt = None,
    label_col: LabelColOpt = None,
    level: LevelOpt = Level.interval,
    categories: CategoriesOpt = None,
    na_values: NaValuesOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Who labels shapes the label: offsets, agreement and label distributions by group.

    Example: labelaudit slices ratings.csv --by race --by gender --max-gap 0.5
    """
    from labelaudit.fairness import (
        perspectives_table,
        read_attribute_file,
        reference_labels,
        resolve_groupings,
        slices_report,
        write_perspectives,
    )
    from labelaudit.fairness.document import slices_document
    from labelaudit.quality.gold import load_gold
    from labelaudit.report.document import render_document

    table = read_table(
        file, input_format, "long", item_col, annotator_col, label_col, None, level,
        categories, "error", na_values=na_values,
    )  # fmt: skip
    meta_a = read_attribute_file(annotators_meta, "annotator") if annotators_meta else None
    meta_i = read_attribute_file(items_meta, "item") if items_meta else None
    labels = None
    if gold is not None or positive is not None:
        found = load_gold(table, path=gold)
        chosen = positive.split(",") if positive else None
        labels = reference_labels(table, gold=found, positive=chosen)
    report = slices_report(
        table, by, annotators=meta_a, items=meta_i, min_raters=min_raters,
        show_small_groups=show_small_groups, reference=_pairs(reference or []),
        n_boot=n_boot, seed=seed, reference_labels=labels, mixed_model=mixed_model,
    )  # fmt: skip
    if perspectives_out is not None:
        groupings = resolve_groupings(table, by, annotators=meta_a, items=meta_i)
        soft = perspectives_table(
            table, groupings, min_raters=min_raters, show_small_groups=show_small_groups
        )
        write_perspectives(soft, perspectives_out)
        typer.echo(f"wrote {soft.num_rows} rows to {perspectives_out}", err=True)
    data = report.to_dict()
    if output == OutputFormat.json:
        import json

        typer.echo(json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        document = slices_document(data, gate=max_gap)
        typer.echo(render_document(document, output.value, width=_width()), nl=False)
    gap = report.max_group_gap
    if max_gap is not None and gap is not None and gap > max_gap:
        raise typer.Exit(code=1)


def _pairs(values: list[str]) -> dict[str, str]:
    from labelaudit.exceptions import UsageError

    out = {}
    for value in values:
        name, sep, group = value.partition("=")
        if not sep or not name:
            raise UsageError(f"--reference {value!r}: expected BY=GROUP, e.g. race=White")
        out[name] = group
    return out


def _width() -> int:
    """The terminal's width (80 when not a terminal)."""
    import shutil

    return shutil.get_terminal_size((80, 24)).columns
