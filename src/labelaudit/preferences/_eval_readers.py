"""Readers of published judge-evaluation sets: MT-Bench, PandaLM, LLMBar (and Label Studio).

- MT-Bench (Zheng et al. 2023): the human-judgment release (``model_a``, ``model_b``,
  ``winner``, ``judge``; optional ``conversation_a/b``) and FastChat's pairwise judgment
  files (``model_1``, ``model_2``, ``g1_winner``, ``g2_winner``: both presentation orders).
- PandaLM (Wang et al. 2024): ``testset-v1.json`` (3 annotators) plus, in a folder, the
  judges' ``*-testset-v1.json`` files.
- LLMBar (Zeng et al. 2024): ``<subset>/<judge>/<prompting>/result.json`` with both orders
  and gold labels; subset and judge come from the path.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from labelaudit.exceptions import InputError
from labelaudit.jsonio import field_error, iter_jsonl, load_json, require_file
from labelaudit.preferences.columns import from_columns
from labelaudit.preferences.records import PreferenceTable

__all__ = ["read_label_studio", "read_llmbar", "read_mtbench", "read_pandalm"]

_HUMAN = re.compile(r"^(expert|author|human|annotator|crowd)", re.IGNORECASE)
_MTBENCH_CATEGORIES = (
    "writing",
    "roleplay",
    "reasoning",
    "math",
    "coding",
    "extraction",
    "stem",
    "humanities",
)
_HF_WINNER = {
    "model_a": "first",
    "model_b": "second",
    "tie": "tie",
    "tie (inconsistent)": "tie",
    "tie (bothbad)": "both_bad",
}
_FASTCHAT_WINNER = {"model_1": "first", "model_2": "second", "tie": "tie", "error": "missing"}


class _Columns(defaultdict[str, list[Any]]):
    """Column lists filled row by row while parsing."""

    def __init__(self) -> None:
        super().__init__(list)

    def add(self, **values: Any) -> None:
        for key, value in values.items():
            self[key].append(value)


def _files(path: Path, patterns: tuple[str, ...], what: str) -> list[Path]:
    """The file itself, or the matching files under a folder (sorted)."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError("file not found", source=str(path), expected=what, actual=str(path))
    found = sorted({p for pattern in patterns for p in path.rglob(pattern) if p.is_file()})
    if not found:
        raise InputError(
            "no input files in folder",
            source=str(path),
            expected=f"{what} ({', '.join(patterns)})",
            actual="none",
        )
    return found


