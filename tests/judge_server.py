"""A real OpenAI-compatible chat-completions server on 127.0.0.1 with scripted answers.

Started by the judge tests in a thread on a free port (``with ScriptedServer() as server:``);
it never touches the network beyond loopback. Requests to ``/v1/chat/completions`` are
answered according to a directive found in the messages::

    #mock {"fail": [429, 429], "retry_after": "0", "label": "neg"}

- ``fail``: what the first attempts of this request get, one entry per attempt: an HTTP
  status (408, 409, 429, 500, 503, 400, 401, 403, 404, 422...), ``"drop"`` (the
  connection is closed without an answer), ``"slow"`` (the answer comes after
  ``slow_s`` seconds, default 1) or ``"badbody"`` (200 with a non-JSON body); later
  attempts succeed;
- ``retry_after``: the ``Retry-After`` header sent with failures;
- ``answer``: the exact answer text; ``label`` / ``score`` / ``winner``: a JSON answer;
- ``delay``: seconds to wait before answering;
- ``usage``: ``[prompt_tokens, completion_tokens]`` (default ``[1000, 100]``); ``null``
  leaves ``usage`` out of the answer; negative counts are sent as they are;
- ``echo_auth``: a careless endpoint echoing the credentials it got in a 200 answer:
  ``"answer"`` puts the Authorization header in the answer text as is, upper-cased,
  lower-cased, base64 and hex (after a valid JSON verdict); ``"body"`` sends a malformed
  200 body holding the header JSON-escaped (every character as a \\u escape);
- ``drip_s``: a 200 answer whose body comes one byte every ``drip_s`` seconds;
- ``huge_mb``: a 200 answer of that many MB (chunked, no length, unless ``"length":
  true``); :attr:`ScriptedServer.huge_sent` counts the bytes actually written.

Without a directive the answer is a valid JSON verdict read from the requested schema:
the first category, the scale minimum, or -- in pairwise mode -- the slot whose response
contains the word ``PREFERRED`` (``tie`` when neither does). Attempts are counted per
request body, so retries of one request share a counter. Every request is recorded
(:attr:`ScriptedServer.hits`) with its body hash, item id and Authorization header.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_DIRECTIVE = re.compile(r"#mock (\{.*?\})\s*$", re.MULTILINE)
_BLOCK = re.compile(
    r'<data field="(?P<field>[^"]*)" key="(?P<key>[0-9a-f]+)">\n'
    r'(?P<text>.*?)\n</data key="(?P=key)">',
    re.DOTALL,
)


@dataclass(frozen=True)
class Hit:
    """One request received."""

    body_sha256: str
    item: str | None
    authorization: str | None
    outcome: str
    body: dict[str, Any]


_KEY = re.compile(r'(<data field="[^"]*" |</data )key="[0-9a-f]+">')


def normalized(text: str) -> str:
    """``text`` with every data-delimiter key replaced by ``KEY`` (keys change per run)."""
    return _KEY.sub(r'\1key="KEY">', text)


def _blocks(text: str) -> dict[str, str]:
    return {m.group("field"): m.group("text") for m in _BLOCK.finditer(text)}


def _default_answer(body: dict[str, Any], blocks: dict[str, str]) -> str:
    schema = (body.get("response_format") or {}).get("json_schema", {}).get("schema", {})
    properties = schema.get("properties", {})
    if "winner" in properties or ("first" in blocks and "second" in blocks):
        first = "PREFERRED" in blocks.get("first", "")
        second = "PREFERRED" in blocks.get("second", "")
        return json.dumps(
            {"winner": "A" if first and not second else ("B" if second and not first else "tie")}
        )
    if "score" in properties:
        return json.dumps({"score": properties["score"].get("minimum", 1)})
    enum = properties.get("label", {}).get("enum") or ["pos"]
    return json.dumps({"label": enum[0]})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        return

    def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self.close_connection = True

    def do_POST(self) -> None:
        owner = self.server.owner
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, b'{"error": {"message": "not found"}}')
            return
        body = json.loads(raw)
        text = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        blocks = _blocks(text)
        match = _DIRECTIVE.search(text)
        script = json.loads(match.group(1)) if match else {}
        messages = [normalized(str(m.get("content", ""))) for m in body.get("messages", [])]
        canonical = {**body, "messages": messages}
        digest = hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()
        with owner.lock:
            owner.attempts[digest] += 1
            owner.arrived.append(body.get("messages"))
            attempt = owner.attempts[digest]
            owner.in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
        try:
            outcome = self._answer(body, blocks, script, attempt)
        finally:
            with owner.lock:
                owner.in_flight -= 1
        hit = Hit(digest, blocks.get("item"), self.headers.get("Authorization"), outcome, body)
        with owner.lock:
            owner.hits.append(hit)

    def _answer(
        self, body: dict[str, Any], blocks: dict[str, str], script: dict[str, Any], attempt: int
    ) -> str:
        owner = self.server.owner
        failures = script.get("fail", [])
        delay = float(script.get("delay", owner.delay))
        if attempt <= len(failures):
            action = failures[attempt - 1]
            if action == "drop":
                self.close_connection = True
                return "drop"
            if action == "slow":  # answer late (after the client's timeout)
                time.sleep(float(script.get("slow_s", 1.0)))
                self._send(200, b'{"choices": []}')
                return "slow"
            if action == "badbody":
                self._send(200, b"<html>not json</html>")
                return "badbody"
            headers = {"Retry-After": str(script["retry_after"])} if "retry_after" in script else {}
            # a careless server echoing the credentials it got (the client must scrub them)
            seen = self.headers.get("Authorization", "")
            message = json.dumps({"error": {"message": f"scripted {action}", "auth": seen}})
            self._send(int(action), message.encode(), headers)
            return str(action)
        if delay:
            time.sleep(delay)
        if "drip_s" in script:
            return self._drip(float(script["drip_s"]))
        if "huge_mb" in script:
            return self._huge(int(script["huge_mb"]), bool(script.get("length")))
        if script.get("echo_auth") == "body":
            seen = self.headers.get("Authorization", "")
            escaped = "".join(f"\\u{ord(c):04x}" for c in seen)
            self._send(200, f'{{"choices": "none", "auth": "{escaped}"}}'.encode())
            return "echo_body"
        if "answer" in script:
            content = str(script["answer"])
        elif any(k in script for k in ("label", "score", "winner")):
            content = json.dumps(
                {k: script[k] for k in ("label", "score", "winner") if k in script}
            )
        else:
            content = _default_answer(body, blocks)
        if script.get("echo_auth") == "answer":
            seen = self.headers.get("Authorization", "")
            raw_seen = seen.encode()
            echoes = [seen, seen.upper(), seen.lower(), base64.b64encode(raw_seen).decode()]
            echoes += [base64.urlsafe_b64encode(b"x" + raw_seen).decode(), raw_seen.hex()]
            content += " I was sent: " + " | ".join(echoes)
        reply: dict[str, Any] = {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "model": body.get("model"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
        }
        usage = script.get("usage", owner.usage)
        if usage is not None:
            prompt, completion = usage
            reply["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            }
        self._send(200, json.dumps(reply).encode())
        return "200"

    def _drip(self, interval: float) -> str:
        """Announce a 1000-byte body and send it one byte per ``interval`` seconds."""
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            for _ in range(1000):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(interval)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True
        return "drip"

    def _huge(self, megabytes: int, length: bool) -> str:
        """A 200 answer of ``megabytes`` MB, chunked (or with its Content-Length)."""
        owner = self.server.owner
        block = b" " * 2**20
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if length:
                self.send_header("Content-Length", str(megabytes * 2**20))
            else:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(megabytes):
                self.wfile.write(block if length else b"%x\r\n%s\r\n" % (len(block), block))
                with owner.lock:
                    owner.huge_sent += len(block)
            if not length:
                self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True
        return "huge"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: ScriptedServer


class ScriptedServer:
    """The scripted chat-completions server (see the module docstring).

    Attributes
    ----------
    hits : list of Hit
        Every request received, in the order answered.
    arrived : list
        The messages of every request, in the order received (before answering).
    delay : float
        Default seconds before each successful answer (changeable while running).
    usage : (int, int)
        Default token usage of each answer.
    """

    def __init__(self, *, delay: float = 0.0, usage: tuple[int, int] = (1000, 100)) -> None:
        self.delay = delay
        self.usage = usage
        self.hits: list[Hit] = []
        self.attempts: Counter[str] = Counter()
        self.arrived: list[Any] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.huge_sent = 0
        self.lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def attempts_for(self, item: str) -> int:
        """Requests received for one item id (all orders and retries)."""
        with self.lock:
            return sum(1 for hit in self.hits if hit.item == item)

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


if __name__ == "__main__":  # serve on a given port for the examples of docs/judge.md
    import sys

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    demo = ScriptedServer()
    demo._server.server_close()
    demo._server = _Server(("127.0.0.1", port), _Handler)
    demo._server.owner = demo
    print(f"scripted chat-completions server on {demo.base_url} (Ctrl-C to stop)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        demo._server.serve_forever()
