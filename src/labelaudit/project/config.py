"""The project configuration ``labelaudit.toml``: typed sections, strict reading, defaults.

``labelaudit init`` writes :func:`default_config_text`; every command reads the file with
:func:`load_config` (``tomllib``), which rejects unknown sections and keys and wrong types
with an :class:`~labelaudit.exceptions.InputError` naming the file, the key, the expected and
the actual value. Every key is documented in ``docs/pipeline.md`` and in the comments of
the file ``init`` writes.

Sections: ``[project]`` (name), ``[task]`` (level, categories), ``[input]`` (how batch
files are read), ``[agreement]`` (per-batch agreement options), ``[gold]`` (where gold
answers come from), ``[monitor]`` (control-chart baseline and parameters), ``[[gates]]``
(quality gates), ``[report]`` (report options), the optional ``[alert]``, the optional
``[guidelines]`` (the guideline file) and the optional
``[categories]`` (what each category code means: ``0 = "tie"``, shown wherever codes appear
in the project's pages).
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from labelaudit._typing import CI_METHODS, LEVELS, MAX_BOOT, WEIGHT_NAMES
from labelaudit.exceptions import InputError
from labelaudit.io.detect import PLATFORM_FORMATS
from labelaudit.table import FORMATS as TABLE_FORMATS
from labelaudit.table.schema import TaskSchema

__all__ = [
    "ALERT_ON",
    "CONFIG_NAME",
    "GATE_OPS",
    "RUN_RULES",
    "AgreementConfig",
    "AlertConfig",
    "FairnessConfig",
    "Gate",
    "GoldConfig",
    "GuidelinesConfig",
    "InputConfig",
    "MonitorConfig",
    "ProjectConfig",
    "ReportConfig",
    "TaskConfig",
    "default_config_text",
    "load_config",
    "toml_string",
]

CONFIG_NAME = "labelaudit.toml"
GATE_OPS = (">=", ">", "<=", "<", "==", "!=")
RUN_RULES = ("western_electric", "nelson", "none")
ALERT_ON = ("failure", "always")
_INPUT_FORMATS = (*TABLE_FORMATS, *PLATFORM_FORMATS)


#: The per-batch metric each task charts and gates by default (structured tasks: the
#: type's own agreement, never a nominal alpha over payload text).
TRACKED_METRICS = {
    "categorical": "krippendorff_alpha",
    "spans": "span_f1_exact",
    "boxes": "box_f1_50",
    "polygons": "polygon_f1_50",
    "cuboids": "cuboid_f1_50",
    "keypoints": "keypoint_f1_50",
    "multilabel": "masi_alpha",
    "ranking": "kendall_w",
    "text": "text_alpha",
}
#: Default agreement gate threshold per tracked metric (``init`` writes it; edit freely).
_GATE_THRESHOLDS = {
    "krippendorff_alpha": 0.667,
    "span_f1_exact": 0.7,
    "box_f1_50": 0.7,
    "polygon_f1_50": 0.7,
    "cuboid_f1_50": 0.7,
    "keypoint_f1_50": 0.7,
    "masi_alpha": 0.667,
    "kendall_w": 0.5,
    "text_alpha": 0.667,
}


@dataclass(frozen=True)
class TaskConfig:
    """``[task]``: measurement level, the declared, ordered categories (None = infer) and
    the task type (None = categorical; structured tasks: the labels inside the payload)."""

    level: str = "nominal"
    categories: tuple[str, ...] | None = None
    task: str | None = None

    @property
    def kind(self) -> str:
        """The task type, ``categorical`` when unset."""
        return self.task or "categorical"

    @property
    def tracked_metric(self) -> str:
        """The per-batch agreement metric charted over the history (:data:`TRACKED_METRICS`)."""
        return TRACKED_METRICS[self.kind]

    def schema(self) -> TaskSchema:
        """The :class:`~labelaudit.table.TaskSchema` every batch is read with."""
        return TaskSchema.create(self.level, self.categories, self.kind)


@dataclass(frozen=True)
class InputConfig:
    """``[input]``: how batch files are read (CLI options override these)."""

    format: str | None = None
    layout: str = "long"
    item_col: str | None = None
    annotator_col: str | None = None
    label_col: str | None = None
    annotator_cols: tuple[str, ...] | None = None
    na_values: tuple[str, ...] | None = None


@dataclass(frozen=True)
class AgreementConfig:
    """``[agreement]``: options of the per-batch :func:`~labelaudit.agreement_report`."""

    weights: str = "identity"
    ci: str = "analytic"
    n_boot: int = 1000
    seed: int = 0
    top: int = 20


@dataclass(frozen=True)
class GoldConfig:
    """``[gold]``: a gold-answer file (item, label; relative to the project) or a column."""

    file: str | None = None
    column: str | None = None


@dataclass(frozen=True)
class GuidelinesConfig:
    """``[guidelines]``: the guideline file (relative to the project; docs/guidelines.md)
    whose ``version`` ingest records with each batch unless ``--guidelines-version``."""

    file: str | None = None


@dataclass(frozen=True)
class FairnessConfig:
    """``[fairness]``: annotator attributes audited on every batch (``labelaudit slices``).

    With ``by`` set, ingest stores the batch's ``max_group_gap`` (largest minus smallest
    item-adjusted group offset), which a ``[[gates]]`` entry can bound. ``annotators_meta``
    is relative to the project folder; without it the attributes are columns of the batch
    files, constant per annotator.
    """

    by: tuple[str, ...] | None = None
    annotators_meta: str | None = None
    min_raters: int = 5
    n_boot: int = 200
    seed: int = 0


@dataclass(frozen=True)
class MonitorConfig:
    """``[monitor]``: control-chart baseline and parameters (see :mod:`labelaudit.monitor`)."""

    baseline_batches: int = 20
    reference: tuple[str, ...] | None = None
    ewma_lambda: float = 0.2
    ewma_L: float = 3.0
    cusum_k: float = 0.5
    cusum_h: float = 5.0
    run_rules: str = "western_electric"


@dataclass(frozen=True)
class Gate:
    """One ``[[gates]]`` entry: ``metric op threshold`` must hold for a batch to pass."""

    metric: str
    op: str
    threshold: float
    name: str = ""
    allow_undefined: bool = False


@dataclass(frozen=True)
class ReportConfig:
    """``[report]``: what ``labelaudit report`` shows by default."""

    title: str = "Annotation quality report"
    period: str = "7d"
    top_confusions: int = 10
    examples: int = 3
    max_annotators: int = 50


@dataclass(frozen=True)
class AlertConfig:
    """``[alert]``: POST the ``check`` result as JSON to ``url`` (no alert when unset),
    when a gate fails (``on = "failure"``) or after every check (``"always"``)."""

    url: str | None = None
    timeout_s: float = 10.0
    on: str = "failure"


DEFAULT_GATES = (
    Gate(name="agreement", metric="krippendorff_alpha", op=">=", threshold=0.667),
    Gate(name="in-control", metric="out_of_control", op="==", threshold=0.0),
)


@dataclass(frozen=True)
class ProjectConfig:
    """The whole ``labelaudit.toml``, validated. ``to_dict()`` is hashed into ``sha256``."""

    name: str = "labelaudit project"
    task: TaskConfig = field(default_factory=TaskConfig)
    input: InputConfig = field(default_factory=InputConfig)
    agreement: AgreementConfig = field(default_factory=AgreementConfig)
    gold: GoldConfig = field(default_factory=GoldConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    gates: tuple[Gate, ...] = DEFAULT_GATES
    report: ReportConfig = field(default_factory=ReportConfig)
    alert: AlertConfig = field(default_factory=AlertConfig)
    fairness: FairnessConfig = field(default_factory=FairnessConfig)
    guidelines: GuidelinesConfig = field(default_factory=GuidelinesConfig)
    source: str = CONFIG_NAME
    categories: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON form of every setting (the ``source`` path excluded). Keys added after a
        release are left out while unset, so that older files keep their ``sha256``."""
        out = asdict(self)
        out.pop("source")
        if not out["categories"]:
            out.pop("categories")
        for section, key in _LATER_KEYS:
            if out[section].get(key) is None:
                out[section].pop(key, None)
        if self.fairness.by is None:  # a later section: absent while unused
            out.pop("fairness")
        if self.guidelines.file is None:  # a later section: absent while unused
            out.pop("guidelines")
        return out

    @property
    def sha256(self) -> str:
        """SHA-256 of the canonical JSON of the settings: comments and layout do not count."""
        text = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


