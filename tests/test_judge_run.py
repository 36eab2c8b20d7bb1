"""``labelaudit judge run`` end to end against the scripted loopback server."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from judge_server import ScriptedServer
from labelaudit.cli.app import app

runner = CliRunner()
SECRET = "sk-labelaudit-test-4f1d9c2e7b"
KEY_ENV = "LABELAUDIT_TEST_KEY"
PRICES = '[models."test-model"]\ninput = 2.0\noutput = 10.0\n'
PER_REQUEST = (1000 * 2.0 + 100 * 10.0) / 1e6  # the server's default usage at these prices

LABEL_JUDGE = """
name = "sentiment"
mode = "label"
model = "test-model"
base_url = "BASE_URL"
api_key_env = "LABELAUDIT_TEST_KEY"
categories = ["pos", "neg"]
template = "Item {{ item }}. Is this text positive or negative?\\n{{ text }}"
concurrency = 4
max_retries = 2
[params]
temperature = 0
"""

PAIRWISE_JUDGE = """
name = "pairs"
mode = "pairwise"
model = "test-model"
base_url = "BASE_URL"
api_key_env = "LABELAUDIT_TEST_KEY"
template = "Item {{ item }}. Question: {{ question }}\\nA: {{ first }}\\nB: {{ second }}"
[pairwise]
responses = ["answer_x", "answer_y"]
ids = ["model_x", "model_y"]
[params]
temperature = 0
"""

REFERENCE_JUDGE = """
name = "graded"
mode = "reference"
model = "test-model"
base_url = "BASE_URL"
api_key_env = "LABELAUDIT_TEST_KEY"
template = "{{ item }}: {{ question }}\\nAnswer: {{ answer }}\\nReference: {{ gold_answer }}"
[reference]
field = "gold_answer"
"""


@pytest.fixture(scope="module")
def server():
    with ScriptedServer() as running:
        yield running


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    return write(path, "".join(json.dumps(row) + "\n" for row in rows))


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def judge_run(*args: str | Path, progress: bool = False) -> tuple[int, dict[str, Any], str]:
    flags = ["--format", "json"] + ([] if progress else ["--no-progress"])
    result = runner.invoke(app, ["judge", "run", *map(str, args), *flags])
    summary = json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}
    return result.exit_code, summary, result.output


def setup(
    tmp_path: Path, server: ScriptedServer, items: list[dict[str, Any]], judge: str = LABEL_JUDGE
):
    judge_file = write(tmp_path / "judge.toml", judge.replace("BASE_URL", server.base_url))
    data = jsonl(tmp_path / "items.jsonl", items)
    prices = write(tmp_path / "prices.toml", PRICES)
    return judge_file, data, prices


def sentiment_items(prefix: str, n: int = 4) -> list[dict[str, Any]]:
    items = [{"item": f"{prefix}{i}", "text": f"text number {i}"} for i in range(n)]
    items.append({"item": f"{prefix}-neg", "text": '#mock {"label": "neg"}'})
    items.append(
        {"item": f"{prefix}-broken", "text": '#mock {"answer": "{\\"label\\": \\"neg\\""}'}
    )
    items.append({"item": f"{prefix}-prose", "text": '#mock {"answer": "I cannot decide, sorry."}'})
    return items


def test_run_writes_verdicts_then_replays_them_from_the_cache(
    tmp_path: Path, server: ScriptedServer
) -> None:
    judge_file, data, prices = setup(tmp_path, server, sentiment_items("c"))
    out, cache = tmp_path / "verdicts.jsonl", tmp_path / "cache.duckdb"
    code, summary, _ = judge_run(
        judge_file, data, "--out", out, "--cache", cache, "--prices", prices
    )
    assert code == 0 and summary["n_sent"] == 7 and summary["n_cached"] == 0
    first = read_lines(out)
    assert [line["item"] for line in first] == [f"c{i}" for i in range(4)] + [
        "c-neg",
        "c-broken",
        "c-prose",
    ]
    assert list(first[0]) == [
        "item",
        "judge",
        "order",
        "verdict",
        "raw",
        "error",
        "prompt_tokens",
        "completion_tokens",
        "cost_usd",
        "cached",
        "request_sha256",
        "repeat",
        "first",
        "second",
        "tokens_estimated",
    ]
    assert [line["verdict"] for line in first] == ["pos"] * 4 + ["neg", "neg", None]
    assert first[5]["raw"] == '{"label": "neg"' and first[5]["error"] is None
    prose = first[6]
    assert prose["raw"] == "I cannot decide, sorry." and prose["error"].startswith(
        "unparseable answer"
    )
    assert all(line["judge"] == "sentiment" and line["order"] is None for line in first)
    hits = len(server.hits)
    code, summary, _ = judge_run(
        judge_file, data, "--out", out, "--cache", cache, "--prices", prices
    )
    assert code == 0 and len(server.hits) == hits  # nothing reached the server
    assert summary["n_cached"] == 7 and summary["n_sent"] == 0 and summary["n_failed"] == 1
    second = read_lines(out)
    assert all(line["cached"] for line in second)
    assert [{**line, "cached": False} for line in second] == first


def test_cost_accounting(tmp_path: Path, server: ScriptedServer) -> None:
    judge_file, data, prices = setup(tmp_path, server, sentiment_items("p"))
    out, cache = tmp_path / "v.jsonl", tmp_path / "cache.duckdb"
    _, summary, _ = judge_run(
        judge_file, data, "--out", out, "--cache", cache, "--prices", prices, progress=True
    )
    assert summary["prompt_tokens"] == 7000 and summary["completion_tokens"] == 700
    assert summary["cost_usd"] == pytest.approx(7 * PER_REQUEST, abs=1e-12)
    assert all(line["cost_usd"] == pytest.approx(PER_REQUEST) for line in read_lines(out))
    assert summary["prices"]["input_per_million"] == 2.0
    _, again, _ = judge_run(judge_file, data, "--out", out, "--cache", cache, "--prices", prices)
    assert again["cost_usd"] == 0.0 and again["cached_cost_usd"] == pytest.approx(7 * PER_REQUEST)
    _, unpriced, _ = judge_run(judge_file, data, "--out", out, "--cache", cache)
    assert unpriced["cost_usd"] is None and unpriced["prices"]["model"] == "test-model"


def test_max_cost_stops_sending_keeps_what_finished_and_exits_1(
    tmp_path: Path, server: ScriptedServer
) -> None:
    items = [{"item": f"m{i}", "text": f"budget {i}"} for i in range(10)]
    judge_file, data, prices = setup(tmp_path, server, items)
    out = tmp_path / "v.jsonl"
    args = (judge_file, data, "--out", out, "--cache", tmp_path / "c.duckdb", "--prices", prices)
    code, summary, output = judge_run(
        *args, "--max-cost", str(3 * PER_REQUEST), "--concurrency", "1"
    )
    assert code == 1 and summary["stopped_by_budget"] and "--max-cost" in output
    assert summary["n_sent"] == 3 and summary["n_unsent"] == 7 and len(read_lines(out)) == 3
    code, summary, _ = judge_run(*args, "--max-cost", "1")  # the rest; the first 3 are cached
    assert code == 0 and summary["n_cached"] == 3 and summary["n_sent"] == 7
    code, _, output = judge_run(judge_file, data, "--out", out, "--no-cache", "--max-cost", "1")
    assert code == 2 and "--max-cost needs the price of 'test-model'" in output


def test_pairwise_runs_both_orders_and_maps_verdicts_to_response_ids(
    tmp_path: Path, server: ScriptedServer
) -> None:
    items = [
        {
            "item": "q1",
            "question": "2+2?",
            "answer_x": "4, PREFERRED",
            "answer_y": "5",
            "model_x": "gpt-a",
            "model_y": "gpt-b",
        },
        {
            "item": "q2",
            "question": "capital of France?",
            "answer_x": "Lyon",
            "answer_y": "Paris PREFERRED",
            "model_x": "gpt-a",
            "model_y": "gpt-b",
        },
        {
            "item": "q3",
            "question": '#mock {"winner": "A"}',
            "answer_x": "x",
            "answer_y": "y",
            "model_x": "gpt-b",
            "model_y": "gpt-c",
        },
        {
            "item": "q4",
            "question": "tie?",
            "answer_x": "same",
            "answer_y": "same too",
            "model_x": "gpt-a",
            "model_y": "gpt-c",
        },
    ]
    judge_file, data, _ = setup(tmp_path, server, items, PAIRWISE_JUDGE)
    out = tmp_path / "v.jsonl"
    code, summary, _ = judge_run(judge_file, data, "--out", out, "--cache", tmp_path / "c.duckdb")
    assert code == 0 and summary["n_requests"] == 8 and summary["mode"] == "pairwise"
    lines = read_lines(out)
    got = [
        (row["item"], row["order"], row["first"], row["second"], row["verdict"]) for row in lines
    ]
    assert got == [
        ("q1", "ab", "gpt-a", "gpt-b", "gpt-a"),
        ("q1", "ba", "gpt-b", "gpt-a", "gpt-a"),
        ("q2", "ab", "gpt-a", "gpt-b", "gpt-b"),
        ("q2", "ba", "gpt-b", "gpt-a", "gpt-b"),
        ("q3", "ab", "gpt-b", "gpt-c", "gpt-b"),
        ("q3", "ba", "gpt-c", "gpt-b", "gpt-c"),
        ("q4", "ab", "gpt-a", "gpt-c", "tie"),
        ("q4", "ba", "gpt-c", "gpt-a", "tie"),
    ]
    assert all(json.loads(row["raw"])["winner"] in ("A", "B", "tie") for row in lines)  # raw kept
    code, summary, _ = judge_run(judge_file, data, "--out", out, "--no-cache", "--orders", "ab")
    assert summary["n_requests"] == 4 and {row["order"] for row in read_lines(out)} == {"ab"}


def test_reference_mode_grades_answers_against_the_reference(
    tmp_path: Path, server: ScriptedServer
) -> None:
    items = [
        {"item": "g1", "question": "2+2?", "answer": "4", "gold_answer": "four (4)"},
        {
            "item": "g2",
            "question": '#mock {"label": "incorrect"}',
            "answer": "5",
            "gold_answer": "the number 4",
        },
    ]
    judge_file, data, _ = setup(tmp_path, server, items, REFERENCE_JUDGE)
    out = tmp_path / "v.jsonl"
    code, summary, _ = judge_run(judge_file, data, "--out", out, "--no-cache")
    assert code == 0 and summary["mode"] == "reference" and summary["n_requests"] == 2
    assert [(row["item"], row["verdict"]) for row in read_lines(out)] == [
        ("g1", "correct"),
        ("g2", "incorrect"),
    ]
    bodies = [hit.body for hit in server.hits if hit.item in ("g1", "g2")]
    schema = bodies[0]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["label"]["enum"] == ["correct", "incorrect"]
    prompts = ["\n".join(m["content"] for m in body["messages"]) for body in bodies]
    assert any('field="gold_answer"' in text and "four (4)" in text for text in prompts)
    assert any("the number 4" in text for text in prompts)


def test_reference_mode_refuses_a_template_without_the_reference(
    tmp_path: Path, server: ScriptedServer
) -> None:
    blind = REFERENCE_JUDGE.replace("\\nReference: {{ gold_answer }}", "")
    items = [{"item": "g1", "question": "2+2?", "answer": "4", "gold_answer": "4"}]
    judge_file, data, _ = setup(tmp_path, server, items, blind)
    code, _, output = judge_run(judge_file, data, "--out", tmp_path / "v.jsonl", "--no-cache")
    assert code == 2
    assert "field 'template'; expected a reference-mode template that uses {{ gold_answer }}" in (
        " ".join(output.split())
    )
    judge_file, data, _ = setup(tmp_path, server, [{"item": "g1", "question": "q", "answer": "a"}])
    judge_file.write_text(REFERENCE_JUDGE.replace("BASE_URL", server.base_url), encoding="utf-8")
    code, _, output = judge_run(judge_file, data, "--out", tmp_path / "v.jsonl", "--no-cache")
    assert code == 2 and "field 'gold_answer'" in output


def test_repeats_are_fresh_requests_with_their_own_cache_entries(
    tmp_path: Path, server: ScriptedServer
) -> None:
    items = [{"item": f"r{i}", "text": f"repeat me {i}"} for i in range(3)]
    judge_file, data, _ = setup(tmp_path, server, items)
    out, cache = tmp_path / "v.jsonl", tmp_path / "c.duckdb"
    hits = len(server.hits)
    code, summary, _ = judge_run(judge_file, data, "--out", out, "--cache", cache, "--repeats", "3")
    assert code == 0 and summary["n_sent"] == 9 and len(server.hits) == hits + 9
    lines = read_lines(out)
    assert [(row["item"], row["repeat"]) for row in lines] == [
        (f"r{i}", r) for i in range(3) for r in range(3)
    ]
    assert len({row["request_sha256"] for row in lines}) == 9
    _, again, _ = judge_run(judge_file, data, "--out", out, "--cache", cache, "--repeats", "3")
    assert again["n_cached"] == 9 and len(server.hits) == hits + 9


def test_failed_requests_are_recorded_not_cached_and_retried_next_run(
    tmp_path: Path, server: ScriptedServer
) -> None:
    items = [{"item": "e1", "text": '#mock {"fail": [400]}'}, {"item": "e2", "text": "fine"}]
    judge_file, data, _ = setup(tmp_path, server, items)
    out, cache = tmp_path / "v.jsonl", tmp_path / "c.duckdb"
    code, summary, _ = judge_run(judge_file, data, "--out", out, "--cache", cache)
    failed = read_lines(out)[0]
    assert code == 0 and summary["n_failed"] == 1
    assert (
        failed["verdict"] is None
        and failed["error"] == "HTTP 400"
        and "scripted 400" in failed["raw"]
    )
    _, summary, _ = judge_run(judge_file, data, "--out", out, "--cache", cache)
    assert summary["n_cached"] == 1 and summary["n_sent"] == 1
    assert read_lines(out)[0]["verdict"] == "pos"  # the second attempt of e1 succeeded


def test_api_key_never_reaches_disk_output_or_logs(
    tmp_path: Path, server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    retry = {"item": "k-retry", "text": '#mock {"fail": [503], "retry_after": "0"}'}
    items = [*sentiment_items("k"), retry]
    judge_file, data, prices = setup(tmp_path, server, items)
    out, cache = tmp_path / "v.jsonl", tmp_path / "cache.duckdb"
    code, _, output = judge_run(
        judge_file, data, "--out", out, "--cache", cache, "--prices", prices
    )
    assert code == 0
    stop = [{"item": "k-401", "text": '#mock {"fail": [401]}'}]
    judge_file, data, _ = setup(tmp_path, server, stop)
    code, _, stopped = judge_run(
        judge_file, data, "--out", tmp_path / "v401.jsonl", "--cache", cache
    )
    assert code == 2 and "HTTP 401" in stopped and "$LABELAUDIT_TEST_KEY" in stopped
    assert "Bearer ***" in stopped  # the server echoed the key; it was scrubbed
    assert {hit.authorization for hit in server.hits if hit.item and hit.item.startswith("k")} == {
        f"Bearer {SECRET}"
    }
    secret = SECRET.encode()
    for path in tmp_path.iterdir():
        assert secret not in path.read_bytes(), path.name
    assert SECRET not in output + stopped
    assert SECRET not in caplog.text and all(SECRET not in str(r.args) for r in caplog.records)
    assert any("retry 1 after HTTP 503" in r.getMessage() for r in caplog.records)


def test_cache_lives_in_the_project_store_inside_a_project(
    tmp_path: Path, server: ScriptedServer
) -> None:
    from labelaudit.project import init_project
    from labelaudit.project.store import Store

    project = init_project(tmp_path / "proj")
    judge_file, data, _ = setup(tmp_path, server, sentiment_items("s", 2))
    code, summary, _ = judge_run(
        judge_file, data, "--out", tmp_path / "v.jsonl", "--project", project.root
    )
    assert code == 0 and summary["cache"] == f"{project.store_path} (table judge_cache)"
    with Store.open(project.store_path, read_only=True) as store:
        assert store.execute("SELECT count(*) FROM judge_cache").fetchone()[0] == 5
    _, again, _ = judge_run(
        judge_file, data, "--out", tmp_path / "v.jsonl", "--project", project.root
    )
    assert again["n_cached"] == 5


def test_bad_data_is_named(tmp_path: Path, server: ScriptedServer) -> None:
    judge_file, data, _ = setup(tmp_path, server, [{"item": "x1", "txt": "typo"}])
    code, _, output = judge_run(judge_file, data, "--out", tmp_path / "v.jsonl", "--no-cache")
    assert code == 2
    assert (
        f"{data}:1: missing field; field 'text'; expected the fields item, text; got 'item, txt'"
        in output
    )
