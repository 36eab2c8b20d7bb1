"""Run a judge over DATA: plan the requests, replay the cache, send the rest, write verdicts.

:func:`run_judge` is the entry point (and the CLI's call). Steps:

1. **Plan**: one request per item -- per presentation order in pairwise mode (``ab`` =
   ``responses[0]`` shown first, ``ba`` = swapped; both by default) and per repetition
   (``repeats``). Identical requests (same cache key) are sent once.
2. **Replay**: the answers already in the cache are looked up in one query.
3. **Send**: ``concurrency`` workers take the remaining requests; each sends one request
   (retries included), parses the answer, waits until the answer is committed to the
   cache, and only then takes the next one. A killed run therefore re-sends at most
   ``concurrency`` requests. ``max_cost`` stops the workers once the cost of this run's
   answers reaches it (requests already in flight finish and are kept). An answer
   without a usable token count is costed from estimated tokens
   (:func:`~labelaudit.judge.prices.estimate_tokens`), so the budget always stops a run.
4. **Write**: one verdict line per planned request that finished, in DATA order (then
   order ``ab``/``ba``, then repetition), written atomically to ``out``.

The verdict lines and the run summary are described in :mod:`labelaudit.judge.verdicts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from labelaudit.exceptions import InputError, UsageError
from labelaudit.judge.cache import CacheEntry, GroupWriter, JudgeCache, RequestKeys
from labelaudit.judge.client import ChatClient, Completion, RetryPolicy, api_key_from_env
from labelaudit.judge.data import Items, read_items, required_fields
from labelaudit.judge.definition import JudgeDefinition
from labelaudit.judge.limits import check_option
from labelaudit.judge.parse import Parsed, parse_answer
from labelaudit.judge.prices import PriceTable, estimate_tokens
from labelaudit.judge.prompt import PromptBuilder, template_fields
from labelaudit.judge.redact import Redactor, redact_url, url_secrets
from labelaudit.judge.verdicts import JudgeRun, RunSummary, Verdict, write_verdicts

__all__ = ["Planned", "RequestPlan", "RunOptions", "plan_requests", "response_format", "run_judge"]

ORDERS = ("both", "ab")
logger = logging.getLogger("labelaudit.judge")


@dataclass(frozen=True)
class RunOptions:
    """Options of one run; None keeps the judge file's value."""

    concurrency: int | None = None
    rpm: float | None = None
    timeout: float | None = None
    max_retries: int | None = None
    request_deadline: float | None = None
    max_response_bytes: int | None = None
    repeats: int = 1
    orders: str = "both"
    max_cost: float | None = None
    seed: int | None = None
    retry: RetryPolicy | None = None


class Planned(NamedTuple):
    """One verdict to produce: which item, order and repetition, under which cache key."""

    item: str
    order: str | None
    repeat: int
    first: str | None
    second: str | None
    key: str


@dataclass
class _Answer:
    content: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    parsed: Parsed | None
    error: str | None
    raw: str | None
    cached: bool
    estimated: bool = False


@dataclass
class _State:
    """Mutable counters shared by the workers (one event loop, so no locks are needed)."""

    total: int
    answers: dict[str, _Answer] = field(default_factory=dict)
    cached: int = 0
    sent: int = 0
    failed: int = 0
    attempts: int = 0
    cost: float = 0.0
    cached_cost: float = 0.0
    estimated: int = 0
    budget_stop: bool = False
    fatal: str | None = None
    cache_writes: dict[str, Any] | None = None

    def progress(self) -> dict[str, Any]:
        done = self.cached + self.sent
        return {
            "total": self.total,
            "done": done,
            "cached": self.cached,
            "failed": self.failed,
            "cost_usd": self.cost,
        }


def response_format(judge: JudgeDefinition) -> dict[str, Any] | None:
    """The ``response_format`` sent with every request (None when structured output is off)."""
    if judge.structured_output == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": "verdict", "schema": judge.output_schema, "strict": True},
        }
    if judge.structured_output == "json_object":
        return {"type": "json_object"}
    return None


def _response_ids(judge: JudgeDefinition, record: dict[str, Any], items: Items, row: int) -> Any:
    if judge.response_ids is None:
        return judge.responses
    ids = tuple(str(record[name]) for name in judge.response_ids)
    if ids[0] == ids[1]:
        raise InputError(
            "the two responses have the same id",
            source=items.source,
            line=items.lines[row],
            field=judge.response_ids[1],
            expected=f"an id different from {ids[0]!r}",
            actual=ids[1],
        )
    return ids