#: (section, key) added after the first release: omitted from ``to_dict()`` while None.
_LATER_KEYS = (("input", "na_values"), ("task", "task"))


# ----------------------------------------------------------------------------- reading
_SECTIONS: dict[str, type] = {
    "task": TaskConfig,
    "input": InputConfig,
    "agreement": AgreementConfig,
    "gold": GoldConfig,
    "monitor": MonitorConfig,
    "report": ReportConfig,
    "alert": AlertConfig,
    "fairness": FairnessConfig,
    "guidelines": GuidelinesConfig,
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "task.level": LEVELS,
    "task.task": tuple(TRACKED_METRICS),
    "input.format": _INPUT_FORMATS,
    "input.layout": ("long", "wide"),
    "agreement.weights": WEIGHT_NAMES,
    "agreement.ci": CI_METHODS,
    "monitor.run_rules": RUN_RULES,
    "alert.on": ALERT_ON,
}
_POSITIVE = {
    "agreement.n_boot",
    "agreement.top",
    "monitor.baseline_batches",
    "report.examples",
    "report.top_confusions",
    "report.max_annotators",
    "fairness.min_raters",
}
#: Numeric keys with a range, checked when the file is read (not when a chart is drawn):
#: key -> (low, high, low inclusive, high inclusive, how to say it).
_RANGES: dict[str, tuple[float, float, bool, bool, str]] = {
    "agreement.seed": (0, math.inf, True, False, "an integer >= 0"),
    "agreement.n_boot": (2, MAX_BOOT, True, True, f"an integer from 2 to {MAX_BOOT:,}"),
    "fairness.seed": (0, math.inf, True, False, "an integer >= 0"),
    "fairness.n_boot": (0, MAX_BOOT, True, True, f"an integer from 0 to {MAX_BOOT:,}"),
    "monitor.ewma_lambda": (0.0, 1.0, False, True, "a number in (0, 1]"),
    "monitor.ewma_L": (0.0, math.inf, False, False, "a number > 0"),
    "monitor.cusum_k": (0.0, math.inf, True, False, "a number >= 0"),
    "monitor.cusum_h": (0.0, math.inf, False, False, "a number > 0"),
    "alert.timeout_s": (0.0, math.inf, False, False, "a number > 0"),
}


