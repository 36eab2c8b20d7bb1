"""An async client of OpenAI-compatible ``/chat/completions`` endpoints (httpx, imported lazily).

Works with OpenAI, vLLM, Ollama, llama.cpp's server, LM Studio and any server speaking the
protocol. Behaviour:

- **Limits**: a semaphore bounds the requests in flight (``concurrency``); each request
  in flight uses its own keep-alive connection slot. A token bucket bounds the request
  rate (``rpm`` per minute, refilled continuously, burst of ``max(1, rpm / 60)``).
- **Retries**: connection errors (refused, reset, dropped, timeouts) and the statuses 408,
  409, 429 and 5xx are retried up to ``max_retries`` times with exponential backoff and
  full jitter, ``uniform(0, min(cap, base * 2**attempt))`` (Brooker 2015, "Exponential
  Backoff And Jitter"); a ``Retry-After`` header (seconds or an HTTP date) or
  ``retry-after-ms`` replaces the backoff and is honoured exactly (capped at
  ``max_retry_after``). Any other status (400, 401, 403, 404, 422...) is final.
- **Secrets**: the API key is read from the environment by the caller
  (:func:`api_key_from_env`), kept in memory only and sent only in the ``Authorization``
  header; every error text kept from a response is scrubbed of it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from labelaudit.exceptions import UsageError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "FATAL_STATUSES",
    "ChatClient",
    "Completion",
    "RetryPolicy",
    "TokenBucket",
    "api_key_from_env",
    "is_retryable",
    "require_httpx",
    "retry_after_seconds",
]

logger = logging.getLogger("labelaudit.judge")

#: Statuses that show the configuration is wrong (key, permission, URL or model): every
#: further request would fail the same way, so a run stops at the first one.
FATAL_STATUSES = frozenset({401, 403, 404})
_RETRY_STATUSES = frozenset({408, 409, 429})
_ERROR_TEXT = 2000

Sleep = Callable[[float], Awaitable[None]]


def require_httpx() -> Any:
    """Import httpx, or fail with the install hint of the ``judge`` extra."""
    try:
        import httpx
    except ImportError:
        raise UsageError(
            "the LLM judge needs httpx, which is not installed. "
            "Fix: pip install 'labelaudit[judge]'"
        ) from None
    return httpx


def api_key_from_env(name: str) -> str | None:
    """The API key in environment variable ``name`` (None when unset or empty)."""
    value = os.environ.get(name, "").strip()
    return value or None


def is_retryable(status: int) -> bool:
    """True for 408, 409, 429 and every 5xx."""
    return status in _RETRY_STATUSES or 500 <= status <= 599


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date).

    Returns None when neither header is present or parseable; never negative.
    """
    lower = {key.lower(): value for key, value in headers.items()}
    millis = lower.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000.0
            if math.isfinite(value):
                return max(0.0, value)
        except ValueError:
            pass
    text = lower.get("retry-after")
    if text is None:
        return None
    try:
        value = float(text)
        return max(0.0, value) if math.isfinite(value) else None
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """Retry budget and backoff (seconds)."""

    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 600.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter delay before retry number ``attempt + 1`` (``attempt`` from 0)."""
        return rng.uniform(0.0, min(self.backoff_max, self.backoff_base * 2.0**attempt))


class TokenBucket:
    """Requests-per-minute limiter: ``rate`` tokens per second, at most ``capacity`` saved.

    Parameters
    ----------
    per_minute : float
        Sustained requests per minute.
    capacity : float, optional
        Burst size (default ``max(1, per_minute / 60)``).
    clock, sleep : callables, optional
        Time source and async sleep (injected by tests).
    """

    def __init__(
        self,
        per_minute: float,
        *,
        capacity: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not per_minute > 0:
            raise UsageError(f"rpm must be positive; got {per_minute!r}")
        self.rate = per_minute / 60.0
        self.capacity = capacity if capacity is not None else max(1.0, self.rate)
        self.tokens = self.capacity
        self.clock, self.sleep = clock, sleep
        self.updated = clock()
        self._lock: asyncio.Lock | None = None

    async def acquire(self) -> float:
        """Take one token, waiting until one is available; returns the seconds waited."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            waited = 0.0
            while True:
                now = self.clock()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1.0:
                    self.tokens -= 1.0
                    return waited
                delay = (1.0 - self.tokens) / self.rate
                await self.sleep(delay)
                waited += delay


@dataclass(frozen=True)
class Completion:
    """Outcome of one chat-completion request (after retries).

    ``content`` is the answer text (None on failure); ``error`` says why it failed and
    ``raw`` keeps the response body of a failure (scrubbed of the key, first 2000 chars);
    ``attempts`` counts HTTP attempts; ``fatal`` marks 401/403/404.
    """

    content: str | None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    status: int | None = None
    attempts: int = 1
    error: str | None = None
    raw: str | None = None
    fatal: bool = False

    @property
    def ok(self) -> bool:
        """True when an answer text was received."""
        return self.error is None


