"""Whole answers replayed from memory: the hot path of a read under load.

A page or JSON answer that comes from the cache (:meth:`StoreAccess.cached_async`) is the
same bytes for the same caller, path and query until the store changes. Routing, the
dependency graph and building the response cost about 0.5 ms of CPU a request, all on the
event loop; every other client waits behind them. So the answer of a ``GET`` that the
full application gave with status 200 and the :data:`CACHEABLE` mark (set only by
:func:`~labelaudit.server.routes_pages.render_page` and
:func:`~labelaudit.server.routes_api.cached_json`) is kept beside that cache
(:meth:`StoreAccess.keep_answer`), keyed by the path, the raw query and the caller's
credential (how it came and its SHA-256), until any part of the store changes (the tokens
included). The next identical request is answered from it with one version check (three
``stat`` calls) and no routing. A write to the store (a decision, an ingest, a new token)
changes the version, and the next request goes through the application again:
authentication, the cache's refresh by parts, the page.
"""

from __future__ import annotations

from typing import Any

from labelaudit.project.tokens import hash_token
from labelaudit.server.access import MISSING, StoreAccess

__all__ = ["CACHEABLE", "AnswerCache", "answer_key", "credential"]

#: The response header a route sets to let its answer be replayed (never sent out).
CACHEABLE = "x-labelaudit-cacheable"
_MARK = CACHEABLE.encode()
#: Longest token looked at (:meth:`TokenBook.identify` refuses longer ones).
_MAX_TOKEN = 200


def credential(headers: Any, cookies: Any) -> tuple[str | None, bool]:
    """The caller's token and whether it came in the login cookie: ``Authorization: Bearer``
    first, else the ``labelaudit_token`` cookie (the one rule :func:`identity` and the
    answer cache share)."""
    from labelaudit.server.auth import COOKIE

    header = headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip(), False
    return cookies.get(COOKIE), True


def answer_key(
    path: str, query: str, token: str | None, via_cookie: bool
) -> tuple[str, ...] | None:
    """The cache key of a ``GET`` answer: path, raw query string, how the token came and
    its SHA-256 (None without a plausible token: such requests are never replayed)."""
    if not token or len(token) > _MAX_TOKEN:
        return None
    return ("answer", path, query, "cookie" if via_cookie else "bearer", hash_token(token))


class AnswerCache:
    """ASGI middleware: replays kept answers to ``GET`` requests; keeps marked ones."""

    def __init__(self, app: Any, access: StoreAccess) -> None:
        self.app = app
        self.access = access

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        key = self._key(scope) if scope["type"] == "http" and scope["method"] == "GET" else None
        if key is None:
            await self.app(scope, receive, send)
            return
        version = self.access.version()
        kept = self.access.answer(key, version)
        if kept is not MISSING:
            headers, body = kept
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        answer: dict[str, Any] = {}

        async def keep(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                marked = any(name.lower() == _MARK for name, _ in headers)
                if marked:
                    headers = [(k, v) for k, v in headers if k.lower() != _MARK]
                    message = message | {"headers": headers}
                    if message["status"] == 200:
                        answer.update(headers=headers, body=[])
            elif message["type"] == "http.response.body" and "body" in answer:
                answer["body"].append(message.get("body", b""))
                answer["done"] = not message.get("more_body", False)
            await send(message)

        await self.app(scope, receive, keep)
        if answer.get("done"):
            value = (answer["headers"], b"".join(answer["body"]))
            self.access.keep_answer(key, value, version)

    @staticmethod
    def _key(scope: Any) -> tuple[str, ...] | None:
        from starlette.requests import HTTPConnection

        connection = HTTPConnection(scope)
        token, via_cookie = credential(connection.headers, connection.cookies)
        query = scope.get("query_string", b"").decode("latin-1")
        return answer_key(scope["path"], query, token, via_cookie)