# ---------------------------------------------------------------------------- MT-Bench
def _mtbench_category(question_id: str) -> str:
    number = int(question_id) if question_id.isdigit() else -1
    return _MTBENCH_CATEGORIES[(number - 81) // 10] if 81 <= number <= 160 else ""


def _mtbench_text(record: dict[str, Any], side: str, turn: int) -> str | None:
    """The ``turn``-th assistant message of ``conversation_<side>``, if present."""
    conversation = record.get(f"conversation_{side}")
    if not isinstance(conversation, list):
        return None
    answers = [m.get("content") for m in conversation if isinstance(m, dict)]
    answers = [a for m, a in zip(conversation, answers, strict=True) if m.get("role") != "user"]
    return (
        answers[turn - 1] if len(answers) >= turn and isinstance(answers[turn - 1], str) else None
    )


def _mtbench_common(
    record: dict[str, Any], file: Path, line: int, a: str, b: str
) -> dict[str, Any]:
    """Fields shared by both MT-Bench formats, validated."""
    for name in ("question_id", a, b):
        value = record.get(name)
        if not isinstance(value, (str, int)) or isinstance(value, bool) or value == "":
            raise field_error(file, line, name, "a string or integer", value)
    turn = record.get("turn", 1)
    if turn not in (1, 2):
        raise field_error(file, line, "turn", "1 or 2", turn)
    judge = record.get("judge")
    if isinstance(judge, list) and judge and all(isinstance(j, str) for j in judge):
        judge = "/".join(judge)
    if not isinstance(judge, str) or not judge:
        raise field_error(file, line, "judge", "a judge name or [model, prompt] list", judge)
    question = str(record["question_id"])
    prompt = f"q{question}-t{turn}"
    return {
        "prompt": prompt,
        "a": f"{prompt}/{record[a]}",
        "b": f"{prompt}/{record[b]}",
        "model_a": str(record[a]),
        "model_b": str(record[b]),
        "judge": judge,
        "kind": "human" if _HUMAN.match(judge) else "judge",
        "turn": str(turn),
        "question_id": question,
        "category": _mtbench_category(question),
    }


def _winner(
    record: dict[str, Any], name: str, mapping: dict[str, str], file: Path, line: int
) -> str:
    value = record.get(name)
    if value not in mapping:
        raise field_error(file, line, name, " or ".join(repr(k) for k in mapping), value)
    return mapping[value]


def _mtbench_rows(columns: _Columns, record: dict[str, Any], file: Path, line: int) -> None:
    """Append the vote(s) of one MT-Bench record."""
    if "g1_winner" in record or "g2_winner" in record:
        base = _mtbench_common(record, file, line, "model_1", "model_2")
        for name, swapped in (("g1_winner", False), ("g2_winner", True)):
            choice = _winner(record, name, _FASTCHAT_WINNER, file, line)
            if swapped and choice in ("first", "second"):
                choice = "second" if choice == "first" else "first"
            first, second = ("b", "a") if swapped else ("a", "b")
            columns.add(
                choice=choice,
                order_known=True,
                first=base[first],
                second=base[second],
                first_model=base[f"model_{first}"],
                second_model=base[f"model_{second}"],
                first_text=None,
                second_text=None,
                line=line,
                **{
                    k: base[k]
                    for k in ("prompt", "judge", "kind", "turn", "question_id", "category")
                },
            )
        return
    base = _mtbench_common(record, file, line, "model_a", "model_b")
    turn = int(base["turn"])
    columns.add(
        choice=_winner(record, "winner", _HF_WINNER, file, line),
        order_known=False,
        first=base["a"],
        second=base["b"],
        first_model=base["model_a"],
        second_model=base["model_b"],
        first_text=_mtbench_text(record, "a", turn),
        second_text=_mtbench_text(record, "b", turn),
        line=line,
        **{k: base[k] for k in ("prompt", "judge", "kind", "turn", "question_id", "category")},
    )


def read_mtbench(path: Path, *, authors: bool = False) -> PreferenceTable:
    """MT-Bench pairwise judgments: a JSONL file, or a folder of them (e.g. the release's
    ``human.jsonl`` and ``gpt4_pair.jsonl``).

    Human votes (``expert_*``, ``author_*``) and merged GPT-4 verdicts have no display
    order (``order_known`` False; ``tie (inconsistent)`` counts as a tie, as in FastChat).
    FastChat judgment files give both orders: ``g1_winner`` with ``model_1`` shown first,
    ``g2_winner`` with ``model_2`` first. Single-answer grading rows are skipped (noted).
    The prompt of a vote is its question and turn (``q81-t1``); metadata ``turn``,
    ``question_id`` and ``category``.

    Parameters
    ----------
    path : Path
        File or folder.
    authors : bool, default False
        Keep the paper authors' votes (``author_*``). FastChat's ``compute_agreement.py``
        and the published agreement table use the experts only.
    """
    columns, excluded, single = _Columns(), 0, 0
    for file in _files(path, ("*.jsonl", "*.jsonl.gz"), "MT-Bench judgment JSONL"):
        for line, record in iter_jsonl(file):
            if "winner" not in record and "g1_winner" not in record:
                if "score" in record:
                    single += 1
                    continue
                raise field_error(file, line, "winner", "an MT-Bench pairwise judgment", None)
            if not authors and str(record.get("judge", "")).startswith("author"):
                excluded += 1
                continue
            _mtbench_rows(columns, record, file, line)
    notes = []
    if excluded:
        notes.append(f"{excluded} author votes excluded (experts only, as FastChat)")
    if single:
        notes.append(f"{single} single-answer grading rows skipped (not pairwise)")
    return _build(columns, path, notes, ("turn", "question_id", "category"))


def _build(
    columns: _Columns, path: Path, notes: list[str], meta: tuple[str, ...], unit: str = "line"
) -> PreferenceTable:
    if not columns:
        raise InputError("empty input", source=str(path), expected="at least one vote", actual=0)
    has_text = any(t is not None for t in columns["first_text"])
    return from_columns(
        prompt=columns["prompt"],
        first=columns["first"],
        second=columns["second"],
        choice=columns["choice"],
        annotator=columns["judge"],
        kind=columns["kind"],
        order_known=columns["order_known"],
        first_model=columns["first_model"],
        second_model=columns["second_model"],
        first_text=columns["first_text"] if has_text else None,
        second_text=columns["second_text"] if has_text else None,
        prompt_text=columns["prompt_text"] if columns.get("prompt_text") else None,
        gold=columns["gold"] if columns.get("gold") else None,
        meta={name: columns[name] for name in meta},
        lines=columns["line"],
        unit=unit,
        source=str(path),
        notes=notes,
    )


# ---------------------------------------------------------------------------- PandaLM
_PANDALM_LABEL = {"0": "tie", "1": "first", "2": "second", "tie": "tie"}


def _pandalm_item(record: Any, file: Path, number: int) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise field_error(
            file, number, "(record)", "an object", type(record).__name__, unit="record"
        )
    for name in ("idx", "instruction", "response1", "response2"):
        if name not in record or record[name] is None:
            raise field_error(file, number, name, "a value", None, unit="record")
    key = str(record.get("cmp_key", ""))
    models = key.split("_") if key.count("_") == 1 else [None, None]
    instruction, extra = str(record["instruction"]), str(record.get("input") or "")
    idx = str(record["idx"])
    return {
        "prompt": idx,
        "prompt_text": instruction + (f"\n\n{extra}" if extra else ""),
        "first": f"{idx}/response1",
        "second": f"{idx}/response2",
        "first_text": str(record["response1"]),
        "second_text": str(record["response2"]),
        "first_model": models[0],
        "second_model": models[1],
        "order_known": True,
        "line": number,
    }


def _pandalm_label(value: Any, file: Path, number: int, name: str, strict: bool) -> str:
    label = _PANDALM_LABEL.get(str(value).strip().lower())
    if label is None and strict:
        raise field_error(file, number, name, "0 (tie), 1 or 2", value, unit="record")
    return label or "missing"


def read_pandalm(path: Path) -> PreferenceTable:
    """The PandaLM test set: ``testset-v1.json``, or a folder with it and judge files.

    Each record gives ``annotator1..3`` labels (0 tie, 1 = response1 better, 2 =
    response2 better); a folder's ``<judge>-testset-v1.json`` files add the judges
    (``*_result``: 1, 2, 0/Tie; anything else, e.g. ``garbage``, is a missing verdict).
    ``response1`` is taken as shown first (the judges' prompts list it first);
    ``cmp_key`` gives the two models. Prompt ids are ``idx``.
    """
    folder = path.is_dir()
    test = path / "testset-v1.json" if folder else path
    document = load_json(test)
    if not isinstance(document, list) or not document:
        raise InputError(
            "not a PandaLM test set",
            source=str(test),
            expected="a JSON array of records",
            actual=type(document).__name__,
        )
    items = {}
    columns, notes = _Columns(), ["response1 taken as shown first (single order)"]
    for number, record in enumerate(document, start=1):
        item = _pandalm_item(record, test, number)
        items[item["prompt"]] = item
        for name in sorted(k for k in record if re.fullmatch(r"annotator\d+", k)):
            if record[name] is None or str(record[name]).strip() == "":
                continue
            choice = _pandalm_label(record[name], test, number, name, strict=True)
            columns.add(**item, choice=choice, judge=name, kind="human")
    judges = sorted(p for p in path.glob("*-testset-v1.json")) if folder else []
    for file in judges:
        notes += _pandalm_judge(file, items, columns)
    return _build(columns, path, notes, (), unit="record")


def _pandalm_judge(file: Path, items: dict[str, dict[str, Any]], columns: _Columns) -> list[str]:
    document = load_json(file)
    judge = file.name.removesuffix("-testset-v1.json")
    missing = 0
    for number, record in enumerate(document if isinstance(document, list) else [], start=1):
        key = (
            next((k for k in record if k.endswith("_result")), None)
            if isinstance(record, dict)
            else None
        )
        if key is None or str(record.get("idx")) not in items:
            raise field_error(
                file,
                number,
                "idx / *_result",
                "an idx of the test set and a verdict",
                record.get("idx") if isinstance(record, dict) else record,
                unit="record",
            )
        choice = _pandalm_label(record[key], file, number, key, strict=False)
        missing += choice == "missing"
        columns.add(**items[str(record["idx"])], choice=choice, judge=judge, kind="judge")
    return [f"{judge}: {missing} unparseable verdicts kept as missing"] if missing else []


# ---------------------------------------------------------------------------- LLMBar
def _llmbar_results(record: dict[str, Any], file: Path, number: int) -> dict[str, Any]:
    results = record.get("results")
    if isinstance(results, str):
        try:
            results = ast.literal_eval(results)
        except (ValueError, SyntaxError):
            raise field_error(
                file, number, "results", "a list of verdicts", results, unit="record"
            ) from None
    if not (isinstance(results, list) and results and isinstance(results[0], dict)):
        raise field_error(file, number, "results", "a list of verdicts", results, unit="record")
    return results[0]


def read_llmbar(path: Path) -> PreferenceTable:
    """LLMBar judge outputs: a ``result.json``, or a folder searched for them.

    The path gives ``<subset>/<judge>/<prompting>/result.json``; each instance's
    ``results[0]`` holds ``swap = False`` (``output_1`` shown first) and ``swap = True``
    (``output_2`` first) verdicts in original output ids, and ``label`` the gold. Prompt ids
    are ``<subset>/<index>``; metadata ``subset`` and ``prompting``.
    """
    files = _files(path, ("result.json", "result.json.gz"), "LLMBar result.json")
    strategies = {f.parent.name for f in files}
    columns = _Columns()
    for file in files:
        parts = file.resolve().parent.parts
        subset = parts[-3] if len(parts) >= 3 else file.parent.name
        judge = parts[-2] if len(parts) >= 2 else "judge"
        if len(strategies) > 1:
            judge = f"{judge}/{file.parent.name}"
        document = load_json(file)
        if not isinstance(document, list):
            raise InputError(
                "not an LLMBar result file",
                source=str(file),
                expected="a JSON array of instances",
                actual=type(document).__name__,
            )
        for number, record in enumerate(document, start=1):
            _llmbar_rows(columns, record, file, number, subset, judge)
    return _build(columns, path, [], ("subset", "prompting"), unit="record")


def _llmbar_rows(
    columns: _Columns, record: Any, file: Path, number: int, subset: str, judge: str
) -> None:
    if not isinstance(record, dict):
        raise field_error(
            file, number, "(record)", "an object", type(record).__name__, unit="record"
        )
    for name in ("input", "output_1", "output_2"):
        if not isinstance(record.get(name), str):
            raise field_error(file, number, name, "a string", record.get(name), unit="record")
    verdicts = _llmbar_results(record, file, number)
    prompt = f"{subset}/{number - 1}"
    label = str(record.get("label", ""))
    for swapped in (False, True):
        verdict = verdicts.get(f"swap = {swapped}")
        if not isinstance(verdict, dict):
            continue
        slot = {"1": "second" if swapped else "first", "2": "first" if swapped else "second"}
        ids = (
            (f"{prompt}/output_2", f"{prompt}/output_1")
            if swapped
            else (f"{prompt}/output_1", f"{prompt}/output_2")
        )
        texts = (
            (record["output_2"], record["output_1"])
            if swapped
            else (record["output_1"], record["output_2"])
        )
        columns.add(
            prompt=prompt,
            prompt_text=record["input"],
            first=ids[0],
            second=ids[1],
            first_text=texts[0],
            second_text=texts[1],
            first_model=None,
            second_model=None,
            choice=slot.get(str(verdict.get("winner")), "missing"),
            gold=slot.get(label, ""),
            judge=judge,
            kind="judge",
            order_known=True,
            subset=subset,
            prompting=file.parent.name,
            line=number,
        )


# ---------------------------------------------------------------------------- Label Studio
def read_label_studio(
    path: Path,
    *,
    control: str | None = None,
    label_config: str | Path | None = None,
    task_key: str | None = None,
    users: str | Path | None = None,
) -> PreferenceTable:
    """Label Studio pairwise annotations, parsed by :func:`labelaudit.io.read_export`.

    The export (JSON or JSON_MIN) is read by the platform reader; its pairwise payload
    ``(first, second, choice)`` is mapped to votes: the prompt is the task id, the left
    response is shown first (``order_known``), the responses are the texts of the two
    fields the control compares (or ``<task>/left`` and ``<task>/right`` when the export
    does not carry them), annotators are humans. Skipped records are listed in the notes.

    Parameters
    ----------
    path : Path
    control : str, optional
        The pairwise control's name when the project has several controls.
    label_config : str or Path, optional
        The labelling config (XML), to find the fields the control compares.
    task_key, users : optional
        As in :func:`labelaudit.io.read_export` (the item key path; a user map).
    """
    import pyarrow.compute as pc

    from labelaudit.io import read_export

    require_file(path)
    table, report = read_export(
        path, control=control, label_config=label_config, task_key=task_key, users=users
    )
    if table.task != "pairwise" or table.payload is None:
        raise InputError(
            "not a pairwise annotation",
            source=str(path),
            field="--control",
            expected="a Label Studio pairwise control",
            actual=table.task,
            hint="name the pairwise control (read_label_studio(control=...))",
        )
    payload = table.payload.combine_chunks()
    item = table.data.column("item").combine_chunks()
    first = pc.struct_field(payload, "first")
    second = pc.struct_field(payload, "second")
    placeholder = pc.any(pc.equal(first, "left")).as_py()
    notes = [f"{count} records skipped: {reason}" for reason, count in report.skipped.items()]
    return from_columns(
        prompt=item,
        first=pc.binary_join_element_wise(item, first, "/") if placeholder else None,
        second=pc.binary_join_element_wise(item, second, "/") if placeholder else None,
        first_text=None if placeholder else first,
        second_text=None if placeholder else second,
        choice=pc.struct_field(payload, "choice"),
        annotator=table.data.column("annotator").combine_chunks(),
        kind="human",
        order_known=True,
        unit="record",
        source=str(path),
        notes=["left response taken as shown first", *notes],
    )