def load_config(path: Path) -> ProjectConfig:
    """Read and validate ``labelaudit.toml``.

    Parameters
    ----------
    path : Path
        The configuration file.

    Returns
    -------
    ProjectConfig

    Raises
    ------
    InputError
        Unreadable TOML (with its line), an unknown section or key, or a value of the
        wrong type or outside its choices; the message names the key and the fix.
    """
    source = str(path)
    document = _parse(path, source)
    known = {"project", "gates", "categories", *_SECTIONS}
    for key in document:
        if key not in known:
            raise _key_error(source, key, f"one of the sections {', '.join(sorted(known))}", key)
    project = _table(document, "project", source)
    _check_keys(project, "project", ("name",), source)
    sections = {
        name: _section(cls, _table(document, name, source), name, source)
        for name, cls in _SECTIONS.items()
    }
    _check_schema(sections["task"], source)
    _check_period(sections["report"], source)
    gates = _gates(document.get("gates", []), source)
    categories = _meanings(_table(document, "categories", source), sections["task"], source)
    name = _typed(project.get("name", ProjectConfig.name), str, "project.name", source)
    return ProjectConfig(name=name, gates=gates, source=source, categories=categories, **sections)


def _meanings(table: dict[str, Any], task: TaskConfig, source: str) -> dict[str, str]:
    """``[categories]``: code -> meaning; each meaning a non-empty string, each code one of
    ``[task] categories`` when they are declared."""
    declared = task.categories
    out: dict[str, str] = {}
    for code, meaning in table.items():
        dotted = f"categories.{code}"
        if not isinstance(meaning, str) or not meaning.strip():
            raise _key_error(source, dotted, "a non-empty string (what the code means)", meaning)
        if declared is not None and code not in declared:
            listed = ", ".join(declared)
            raise _key_error(source, dotted, f"a declared category ({listed})", code)
        out[code] = meaning
    return out