@dataclass
class RequestPlan:
    """Every verdict to produce, and where each distinct request comes from.

    ``planned`` is in output order; ``origin`` maps each distinct cache key to the DATA row
    and order it renders from; ``prompt_bytes`` to the UTF-8 size of its messages (for
    token estimates). Cache keys hash the canonical messages
    (:meth:`PromptBuilder.cache_messages`); the bodies sent are rendered with the run's
    delimiter key when sent (:meth:`body`), so a replay keeps no message in memory.
    """

    judge: JudgeDefinition
    items: Items
    builder: PromptBuilder
    schema: dict[str, Any] | None
    planned: list[Planned]
    origin: dict[str, tuple[int, str | None]]
    prompt_bytes: dict[str, int] = field(default_factory=dict)

    def body(self, key: str) -> dict[str, Any]:
        """The JSON request of one cache key."""
        row, order = self.origin[key]
        record, line = self.items.records[row], self.items.lines[row]
        messages = self.builder.messages(record, swapped=order == "ba", line=line)
        body = {"model": self.judge.model, "messages": messages, **self.judge.params}
        return body | ({"response_format": self.schema} if self.schema else {})


def plan_requests(
    judge: JudgeDefinition, items: Items, *, repeats: int = 1, orders: str = "both"
) -> RequestPlan:
    """Every verdict to produce and the origin of each distinct request.

    Parameters
    ----------
    judge : JudgeDefinition
    items : Items
    repeats : int
        Repetitions of every request (>= 1); repetition ``r >= 1`` has its own cache key.
    orders : {"both", "ab"}
        Pairwise mode: both presentation orders, or only ``responses[0]`` first.

    Returns
    -------
    RequestPlan
    """
    if repeats < 1:
        raise UsageError(f"--repeats must be at least 1; got {repeats}")
    if orders not in ORDERS:
        raise UsageError(f"--orders must be one of {ORDERS}; got {orders!r}")
    builder = PromptBuilder(judge)
    schema = response_format(judge)
    keys = RequestKeys(judge.model, judge.params, schema)
    order_list: tuple[str | None, ...] = (
        (("ab", "ba") if orders == "both" else ("ab",)) if judge.pairwise else (None,)
    )
    planned: list[Planned] = []
    origin: dict[str, tuple[int, str | None]] = {}
    sizes: dict[str, int] = {}
    for row, (record, line) in enumerate(zip(items.records, items.lines, strict=True)):
        ids = _response_ids(judge, record, items, row) if judge.pairwise else (None, None)
        for order in order_list:
            messages = builder.cache_messages(record, swapped=order == "ba", line=line)
            size = sum(len(m["content"].encode("utf-8", "surrogatepass")) for m in messages)
            slots = (ids[1], ids[0]) if order == "ba" else ids
            for repeat, key in enumerate(keys.keys(messages, repeats)):
                planned.append(Planned(record["item"], order, repeat, slots[0], slots[1], key))
                origin.setdefault(key, (row, order))
                sizes.setdefault(key, size)
    return RequestPlan(judge, items, builder, schema, planned, origin, sizes)


def _cost(prices: PriceTable, model: str, prompt: int | None, completion: int | None) -> Any:
    price = prices.price(model)
    return None if price is None else price.cost(prompt, completion)


def _tokens(
    prompt: int | None, completion: int | None, prompt_bytes: int, answer: str | None
) -> tuple[int, int, bool]:
    """The token counts, each missing one estimated from its text; True when estimated."""
    estimated = prompt is None or completion is None
    if prompt is None:
        prompt = estimate_tokens(prompt_bytes)
    if completion is None:
        completion = estimate_tokens(len((answer or "").encode("utf-8", "surrogatepass")))
    return prompt, completion, estimated


def _record(
    state: _State, key: str, completion: Completion, plan: RequestPlan, prices: PriceTable
) -> None:
    """Keep one answer from the endpoint and update the counters.

    An answer that arrived (HTTP 200) without usable token counts gets estimated ones,
    so it is costed; failed requests (no answer) have no tokens and no cost.
    """
    judge = plan.judge
    parsed = parse_answer(judge, completion.content) if completion.ok else None
    prompt, answer_tokens, estimated = completion.prompt_tokens, completion.completion_tokens, False
    if completion.status == 200:
        answer = completion.content if completion.content is not None else completion.raw
        prompt, answer_tokens, estimated = _tokens(
            prompt, answer_tokens, plan.prompt_bytes[key], answer
        )
    state.answers[key] = _Answer(
        completion.content,
        prompt,
        answer_tokens,
        parsed,
        completion.error,
        completion.raw,
        cached=False,
        estimated=estimated,
    )
    state.sent += 1
    state.attempts += completion.attempts
    state.estimated += int(estimated)
    state.failed += int(not completion.ok or (parsed is not None and parsed.error is not None))
    state.cost += _cost(prices, judge.model, prompt, answer_tokens) or 0.0


