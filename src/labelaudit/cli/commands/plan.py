"""``labelaudit plan pilot|review|gold|kappa``: sample sizes and plans before data is collected."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from labelaudit.cli.app import app
from labelaudit.cli.common import DebugOpt, FormatOpt, OutputFormat, fail
from labelaudit.cli.pages import OutOpt, PageFormat, PageFormatOpt, emit_document

plan_app = typer.Typer(
    help="Plans before data: pilot sizes, review plans, gold allocation, kappa studies."
)
app.add_typer(plan_app, name="plan")


def _ints(text: str) -> list[int]:
    """``2..6`` or ``2,3,5`` as a list of ints (a UsageError otherwise)."""
    from labelaudit.exceptions import UsageError

    try:
        if ".." in text:
            low, high = (int(part) for part in text.split("..", 1))
            return list(range(low, high + 1))
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"expected a range like 2..6 or a list like 2,3,5; got {text!r}") from None


def _floats(text: str | None) -> list[float] | None:
    from labelaudit.exceptions import UsageError

    if text is None:
        return None
    try:
        return [float(part) for part in text.split(",")]
    except ValueError:
        raise UsageError(f"expected comma-separated numbers; got {text!r}") from None


def emit(
    report: dict[str, Any],
    output: OutputFormat,
    facts: list[tuple[str, Any]],
    rows: list[dict[str, Any]],
    title: str,
) -> None:
    """Print a plan as JSON, or its key facts and main table as Markdown or a Rich table."""
    if output == OutputFormat.json:
        import json

        typer.echo(json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False))
        return
    from labelaudit.report.format import escape_markdown, fmt_value

    def cell(value: Any) -> str:
        return fmt_value(value) if isinstance(value, float) or value is None else str(value)

    headers = list(rows[0]) if rows else []
    if output == OutputFormat.markdown:
        lines = [f"## {escape_markdown(title)}", ""]
        lines += [f"- **{k}:** {escape_markdown(cell(v))}" for k, v in facts]
        if rows:
            lines += ["", "| " + " | ".join(headers) + " |", "|" + "---:|" * len(headers)]
            lines += ["| " + " | ".join(cell(r[h]) for h in headers) + " |" for r in rows]
        typer.echo("\n".join(lines))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console()
    console.print(Text(title, style="bold"))
    for key, value in facts:
        console.print(Text(f"{key}: {cell(value)}"))
    if rows:
        table = Table()
        for h in headers:
            table.add_column(Text(h), justify="right")
        for r in rows:
            table.add_row(*(Text(cell(r[h])) for h in headers))
        console.print(table)


@plan_app.command("pilot")
def pilot_command(
    metric: Annotated[str, typer.Option(help="alpha, fleiss, cohen or icc.")] = "alpha",
    expected: Annotated[float, typer.Option(help="Anticipated coefficient.")] = 0.7,
    half_width: Annotated[float, typer.Option(help="Target 95% CI half-width.")] = 0.05,
    annotators: Annotated[str, typer.Option(help="Annotator counts: 2..6 or 2,3,5.")] = "2..6",
    categories: Annotated[int, typer.Option(help="Categories (uniform prevalence).")] = 2,
    prevalence: Annotated[
        str | None, typer.Option(help="Category prevalence, comma-separated, sums to 1.")
    ] = None,
    missing: Annotated[float, typer.Option(help="Share of missing ratings.")] = 0.0,
    replicates: Annotated[int, typer.Option(help="Monte-Carlo replicates per cell.")] = 1000,
    seed: Annotated[int, typer.Option(help="Simulation seed.")] = 0,
    output: FormatOpt = OutputFormat.table,
    debug: DebugOpt = False,
) -> None:
    """Items needed for an agreement CI of a target half-width, per number of annotators.

    Example: labelaudit plan pilot --metric alpha --expected 0.7 --half-width 0.05
    --annotators 2..6 --categories 3
    """
    from labelaudit.exceptions import LabelAuditError
    from labelaudit.plans import plan_pilot

    try:
        result = plan_pilot(
            metric,
            expected,
            half_width,
            annotators=_ints(annotators),
            categories=categories,
            prevalence=_floats(prevalence),
            missing=missing,
            replicates=replicates,
            seed=seed,
        )
    except LabelAuditError as error:
        raise fail(error, debug) from None
    report = result.to_dict()
    facts = [
        (f"items for ±{half_width:g} at {r['annotators']} annotators", r["items"])
        for r in report["needed"]
    ]
    facts.append(("method", report["needed"][0]["reference"]))
    emit(report, output, facts, report["tradeoff"], f"Pilot plan for {metric}")


@plan_app.command("review")
def review_command(
    batch_size: Annotated[int | None, typer.Option(help="Items in the batch (omit: stream).")],
    aql: Annotated[float, typer.Option(help="Acceptable error rate (fraction).")] = 0.01,
    ltpd: Annotated[float, typer.Option(help="Rejectable error rate (fraction).")] = 0.05,
    alpha: Annotated[float, typer.Option(help="Producer's risk at the AQL.")] = 0.05,
    beta: Annotated[float, typer.Option(help="Consumer's risk at the LTPD.")] = 0.10,
    output: FormatOpt = OutputFormat.table,
    debug: DebugOpt = False,
) -> None:
    """Exact single and double review plans, their OC curve, and MIL-STD-105E.

    Example: labelaudit plan review --batch-size 5000 --aql 0.01 --ltpd 0.05
    """
    from labelaudit.exceptions import LabelAuditError
    from labelaudit.plans import plan_review

    try:
        report = plan_review(batch_size, aql, ltpd, alpha=alpha, beta=beta).to_dict()
    except LabelAuditError as error:
        raise fail(error, debug) from None
    single, double, mil = report["single"], report["double"], report["mil_std_105e"]
    facts: list[tuple[str, Any]] = [
        ("single plan", f"n={single['n']}, c={single['c']}" if single else "none"),
        (
            "double plan",
            f"n1=n2={double['n1']}, c1={double['c1']}, c2={double['c2']}, "
            f"ASN at AQL {double['asn_at_aql']:.1f}"
            if double
            else "none",
        ),
        (
            "MIL-STD-105E",
            f"code {mil['code_letter']}: n={mil['n']}, c={mil['c']} (AQL {mil['aql_percent']}%)"
            if mil
            else "n/a",
        ),
    ]
    emit(report, output, facts, report["oc_curve"], "Review sampling plan")


@plan_app.command("gold")
def gold_command(
    accuracy: Annotated[float, typer.Option(help="Accuracy of a good annotator.")] = 0.9,
    detect: Annotated[float, typer.Option(help="Accuracy drop to detect.")] = 0.8,
    power: Annotated[float, typer.Option(help="Probability of detecting it.")] = 0.9,
    alpha: Annotated[float, typer.Option(help="False-flag rate of a good annotator.")] = 0.05,
    periods: Annotated[int, typer.Option(help="Periods to spread the gold over.")] = 1,
    output: FormatOpt = OutputFormat.table,
    debug: DebugOpt = False,
) -> None:
    """Gold questions per annotator (exact binomial) and the sequential test (SPRT).

    Example: labelaudit plan gold --accuracy 0.9 --detect 0.8 --power 0.9
    """
    from labelaudit.exceptions import LabelAuditError
    from labelaudit.plans import plan_gold

    try:
        report = plan_gold(accuracy, detect, power=power, alpha=alpha, periods=periods).to_dict()
    except LabelAuditError as error:
        raise fail(error, debug) from None
    fixed, sprt = report["fixed"], report["sprt"]
    facts: list[tuple[str, Any]] = [
        (
            "fixed plan",
            f"{fixed['n']} gold per annotator ({fixed['per_period']} per period), "
            f"flag at {fixed['flag_at_errors']} errors"
            if fixed
            else "none",
        ),
        (
            "SPRT expected gold (good / bad)",
            f"{sprt['expected_n_good']:.1f} / {sprt['expected_n_bad']:.1f}",
        ),
    ]
    emit(report, output, facts, sprt["boundaries"][:40], "Gold allocation")


@plan_app.command("kappa")
def kappa_command(
    kappa0: Annotated[
        float, typer.Option("--kappa0", help="Null kappa (power, cantor) or anticipated kappa.")
    ],
    prevalence: Annotated[
        str,
        typer.Option(
            help="Share of positive ratings (cantor: rater 1's rate), or 3-5 category "
            "shares summing to 1: 0.3,0.2,0.5."
        ),
    ],
    method: Annotated[str, typer.Option(help="power, ci, fixed-n or cantor.")] = "power",
    kappa1: Annotated[
        float | None, typer.Option("--kappa1", help="Alternative kappa (power, cantor).")
    ] = None,
    lower: Annotated[float | None, typer.Option(help="Expected lower CI limit (ci).")] = None,
    upper: Annotated[
        float | None, typer.Option(help="Expected upper CI limit (ci, two-sided).")
    ] = None,
    items: Annotated[int | None, typer.Option(help="Items available (fixed-n).")] = None,
    raters: Annotated[int, typer.Option(help="Raters per item, 2-6.")] = 2,
    alpha: Annotated[float, typer.Option(help="Type I error rate.")] = 0.05,
    power: Annotated[float, typer.Option(help="Power (power, cantor).")] = 0.8,
    prevalence2: Annotated[
        float | None, typer.Option(help="Rater 2's positive rate (cantor; default: same).")
    ] = None,
    two_sided: Annotated[bool, typer.Option(help="Two-sided test (cantor).")] = False,
    output: PageFormatOpt = PageFormat.table,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Items for a kappa study, binary or 3-5 categories (Donner & Eliasziw 1992; Cantor 1996).

    Example: labelaudit plan kappa --method power --kappa0 0.4 --kappa1 0.6 --prevalence 0.3
    """
    from labelaudit.exceptions import LabelAuditError
    from labelaudit.plans import plan_kappa

    try:
        shares = _floats(prevalence) or []
        result = plan_kappa(
            method,
            kappa0,
            shares[0] if len(shares) == 1 else shares,
            kappa1=kappa1,
            lower=lower,
            upper=upper,
            items=items,
            raters=raters,
            alpha=alpha,
            power=power,
            prevalence2=prevalence2,
            two_sided=two_sided,
        )
        emit_document(kappa_document(result.to_dict()), result.to_dict(), output, out)
    except LabelAuditError as error:
        raise fail(error, debug) from None


def kappa_document(report: dict[str, Any]) -> Any:
    """The document of ``plan kappa``: the answer as the headline, the inputs echoed, and
    the same question for 2-6 raters."""
    from labelaudit.report.document import DocTable, Document, Headline, Section

    inputs = report["inputs"]
    if report["method"] == "fixed-n":
        lower = report["kappa_lower"]
        sentence = (
            f"{inputs['items']} items give an expected lower limit of kappa of {lower:.3f}"
            if lower is not None
            else f"{inputs['items']} items give no lower limit above -1"
        )
        column, key = "expected lower limit", "kappa_lower"
    else:
        sentence = f"{report['items']} items are required"
        column, key = "items", "items"
    sentence += f" with {inputs['raters']} raters ({report['method']})."
    rows = tuple((r["raters"], r[key]) for r in report["by_raters"])
    table = DocTable("By number of raters", ("raters", column), rows, ("number", "number"))
    sections = (
        Section("Inputs", facts=tuple((k, v) for k, v in inputs.items() if v is not None)),
        Section("By number of raters", tables=(table,), text=f"Method: {report['reference']}."),
    )
    return Document("Kappa study sample size", Headline(sentence), sections)
