"""Judge definitions: a TOML file read with :mod:`tomllib`, validated once into a dataclass.

A judge file names the mode, the model and the endpoint, the sampling parameters, the
categories (or score scale), the rubric template and the output schema::

    mode = "label"                      # label | score | pairwise | reference
    model = "gpt-4o-mini"
    base_url = "http://127.0.0.1:8000/v1"
    categories = ["pos", "neg"]
    template = "Rubric ... <text>{{ text }}</text>"
    [params]
    temperature = 0

Every validation error is an :class:`~labelaudit.exceptions.InputError` naming the file, the
key, what was expected and what was found. Unknown keys are errors too (a typo such as
``temprature`` at the top level would otherwise be silently ignored).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelaudit.exceptions import InputError
from labelaudit.judge.limits import LIMITS
from labelaudit.judge.redact import redact_url

__all__ = [
    "MODES",
    "STRUCTURED_OUTPUT",
    "JudgeDefinition",
    "default_output_schema",
    "load_judge",
    "parse_judge",
]

MODES = ("label", "score", "pairwise", "reference")
STRUCTURED_OUTPUT = ("json_schema", "json_object", "none")
_VERDICT_FIELD = {"label": "label", "score": "score", "pairwise": "winner", "reference": "label"}
_RESERVED_PARAMS = ("model", "messages", "response_format", "stream", "n")
_KEYS = (
    "name",
    "mode",
    "model",
    "base_url",
    "api_key_env",
    "params",
    "categories",
    "scale",
    "system",
    "template",
    "output_schema",
    "verdict_field",
    "structured_output",
    "output_instruction",
    *LIMITS,
    "pairwise",
    "reference",
)
_PAIRWISE_KEYS = ("responses", "ids", "allow_tie")
_REFERENCE_KEYS = ("field",)


@dataclass(frozen=True)
class JudgeDefinition:
    """A validated judge file.

    Attributes
    ----------
    source : str
        The file it was read from.
    name : str
        The judge's name in verdict lines (``name`` key, default the file stem).
    mode : {"label", "score", "pairwise", "reference"}
    model, base_url, api_key_env : str
        Model name, endpoint root (``{base_url}/chat/completions`` is called) and the
        environment variable holding the API key (the key itself is never stored).
    params : dict
        Sampling parameters sent with every request (``temperature``, ``max_tokens``...).
    categories : tuple of str or None
        Allowed labels (``label`` and ``reference`` modes).
    scale : (float, float) or None
        Inclusive score range (``score`` mode); ``scale_integer`` says whether scores are
        whole numbers.
    system : str or None
        Optional system prompt (the data-delimiter notice is always appended).
    template : str
        Jinja2 template of the user message (rendered in a sandbox).
    output_schema : dict
        JSON schema of the answer; ``verdict_field`` is the property holding the verdict.
    structured_output : {"json_schema", "json_object", "none"}
        How the schema is requested (``response_format``); ``none`` for servers without it.
    output_instruction : bool
        Append a one-line description of the expected JSON answer to the user message.
    concurrency, rpm, timeout, request_deadline, max_retries, max_response_bytes
        Client limits (``rpm`` None = no requests-per-minute limit; ``timeout`` seconds
        per read, ``request_deadline`` seconds per HTTP attempt in total), see
        :data:`labelaudit.judge.limits.LIMITS` for ranges and defaults.
    max_prompt_chars, render_timeout
        Bounds of one template render (characters produced, seconds).
    responses, response_ids : (str, str)
        Pairwise mode: the DATA fields holding the two responses, and the DATA fields
        holding their ids (None: the ids are the field names themselves).
    allow_tie : bool
        Pairwise mode: whether ``tie`` is an allowed verdict.
    reference_field : str
        Reference mode: the DATA field holding the reference answer.
    sha256 : str
        SHA-256 of the file's bytes.
    """

    source: str
    name: str
    mode: str
    model: str
    base_url: str
    template: str
    output_schema: dict[str, Any]
    verdict_field: str
    api_key_env: str = "OPENAI_API_KEY"
    params: dict[str, Any] = field(default_factory=dict)
    categories: tuple[str, ...] | None = None
    scale: tuple[float, float] | None = None
    scale_integer: bool = True
    system: str | None = None
    structured_output: str = "json_schema"
    output_instruction: bool = True
    concurrency: int = 8
    rpm: float | None = None
    timeout: float = 60.0
    max_retries: int = 6
    request_deadline: float = 600.0
    max_response_bytes: int = 8 * 2**20
    max_prompt_chars: int = 4_000_000
    render_timeout: float = 5.0
    responses: tuple[str, str] = ("response_a", "response_b")
    response_ids: tuple[str, str] | None = None
    allow_tie: bool = True
    reference_field: str = "reference"
    sha256: str = ""

    @property
    def pairwise(self) -> bool:
        """True in pairwise mode."""
        return self.mode == "pairwise"

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary (no template text, never a key)."""
        return {
            "source": self.source,
            "name": self.name,
            "mode": self.mode,
            "model": self.model,
            "base_url": redact_url(self.base_url),
            "api_key_env": self.api_key_env,
            "params": dict(self.params),
            "categories": list(self.categories) if self.categories else None,
            "scale": list(self.scale) if self.scale else None,
            "structured_output": self.structured_output,
            "sha256": self.sha256,
        }


