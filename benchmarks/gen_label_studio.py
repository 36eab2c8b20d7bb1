"""Generate a large Label Studio JSON export (choices + NER spans) for the format benchmark.

Each task has a text of a few sentences and 3 annotations by different users; each
annotation answers a ``sentiment`` Choices control and marks 2-6 ``label`` (NER) spans,
with the metadata a real Label Studio export carries (ids, timestamps, lead_time, ...).
Written incrementally, so generating a 1 GB file needs little memory.

Usage::

    .venv/bin/python benchmarks/gen_label_studio.py /tmp/ls_1gb.json --size-mb 1024
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

WORDS = [
    "apple",
    "buys",
    "startup",
    "london",
    "market",
    "shares",
    "rose",
    "after",
    "the",
    "company",
    "said",
    "its",
    "quarterly",
    "revenue",
    "beat",
    "analyst",
    "forecasts",
    "while",
    "paris",
    "officials",
    "announced",
    "new",
    "rules",
    "for",
    "electric",
    "scooters",
    "and",
    "berlin",
    "based",
    "investors",
    "raised",
    "funds",
]
LABELS = ("ORG", "PER", "LOC", "MISC")
SENTIMENT = ("Positive", "Negative", "Neutral")


def _task(task_id: int, rng: random.Random) -> dict:
    words = [rng.choice(WORDS) for _ in range(rng.randint(25, 45))]
    text = " ".join(words)
    starts = [0]
    for word in words[:-1]:
        starts.append(starts[-1] + len(word) + 1)
    annotations = []
    for k in range(3):
        result = [
            {
                "id": f"c{task_id}-{k}",
                "type": "choices",
                "value": {"choices": [rng.choice(SENTIMENT)]},
                "origin": "manual",
                "to_name": "text",
                "from_name": "sentiment",
            }
        ]
        for j in sorted(rng.sample(range(len(words)), rng.randint(2, 6))):
            start, end = starts[j], starts[j] + len(words[j])
            result.append(
                {
                    "id": f"s{task_id}-{k}-{j}",
                    "type": "labels",
                    "value": {
                        "start": start,
                        "end": end,
                        "text": words[j],
                        "labels": [rng.choice(LABELS)],
                    },
                    "origin": "manual",
                    "to_name": "text",
                    "from_name": "label",
                }
            )
        annotations.append(
            {
                "id": task_id * 3 + k,
                "completed_by": 1 + (task_id + k) % 40,
                "result": result,
                "was_cancelled": False,
                "ground_truth": False,
                "created_at": "2024-05-15T12:09:16.789536Z",
                "updated_at": "2024-05-15T12:09:16.789563Z",
                "lead_time": round(rng.uniform(2, 90), 3),
                "last_action": "submitted",
                "task": task_id,
                "project": 24,
            }
        )
    return {
        "id": task_id,
        "annotations": annotations,
        "predictions": [],
        "data": {"text": text},
        "meta": {},
        "created_at": "2024-05-15T12:08:36.422297Z",
        "updated_at": "2024-05-15T12:09:16.934164Z",
        "project": 24,
    }


def generate(path: Path, size_mb: float, seed: int = 0) -> int:
    """Write tasks until the file reaches ``size_mb`` MiB; returns the number of tasks."""
    rng = random.Random(seed)
    target = int(size_mb * 1024 * 1024)
    written = 0
    n = 0
    with path.open("w", encoding="utf-8") as handle:
        handle.write("[\n")
        while written < target:
            text = json.dumps(_task(n + 1, rng), ensure_ascii=False)
            handle.write(("" if n == 0 else ",\n") + text)
            written += len(text) + 2
            n += 1
        handle.write("\n]\n")
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--size-mb", type=float, default=1024.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n = generate(args.out, args.size_mb, args.seed)
    size = args.out.stat().st_size
    print(f"wrote {args.out}: {n} tasks, {3 * n} annotations, {size / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