def _parse(path: Path, source: str) -> dict[str, Any]:
    """The TOML document; any unreadable file (not UTF-8, bad syntax, a 5,000-digit
    integer, a directory) is an InputError naming the file."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError("unreadable configuration", source=source, actual=str(error)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            "configuration is not UTF-8 text",
            source=source,
            expected="a UTF-8 encoded TOML file",
            actual=f"byte {data[error.start : error.start + 1]!r} at offset {error.start}",
            hint=f"save {path.name} as UTF-8",
        ) from None
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except (tomllib.TOMLDecodeError, ValueError, RecursionError) as error:
        raise InputError(
            "malformed TOML",
            source=source,
            expected="a valid TOML file",
            actual=str(error)[:200] or type(error).__name__,
        ) from None


def _check_range(value: Any, dotted: str, source: str, raw: Any) -> None:
    """Floats must be finite; keys of :data:`_RANGES` inside their range."""
    if isinstance(value, float) and not math.isfinite(value):
        raise _key_error(source, dotted, "a finite number", raw)
    if dotted not in _RANGES:
        return
    low, high, low_in, high_in, text = _RANGES[dotted]
    above = value >= low if low_in else value > low
    below = value <= high if high_in else value < high
    if not (above and below):
        raise _key_error(source, dotted, text, raw)


def _check_period(report: ReportConfig, source: str) -> None:
    """``report.period`` must be a number and a unit (h, d, w), as ``--since`` reads it."""
    from labelaudit.exceptions import UsageError
    from labelaudit.project.periods import parse_period

    try:
        parse_period(report.period)
    except UsageError:
        raise _key_error(
            source, "report.period", "a number and a unit (h, d, w)", report.period
        ) from None


def _check_schema(task: TaskConfig, source: str) -> None:
    """Declared categories: no repeats; numbers at interval and ratio level."""
    categories = task.categories or ()
    repeated = sorted({c for c in categories if categories.count(c) > 1})
    if repeated:
        raise _key_error(source, "task.categories", "each category once", repeated[0])
    if task.level in ("interval", "ratio"):
        for category in categories:
            try:
                float(category)
            except ValueError:
                raise _key_error(
                    source, "task.categories", f"numbers at {task.level} level", category
                ) from None


def _table(document: dict[str, Any], name: str, source: str) -> dict[str, Any]:
    value = document.get(name, {})
    if not isinstance(value, dict):
        raise _key_error(source, name, f"a [{name}] table", value)
    return value


def _check_keys(table: dict[str, Any], section: str, allowed: tuple[str, ...], source: str) -> None:
    for key in table:
        if key not in allowed:
            raise _key_error(
                source, f"{section}.{key}", f"one of the keys {', '.join(allowed)}", key
            )


def _section(cls: type, table: dict[str, Any], section: str, source: str) -> Any:
    types = {f.name: str(f.type) for f in fields(cls)}
    _check_keys(table, section, tuple(types), source)
    values = {}
    for key, raw in table.items():
        dotted = f"{section}.{key}"
        value = _coerce(raw, types[key], dotted, source)
        choices = _CHOICES.get(dotted)
        if choices is not None and value is not None and value not in choices:
            raise _key_error(source, dotted, f"one of {', '.join(choices)}", raw)
        if dotted in _POSITIVE and value < 1:
            raise _key_error(source, dotted, "an integer >= 1", raw)
        _check_range(value, dotted, source, raw)
        values[key] = value
    return cls(**values)


def _coerce(raw: Any, annotation: str, dotted: str, source: str) -> Any:
    """Check ``raw`` against the field's type (the dataclass annotation, as text)."""
    if "tuple" in annotation:
        if not isinstance(raw, list) or not raw:
            raise _key_error(source, dotted, "a non-empty list", raw)
        return tuple(_category_text(v, dotted, source) for v in raw)
    if annotation.startswith("bool"):
        return _typed(raw, bool, dotted, source)
    if annotation.startswith("int"):
        return _typed(raw, int, dotted, source)
    if annotation.startswith("float"):
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise _key_error(source, dotted, "a number", raw)
        return float(raw)
    return _typed(raw, str, dotted, source)