class _Reader:
    """Typed access to one TOML table, raising InputError that names file and key."""

    def __init__(self, source: str, table: dict[str, Any], prefix: str = "") -> None:
        self.source, self.table, self.prefix = source, table, prefix

    def error(self, key: str, expected: str, actual: Any, hint: str | None = None) -> InputError:
        return InputError(
            "invalid judge definition",
            source=self.source,
            field=self.prefix + key,
            expected=expected,
            actual=actual,
            hint=hint,
        )

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        unknown = sorted(set(self.table) - set(allowed))
        if unknown:
            raise self.error(
                unknown[0], f"one of the keys {', '.join(allowed)}", unknown[0], "fix the typo"
            )

    def string(self, key: str, default: str | None = None, *, required: bool = False) -> Any:
        value = self.table.get(key, default)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "a non-empty string", value)
        return value

    def limit(self, key: str) -> Any:
        """The value of a resource limit key, checked against :data:`LIMITS` (or its default)."""
        limit = LIMITS[key]
        value = self.table.get(key, limit.default)
        if value is None:
            return None
        if not limit.accepts(value):
            raise self.error(key, limit.expected(), value)
        return value

    def string_list(self, key: str, size: int | None = None) -> tuple[str, ...] | None:
        value = self.table.get(key)
        if value is None:
            return None
        ok = isinstance(value, list) and value and all(isinstance(v, str) and v for v in value)
        if not ok or (size is not None and len(value) != size):
            what = f"a list of {size} non-empty strings" if size else "a non-empty list of strings"
            raise self.error(key, what, value)
        if len(set(value)) != len(value):
            raise self.error(key, "distinct values", value)
        return tuple(value)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, "true or false", value)
        return value

    def subtable(self, key: str) -> _Reader:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise self.error(key, "a TOML table", value)
        return _Reader(self.source, value, f"{self.prefix}{key}.")


