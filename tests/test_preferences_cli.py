"""``labelaudit preferences`` end to end: JSON contract, formats, errors, escaping."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from labelaudit.cli.app import app
from labelaudit.datasets import dataset_path
from labelaudit.preferences import audit_preferences, read_preferences
from labelaudit.preferences.synthetic import make_preferences

DATA = Path(__file__).parent / "data" / "preferences"
runner = CliRunner()


def run(*args: str) -> Any:
    return runner.invoke(app, ["preferences", *args])


def run_json(*args: str) -> dict[str, Any]:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def llmbar() -> dict[str, Any]:
    return run_json(str(DATA / "llmbar"), "--from", "llmbar", "--by", "subset", "--n-boot", "100")


def test_json_contract(llmbar: dict[str, Any]) -> None:
    assert list(llmbar) == [
        "tool",
        "input",
        "config",
        "position_bias",
        "length_bias",
        "agreement",
        "gold",
        "consistency",
        "bradley_terry",
        "self_preference",
        "hygiene",
        "groups",
        "skipped",
    ]
    position = llmbar["position_bias"]
    assert set(position["overall"]) >= {"first_slot_rate", "n", "ci95", "p_value"}
    for row in position["by_annotator"]:
        assert set(row) >= {"annotator", "kind", "n", "first_slot_rate", "ci95", "p_value", "flag"}
    assert isinstance(position["both_orders"], list) and position["both_orders"]
    assert set(llmbar["length_bias"]) >= {"p_prefer_longer", "ci95", "n"}
    assert isinstance(llmbar["agreement"], list)
    for entry in llmbar["skipped"]:
        assert set(entry) == {"audit", "reason"}
    assert {s["audit"] for s in llmbar["skipped"]} == {"bradley_terry", "self_preference"}
    assert llmbar["input"]["n_votes"] == 1676 and llmbar["config"]["by"] == "subset"


def test_groups_reproduce_llmbar_statistics(llmbar: dict[str, Any]) -> None:
    for group in llmbar["groups"]:
        subset = group["group"]
        folder = DATA / "llmbar" / ("Natural" if subset == "Natural" else f"Adversarial/{subset}")
        for judge in ("GPT-4", "ChatGPT"):
            published = json.loads((folder / judge / "Vanilla" / "statistics.json").read_text())
            both = {r["annotator"]: r for r in group["position_bias"]["both_orders"]}[judge]
            gold = {r["annotator"]: r for r in group["gold"]}[judge]
            equal = float(published["equal"].split("=")[-1].strip().rstrip("%"))
            average = float(published["correct_average"].rstrip("%"))
            assert round(100 * both["consistency"], 1) == round(equal, 1)
            assert round(100 * gold["accuracy"], 1) == round(average, 1)


def test_mtbench_published_agreement_by_turn() -> None:
    report = run_json(
        str(DATA / "mtbench"),
        "--from",
        "mtbench",
        "--by",
        "turn",
        "--n-boot",
        "50",
        "--judge-family",
        "gpt4_pair=gpt-4",
    )
    turn1 = next(g for g in report["groups"] if g["group"] == "1")
    entries = {e["a"]: e for e in turn1["agreement"]}
    assert entries["gpt4_pair"]["with_ties"]["n_pairs"] == 1343
    assert round(entries["gpt4_pair"]["without_ties"]["agreement"], 2) == 0.85
    assert round(entries["human"]["with_ties"]["agreement"], 2) == 0.63
    assert round(report["self_preference"][0]["delta"], 3) == 0.120
    assert {s["audit"] for s in report["skipped"]} == {"position_bias", "length_bias", "gold"}


@pytest.mark.parametrize("fmt", ["table", "markdown", "html"])
def test_human_formats(fmt: str, tmp_path: Path) -> None:
    out = tmp_path / f"audit.{fmt}"
    result = run(
        str(dataset_path("pandalm")),
        "--from",
        "pandalm",
        "--n-boot",
        "50",
        "--format",
        fmt,
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"wrote {out}"  # success is said, on stderr
    text = out.read_text()
    assert "Position bias" in text and "Length bias" in text and "annotator1" in text
    if fmt == "html":
        # the only URLs are XML namespace names of the inline SVG charts, never fetched
        bare = re.sub(r'xmlns(:\w+)?="http[^"]*"', "", text)
        assert "<script" not in text.lower() and "http://" not in bare and "https://" not in bare
        assert 'http-equiv="Content-Security-Policy"' in text
        assert text.count("<svg") == 3  # position bias, length bias, Bradley-Terry


def test_untrusted_names_are_escaped(tmp_path: Path) -> None:
    path = tmp_path / "votes.csv"
    evil = "<script>alert(1)</script>|[bold]x[/bold]"
    path.write_text(
        "prompt,first,second,choice,annotator\n"
        + "".join(f'p{i},a{i},b{i}x,{c},"{evil}"\n' for i, c in enumerate(["first", "second"] * 6))
        + "".join(f"p{i},a{i},b{i}x,first,other\n" for i in range(12))
    )
    report = audit_preferences(read_preferences(path, format="csv"), n_boot=20).to_dict()
    from labelaudit.report.builders_audit import preferences_document
    from labelaudit.report.document import render_document

    html = render_document(preferences_document(report), "html")
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    markdown = render_document(preferences_document(report), "markdown")
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown and "\\|" in markdown
    result = run(str(path), "--from", "csv", "--n-boot", "20")
    assert result.exit_code == 0 and "[bold]x[/bold]" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "dpo"], "bad.jsonl:2: malformed JSON line"),
        (["--from", "dpo", "--prompt-col", "q"], "--prompt-col only apply to --from csv"),
        (["--from", "csv", "--choice-col", "verdict"], "no choice column; field 'verdict'"),
        (
            ["--from", "dpo", "--judge-family", "nonsense"],
            "--judge-family expects JUDGE=MODEL_PREFIX",
        ),
        (["--from", "dpo", "--judge-family", "x=y"], "--judge-family: unknown judge(s) ['x']"),
        (["--from", "dpo", "--by", "turn"], "--by 'turn': no such metadata column"),
        (["--from", "mtbench", "--authors", "--kind", "judge"], "--kind only applies"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n{"prompt": \n')
    if "--judge-family" in args or "--by" in args or "csv" in args:
        path.write_text('{"prompt": "p", "chosen": "a", "rejected": "b"}\n')
    result = run(str(path), *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_dpo_cli_skips_what_the_data_cannot_support(tmp_path: Path) -> None:
    path = tmp_path / "dpo.jsonl"
    rows = [
        {"prompt": f"q{i % 7}", "chosen": "x" * (10 + i), "rejected": "y" * (20 - i % 5)}
        for i in range(30)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = run_json(str(path), "--from", "dpo", "--n-boot", "20")
    skipped = {s["audit"]: s["reason"] for s in report["skipped"]}
    assert "position_bias" in skipped and "display order" in skipped["position_bias"]
    assert "agreement" in skipped and report["agreement"] == []
    assert report["length_bias"]["n"] == 29  # one pair of equal length (i = 10)
    assert report["hygiene"] is not None


def test_audit_of_planted_biases() -> None:
    table = make_preferences(
        n_prompts=300,
        judges=("judge_a",),
        first_slot_rate={"judge_a": 0.7},
        length_coef=1.0,
        seed=5,
    )
    report = audit_preferences(table, n_boot=50, judge_family={"judge_a": "model_05"}).to_dict()
    flagged = [r["annotator"] for r in report["position_bias"]["by_annotator"] if r["flag"]]
    assert flagged == ["judge_a"]
    assert report["length_bias"]["flag"] is True
    assert report["consistency"]["repeats"][0]["annotator"] == "judge_a"
    assert report["bradley_terry"]["groups"][0]["raters"] == "human"
    assert report["skipped"] == [{"audit": "gold", "reason": "no gold verdicts in the data"}]
    json.dumps(report, allow_nan=False)


def test_help_lists_the_command() -> None:
    result = runner.invoke(app, ["preferences", "--help"])
    assert result.exit_code == 0 and "--judge-family" in result.stdout


def test_empty_input_and_missing_output_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = run(str(empty), "--from", "dpo")
    assert result.exit_code == 2 and "empty input" in result.stderr
    result = run(
        str(DATA / "mtbench"),
        "--from",
        "mtbench",
        "--n-boot",
        "0",
        "--format",
        "json",
        "--out",
        str(tmp_path / "no" / "such.json"),
    )
    assert result.exit_code == 2 and "does not exist" in result.stderr


def test_public_api_of_the_package() -> None:
    import labelaudit.preferences as preferences

    assert preferences.__all__ == sorted(preferences.__all__, key=str.lower)
    for name in preferences.__all__:
        assert getattr(preferences, name) is not None
