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
- **Bounds**: every HTTP attempt has a total ``deadline`` (connect to last byte; the
  ``timeout`` alone bounds each read, so a server dripping one byte at a time would never
  time out) and its body is streamed and refused past ``max_response_bytes`` (a final
  error: the same request would get the same body).
- **Secrets**: the API key is read from the environment by the caller
  (:func:`api_key_from_env`), kept in memory only and sent only in the ``Authorization``
  header; credentials in ``base_url`` (``http://user:pw@host``) are removed from the URL
  and sent as basic authentication. Every text kept from a response (answers, refusals,
  error bodies, error messages) is scrubbed of all of them and their common encodings
  (:class:`~labelaudit.judge.redact.Redactor`).
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
from typing import TYPE_CHECKING, Any, NamedTuple

from labelaudit.exceptions import UsageError
from labelaudit.judge.limits import LIMITS
from labelaudit.judge.redact import Redactor, split_credentials, url_secrets

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
DEFAULT_DEADLINE = float(LIMITS["request_deadline"].default or 600.0)
DEFAULT_MAX_RESPONSE_BYTES = int(LIMITS["max_response_bytes"].default or 8 * 2**20)

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


class _Reply(NamedTuple):
    """One HTTP answer read within the limits."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    charset: str | None

    def text(self) -> str:
        """The body decoded with its charset (UTF-8 by default; bad bytes replaced)."""
        try:
            return self.body.decode(self.charset or "utf-8", errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


class _TooLarge(Exception):
    """A response body above ``max_response_bytes`` (``status`` of the answer)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _usage(usage: Any) -> tuple[int | None, int | None, str | None]:
    """``(prompt_tokens, completion_tokens, problem)`` of a ``usage`` object.

    A count that is absent or not a number is None (the caller estimates it); a negative
    or non-finite count is a problem (the answer becomes an error record).
    """
    counts: list[int | None] = []
    for key in ("prompt_tokens", "completion_tokens"):
        value = usage.get(key) if isinstance(usage, dict) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            counts.append(None)
            continue
        if not math.isfinite(value) or value < 0:
            return None, None, f"invalid usage: {key} = {value!r} (expected a count >= 0)"
        counts.append(int(value) if float(value).is_integer() else None)
    return counts[0], counts[1], None


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
        Seconds per read, connect, write or pool wait.
    deadline : float
        Seconds per HTTP attempt in total, from sending to the last byte of the answer.
    max_response_bytes : int
        Largest response body read (decoded bytes); a larger one is a final error.
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
        deadline: float = DEFAULT_DEADLINE,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        seed: int | None = None,
    ) -> None:
        if concurrency < 1:
            raise UsageError(f"concurrency must be at least 1; got {concurrency}")
        clean, user, password = split_credentials(base_url.rstrip("/"))
        self.url = clean + "/chat/completions"
        self._basic = (user or "", password or "") if (user or password) else None
        self.concurrency = concurrency
        self.retry = retry or RetryPolicy()
        self.deadline = deadline
        self.max_response_bytes = max_response_bytes
        self._api_key = api_key
        self.scrub = Redactor([api_key, *url_secrets(base_url)])
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
            auth=None if self._basic is None else httpx.BasicAuth(*self._basic),
            transport=self._transport,
            trust_env=False,
            verify=self._ssl,
        )
        self._all.append(client)
        return client

    async def _send(self, payload: bytes) -> _Reply:
        """One HTTP attempt in a connection slot, within ``deadline`` and the size cap."""
        assert self._slots is not None
        async with self._slots:
            client = self._client()
            try:
                async with asyncio.timeout(self.deadline):
                    async with client.stream("POST", self.url, content=payload) as response:
                        body = await self._read(response)
                        charset = response.charset_encoding
                        return _Reply(response.status_code, response.headers, body, charset)
            finally:
                self._free.append(client)

    async def _read(self, response: httpx.Response) -> bytes:
        """The body, streamed; _TooLarge as soon as it exceeds ``max_response_bytes``."""
        cap, status = self.max_response_bytes, response.status_code
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise _TooLarge(
                status,
                f"response body of {int(declared)} bytes announced, above "
                f"max_response_bytes = {cap}; not read",
            )
        chunks, size = [], 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > cap:
                raise _TooLarge(
                    status, f"response body above max_response_bytes = {cap} bytes; reading stopped"
                )
            chunks.append(chunk)
        return b"".join(chunks)

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
                reply = await self._send(payload)
            except _TooLarge as exc:
                return Completion(None, None, None, exc.status, attempt + 1, str(exc))
            except TimeoutError:
                error = f"no complete answer within request_deadline = {self.deadline:g} s"
                raw, status = None, None
                delay = self.retry.backoff(attempt, self._rng)
            except httpx.TransportError as exc:
                error, raw, status = self.scrub(f"{type(exc).__name__}: {exc}"), None, None
                delay = self.retry.backoff(attempt, self._rng)
            else:
                status = reply.status
                if status == 200:
                    return self._answer(reply, attempt + 1)
                raw = self.scrub(reply.text())[:_ERROR_TEXT]
                error = f"HTTP {status}"
                if not is_retryable(status):
                    fatal = status in FATAL_STATUSES
                    return Completion(None, None, None, status, attempt + 1, error, raw, fatal)
                after = retry_after_seconds(reply.headers)
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

    def _answer(self, reply: _Reply, attempts: int) -> Completion:
        """The answer text and token usage of a 200 response (or an error naming why not).

        The answer text is scrubbed of the secrets before anything keeps it; a negative
        token count makes the answer an error record (its cost is then estimated).
        """
        try:
            document = json.loads(reply.body)
            message = document["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError, RecursionError):
            raw = self.scrub(reply.text())[:_ERROR_TEXT]
            return Completion(None, None, None, 200, attempts, "malformed response body", raw)
        prompt, completion, problem = _usage(document.get("usage"))
        content = message.get("content") if isinstance(message, dict) else None
        if problem is not None:
            kept = self.scrub(content) if isinstance(content, str) else None
            return Completion(None, None, None, 200, attempts, problem, kept)
        if not isinstance(content, str):
            refusal = message.get("refusal") if isinstance(message, dict) else None
            why = f"refusal: {refusal}" if isinstance(refusal, str) else "no answer text"
            return Completion(None, prompt, completion, 200, attempts, self.scrub(why))
        return Completion(self.scrub(content), prompt, completion, 200, attempts)