def load_judge(path: str | Path) -> JudgeDefinition:
    """Read and validate a judge TOML file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    JudgeDefinition

    Raises
    ------
    InputError
        Unreadable file, TOML syntax error (with its line) or an invalid key (named, with
        the expected and the actual value).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InputError(
            "cannot read the judge file",
            source=str(path),
            expected="a readable TOML file",
            actual=error.strerror or str(error),
        ) from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InputError(
            "not UTF-8 text", source=str(path), expected="a UTF-8 TOML file", actual=str(error)
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise InputError(
            "TOML syntax error", source=str(path), expected="valid TOML", actual=str(error)
        ) from None
    return parse_judge(
        document, source=str(path), default_name=path.stem, sha256=hashlib.sha256(raw).hexdigest()
    )


def parse_judge(
    document: dict[str, Any],
    *,
    source: str = "<judge>",
    default_name: str = "judge",
    sha256: str = "",
) -> JudgeDefinition:
    """Validate a parsed judge document (the tables of a TOML file).

    Parameters
    ----------
    document : dict
        The parsed TOML.
    source : str
        Name used in error messages.
    default_name : str
        Judge name when the document has no ``name``.
    sha256 : str
        Hash of the file, recorded in results.
    """
    top = _Reader(source, document)
    top.check_keys(_KEYS)
    mode = top.string("mode", required=True)
    if mode not in MODES:
        raise top.error("mode", " or ".join(repr(m) for m in MODES), mode)
    params = top.subtable("params").table
    for key in _RESERVED_PARAMS:
        if key in params:
            raise top.error(f"params.{key}", "not set in [params] (labelaudit sets it)", key)
    options: dict[str, Any] = {
        "source": source,
        "name": top.string("name", default_name),
        "mode": mode,
        "model": top.string("model", required=True),
        "base_url": top.string("base_url", required=True).rstrip("/"),
        "api_key_env": top.string("api_key_env", "OPENAI_API_KEY"),
        "params": dict(params),
        "system": top.string("system"),
        "template": top.string("template", required=True),
        "structured_output": _choice(top, "structured_output", "json_schema", STRUCTURED_OUTPUT),
        "output_instruction": top.boolean("output_instruction", True),
        "sha256": sha256,
    }
    options |= {key: top.limit(key) for key in LIMITS}
    for key in ("timeout", "request_deadline", "render_timeout"):
        options[key] = float(options[key])
    if not options["base_url"].startswith(("http://", "https://")):
        raise top.error("base_url", "an http:// or https:// URL", redact_url(options["base_url"]))
    _check_json(top, "params", params)
    options |= _mode_options(top, mode)
    schema, verdict_field = _schema(top, mode, options)
    return JudgeDefinition(output_schema=schema, verdict_field=verdict_field, **options)


def _check_json(top: _Reader, key: str, value: Any) -> None:
    """Refuse what JSON cannot carry (nan, inf, dates and times), naming the nested key."""
    if isinstance(value, dict):
        for name, item in value.items():
            _check_json(top, f"{key}.{name}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(top, f"{key}[{index}]", item)
    elif isinstance(value, float) and not math.isfinite(value):
        raise top.error(key, "a finite number (JSON has no nan or inf)", value)
    elif isinstance(value, (dt.date, dt.time)):
        raise top.error(
            key,
            "a string, number, boolean, array or table (JSON has no dates)",
            str(value),
            'quote it: "2024-01-01"',
        )


def _choice(reader: _Reader, key: str, default: str, allowed: tuple[str, ...]) -> str:
    value = reader.table.get(key, default)
    if value not in allowed:
        raise reader.error(key, " or ".join(repr(a) for a in allowed), value)
    return str(value)


def _mode_options(top: _Reader, mode: str) -> dict[str, Any]:
    """Categories, scale and the pairwise / reference tables, checked against the mode."""
    out: dict[str, Any] = {}
    categories = top.string_list("categories")
    if mode in ("label", "reference"):
        if categories is None and mode == "label":
            raise top.error("categories", "a non-empty list of strings (label mode)", None)
        out["categories"] = categories or ("correct", "incorrect")
    elif categories is not None:
        raise top.error("categories", f"no categories in {mode} mode", list(categories))
    scale = top.table.get("scale")
    if mode == "score":
        out["scale"], out["scale_integer"] = _scale(top, scale)
    elif scale is not None:
        raise top.error("scale", f"no scale in {mode} mode", scale)
    pairwise = top.subtable("pairwise")
    if pairwise.table and mode != "pairwise":
        raise top.error("pairwise", f"no [pairwise] table in {mode} mode", "[pairwise]")
    if mode == "pairwise":
        pairwise.check_keys(_PAIRWISE_KEYS)
        out["responses"] = pairwise.string_list("responses", 2) or ("response_a", "response_b")
        out["response_ids"] = pairwise.string_list("ids", 2)
        out["allow_tie"] = pairwise.boolean("allow_tie", True)
    reference = top.subtable("reference")
    if reference.table and mode != "reference":
        raise top.error("reference", f"no [reference] table in {mode} mode", "[reference]")
    reference.check_keys(_REFERENCE_KEYS)
    out["reference_field"] = reference.string("field", "reference")
    return out


def _scale(top: _Reader, scale: Any) -> tuple[tuple[float, float], bool]:
    expected = "a table {min = 1, max = 10} with min < max (numbers)"
    if not isinstance(scale, dict) or set(scale) != {"min", "max"}:
        raise top.error("scale", expected, scale)
    low, high = scale["min"], scale["max"]
    numbers = all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        for v in (low, high)
    )
    if not numbers or low >= high:
        raise top.error("scale", expected, scale)
    return (low, high), isinstance(low, int) and isinstance(high, int)


def default_output_schema(
    mode: str,
    *,
    categories: tuple[str, ...] | None = None,
    scale: tuple[float, float] | None = None,
    scale_integer: bool = True,
    allow_tie: bool = True,
) -> dict[str, Any]:
    """The default JSON schema of a mode's answer.

    ``{"label": <one of categories>}`` (label, reference), ``{"score": <number in the
    scale>}`` (score) or ``{"winner": "A" | "B" | "tie"}`` (pairwise; A = the response
    shown first).
    """
    if mode == "score":
        low, high = scale if scale is not None else (0, 1)
        prop: dict[str, Any] = {
            "type": "integer" if scale_integer else "number",
            "minimum": low,
            "maximum": high,
        }
    elif mode == "pairwise":
        prop = {"type": "string", "enum": ["A", "B", "tie"] if allow_tie else ["A", "B"]}
    else:
        prop = {"type": "string", "enum": list(categories or ())}
    name = _VERDICT_FIELD[mode]
    return {
        "type": "object",
        "properties": {name: prop},
        "required": [name],
        "additionalProperties": False,
    }


def _schema(top: _Reader, mode: str, options: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The output schema (custom or default) and the property holding the verdict."""
    verdict_field = top.string("verdict_field", _VERDICT_FIELD[mode])
    custom = top.table.get("output_schema")
    if custom is None:
        if verdict_field != _VERDICT_FIELD[mode]:
            raise top.error(
                "verdict_field", "set only together with a custom output_schema", verdict_field
            )
        schema = default_output_schema(
            mode,
            categories=options.get("categories"),
            scale=options.get("scale"),
            scale_integer=options.get("scale_integer", True),
            allow_tie=options.get("allow_tie", True),
        )
        return schema, verdict_field
    _check_json(top, "output_schema", custom)
    properties = custom.get("properties") if isinstance(custom, dict) else None
    if not isinstance(properties, dict) or verdict_field not in properties:
        raise top.error(
            "output_schema",
            f"a JSON schema table of an object whose properties include {verdict_field!r}",
            custom,
            "add the property, or name the verdict's property with verdict_field",
        )
    return custom, verdict_field