def _typed(raw: Any, kind: type, dotted: str, source: str) -> Any:
    if not isinstance(raw, kind) or (kind is int and isinstance(raw, bool)):
        raise _key_error(source, dotted, f"a {kind.__name__}", raw)
    return raw


def _category_text(value: Any, dotted: str, source: str) -> str:
    """A category or column name as text: 3 and 3.0 -> "3", 2.5 -> "2.5"."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    raise _key_error(source, dotted, "strings or numbers", value)


def _gates(raw: Any, source: str) -> tuple[Gate, ...]:
    if not isinstance(raw, list):
        raise _key_error(source, "gates", "an array of [[gates]] tables", raw)
    gates = []
    for number, entry in enumerate(raw, start=1):
        where = f"gates[{number}]"
        if not isinstance(entry, dict):
            raise _key_error(source, where, "a [[gates]] table", entry)
        _check_keys(entry, where, tuple(f.name for f in fields(Gate)), source)
        for key in ("metric", "op", "threshold"):
            if key not in entry:
                raise _key_error(source, f"{where}.{key}", f"a {key} for every gate", None)
        gate = _section(Gate, dict(entry), where, source)
        if gate.op not in GATE_OPS:
            raise _key_error(source, f"{where}.op", f"one of {', '.join(GATE_OPS)}", gate.op)
        gates.append(gate if gate.name else Gate(**{**gate.__dict__, "name": gate.metric}))
    return tuple(gates)


def _key_error(source: str, key: str, expected: str, actual: Any) -> InputError:
    return InputError(
        "invalid configuration",
        source=source,
        field=key,
        expected=expected,
        actual=actual,
        hint=f"edit {Path(source).name} (every key is described in docs/pipeline.md)",
    )


# ----------------------------------------------------------------------------- writing
def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and control characters escaped."""
    out = json.dumps(text, ensure_ascii=False)
    return out.replace("\x7f", "\\u007f")


def default_config_text(
    name: str,
    *,
    level: str = "nominal",
    categories: tuple[str, ...] | None = None,
    task: str | None = None,
) -> str:
    """The commented ``labelaudit.toml`` that ``labelaudit init`` writes; a structured
    ``task`` is written to ``[task]`` and gates its own metric (:data:`TRACKED_METRICS`)."""
    if categories:
        listed = ", ".join(toml_string(c) for c in categories)
        category_line = f"categories = [{listed}]"
    else:
        category_line = '# categories = ["negative", "neutral", "positive"]'
    structured = task not in (None, "categorical")
    metric = TRACKED_METRICS[task if structured and task else "categorical"]
    text = _TEMPLATE.format(
        name=toml_string(name), level=toml_string(level), category_line=category_line
    )
    if not structured:
        return text
    text = text.replace(
        "\n\n[input]",
        "\n# Task type: spans | boxes | polygons | cuboids | keypoints | multilabel | ranking |\n"
        "# text (default categorical). Each\n"
        f"# batch is scored with the type's own agreement; {metric} is charted and gated.\n"
        f"task = {toml_string(str(task))}\n\n[input]",
        1,
    )
    return text.replace(
        'metric = "krippendorff_alpha"\nop = ">="                             # >= | > | <= '
        "| < | == | !=\nthreshold = 0.667                     # Krippendorff's lowest level for "
        "tentative conclusions",
        f'metric = "{metric}"\nop = ">="                             # >= | > | <= | < | == | '
        f"!=\nthreshold = {_GATE_THRESHOLDS[metric]}                       # a starting point: "
        "set your own bar",
        1,
    )


