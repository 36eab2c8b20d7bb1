"""``labelaudit judge audit``: published LLMBar and MT-Bench numbers, label audits, triage."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.exceptions import InputError
from labelaudit.judge.audit import audit_judge, repetition_stability
from labelaudit.judge.verdicts import read_verdicts

runner = CliRunner()
DATA = Path(__file__).parent / "data" / "judge"
MTBENCH = Path(__file__).parent / "data" / "preferences" / "mtbench"


def _converter() -> Any:
    spec = importlib.util.spec_from_file_location(
        "llmbar_to_verdicts", DATA / "llmbar_to_verdicts.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stat(text: str) -> float:
    """``"95 / 100 = 95.0%"`` or ``"95.5%"`` -> 0.95 / 0.955."""
    return float(text.split("=")[-1].strip().rstrip("%")) / 100


def audit_json(*args: str | Path) -> dict[str, Any]:
    result = runner.invoke(app, ["judge", "audit", *map(str, args), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def check_llmbar(report: dict[str, Any], statistics: dict[str, dict[str, str]]) -> None:
    """Accuracy (both orders), correct-in-both and positional agreement = statistics.json."""
    gold = {row["annotator"]: row for row in report["gold"]}
    both = {row["annotator"]: row for row in report["position_bias"]["both_orders"]}
    for judge, published in statistics.items():
        assert round(100 * gold[judge]["accuracy"], 1) == round(
            100 * _stat(published["correct_average"]), 1
        )
        assert gold[judge]["both_correct"] == pytest.approx(
            _stat(published["correct_both"]), abs=1e-12
        )
        assert both[judge]["consistency"] == pytest.approx(_stat(published["equal"]), abs=1e-12)
        assert both[judge]["error"] == 0.0


def test_bundled_llmbar_slice_reproduces_the_published_numbers() -> None:
    report = audit_json(
        DATA / "llmbar_natural_verdicts.jsonl",
        "--gold",
        DATA / "llmbar_natural_gold.jsonl",
        "--data",
        DATA / "llmbar_natural_items.jsonl",
        "--judge",
        DATA / "llmbar_judge.toml",
        "--n-boot",
        "50",
    )
    assert report["mode"] == "pairwise" and report["input"]["n_verdicts"] == 400
    statistics = {
        j: json.loads((DATA / f"llmbar_natural_{j}_statistics.json").read_text())
        for j in ("GPT-4", "ChatGPT")
    }
    check_llmbar(report, statistics)
    rates = {r["annotator"]: r["first_slot_rate"] for r in report["position_bias"]["by_annotator"]}
    assert round(100 * rates["ChatGPT"], 1) == 60.5 and round(100 * rates["GPT-4"], 1) == 50.5
    assert report["length_bias"]["n"] == 396  # texts came from --data
    confusion = {entry["judge"]: entry for entry in report["confusion"]}
    assert confusion["GPT-4"]["accuracy"] == pytest.approx(0.955)
    assert confusion["GPT-4"]["columns"] == ["response_a", "response_b", "error"]
    assert sum(map(sum, confusion["ChatGPT"]["counts"])) == confusion["ChatGPT"]["n"] == 200
    triage = report["triage"]
    assert triage["by_reason"] == {"judge_disagrees": 6, "judge_inconsistent": 34, "judge_error": 0}
    assert triage["items"][0]["reference"] == "gold"


@pytest.mark.shared
def test_full_llmbar_from_shared_reproduces_every_subset(shared_dir: Path, tmp_path: Path) -> None:
    convert = _converter()
    root = shared_dir / "datasets" / "llmbar_judgments"
    for subset in convert.SUBSETS:
        converted = convert.convert(root, subset)
        for key in ("verdicts", "gold"):
            convert.write_jsonl(tmp_path / f"{key}.jsonl", converted[key])
        report = audit_judge(tmp_path / "verdicts.jsonl", gold=tmp_path / "gold.jsonl", n_boot=0)
        folder = convert.subset_folder(root, subset)
        statistics = {
            j: json.loads((folder / j / "Vanilla" / "statistics.json").read_text())
            for j in convert.JUDGES
        }
        check_llmbar(report.to_dict(), statistics)


def _mtbench_files(tmp_path: Path) -> tuple[Path, Path]:
    """MT-Bench turn 1 as verdict lines and a human label file.

    The release merges GPT-4's two orders (``tie (inconsistent)`` = different winners); each
    merged verdict becomes two order lines whose conservative combination is that verdict
    (an inconsistent one as a first-slot pick in each order).
    """

    def rows(name: str) -> list[dict[str, Any]]:
        with gzip.open(MTBENCH / name, "rt") as handle:
            return [json.loads(line) for line in handle if json.loads(line)["turn"] == 1]

    def item(r: dict[str, Any]) -> str:
        return f"q{r['question_id']}:" + "|".join(sorted((r["model_a"], r["model_b"])))

    lines = []
    for r in rows("gpt4_pair.jsonl.gz"):
        a, b = r["model_a"], r["model_b"]
        ab, ba = {
            "model_a": (a, a),
            "model_b": (b, b),
            "tie": ("tie", "tie"),
            "tie (inconsistent)": (a, b),
        }[r["winner"]]
        for order, verdict, first, second in (("ab", ab, a, b), ("ba", ba, b, a)):
            lines.append(
                {
                    "item": item(r),
                    "judge": "gpt-4",
                    "order": order,
                    "verdict": verdict,
                    "error": None,
                    "first": first,
                    "second": second,
                }
            )
    humans = [
        {
            "item": item(r),
            "annotator": r["judge"],
            "label": {
                "model_a": r["model_a"],
                "model_b": r["model_b"],
                "tie": "tie",
                "tie (bothbad)": "both_bad",
            }[r["winner"]],
        }
        for r in rows("human.jsonl.gz")
        if not r["judge"].startswith("author")
    ]
    for name, data in (("verdicts.jsonl", lines), ("humans.jsonl", humans)):
        (tmp_path / name).write_text("".join(json.dumps(row) + "\n" for row in data))
    return tmp_path / "verdicts.jsonl", tmp_path / "humans.jsonl"


def test_mtbench_agreement_with_humans_reproduces_zheng_et_al(tmp_path: Path) -> None:
    verdicts, humans = _mtbench_files(tmp_path)
    report = audit_judge(verdicts, humans=humans, n_boot=100).to_dict()
    agreement = report["agreement"]
    (pooled,) = agreement["pooled"]
    assert (pooled["a"], pooled["b"]) == ("gpt-4", "human")
    assert (
        round(100 * pooled["with_ties"]["agreement"]) == 66
        and pooled["with_ties"]["n_pairs"] == 1343
    )
    assert (
        round(100 * pooled["without_ties"]["agreement"]) == 85
        and pooled["without_ties"]["n_pairs"] == 859
    )
    assert (
        pooled["with_ties"]["ci95"][0]
        < pooled["with_ties"]["agreement"]
        < pooled["with_ties"]["ci95"][1]
    )
    group = next(e for e in agreement["between_humans"] if e["level"] == "group")
    assert (
        round(100 * group["with_ties"]["agreement"]) == 63 and group["with_ties"]["n_pairs"] == 721
    )
    assert (
        round(100 * group["without_ties"]["agreement"]) == 81
        and group["without_ties"]["n_pairs"] == 479
    )
    (consensus,) = agreement["with_consensus"]
    assert (
        consensus["b"] == "human consensus"
        and consensus["with_ties"]["agreement"] > pooled["with_ties"]["agreement"]
    )
    each = {e["b"]: e for e in agreement["with_humans"]}
    n_humans = len({json.loads(row)["annotator"] for row in humans.read_text().splitlines()})
    assert n_humans == 58 and len(each) == 50  # the 50 most active humans
    # judge vs one human, recomputed by hand from the vote pairs
    name = sorted(each)[0]
    votes = [json.loads(row) for row in humans.read_text().splitlines()]
    mine = {v["item"]: v["label"] for v in votes if v["annotator"] == name}
    merged: dict[str, list[str]] = {}
    for line in verdicts.read_text().splitlines():
        v = json.loads(line)
        merged.setdefault(v["item"], []).append(v["verdict"])
    judge = {k: (o[0] if o[0] == o[1] else "tie") for k, o in merged.items()}
    tie = {"tie", "both_bad"}
    pairs = [(judge[i], "tie" if lab in tie else lab) for i, lab in mine.items()]
    assert each[name]["with_ties"]["n_pairs"] == len(pairs)
    assert each[name]["with_ties"]["agreement"] == pytest.approx(
        np.mean([a == b for a, b in pairs])
    )
    assert (
        report["triage"]["n_queued"] > 0 and report["triage"]["items"][0]["reference"] == "humans"
    )


# ------------------------------------------------------------------------ label mode
def _label_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    rng = np.random.default_rng(3)
    truth = rng.choice(["pos", "neg", "neu"], size=60, p=[0.5, 0.3, 0.2])
    humans, verdicts = [], []
    for i, label in enumerate(truth):
        for h in range(3):
            noisy = label if rng.random() < 0.8 else rng.choice(["pos", "neg", "neu"])
            humans.append({"item": f"t{i}", "annotator": f"h{h}", "label": str(noisy)})
        for r in range(3):
            said = label if rng.random() < 0.85 else rng.choice(["pos", "neg", "neu"])
            failed = i == 7 and r == 0
            verdicts.append(
                {
                    "item": f"t{i}",
                    "judge": "llm",
                    "order": None,
                    "verdict": None if failed else str(said),
                    "error": "unparseable answer" if failed else None,
                    "repeat": r,
                }
            )
    gold = [{"item": f"t{i}", "gold_label": str(label)} for i, label in enumerate(truth)]
    for name, rows in (("v.jsonl", verdicts), ("h.jsonl", humans), ("g.jsonl", gold)):
        (tmp_path / name).write_text("".join(json.dumps(row) + "\n" for row in rows))
    return tmp_path / "v.jsonl", tmp_path / "h.jsonl", tmp_path / "g.jsonl"


def test_label_verdicts_audited_like_an_annotator(tmp_path: Path) -> None:
    verdicts, humans, gold = _label_files(tmp_path)
    triage_path = tmp_path / "triage.jsonl"
    report = audit_json(verdicts, "--humans", humans, "--gold", gold, "--triage-out", triage_path)
    assert report["mode"] == "pointwise"
    assert {s["audit"] for s in report["skipped"]} == {
        "position_bias",
        "length_bias",
        "self_preference",
    }
    lines = [json.loads(row) for row in verdicts.read_text().splitlines()]
    judge = {row["item"]: row["verdict"] for row in lines if row["repeat"] == 0 and row["verdict"]}
    people = [json.loads(row) for row in humans.read_text().splitlines()]
    for entry in report["agreement"]["with_humans"]:
        theirs = {p["item"]: p["label"] for p in people if p["annotator"] == entry["b"]}
        shared = sorted(set(judge) & set(theirs))
        a, b = [judge[i] for i in shared], [theirs[i] for i in shared]
        assert entry["n_items"] == len(shared) == 59
        assert entry["percent_agreement"]["value"] == pytest.approx(
            np.mean(np.array(a) == np.array(b))
        )
        assert entry["cohen_kappa"]["value"] == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)
        assert entry["cohen_kappa"]["ci95"] is not None
    (consensus,) = report["agreement"]["with_consensus"]
    assert consensus["b"] == "human consensus"
    # gold: the judge's confusion and accuracy
    truth = {
        json.loads(row)["item"]: json.loads(row)["gold_label"]
        for row in gold.read_text().splitlines()
    }
    cats = report["gold"]["categories"]
    expected = np.zeros((len(cats), len(cats)), dtype=int)
    for item, said in judge.items():
        expected[cats.index(truth[item]), cats.index(said)] += 1
    assert report["gold"]["confusions"]["llm"] == expected.tolist()
    assert report["gold"]["judge_errors"] == {"llm": 1}
    (confusion,) = report["confusion"]
    assert confusion["columns"] == [*cats, "error"] and confusion["n"] == 60
    assert [row[:-1] for row in confusion["counts"]] == expected.tolist()
    assert sum(row[-1] for row in confusion["counts"]) == 1
    assert "llm" in {row["annotator"] for row in report["annotators"]["annotators"]}
    # repetition stability by brute force
    groups: dict[str, list[str]] = {}
    for row in lines:
        if row["verdict"] is not None:
            groups.setdefault(row["item"], []).append(row["verdict"])
    shares = [max(g.count(v) for v in g) / len(g) for g in groups.values() if len(g) >= 2]
    (stability,) = report["repetition_stability"]
    assert stability["stability"] == pytest.approx(np.mean(shares)) and stability["n_failed"] == 1
    # triage: every disagreement with a clear human majority, plus the failed verdict
    queued = [json.loads(row) for row in triage_path.read_text().splitlines()]
    assert (
        len(queued)
        == report["triage"]["n_queued"]
        == report["triage"]["by_reason"]["judge_disagrees"] + 1
    )
    for entry in queued:
        if entry["reason"] == "judge_disagrees":
            votes = [c["label"] for c in entry["candidates"]]
            assert (
                entry["judge_label"] != entry["consensus_label"] == max(set(votes), key=votes.count)
            )
    assert queued[-1] == {**queued[-1], "item": "t7", "reason": "judge_error"}


def test_repetition_stability_of_pairwise_repeats(tmp_path: Path) -> None:
    rows = [
        {
            "item": "q1",
            "judge": "j",
            "order": "ab",
            "verdict": v,
            "first": "x",
            "second": "y",
            "repeat": r,
        }
        for r, v in enumerate(["x", "x", "y", "x"])
    ]
    rows += [
        {
            "item": "q1",
            "judge": "j",
            "order": "ba",
            "verdict": "y",
            "first": "y",
            "second": "x",
            "repeat": r,
        }
        for r in range(4)
    ]
    path = tmp_path / "v.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    (result,) = repetition_stability(read_verdicts(path))
    assert result["stability"] == pytest.approx((3 / 4 + 1) / 2) and result["unanimous"] == 0.5


def test_html_escapes_user_content_and_bad_lines_are_named(tmp_path: Path) -> None:
    rows = [
        {"item": "<b>i1</b>", "judge": "<script>alert(1)</script>", "order": None, "verdict": "pos"}
    ]
    path = tmp_path / "v.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = runner.invoke(app, ["judge", "audit", str(path), "--format", "html"])
    assert result.exit_code == 0, result.output
    assert (
        "<script>alert" not in result.stdout
        and "&lt;script&gt;alert(1)&lt;/script&gt;" in result.stdout
    )
    path.write_text(json.dumps({"item": "i1", "judge": "j", "order": "xy"}) + "\n")
    with pytest.raises(InputError, match=r"v\.jsonl:1: invalid verdict line; field 'order'"):
        read_verdicts(path)
    path.write_text(
        json.dumps(
            {"item": "i1", "judge": "j", "order": "ab", "first": "a", "second": "b", "verdict": "c"}
        )
        + "\n"
    )
    result = runner.invoke(app, ["judge", "audit", str(path)])
    assert (
        result.exit_code == 2
        and "field 'verdict'; expected 'a', 'b' or 'tie'; got 'c'" in result.output
    )