def _replay(
    state: _State,
    found: dict[str, CacheEntry],
    plan: RequestPlan,
    prices: PriceTable,
    scrub: Redactor,
) -> None:
    """Answers from the cache (scrubbed again: a cache written by an older version may
    hold an echoed secret); missing token counts are estimated as when sent."""
    judge = plan.judge
    for key, entry in found.items():
        content = entry.content if entry.content is None or not scrub else scrub(entry.content)
        parsed = parse_answer(judge, content)
        prompt, answer_tokens, estimated = _tokens(
            entry.prompt_tokens, entry.completion_tokens, plan.prompt_bytes[key], content
        )
        state.answers[key] = _Answer(
            content, prompt, answer_tokens, parsed, None, None, True, estimated
        )
        state.cached += 1
        state.estimated += int(estimated)
        state.failed += int(parsed.error is not None)
        state.cached_cost += _cost(prices, judge.model, prompt, answer_tokens) or 0.0


async def _send_all(
    judge: JudgeDefinition,
    plan: RequestPlan,
    state: _State,
    cache: JudgeCache | None,
    prices: PriceTable,
    options: RunOptions,
    progress: Callable[[dict[str, Any]], None] | None,
) -> None:
    """Send the requests not answered yet with ``concurrency`` workers (see module doc)."""
    todo = deque(key for key in plan.origin if key not in state.answers)
    if not todo:
        return
    concurrency = options.concurrency or judge.concurrency
    retry = options.retry or RetryPolicy(
        max_retries=judge.max_retries if options.max_retries is None else options.max_retries
    )
    client = ChatClient(
        judge.base_url,
        api_key=api_key_from_env(judge.api_key_env),
        concurrency=concurrency,
        rpm=options.rpm or judge.rpm,
        timeout=options.timeout or judge.timeout,
        deadline=options.request_deadline or judge.request_deadline,
        max_response_bytes=options.max_response_bytes or judge.max_response_bytes,
        retry=retry,
        seed=options.seed,
    )
    writer = GroupWriter(cache) if cache is not None else None

    async def worker() -> None:
        while todo and state.fatal is None:
            if options.max_cost is not None and state.cost >= options.max_cost:
                state.budget_stop = True
                return
            key = todo.popleft()
            completion = await client.complete(plan.body(key))
            if completion.ok and writer is not None:
                entry = CacheEntry(
                    key,
                    judge.model,
                    completion.content,
                    completion.prompt_tokens,
                    completion.completion_tokens,
                )
                await writer.store(entry)
            _record(state, key, completion, plan, prices)
            if completion.fatal:
                state.fatal = _fatal_message(judge, completion)
            if progress is not None:
                progress(state.progress())

    async with client, writer if writer is not None else contextlib.nullcontext():
        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(todo)))))
    state.cache_writes = None if writer is None else writer.stats()


def _fatal_message(judge: JudgeDefinition, completion: Completion) -> str:
    body = (completion.raw or "").strip().replace("\n", " ")[:300]
    return (
        f"{redact_url(judge.base_url)}/chat/completions answered HTTP {completion.status} "
        f"({body}); "
        f"every further request would fail the same way. Fix: check base_url, the model "
        f"name {judge.model!r} and the API key in ${judge.api_key_env}"
    )


def _verdicts(
    judge: JudgeDefinition, planned: list[Planned], state: _State, prices: PriceTable
) -> list[Verdict]:
    """One verdict per planned request that was answered (or failed), in plan order."""
    out = []
    for plan in planned:
        answer = state.answers.get(plan.key)
        if answer is None:
            continue
        parsed = answer.parsed
        value = None if parsed is None else parsed.verdict
        if judge.pairwise and value is not None:
            value = {"A": plan.first, "B": plan.second}.get(str(value), "tie")
        error = answer.error or (None if parsed is None else parsed.error)
        out.append(
            Verdict(
                plan.item,
                judge.name,
                plan.order,
                value,
                answer.content if answer.content is not None else answer.raw,
                error,
                answer.prompt_tokens,
                answer.completion_tokens,
                _cost(prices, judge.model, answer.prompt_tokens, answer.completion_tokens),
                answer.cached,
                plan.key,
                plan.repeat,
                plan.first,
                plan.second,
                answer.estimated,
            )
        )
    return out


