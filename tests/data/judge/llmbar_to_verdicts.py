"""Convert LLMBar judge outputs (``result.json``) into labelaudit verdict lines.

Used by ``tests/test_judge_audit.py`` (on the bundled slice and on ``../shared``) and, once,
to write the bundled files of this folder::

    python tests/data/judge/llmbar_to_verdicts.py ../shared/datasets/llmbar_judgments Natural

Each LLMBar instance becomes two verdict lines (``swap = False`` = order ``ab`` with
``output_1`` shown first; ``swap = True`` = order ``ba``), a gold row and an item row. The
winner is already in original output ids upstream; anything but ``"1"``/``"2"`` becomes a
failed verdict.
"""

from __future__ import annotations

import ast
import gzip
import json
import sys
from pathlib import Path
from typing import Any

SUBSETS = ("Natural", "Neighbor", "GPTInst", "GPTOut", "Manual")
JUDGES = ("GPT-4", "ChatGPT")


def subset_folder(root: Path, subset: str) -> Path:
    return root / subset if subset == "Natural" else root / "Adversarial" / subset


def load_results(folder: Path) -> list[dict[str, Any]]:
    path = folder / "result.json"
    if not path.exists():
        path = folder / "result.json.gz"
        return json.loads(gzip.decompress(path.read_bytes()))
    return json.loads(path.read_text(encoding="utf-8"))


def convert(
    root: Path, subset: str, judges: tuple[str, ...] = JUDGES
) -> dict[str, list[dict[str, Any]]]:
    """Verdict lines, gold rows and item rows of one subset (item ids ``<subset>/<index>``)."""
    verdicts, gold, items = [], [], []
    for judge in judges:
        records = load_results(subset_folder(root, subset) / judge / "Vanilla")
        for index, record in enumerate(records):
            item = f"{subset}/{index}"
            results = record["results"]
            if isinstance(results, str):
                results = ast.literal_eval(results)
            for swapped, order in ((False, "ab"), (True, "ba")):
                winner = str(results[0][f"swap = {swapped}"]["winner"])
                first, second = ("output_2", "output_1") if swapped else ("output_1", "output_2")
                ok = winner in ("1", "2")
                verdicts.append(
                    {
                        "item": item,
                        "judge": judge,
                        "order": order,
                        "verdict": f"output_{winner}" if ok else None,
                        "raw": None,
                        "error": None if ok else f"unparseable winner {winner!r}",
                        "prompt_tokens": None,
                        "completion_tokens": None,
                        "cost_usd": None,
                        "cached": False,
                        "request_sha256": "",
                        "repeat": 0,
                        "first": first,
                        "second": second,
                    }
                )
            if judge == judges[0]:
                gold.append({"item": item, "gold_label": f"output_{record['label']}"})
                items.append(
                    {
                        "item": item,
                        "input": record["input"],
                        "output_1": record["output_1"],
                        "output_2": record["output_2"],
                    }
                )
    return {"verdicts": verdicts, "gold": gold, "items": items}


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), "utf-8")


if __name__ == "__main__":
    source, subset = Path(sys.argv[1]), sys.argv[2]
    here = Path(__file__).parent
    converted = convert(source, subset)
    stem = f"llmbar_{subset.lower()}"
    for key, rows in converted.items():
        write_jsonl(here / f"{stem}_{key}.jsonl", rows)
    for judge in JUDGES:
        statistics = subset_folder(source, subset) / judge / "Vanilla" / "statistics.json"
        (here / f"{stem}_{judge}_statistics.json").write_bytes(statistics.read_bytes())
