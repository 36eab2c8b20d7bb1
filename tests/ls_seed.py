"""Seed a running Label Studio with the two projects of the round-trip tests.

``sentiment``: a ``<Choices>`` control with a second ``<TextArea>`` comment control, 12
tasks keyed by ``data.item``, 4 annotators (``ann4`` is sloppy: wrong on every third
task), one model's predictions, one ``ground_truth`` annotation, one cancelled one.
``ner``: a ``<Labels>`` control over ``data.text``; one text has an emoji before the
entity, so code-point and UTF-16 offsets differ there (the 1.23.2 editor counts code
points: ``tests/test_report_browser.py``).

Every label below is fixed here; tests derive expected numbers from these tables.

Run ``python tests/ls_seed.py`` to seed a fresh server and save its exports under
``tests/data/label_studio_live/`` (the fixtures of the fast reader tests).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ls_harness import LabelStudio

SENTIMENT_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="positive"/>
    <Choice value="negative"/>
    <Choice value="neutral"/>
  </Choices>
  <TextArea name="comment" toName="text" required="false"/>
</View>
"""
NER_CONFIG = """<View>
  <Labels name="ner" toName="text">
    <Label value="PER"/>
    <Label value="ORG"/>
    <Label value="LOC"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>
"""
ANNOTATORS = ("ann1@example.com", "ann2@example.com", "ann3@example.com", "ann4@example.com")
ADJUDICATOR = "lead@example.com"
MODEL = "sentiment-v1"
LABELS = ("positive", "negative", "neutral")
#: The label each task deserves; ann1-3 give it except where DISAGREE says otherwise.
TRUTH = ("positive", "negative", "neutral", "positive", "negative", "positive",
         "neutral", "negative", "positive", "neutral", "positive", "negative")  # fmt: skip
DISAGREE = {(1, "ann2@example.com"): "neutral", (6, "ann3@example.com"): "positive",
            (9, "ann1@example.com"): "positive", (9, "ann2@example.com"): "negative"}  # fmt: skip
TEXTS = tuple(f"Review number {i}: the product was {t}." for i, t in enumerate(TRUTH))
NER_TEXTS = (
    "Ada Lovelace met Charles Babbage in London.",
    "Grace Hopper worked at Harvard.",
    "🚀 Apollo left Houston for the Moon.",
    "IBM hired Alan Turing? No, Turing stayed in Manchester.",
)
#: (start, end, label) spans in Python code points; ann3 misses spans, ann2 mislabels one.
NER_GOLD = (
    [(0, 12, "PER"), (17, 32, "PER"), (36, 42, "LOC")],
    [(0, 12, "PER"), (23, 30, "ORG")],
    [(2, 8, "ORG"), (14, 21, "LOC")],
    [(0, 3, "ORG"), (10, 21, "PER"), (27, 33, "PER"), (45, 55, "LOC")],
)


def answer(task: int, annotator: str) -> str:
    """The sentiment annotator ``annotator`` gives task ``task``."""
    if (task, annotator) in DISAGREE:
        return DISAGREE[(task, annotator)]
    if annotator == ANNOTATORS[3] and task % 3 == 0:
        return LABELS[(LABELS.index(TRUTH[task]) + 1) % 3]
    return TRUTH[task]


def choices_result(label: str, comment: str | None = None) -> list[dict[str, Any]]:
    """A Label Studio result: one choice, and a TextArea comment when given."""
    result: list[dict[str, Any]] = [
        {"from_name": "sentiment", "to_name": "text", "type": "choices",
         "value": {"choices": [label]}}
    ]  # fmt: skip
    if comment is not None:
        result.append(
            {"from_name": "comment", "to_name": "text", "type": "textarea",
             "value": {"text": [comment]}}
        )  # fmt: skip
    return result


def utf16_offset(text: str, index: int) -> int:
    """The UTF-16 code-unit offset of code point ``index`` (what older editors counted)."""
    return len(text[:index].encode("utf-16-le")) // 2


def spans_result(text: str, spans: list[tuple[int, int, str]]) -> list[dict[str, Any]]:
    """Label Studio ``labels`` regions as the 1.23.2 editor writes them: offsets in code
    points (verified in Chromium by ``tests/test_report_browser.py``)."""
    return [
        {"id": f"r{k}", "from_name": "ner", "to_name": "text", "type": "labels",
         "value": {"start": s, "end": e, "text": text[s:e], "labels": [label]}}
        for k, (s, e, label) in enumerate(spans)
    ]  # fmt: skip


