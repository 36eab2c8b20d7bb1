"""A Label Studio NER export (JSON, the platform's own `labels` regions): 30 news sentences,
4 annotators; annotators 1-3 are careful (6 % of spans lose their last character, 3 % get
another label), annotator 4 is sloppy (misses 30 % of the entities and cuts the end of 60 %
of the rest by 1-3 characters). Seeded; ``write_export(path)`` writes it, ``gold_spans()``
gives the true entities per task id."""

from __future__ import annotations

import json
import random
from pathlib import Path

SENTENCES = [
    (
        "Angela Merkel met Emmanuel Macron in Berlin on Monday.",
        [("Angela Merkel", "PER"), ("Emmanuel Macron", "PER"), ("Berlin", "LOC")],
    ),
    (
        "Apple opened a new office in Austin, Texas.",
        [("Apple", "ORG"), ("Austin", "LOC"), ("Texas", "LOC")],
    ),
    (
        "The European Union fined Google 2.4 billion euros.",
        [("European Union", "ORG"), ("Google", "ORG")],
    ),
    (
        "Serena Williams won the Wimbledon title again.",
        [("Serena Williams", "PER"), ("Wimbledon", "MISC")],
    ),
    (
        "Toyota recalled cars sold in Japan and Canada.",
        [("Toyota", "ORG"), ("Japan", "LOC"), ("Canada", "LOC")],
    ),
    ("Pope Francis visited Manila in January.", [("Francis", "PER"), ("Manila", "LOC")]),
    (
        "The United Nations met in Geneva to discuss Syria.",
        [("United Nations", "ORG"), ("Geneva", "LOC"), ("Syria", "LOC")],
    ),
    (
        "Lionel Messi signed with Paris Saint-Germain.",
        [("Lionel Messi", "PER"), ("Paris Saint-Germain", "ORG")],
    ),
    (
        "NASA launched the Artemis rocket from Florida.",
        [("NASA", "ORG"), ("Artemis", "MISC"), ("Florida", "LOC")],
    ),
    (
        "Jacinda Ardern spoke to reporters in Wellington.",
        [("Jacinda Ardern", "PER"), ("Wellington", "LOC")],
    ),
    (
        "Microsoft bought LinkedIn for 26 billion dollars.",
        [("Microsoft", "ORG"), ("LinkedIn", "ORG")],
    ),
    ("The Nile floods reached Khartoum last week.", [("Nile", "LOC"), ("Khartoum", "LOC")]),
    (
        "Boris Johnson resigned as leader of the Conservative Party.",
        [("Boris Johnson", "PER"), ("Conservative Party", "ORG")],
    ),
    (
        "Samsung and Sony compete in the Korean market.",
        [("Samsung", "ORG"), ("Sony", "ORG"), ("Korean", "MISC")],
    ),
    (
        "Greta Thunberg sailed from Plymouth to New York.",
        [("Greta Thunberg", "PER"), ("Plymouth", "LOC"), ("New York", "LOC")],
    ),
    ("The World Health Organization declared a pandemic.", [("World Health Organization", "ORG")]),
    (
        "Roger Federer retired after the Laver Cup in London.",
        [("Roger Federer", "PER"), ("Laver Cup", "MISC"), ("London", "LOC")],
    ),
    ("Amazon workers in Alabama voted on a union.", [("Amazon", "ORG"), ("Alabama", "LOC")]),
    (
        "Narendra Modi inaugurated a temple in Ayodhya.",
        [("Narendra Modi", "PER"), ("Ayodhya", "LOC")],
    ),
    ("Tesla shares fell after Elon Musk sold stock.", [("Tesla", "ORG"), ("Elon Musk", "PER")]),
    (
        "The Tour de France ended on the Champs-Elysees.",
        [("Tour de France", "MISC"), ("Champs-Elysees", "LOC")],
    ),
    (
        "Reuters reported floods in Pakistan and India.",
        [("Reuters", "ORG"), ("Pakistan", "LOC"), ("India", "LOC")],
    ),
    (
        "Kamala Harris visited Guatemala and Mexico.",
        [("Kamala Harris", "PER"), ("Guatemala", "LOC"), ("Mexico", "LOC")],
    ),
    ("The Bank of England raised interest rates.", [("Bank of England", "ORG")]),
    (
        "Cristiano Ronaldo returned to Manchester United.",
        [("Cristiano Ronaldo", "PER"), ("Manchester United", "ORG")],
    ),
    (
        "Volcanic ash closed airports in Iceland and Norway.",
        [("Iceland", "LOC"), ("Norway", "LOC")],
    ),
    (
        "Netflix released a documentary about Michael Jordan.",
        [("Netflix", "ORG"), ("Michael Jordan", "PER")],
    ),
    (
        "The Olympic Games opened in Tokyo a year late.",
        [("Olympic Games", "MISC"), ("Tokyo", "LOC")],
    ),
    (
        "Jeff Bezos flew to space aboard Blue Origin's capsule.",
        [("Jeff Bezos", "PER"), ("Blue Origin", "ORG")],
    ),
    (
        "Ukraine and Russia met for talks in Istanbul.",
        [("Ukraine", "LOC"), ("Russia", "LOC"), ("Istanbul", "LOC")],
    ),
]


def spans(text: str, ents: list[tuple[str, str]]) -> list[tuple[int, int, str]]:
    out = []
    for surface, label in ents:
        start = text.index(surface)
        out.append((start, start + len(surface), label))
    return out


def result(text: str, s: int, e: int, label: str, k: int) -> dict:
    return {
        "id": f"r{k}",
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "value": {"start": s, "end": e, "text": text[s:e], "labels": [label]},
    }


def gold_spans() -> dict[str, list[dict]]:
    """Task id -> the true entities as ``{"start", "end", "label"}``."""
    return {
        str(t): [{"start": s, "end": e, "label": lab} for s, e, lab in spans(text, ents)]
        for t, (text, ents) in enumerate(SENTENCES, start=1)
    }


def write_export(path: Path, seed: int = 0) -> Path:
    """Write the export (a JSON array of Label Studio tasks) and return its path."""
    rng = random.Random(seed)
    tasks = []
    for t, (text, ents) in enumerate(SENTENCES, start=1):
        gold = spans(text, ents)
        annotations = []
        for user in (1, 2, 3, 4):
            marked = []
            for s, e, label in gold:
                if user in (1, 2, 3):
                    if rng.random() < 0.06:  # careful annotators: a rare boundary slip
                        e -= 1
                    if rng.random() < 0.03:
                        label = rng.choice(["PER", "ORG", "LOC", "MISC"])
                else:  # the sloppy one: misses 30 %, cuts span ends
                    if rng.random() < 0.30:
                        continue
                    if rng.random() < 0.6 and e - s > 3:
                        e -= rng.randint(1, 3)
                if e > s:
                    marked.append((s, e, label))
            annotations.append(
                {
                    "id": t * 10 + user,
                    "completed_by": user,
                    "lead_time": round(rng.uniform(8, 40), 1),
                    "result": [result(text, s, e, lab, k) for k, (s, e, lab) in enumerate(marked)],
                }
            )
        tasks.append({"id": t, "data": {"text": text}, "annotations": annotations})
    Path(path).write_text(json.dumps(tasks, indent=1), encoding="utf-8")
    return Path(path)