def run_judge(
    judge: JudgeDefinition,
    data: str | Path | Items,
    *,
    cache: JudgeCache | None,
    prices: PriceTable,
    options: RunOptions | None = None,
    out: str | Path | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> JudgeRun:
    """Run ``judge`` on every item of ``data`` (see the module docstring).

    Parameters
    ----------
    judge : JudgeDefinition
    data : path or Items
        DATA file (JSONL or CSV with ``item`` and the template's fields), or read items.
    cache : JudgeCache or None
        Where answers are replayed from and committed to (None: no cache at all).
    prices : PriceTable
    options : RunOptions, optional
    out : path, optional
        Verdict file to write (JSONL, atomically).
    progress : callable, optional
        Called with ``{"total", "done", "cached", "failed", "cost_usd"}`` after each answer.

    Returns
    -------
    JudgeRun

    Raises
    ------
    InputError
        Invalid DATA or template.
    UsageError
        Bad options, or ``max_cost`` without a price for the model.
    """
    options = options or RunOptions()
    for name in ("concurrency", "rpm", "timeout", "max_retries", "request_deadline"):
        check_option(name, getattr(options, name))
    check_option("max_response_bytes", options.max_response_bytes)
    started = time.perf_counter()
    if options.max_cost is not None and prices.price(judge.model) is None:
        raise UsageError(
            f"--max-cost needs the price of {judge.model!r}, which is not in {prices.source}. "
            'Fix: pass --prices FILE with a [models."NAME"] entry (input, output USD/1M)'
        )
    items = data if isinstance(data, Items) else read_items(data, fields=_fields(judge))
    plan = plan_requests(judge, items, repeats=options.repeats, orders=options.orders)
    state = _State(total=len(plan.origin))
    if cache is not None:
        scrub = Redactor([api_key_from_env(judge.api_key_env), *url_secrets(judge.base_url)])
        _replay(state, cache.get_many(list(plan.origin)), plan, prices, scrub)
    if progress is not None:
        progress(state.progress())
    asyncio.run(_send_all(judge, plan, state, cache, prices, options, progress))
    verdicts = _verdicts(judge, plan.planned, state, prices)
    if state.estimated:
        logger.warning(
            "%d answers came without a usable token count; their tokens are estimated "
            "(1 token per 3 bytes of UTF-8 text)",
            state.estimated,
        )
    if out is not None:
        write_verdicts(Path(out), verdicts)
    summary = _summary(judge, items, plan, state, verdicts, options, prices, cache, started)
    return JudgeRun(verdicts, summary if out is None else _with_out(summary, out))


def _fields(judge: JudgeDefinition) -> list[str]:
    extra: tuple[str, ...] = ()
    if judge.pairwise:
        extra = judge.responses + (judge.response_ids or ())
    elif judge.mode == "reference":
        extra = (judge.reference_field,)
    return required_fields(template_fields(judge), extra)


def _with_out(summary: RunSummary, out: str | Path) -> RunSummary:
    from dataclasses import replace

    return replace(summary, out=str(out))


def _summary(
    judge: JudgeDefinition,
    items: Items,
    plan: RequestPlan,
    state: _State,
    verdicts: list[Verdict],
    options: RunOptions,
    prices: PriceTable,
    cache: JudgeCache | None,
    started: float,
) -> RunSummary:
    priced = prices.price(judge.model) is not None
    answered = [a for a in state.answers.values() if not a.cached]
    return RunSummary(
        judge=judge.name,
        model=judge.model,
        mode=judge.mode,
        n_items=len(items),
        n_requests=len(plan.origin),
        n_cached=state.cached,
        n_sent=state.sent,
        n_failed=state.failed,
        n_unsent=len(plan.origin) - len(state.answers),
        n_verdicts=len(verdicts),
        n_http_attempts=state.attempts,
        prompt_tokens=sum(a.prompt_tokens or 0 for a in answered),
        completion_tokens=sum(a.completion_tokens or 0 for a in answered),
        cost_usd=state.cost if priced else None,
        cached_cost_usd=state.cached_cost if priced else None,
        max_cost=options.max_cost,
        stopped_by_budget=state.budget_stop,
        fatal_error=state.fatal,
        elapsed_s=time.perf_counter() - started,
        cache=None if cache is None else f"{cache.path} (table {cache.table})",
        cache_writes=state.cache_writes,
        prices=prices.describe(judge.model),
        n_tokens_estimated=state.estimated,
    )
