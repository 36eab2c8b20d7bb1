"""The chat-completions client against the scripted loopback server: retries, backoff, limits."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from judge_server import ScriptedServer
from labelaudit.exceptions import UsageError
from labelaudit.judge.client import (
    ChatClient,
    Completion,
    RetryPolicy,
    TokenBucket,
    require_httpx,
    retry_after_seconds,
)

FAST = RetryPolicy(max_retries=3, backoff_base=0.001, backoff_max=0.002)


def body(directive: str, model: str = "m") -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": f"judge this\n#mock {directive}"}],
    }


def complete(server: ScriptedServer, request: dict[str, Any], **options: Any) -> Completion:
    async def go() -> Completion:
        options.setdefault("retry", FAST)
        async with ChatClient(server.base_url, **options) as client:
            return await client.complete(request)

    return asyncio.run(go())


@pytest.fixture(scope="module")
def server():
    with ScriptedServer() as running:
        yield running


def attempts(server: ScriptedServer, request: dict[str, Any]) -> int:
    with server.lock:
        return sum(1 for messages in server.arrived if messages == request["messages"])


@pytest.mark.parametrize("failure", [408, 409, 429, 500, 502, 503, "drop"])
def test_retryable_failures_are_retried_until_an_answer(
    server: ScriptedServer, failure: object
) -> None:
    request = body(f'{{"fail": [{failure!r}, {failure!r}], "label": "neg"}}'.replace("'", '"'))
    result = complete(server, request)
    assert result.ok and result.content == '{"label": "neg"}' and result.attempts == 3
    assert (result.prompt_tokens, result.completion_tokens) == (1000, 100)
    assert attempts(server, request) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(server: ScriptedServer, status: int) -> None:
    request = body(f'{{"fail": [{status}], "id": "no-retry"}}')
    result = complete(server, request)
    assert not result.ok and result.attempts == 1 and attempts(server, request) == 1
    assert result.error == f"HTTP {status}" and result.status == status
    assert f"scripted {status}" in (result.raw or "")
    assert result.fatal is (status in (401, 403, 404))


def test_gives_up_after_the_retry_budget(server: ScriptedServer) -> None:
    request = body('{"fail": [500, 500, 500, 500, 500]}')
    result = complete(server, request, retry=RetryPolicy(max_retries=2, backoff_base=0.001))
    assert result.error == "gave up after 3 attempts: HTTP 500" and attempts(server, request) == 3


def test_malformed_body_and_slow_answers(server: ScriptedServer) -> None:
    bad = complete(server, body('{"fail": ["badbody"]}'))
    assert bad.error == "malformed response body" and bad.raw == "<html>not json</html>"
    assert bad.attempts == 1
    slow = body('{"fail": ["slow"], "slow_s": 0.5, "label": "pos"}')
    result = complete(server, slow, timeout=0.1)
    assert result.ok and result.attempts == 2 and attempts(server, slow) == 2


def test_retry_after_is_honoured_exactly(server: ScriptedServer) -> None:
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    result = complete(server, body('{"fail": [429, 503], "retry_after": "2"}'), sleep=record)
    assert result.ok and slept == [2.0, 2.0]
    slept.clear()
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    result = complete(server, body(f'{{"fail": [429], "retry_after": "{when}"}}'), sleep=record)
    assert result.ok and len(slept) == 1 and 25.0 < slept[0] <= 30.0
    slept.clear()
    result = complete(
        server,
        body('{"fail": [500, 500, 500], "x": 1}'),
        sleep=record,
        retry=RetryPolicy(max_retries=3, backoff_base=1.0, backoff_max=3.0),
    )
    assert result.ok and len(slept) == 3
    assert all(0.0 <= s <= cap for s, cap in zip(slept, (1.0, 2.0, 3.0), strict=True))


def test_retry_after_parsing() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds({"Retry-After": "7"}, now) == 7.0
    assert retry_after_seconds({"retry-after": "0.25"}, now) == 0.25
    assert retry_after_seconds({"Retry-After": "Wed, 01 Jan 2025 12:00:09 GMT"}, now) == 9.0
    assert retry_after_seconds({"Retry-After": "Wed, 01 Jan 2025 11:00:00 GMT"}, now) == 0.0
    assert retry_after_seconds({"retry-after-ms": "1500", "Retry-After": "9"}, now) == 1.5
    assert retry_after_seconds({"Retry-After": "soon"}, now) is None
    assert retry_after_seconds({}, now) is None


def test_full_jitter_backoff_bounds() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=4.0)
    rng = random.Random(0)
    draws = [[policy.backoff(a, rng) for _ in range(200)] for a in range(6)]
    for attempt, values in enumerate(draws):
        cap = min(4.0, 0.5 * 2**attempt)
        assert min(values) >= 0.0 and max(values) <= cap and max(values) > 0.8 * cap


def test_token_bucket_spaces_requests_at_the_rate() -> None:
    now = [0.0]
    times: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    async def go() -> None:
        bucket = TokenBucket(120, clock=lambda: now[0], sleep=fake_sleep)  # 2 per second
        for _ in range(7):
            await bucket.acquire()
            times.append(now[0])

    asyncio.run(go())
    assert times == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5])


def test_concurrency_limit_and_api_key_header(server: ScriptedServer) -> None:
    async def go() -> list[Completion]:
        async with ChatClient(
            server.base_url, concurrency=3, api_key="sk-test-123", retry=FAST
        ) as client:
            return await asyncio.gather(
                *(client.complete(body(f'{{"delay": 0.05, "n": {i}}}')) for i in range(12))
            )

    deadline = time.monotonic() + 10
    while server.in_flight and time.monotonic() < deadline:  # a late answer of another test
        time.sleep(0.01)
    server.max_in_flight = 0
    results = asyncio.run(go())
    assert all(r.ok for r in results) and server.max_in_flight == 3
    assert {hit.authorization for hit in server.hits[-12:]} == {"Bearer sk-test-123"}


def test_httpx_is_optional_with_an_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)
    with pytest.raises(UsageError, match=r"Fix: pip install 'labelaudit\[judge\]'"):
        require_httpx()
    code = "import sys, labelaudit.cli.app; assert 'httpx' not in sys.modules, 'httpx imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