def ner_answer(task: int, annotator: str) -> list[tuple[int, int, str]]:
    """The spans ``annotator`` marks in NER task ``task``."""
    spans = list(NER_GOLD[task])
    if annotator == ANNOTATORS[2]:
        spans = spans[:-1]
    if annotator == ANNOTATORS[1] and task == 0:
        spans[2] = (spans[2][0], spans[2][1], "ORG")
    return spans


@dataclass
class Seeded:
    """What was created: project ids, task ids in order, user tokens and ids."""

    sentiment: int
    ner: int
    sentiment_tasks: list[int]
    ner_tasks: list[int]
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)


def seed(ls: LabelStudio) -> Seeded:
    """Create users, both projects, their tasks, annotations and predictions."""
    tokens = {email: ls.add_user(email) for email in (*ANNOTATORS, ADJUDICATOR)}
    sentiment = ls.create_project("sentiment", SENTIMENT_CONFIG)
    ner = ls.create_project("ner", NER_CONFIG)
    tasks = [
        {"data": {"item": f"s{i:02d}", "text": text},
         "predictions": [{"model_version": MODEL, "score": 0.8,
                          "result": choices_result(TRUTH[i] if i % 4 else "neutral")}]}
        for i, text in enumerate(TEXTS)
    ]  # fmt: skip
    sentiment_tasks = ls.import_tasks(sentiment, tasks)
    ner_tasks = ls.import_tasks(
        ner, [{"data": {"item": f"n{i}", "text": t}} for i, t in enumerate(NER_TEXTS)]
    )
    seeded = Seeded(sentiment, ner, sentiment_tasks, ner_tasks, tokens, ls.user_ids())
    annotate_sentiment(ls, seeded)
    for index, task in enumerate(ner_tasks):
        for email in ANNOTATORS[:3]:
            result = spans_result(NER_TEXTS[index], ner_answer(index, email))
            ls.annotate(task, result, tokens[email], lead_time=20.0)
    return seeded


def annotate_sentiment(ls: LabelStudio, seeded: Seeded) -> None:
    """Every annotator labels every task; ann1 comments on task 2, ann4 skips task 11."""
    for index, task in enumerate(seeded.sentiment_tasks):
        for email in ANNOTATORS:
            token = seeded.tokens[email]
            if email == ANNOTATORS[3] and index == 11:
                ls.annotate(task, [], token, was_cancelled=True)
                continue
            comment = "sarcastic?" if email == ANNOTATORS[0] and index == 2 else None
            ls.annotate(task, choices_result(answer(index, email), comment), token, lead_time=5.0)
    lead = seeded.tokens[ADJUDICATOR]
    ls.annotate(seeded.sentiment_tasks[0], choices_result(TRUTH[0]), lead, ground_truth=True)


FIXTURES = Path(__file__).parent / "data" / "label_studio_live"


def save_fixtures(ls: LabelStudio, seeded: Seeded, folder: Path = FIXTURES) -> list[Path]:
    """Save the exports of both projects as a user would download them, and the configs."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, project, config in (
        ("sentiment", seeded.sentiment, SENTIMENT_CONFIG),
        ("ner", seeded.ner, NER_CONFIG),
    ):
        files = {
            f"{name}.json": ls.export(project, "JSON"),
            f"{name}_min.json": ls.export(project, "JSON_MIN"),
            f"{name}.csv": ls.export(project, "CSV"),
            f"{name}_snapshot.json": ls.snapshot(project),
            f"{name}_config.xml": config.encode(),
        }
        for file_name, content in files.items():
            path = folder / file_name
            if file_name.endswith(".json"):
                content = json.dumps(json.loads(content), indent=1, ensure_ascii=False) + "\n"
                content = content.encode()  # type: ignore[assignment]
            path.write_bytes(content)
            written.append(path)
    users = folder / "users.csv"
    lines = ["id,email"] + [f"{uid},{email}" for email, uid in sorted(seeded.user_ids.items())]
    users.write_text("\n".join(lines) + "\n")
    return [*written, users]


if __name__ == "__main__":
    import tempfile

    from ls_install import label_studio_executable

    with tempfile.TemporaryDirectory() as root:
        server = LabelStudio(label_studio_executable(), Path(root))
        server.start()
        try:
            for path in save_fixtures(server, seed(server)):
                print(path)
        finally:
            server.stop()


@pytest.fixture(scope="session")
def seeded_ls(label_studio: LabelStudio) -> tuple[LabelStudio, Seeded]:
    """The session's Label Studio with both projects seeded (once)."""
    return label_studio, seed(label_studio)
