"""Every analysis command on small real or hostile inputs, for the page and terminal tests.

:func:`analysis_commands` writes the inputs into a folder and returns ``{name: args}``
for ``labelaudit`` (without ``--format``): agreement (categorical with item text,
PandaLM pilot, spans), annotators, adjudication queue, consensus, preference audit and
judge audit. Annotator names and item text hold the hostile strings of :data:`HOSTILE`.
"""

from __future__ import annotations

import json
from pathlib import Path

from labelaudit.datasets import dataset_path

HOSTILE = ["<script>alert(1)</script>", "\"quoted\" 'single'", "{{7*7}}"]
JUDGE_DATA = Path(__file__).parent / "data" / "judge"


def _hostile_labels(folder: Path) -> Path:
    """Five annotators (three with hostile names) x 12 items with text and some disagreement."""
    names = ["alice", "bob", *HOSTILE]
    rows = ["item,annotator,label,text"]
    for item in range(12):
        text = f"Item {item}: {HOSTILE[item % 3]} a review that is long enough to need a snippet"
        for who, name in enumerate(names):
            label = ["pos", "neg", "neu"][(item + (who == item % 5)) % 3]
            quoted = name.replace('"', '""')
            rows.append(f'i{item},"{quoted}",{label},"{text.replace(chr(34), chr(34) * 2)}"')
    path = folder / "labels.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _ner(folder: Path) -> Path:
    text = f"Ada Lovelace met Charles Babbage in London {HOSTILE[0]} {HOSTILE[2]}"
    rows = [
        ("ann1", [(0, 12, "PER"), (17, 32, "PER"), (36, 42, "LOC")]),
        (HOSTILE[1], [(36, 42, "ORG"), (4, 12, "PER"), (17, 32, "PER")]),
    ]
    lines = [
        json.dumps(
            {
                "item": "d1",
                "annotator": who,
                "text": text,
                "label": [{"start": s, "end": e, "label": lab} for s, e, lab in spans],
            }
        )
        for who, spans in rows
    ]
    path = folder / "ner.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _votes(folder: Path) -> Path:
    rows = ["prompt,first,second,choice,annotator"]
    for i in range(40):
        choice = ["first", "second", "second", "tie"][i % 4]
        name = HOSTILE[i % 3].replace('"', '""')
        rows.append(f'p{i},answer {i},a longer answer number {i},{choice},"{name}"')
        rows.append(f"p{i},answer {i},a longer answer number {i},second,other")
    path = folder / "votes.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def analysis_commands(folder: Path) -> dict[str, list[str]]:
    """``{name: labelaudit arguments}`` of every analysis command, inputs written to
    ``folder``."""
    labels, ner, votes = _hostile_labels(folder), _ner(folder), _votes(folder)
    pandalm = [str(dataset_path("pandalm")), "--layout", "wide", "--item-col", "idx"]
    pandalm += ["--annotator-cols", "annotator1,annotator2,annotator3", "--categories", "0,1,2"]
    return {
        "agreement": ["agreement", str(labels)],
        "pilot": ["agreement", *pandalm],
        "spans": ["agreement", str(ner), "--task", "spans"],
        "annotators": ["annotators", str(labels), "--min-labels", "1", "--min-pool", "2"],
        "adjudicate": [
            *("adjudicate", str(labels), "--method", "majority", "--threshold", "0.9"),
            *("--out", str(folder / "queue.jsonl"), "--text-col", "text"),
        ],
        "consensus": ["consensus", str(labels), "--method", "majority"],
        "preferences": ["preferences", str(votes), "--from", "csv", "--n-boot", "30"],
        "judge": [
            *("judge", "audit", str(JUDGE_DATA / "llmbar_natural_verdicts.jsonl")),
            *("--gold", str(JUDGE_DATA / "llmbar_natural_gold.jsonl"), "--n-boot", "30"),
        ],
    }