def _tokens(usage: Any, key: str) -> int | None:
    value = usage.get(key) if isinstance(usage, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class ChatClient:
    """Async chat-completions client with limits, retries and backoff (use ``async with``).

    Parameters
    ----------
    base_url : str
        Endpoint root; requests go to ``{base_url}/chat/completions``.
    api_key : str, optional
        Sent as ``Authorization: Bearer ...`` (nothing is sent when None).
    concurrency : int
        Requests in flight at most.
    rpm : float, optional
        Requests per minute at most (None = no limit).
    timeout : float
        Seconds per attempt (connect, read, write and pool).
    retry : RetryPolicy
    transport : httpx.AsyncBaseTransport, optional
        For tests and custom networking.
    sleep : callable, optional
        Async sleep used between retries (injected by tests).
    seed : int, optional
        Seed of the jitter.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        concurrency: int = 8,
        rpm: float | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        seed: int | None = None,
    ) -> None:
        if concurrency < 1:
            raise UsageError(f"concurrency must be at least 1; got {concurrency}")
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.concurrency = concurrency
        self.retry = retry or RetryPolicy()
        self._api_key = api_key
        self._timeout = timeout
        self._transport = transport
        self._sleep: Sleep = sleep or asyncio.sleep
        self._rng = random.Random(seed)
        self._bucket = TokenBucket(rpm) if rpm else None
        self._ssl: Any = None
        self._slots: asyncio.Semaphore | None = None
        self._free: list[httpx.AsyncClient] = []
        self._all: list[httpx.AsyncClient] = []
        self._open = False

    async def __aenter__(self) -> ChatClient:
        import ssl

        require_httpx()
        self._ssl = ssl.create_default_context()  # shared: one context, not one per slot
        self._slots = asyncio.Semaphore(self.concurrency)
        self._free = []
        self._all = []
        self._open = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._open = False
        clients, self._all, self._free = self._all, [], []
        for client in clients:
            await client.aclose()

    def _client(self) -> httpx.AsyncClient:
        """A free connection slot (an AsyncClient with one keep-alive connection).

        One small client per slot instead of one pool of ``concurrency`` connections:
        httpcore's pool scans every connection on every request (quadratic at 64 slots).
        """
        if self._free:
            return self._free.pop()
        httpx = require_httpx()
        headers = {"content-type": "application/json", "accept": "application/json"}
        if self._api_key:
            headers["authorization"] = f"Bearer {self._api_key}"
        client = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(self._timeout),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            transport=self._transport,
            trust_env=False,
            verify=self._ssl,
        )
        self._all.append(client)
        return client

    def scrub(self, text: str) -> str:
        """``text`` with the API key replaced by ``***`` (for anything kept or logged)."""
        return text.replace(self._api_key, "***") if self._api_key else text

    async def complete(self, body: Mapping[str, Any]) -> Completion:
        """POST one request body, retrying as described in the module docstring.

        Parameters
        ----------
        body : mapping
            The JSON request (``model``, ``messages``, sampling parameters...).

        Returns
        -------
        Completion
        """
        httpx = require_httpx()
        if not self._open or self._slots is None:
            raise UsageError("use the client as `async with ChatClient(...) as client:`")
        payload = json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
        error, raw, status = "no attempt made", None, None
        for attempt in range(self.retry.max_retries + 1):
            if self._bucket is not None:
                await self._bucket.acquire()
            try:
                async with self._slots:
                    client = self._client()
                    try:
                        response = await client.post(self.url, content=payload)
                    finally:
                        self._free.append(client)
            except httpx.TransportError as exc:
                error, raw, status = self.scrub(f"{type(exc).__name__}: {exc}"), None, None
                delay = self.retry.backoff(attempt, self._rng)
            else:
                status = response.status_code
                if status == 200:
                    return self._answer(response, attempt + 1)
                raw = self.scrub(response.text[:_ERROR_TEXT])
                error = f"HTTP {status}"
                if not is_retryable(status):
                    fatal = status in FATAL_STATUSES
                    return Completion(None, None, None, status, attempt + 1, error, raw, fatal)
                after = retry_after_seconds(response.headers)
                delay = (
                    min(after, self.retry.max_retry_after)
                    if after is not None
                    else self.retry.backoff(attempt, self._rng)
                )
            if attempt < self.retry.max_retries:
                logger.info("retry %d after %s in %.3f s", attempt + 1, error, delay)
                await self._sleep(delay)
        attempts = self.retry.max_retries + 1
        plural = "attempt" if attempts == 1 else "attempts"
        return Completion(
            None, None, None, status, attempts, f"gave up after {attempts} {plural}: {error}", raw
        )

    def _answer(self, response: httpx.Response, attempts: int) -> Completion:
        """The answer text and token usage of a 200 response (or an error naming why not)."""
        try:
            document = response.json()
            message = document["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError):
            raw = self.scrub(response.text[:_ERROR_TEXT])
            return Completion(None, None, None, 200, attempts, "malformed response body", raw)
        usage = document.get("usage")
        prompt, completion = _tokens(usage, "prompt_tokens"), _tokens(usage, "completion_tokens")
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, str):
            refusal = message.get("refusal") if isinstance(message, dict) else None
            why = f"refusal: {refusal}" if isinstance(refusal, str) else "no answer text"
            return Completion(None, prompt, completion, 200, attempts, self.scrub(why))
        return Completion(content, prompt, completion, 200, attempts)
