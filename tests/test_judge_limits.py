"""Issue 23, the judge: secrets off disk, the budget always holds, bounded resources.

Every test runs against the real scripted chat-completions server on 127.0.0.1
(tests/judge_server.py) or the real Jinja2 sandbox.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from judge_server import ScriptedServer
from labelaudit.exceptions import InputError, UsageError
from labelaudit.judge.client import ChatClient, Completion, RetryPolicy
from labelaudit.judge.definition import parse_judge
from labelaudit.judge.prompt import PromptBuilder
from labelaudit.judge.redact import Redactor, redact_url
from test_judge_run import (
    KEY_ENV,
    LABEL_JUDGE,
    PER_REQUEST,
    SECRET,
    judge_run,
    read_lines,
    setup,
    write,
)

NO_RETRY = RetryPolicy(max_retries=0)


@pytest.fixture(scope="module")
def server():
    with ScriptedServer() as running:
        yield running


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)


def secret_forms(secret: str) -> list[bytes]:
    """The secret as it could sit on disk: as is, in each case, base64 (3 alignments), hex."""
    raw = secret.encode()
    forms = [raw, raw.upper(), raw.lower(), raw.hex().encode(), raw.hex().upper().encode()]
    for prefix in (b"", b"x", b"xy", b"Bearer ", b"Basic "):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(prefix + raw)
            forms.append(encoded[len(prefix) * 4 // 3 + 2 : len(encoded) - 4])  # the middle
    return forms


def assert_nowhere(secret: str, folder: Path, *texts: str) -> None:
    """No form of ``secret`` in the files labelaudit wrote (not the judge file) or ``texts``."""
    forms = secret_forms(secret)
    for path in folder.iterdir():
        if path.name == "judge.toml":  # the user's own file
            continue
        data = path.read_bytes()
        assert not [f for f in forms if f in data], path.name
    for text in texts:
        assert not [f for f in forms if f.decode() in text], text


def complete(server: ScriptedServer, directive: str, **options: Any) -> Completion:
    request = {"model": "m", "messages": [{"role": "user", "content": f"x\n#mock {directive}"}]}

    async def go() -> Completion:
        options.setdefault("retry", NO_RETRY)
        async with ChatClient(server.base_url, **options) as client:
            return await client.complete(request)

    return asyncio.run(go())


# ----------------------------------------------------------------------------- secrets
def test_redactor_scrubs_the_key_in_its_common_encodings() -> None:
    redact = Redactor([SECRET, None, "ab"])  # too short secrets are ignored
    raw = SECRET.encode()
    texts = [
        SECRET,
        SECRET.upper(),
        json.dumps({"k": SECRET.replace("-", "/")}).replace("/", "\\/"),
        "".join(f"\\u{ord(c):04x}" for c in SECRET),
        base64.b64encode(b"Bearer " + raw).decode(),
        base64.urlsafe_b64encode(b"ab" + raw + b"cd").decode(),
        raw.hex().upper(),
    ]
    redact_slash = Redactor([SECRET.replace("-", "/")])
    for text in texts:
        cleaned = (redact_slash if "\\/" in text else redact)(text)
        assert "***" in cleaned, text
        assert not [f for f in secret_forms(SECRET) if f.decode() in cleaned], cleaned
    assert redact("ab ab label: pos") == "ab ab label: pos"


def test_api_key_echoed_in_200_answers_never_reaches_disk_or_output(
    tmp_path: Path, server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    items = [
        {"item": "e1", "text": '#mock {"echo_auth": "answer"}'},
        {"item": "e2", "text": '#mock {"echo_auth": "body"}'},
    ]
    judge_file, data, prices = setup(tmp_path, server, items)
    out, cache = tmp_path / "v.jsonl", tmp_path / "c.duckdb"
    code, summary, output = judge_run(
        judge_file, data, "--out", out, "--cache", cache, "--prices", prices
    )
    assert code == 0 and summary["n_sent"] == 2
    assert {h.authorization for h in server.hits if h.item in ("e1", "e2")} == {f"Bearer {SECRET}"}
    echoed, body = read_lines(out)
    assert echoed["verdict"] == "pos" and "Bearer *** | BEARER *** | bearer ***" in echoed["raw"]
    assert body["error"] == "malformed response body" and "***" in body["raw"]
    assert_nowhere(SECRET, tmp_path, output)
    _, again, replayed = judge_run(judge_file, data, "--out", out, "--cache", cache)
    assert again["n_cached"] == 1
    assert_nowhere(SECRET, tmp_path, replayed, caplog.text)


def test_base_url_credentials_are_redacted_in_errors_and_the_summary(
    tmp_path: Path, server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    password = "pw-9e1c7a3b55"
    with_credentials = server.base_url.replace("http://", f"http://judge:{password}@")
    assert redact_url(with_credentials) == server.base_url.replace("http://", "http://***:***@")
    items = [{"item": "b1", "text": '#mock {"echo_auth": "answer"}'}]
    judge_file, data, _ = setup(tmp_path, server, items)
    write(judge_file, judge_file.read_text().replace(server.base_url, with_credentials))
    out = tmp_path / "v.jsonl"
    code, summary, output = judge_run(judge_file, data, "--out", out, "--no-cache")
    basic = base64.b64encode(f"judge:{password}".encode()).decode()
    assert code == 0 and [h.authorization for h in server.hits if h.item == "b1"] == [
        f"Basic {basic}"
    ]
    assert read_lines(out)[0]["verdict"] == "pos"
    items = [{"item": "b2", "text": '#mock {"fail": [401]}'}]
    jsonl_data = tmp_path / "items401.jsonl"
    jsonl_data.write_text("".join(json.dumps(i) + "\n" for i in items))
    code, summary, stopped = judge_run(judge_file, jsonl_data, "--out", out, "--no-cache")
    assert code == 2 and "http://***:***@127.0.0.1" in summary["fatal_error"]
    assert "http://***:***@127.0.0.1" in stopped
    assert_nowhere(password, tmp_path, output, stopped)
    assert_nowhere(f"judge:{password}", tmp_path, output, stopped)


# ----------------------------------------------------------------------------- budget
def test_max_cost_stops_a_run_whose_endpoint_omits_usage(
    tmp_path: Path, server: ScriptedServer
) -> None:
    items = [{"item": f"u{i}", "text": f'usage-free {i} #mock {{"usage": null}}'} for i in range(8)]
    judge_file, data, prices = setup(tmp_path, server, items)
    out, cache = tmp_path / "v.jsonl", tmp_path / "c.duckdb"
    args = (judge_file, data, "--out", out, "--cache", cache, "--prices", prices)
    code, summary, output = judge_run(*args, "--concurrency", "1", "--max-cost", "0.0000001")
    assert code == 1 and summary["stopped_by_budget"] and summary["n_sent"] == 1
    assert "tokens (and cost) are estimated at 1 token per 3 bytes" in output
    (line,) = read_lines(out)
    sent = next(h.body for h in server.hits if h.item == "u0")
    prompt_bytes = sum(len(m["content"].encode()) for m in sent["messages"])
    assert line["tokens_estimated"] and line["completion_tokens"] == 6  # '{"label": "pos"}'
    assert (
        abs(line["prompt_tokens"] - prompt_bytes / 3) < 12
    )  # the canonical form's key is 4 hex shorter
    assert line["cost_usd"] > 0 and summary["n_tokens_estimated"] == 1
    code, summary, _ = judge_run(*args)  # resume: the estimate is the same on replay
    assert code == 0 and summary["n_cached"] == 1 and summary["n_tokens_estimated"] == 8
    assert read_lines(out)[0] == {**line, "cached": True}


def test_negative_token_counts_are_an_error_record_not_a_negative_cost(
    tmp_path: Path, server: ScriptedServer
) -> None:
    items = [
        {"item": "n1", "text": '#mock {"usage": [-1000000, 100]}'},
        {"item": "n2", "text": "fine"},
    ]
    judge_file, data, prices = setup(tmp_path, server, items)
    out, cache = tmp_path / "v.jsonl", tmp_path / "c.duckdb"
    code, summary, _ = judge_run(
        judge_file, data, "--out", out, "--cache", cache, "--prices", prices, "--max-cost", "1"
    )
    bad, good = read_lines(out)
    assert code == 0 and summary["n_failed"] == 1
    assert bad["verdict"] is None and bad["error"] == (
        "invalid usage: prompt_tokens = -1000000 (expected a count >= 0)"
    )
    assert bad["raw"] == '{"label": "pos"}' and bad["tokens_estimated"] and bad["cost_usd"] > 0
    assert good["cost_usd"] == pytest.approx(PER_REQUEST)
    assert summary["cost_usd"] == pytest.approx(bad["cost_usd"] + PER_REQUEST)
    _, again, _ = judge_run(judge_file, data, "--out", out, "--cache", cache)
    assert again["n_cached"] == 1 and again["n_sent"] == 1  # the error record was not cached


# ----------------------------------------------------------------------------- HTTP limits
@pytest.mark.parametrize("length", [False, True])
def test_a_300_mb_answer_is_refused_at_the_cap_while_streaming(
    server: ScriptedServer, length: bool
) -> None:
    server.huge_sent = 0
    flag = ', "length": true' if length else ""
    result = complete(server, f'{{"huge_mb": 300{flag}}}', max_response_bytes=2**20)
    assert not result.ok and result.status == 200 and result.attempts == 1
    if length:
        assert result.error == (
            "response body of 314572800 bytes announced, above max_response_bytes = 1048576; "
            "not read"
        )
    else:
        assert result.error == (
            "response body above max_response_bytes = 1048576 bytes; reading stopped"
        )
    assert server.huge_sent < 100 * 2**20  # the client hung up long before 300 MB


def test_a_server_dripping_one_byte_at_a_time_hits_the_total_deadline(
    server: ScriptedServer,
) -> None:
    # each byte comes well within the per-read timeout, so only the deadline can stop it
    result = complete(server, '{"drip_s": 0.4}', timeout=2.0, deadline=1.0)
    assert not result.ok and result.attempts == 1
    assert (
        result.error == "gave up after 1 attempt: no complete answer within request_deadline = 1 s"
    )


def test_response_cap_and_deadline_are_judge_file_keys(
    tmp_path: Path, server: ScriptedServer
) -> None:
    items = [
        {"item": "d1", "text": '#mock {"drip_s": 0.4}'},
        {"item": "d2", "text": '#mock {"huge_mb": 300}'},
        {"item": "d3", "text": "fine"},
    ]
    limits = "max_retries = 0\nrequest_deadline = 0.8\nmax_response_bytes = 4096"
    judge = LABEL_JUDGE.replace("max_retries = 2", limits)
    judge_file, data, _ = setup(tmp_path, server, items, judge)
    out = tmp_path / "v.jsonl"
    code, summary, _ = judge_run(judge_file, data, "--out", out, "--no-cache", "--timeout", "5")
    dripped, huge, fine = read_lines(out)
    assert code == 0 and summary["n_failed"] == 2 and fine["verdict"] == "pos"
    assert dripped["error"].endswith("within request_deadline = 0.8 s")
    assert huge["error"] == "response body above max_response_bytes = 4096 bytes; reading stopped"


# ----------------------------------------------------------------------------- rates
@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        ("rpm = 1e-300", "rpm", "a number from 1 to 1e+06 (requests per minute)"),
        ("rpm = nan", "rpm", "a number from 1 to 1e+06"),
        ("concurrency = 0", "concurrency", "an integer from 1 to 1024"),
        ("concurrency = 4.5", "concurrency", "an integer from 1 to 1024"),
        ("max_retries = 1000", "max_retries", "an integer from 0 to 100"),
        ("timeout = 0", "timeout", "a number from 0.01 to 3600"),
        ("request_deadline = inf", "request_deadline", "a number from 0.01 to 86400"),
        ("max_response_bytes = 10", "max_response_bytes", "an integer from 1024 to"),
        ("render_timeout = -1", "render_timeout", "a number from 0.001 to 600"),
    ],
)
def test_rates_and_limits_are_validated_when_the_judge_file_is_read(
    tmp_path: Path, server: ScriptedServer, line: str, key: str, expected: str
) -> None:
    judge = LABEL_JUDGE.replace("concurrency = 4\n", "").replace("max_retries = 2\n", "")
    judge_file, data, _ = setup(tmp_path, server, [{"item": "r", "text": "t"}], judge)
    write(judge_file, judge_file.read_text().replace("[params]", f"{line}\n[params]"))
    code, _, output = judge_run(judge_file, data, "--out", tmp_path / "v.jsonl", "--no-cache")
    message = " ".join(output.split())
    assert code == 2 and f"{judge_file}: invalid judge definition; field '{key}'" in message
    assert f"expected {expected}" in message and not any(h.item == "r" for h in server.hits)


def test_rate_options_are_validated_too(tmp_path: Path, server: ScriptedServer) -> None:
    judge_file, data, _ = setup(tmp_path, server, [{"item": "r", "text": "t"}])
    for flag, value, expected in [
        ("--rpm", "1e-300", "--rpm must be a number from 1 to 1e+06"),
        ("--concurrency", "0", "--concurrency must be an integer from 1 to 1024"),
        ("--max-retries", "-1", "--max-retries must be an integer from 0 to 100"),
    ]:
        code, _, output = judge_run(
            judge_file, data, "--out", tmp_path / "v.jsonl", "--no-cache", flag, value
        )
        assert code == 2 and expected in output, output


@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        ("temperature = nan", "params.temperature", "a finite number (JSON has no nan or inf)"),
        ("top_p = -inf", "params.top_p", "a finite number"),
        ("seed = 2024-01-01", "params.seed", "JSON has no dates"),
        ("stop = [1979-05-27T07:32:00Z]", "params.stop[0]", "JSON has no dates"),
        ("extra = {at = 07:32:00}", "params.extra.at", "JSON has no dates"),
    ],
)
def test_params_that_json_cannot_carry_are_refused_at_read(
    tmp_path: Path, line: str, key: str, expected: str
) -> None:
    from labelaudit.judge.definition import load_judge

    judge = LABEL_JUDGE.replace("BASE_URL", "http://127.0.0.1:1/v1")
    path = write(tmp_path / "j.toml", judge.replace("temperature = 0", line))
    with pytest.raises(InputError) as info:
        load_judge(path)
    message = str(info.value)
    assert message.startswith(f"{path}: invalid judge definition; field '{key}'")
    assert expected in message


# ----------------------------------------------------------------------------- templates
def bounded_judge(template: str, **limits: Any) -> Any:
    document = {
        "mode": "label",
        "model": "m",
        "base_url": "http://127.0.0.1:1/v1",
        "template": template,
        "categories": ["a", "b"],
        **limits,
    }
    return parse_judge(document, source="judge.toml")


@pytest.mark.parametrize(
    ("template", "limits", "why"),
    [
        (
            "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
            {"render_timeout": 0.2},
            "rendering took longer than render_timeout = 0.2 s",
        ),
        ("{{ 'a' * 10**11 }}", {}, "a value of 100000000000 characters or items"),
        (
            "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
            {},
            "recursion too deep (a macro calling itself without end?)",
        ),
        (
            "{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(0) }}",
            {},
            "recursion too deep",
        ),
        (
            "{% set ns = namespace(x='ab') %}{% for i in range(60) %}"
            "{% set ns.x = ns.x ~ ns.x %}{% endfor %}{{ ns.x|length }}",
            {},
            "above max_prompt_chars = 4000000",
        ),
        ("{{ 'x'|center(10**10) }}", {}, "an argument 10000000000 above max_prompt_chars"),
        ("{{ '{:>99999999999}'.format(1) }}", {}, "a format width above max_prompt_chars"),
        ("{{ 7 ** 1000000000 }}", {}, "a power above 2**100000"),
        (
            "{% for i in range(100000) %}0123456789{% endfor %}",
            {"max_prompt_chars": 500_000},
            "the template produced more than max_prompt_chars = 500000 characters",
        ),
    ],
)
def test_template_bombs_are_refused_when_the_builder_is_made(
    template: str, limits: dict[str, Any], why: str
) -> None:
    judge = bounded_judge(template + " {{ text }}", **limits)
    with pytest.raises(InputError) as info:
        PromptBuilder(judge)
    message = str(info.value)
    assert message.startswith("judge.toml: template error; field 'template'") and why in message


def test_data_dependent_bombs_are_named_with_their_data_line() -> None:
    judge = bounded_judge(
        "{% for a in text %}{% for b in text %}{% endfor %}{% endfor %}{{ text }}",
        render_timeout=0.2,
    )
    builder = PromptBuilder(judge)  # harmless on empty fields
    assert "<data field" in builder.messages({"item": "i", "text": "short"})[1]["content"]
    with pytest.raises(InputError) as info:
        builder.messages({"item": "i", "text": "x" * 5000}, line=7)
    message = str(info.value)
    assert "limit reached: rendering took longer than render_timeout = 0.2 s" in message
    assert message.endswith("(the item on DATA line 7 triggered the error)")


def test_ordinary_templates_render_unchanged_under_the_bounds() -> None:
    judge = bounded_judge(
        "{% for c in categories %}{{ loop.index }}. {{ c|upper }}{{ ', ' if not loop.last }}"
        "{% endfor %}\n{{ '%-4s|' % 'ab' }}{{ 'x' * 3 }}{{ (2 ** 10) + 1 }}\n{{ text }}"
    )
    content = PromptBuilder(judge, run_key="k").messages({"item": "i", "text": "hi"})[1]["content"]
    assert content.startswith(
        '1. A, 2. B\nab  |xxx1025\n<data field="text" key="k">\nhi\n</data key="k">'
    )


def test_a_template_bomb_stops_the_cli_with_exit_2_before_any_request(
    tmp_path: Path, server: ScriptedServer
) -> None:
    judge = LABEL_JUDGE.replace("{{ text }}", "{{ text }}{{ 'a' * 10**11 }}")
    judge_file, data, _ = setup(tmp_path, server, [{"item": "t1", "text": "t"}], judge)
    code, _, output = judge_run(judge_file, data, "--out", tmp_path / "v.jsonl", "--no-cache")
    assert code == 2 and not any(h.item == "t1" for h in server.hits)
    assert re.search(r"template error; field 'template'; .*limit reached", " ".join(output.split()))
    assert "Traceback" not in output


# ----------------------------------------------------------------------------- delimiter key
def test_random_delimiter_keys_per_run_keep_the_cache_and_resume_working(
    tmp_path: Path, server: ScriptedServer
) -> None:
    items = [{"item": f"k{i}", "text": f"keyed text {i}"} for i in range(4)]
    judge_file, data, _ = setup(tmp_path, server, items)
    out, cache = tmp_path / "v.jsonl", tmp_path / "c.duckdb"
    _, first, _ = judge_run(judge_file, data, "--out", out, "--no-cache")
    _, second, _ = judge_run(judge_file, data, "--out", out, "--cache", cache)
    assert first["n_sent"] == second["n_sent"] == 4
    sent = [h.body["messages"][1]["content"] for h in server.hits if h.item == "k0"]
    keys = {re.search(r'key="([0-9a-f]+)"', text).group(1) for text in sent}  # type: ignore[union-attr]
    assert len(sent) == 2 and len(keys) == 2 and all(len(k) == 16 for k in keys)
    lines = read_lines(out)
    code, third, _ = judge_run(judge_file, data, "--out", out, "--cache", cache)
    assert code == 0 and third["n_cached"] == 4 and third["n_sent"] == 0
    assert [v["request_sha256"] for v in read_lines(out)] == [v["request_sha256"] for v in lines]


def test_run_options_outside_their_limits_are_usage_errors() -> None:
    from labelaudit.judge.limits import check_option

    with pytest.raises(UsageError, match=r"--request-deadline must be a number from 0\.01"):
        check_option("request_deadline", 0.0)
    check_option("rpm", None)