_TEMPLATE = """\
# labelaudit project configuration. Every key is described in docs/pipeline.md.
# Commands in this folder (or below it) use this project; --project DIR picks another.

[project]
name = {name}

[task]
# Measurement level: nominal | ordinal | interval | ratio.
level = {level}
# Declared categories, in order (unused ones count for some coefficients). Without this
# line the categories of each batch are inferred from its labels (ordinal string labels
# need it). Labels outside the list are rejected at ingest.
{category_line}

[input]
# How batch files are read; the matching `labelaudit ingest` options override these.
layout = "long"                       # long: item, annotator, label rows | wide
# format = "csv"                      # csv | tsv | jsonl | json | parquet | a platform
#                                     # (label-studio, prodigy, ...; default: detected)
# item_col = "item"                   # default: item, else item_id or task
# annotator_col = "annotator"         # default: annotator, else annotator_id, worker, rater
# label_col = "label"
# annotator_cols = ["a1", "a2"]       # wide layout: the annotator columns (default: all others)
# na_values = ["NA"]                  # cell texts read as missing (default: only the empty cell)

[agreement]
# Options of the agreement computed and stored for every batch.
weights = "identity"                  # kappa-family weights: identity | linear | quadratic | ...
ci = "analytic"                       # none | analytic | bootstrap
n_boot = 1000                         # bootstrap replicates (ci = "bootstrap")
seed = 0                              # bootstrap seed
top = 20                              # rows kept in the confusion and worst-item lists

[gold]
# Gold (honeypot) answers, for the gold error rate: a CSV/JSONL/Parquet file with item and
# label columns (path relative to this folder), or a column of each batch file.
# file = "gold.csv"
# column = "gold_label"

[monitor]
# Control charts over the batch history (docs/pipeline.md, "Control charts").
baseline_batches = 20                 # Phase I baseline: the first N batches
# reference = ["2024-w01", "2024-w02"]  # or: these named batches (overrides baseline_batches)
ewma_lambda = 0.2                     # EWMA weight of the newest batch
ewma_L = 3.0                          # EWMA limit width, in sigmas of the EWMA statistic
cusum_k = 0.5                         # CUSUM reference value k, in sigmas
cusum_h = 5.0                         # CUSUM decision interval h, in sigmas
run_rules = "western_electric"        # western_electric | nelson | none (warnings only)

# Quality gates: `labelaudit check` exits 1 when one fails. An undefined value fails its
# gate unless the gate says allow_undefined = true.
[[gates]]
name = "agreement"
metric = "krippendorff_alpha"
op = ">="                             # >= | > | <= | < | == | !=
threshold = 0.667                     # Krippendorff's lowest level for tentative conclusions
allow_undefined = false

[[gates]]
name = "in-control"
metric = "out_of_control"             # batches beyond a control limit or with a CUSUM/EWMA signal
op = "=="
threshold = 0

# What each category code means, shown beside the code in tables, charts and reports:
# [categories]
# 0 = "tie"
# 1 = "response 1 better"

[report]
title = "Annotation quality report"
period = "7d"                         # default window of `labelaudit report` (e.g. 7d, 4w)
top_confusions = 10                   # label pairs in the confusion heat map
examples = 3                          # example items per confused pair
max_annotators = 50                   # rows of the annotator leaderboard

# [fairness]
# Annotator groups audited on every batch (docs/fairness.md); stores max_group_gap, which a
# gate can bound: [[gates]] metric = "max_group_gap", op = "<=", threshold = 0.3
# by = ["vendor"]                     # annotator attributes (columns of annotators_meta,
#                                     # or batch columns constant per annotator)
# annotators_meta = "annotators.csv"  # annotator + attribute columns (relative to this folder)
# min_raters = 5                      # smaller groups: counts only, no figures
# n_boot = 200                        # bootstrap replicates of the offsets
# seed = 0

# [guidelines]
# file = "guidelines.md"              # its version is recorded with each ingested batch
#                                     # (docs/guidelines.md; ingest --guidelines-version overrides)

# [alert]
# url = "https://example.org/hooks/labelaudit"   # POST the check result here as JSON
# timeout_s = 10.0
# on = "failure"                                 # failure | always
"""
