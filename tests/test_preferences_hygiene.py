"""Hygiene checks of preference pairs (flag, never drop) and MinHash near-duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from labelaudit.preferences import read_preferences
from labelaudit.preferences.hygiene import hygiene, minhash_signatures, near_duplicates

LONG = (
    "Please explain how photosynthesis turns light water and carbon dioxide into sugar "
    "and oxygen inside the chloroplasts of green plants in simple words"
)


def hh(human: str, answer: str, *, earlier: str = "") -> str:
    return f"{earlier}\n\nHuman: {human}\n\nAssistant: {answer}"


@pytest.fixture()
def hh_file(tmp_path: Path) -> Path:
    rows = [
        {"chosen": hh("hi", "Hello there."), "rejected": hh("hi", "Hello there.")},  # 1 identical
        {"chosen": hh(LONG, "Plants use light."), "rejected": hh(LONG, "")},  # 2 empty rejected
        {"chosen": hh("q", "It is done and"), "rejected": hh("q", "Done.")},  # 3 truncated chosen
        {
            "chosen": hh("bomb?", "I'm sorry, I can't help with that."),
            "rejected": hh("bomb?", "Sure, here is how."),
        },  # 4 refusal chosen
        {"chosen": hh("code", "```python\nprint(1)"), "rejected": hh("code", "No.")},  # 5 fence
        {
            "chosen": hh("x", "Same end.", earlier="\n\nHuman: a\n\nAssistant: b"),
            "rejected": hh("x", "Same end.", earlier="\n\nHuman: a\n\nAssistant: c"),
        },  # 6 context
        {"chosen": hh("hi", "Hello there."), "rejected": hh("hi", "Hello there.")},  # 7 duplicate
        {"chosen": hh(LONG + " please", "Sugar."), "rejected": hh(LONG + " please", "Oxygen.")},
    ]
    path = tmp_path / "hh.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_hh_checks_flag_the_right_records(hh_file: Path) -> None:
    table = read_preferences(hh_file, format="hh-rlhf")
    result = hygiene(table)
    checks = {c["check"]: c for c in result.to_dict()["checks"]}
    assert checks["identical_pair"]["examples"] == [1, 7]
    assert checks["identical_final_response"]["examples"] == [1, 6, 7]
    assert checks["context_mismatch"]["examples"] == [6]
    assert checks["empty_response"]["examples"] == [2]
    assert (checks["empty_response"]["preferred"], checks["empty_response"]["other"]) == (0, 1)
    assert checks["likely_truncated"]["examples"] == [3, 5]
    assert checks["likely_truncated"]["preferred"] == 2
    assert checks["refusal"]["examples"] == [4]
    assert (checks["refusal"]["preferred"], checks["refusal"]["other"]) == (1, 0)
    assert checks["duplicate_vote"]["examples"] == [7]
    assert checks["near_duplicate_prompt"]["n"] == 1  # the LONG prompt with " please"
    assert result.near_duplicates[0]["jaccard"] >= 0.8
    assert result.flags["refusal"].sum() == 1 and table.n_votes == 8  # nothing dropped
    assert result.to_dict()["tie_rates"] == [
        {"annotator": "unknown", "kind": "human", "n": 8, "tie_rate": 0.0, "missing_rate": 0.0}
    ]


def test_pandalm_duplicate_prompt_texts_and_ties() -> None:
    from labelaudit.datasets import dataset_path

    table = read_preferences(dataset_path("pandalm"), format="pandalm")
    result = hygiene(table).to_dict()
    checks = {c["check"]: c for c in result["checks"]}
    records = json.loads(dataset_path("pandalm").read_text())
    texts = [r["instruction"] + (f"\n\n{r['input']}" if r["input"] else "") for r in records]
    seen: set[str] = set()
    repeated = 0
    for text in texts:
        repeated += text in seen
        seen.add(text)
    assert checks["duplicate_prompt_text"]["n"] == 3 * repeated
    ties = {t["annotator"]: t["tie_rate"] for t in result["tie_rates"]}
    assert ties["annotator1"] == pytest.approx(97 / 999)
    assert result["notes"] == []


def test_label_only_data_runs_without_text_checks() -> None:
    table = read_preferences(
        Path(__file__).parent / "data" / "preferences" / "mtbench", format="mtbench"
    )
    result = hygiene(table).to_dict()
    assert [c["check"] for c in result["checks"]] == ["identical_pair", "duplicate_vote"]
    assert result["notes"][0].startswith("no response texts")
    ties = {t["annotator"]: t["tie_rate"] for t in result["tie_rates"]}
    assert ties["gpt4_pair"] == pytest.approx(600 / 2400)  # tie + tie (inconsistent)


def shingles(text: str) -> set[tuple[str, ...]]:
    words = text.lower().split()
    if len(words) < 5:
        return {tuple(words)}
    return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}


def test_minhash_estimates_jaccard() -> None:
    rng = np.random.default_rng(0)
    vocabulary = [f"w{i}" for i in range(60)]
    base = list(rng.choice(vocabulary, 80))
    texts = [" ".join(base)]
    for edits in (2, 6, 12, 25, 40):
        words = list(base)
        for position in rng.choice(80, edits, replace=False):
            words[position] = "x" + words[position]
        texts.append(" ".join(words))
    signature = minhash_signatures(pa.array(texts), seed=1)
    for k in range(1, len(texts)):
        a, b = shingles(texts[0]), shingles(texts[k])
        truth = len(a & b) / len(a | b)
        estimate = float((signature[0] == signature[k]).mean())
        assert abs(estimate - truth) < 3 * np.sqrt(truth * (1 - truth) / 64) + 0.02
    assert (minhash_signatures(pa.array(texts), seed=1) == signature).all()
    assert (minhash_signatures(pa.array(texts), seed=2) != signature).any()


def test_near_duplicates_threshold_and_short_texts() -> None:
    texts = pa.array(["one two", "one two", "alpha beta gamma delta epsilon zeta", "", None])
    i, j, similarity = near_duplicates(texts, threshold=0.8)
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == [(0, 1), (3, 4)]
    assert similarity.tolist() == [1.0, 1.0]
