"""A local HTTP server that plays Slack's Web API (auth.test, chat.postMessage, chat.update) for tests.

It checks what Slack checks (bearer token, channel, Block Kit shape, a text fallback), records every
accepted call, and can be told to answer the next calls with 429 + Retry-After or with 500.
Use the `slack_api` fixture: `from tests.slack_api import slack_api` in a conftest or test module.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

TOKEN = "xoxb-tocsin-test-token"
CHANNELS = {"#alerts": "C0ALERTS", "#ops": "C0OPS"}
BLOCK_TYPES = {"header", "section", "context", "divider", "actions", "image", "rich_text"}
TEXT_TYPES = {"plain_text", "mrkdwn"}


@dataclass
class SlackCall:
    """One accepted Web API call: the method and its decoded arguments."""

    method: str
    args: dict
    answer: dict


@dataclass
class FakeSlackState:
    """What the fake Slack has seen and been told to do; shared by the request threads under a lock."""

    token: str
    channels: dict[str, str]
    calls: list[SlackCall] = field(default_factory=list)
    messages: dict[tuple[str, str], dict] = field(default_factory=dict)
    failures: list[tuple[int, int]] = field(default_factory=list)  # (status, retry_after) for the next calls
    # Called with the method's name once a call (not an injected failure) is handled, just before it is
    # answered: a test can make something happen after Slack acted and before the client knows it did.
    before_answer: Callable[[str], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeSlack:
    """Slack's Web API on 127.0.0.1:<free port>; `url` is the base_url to give WebClient."""

    def __init__(self, *, token: str = TOKEN, channels: dict[str, str] | None = None) -> None:
        self.state = FakeSlackState(token=token, channels=dict(CHANNELS if channels is None else channels))
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.state = self.state  # type: ignore[attr-defined]
        # A short poll interval so stop() (shutdown waits for one poll) does not slow every test down.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                       name="fake-slack", daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the fake Web API, ending in /api/."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def calls_to(self, method: str) -> list[dict]:
        """The arguments of every accepted call to `method`, in order."""
        with self.state.lock:
            return [call.args for call in self.state.calls if call.method == method]

    def answers_to(self, method: str) -> list[dict]:
        """What the fake answered to every accepted call to `method` (channel id, ts...), in order."""
        with self.state.lock:
            return [call.answer for call in self.state.calls if call.method == method]

    def message(self, channel_id: str, ts: str) -> dict:
        """The current content of a posted message (after any chat.update)."""
        with self.state.lock:
            return self.state.messages[(channel_id, ts)]

    def fail_next(self, count: int, *, status: int = 429, retry_after: int = 0) -> None:
        """Answer the next `count` calls with `status` (429 carries Retry-After: `retry_after`)."""
        with self.state.lock:
            self.state.failures.extend([(status, retry_after)] * count)

    def start(self) -> "FakeSlack":
        """Serve in a background thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "FakeSlack":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def slack_api():
    """A FakeSlack with channels #alerts (C0ALERTS) and #ops (C0OPS), token TOKEN; stopped after the test."""
    with FakeSlack() as server:
        yield server


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_POST(self) -> None:
        state: FakeSlackState = self.server.state  # type: ignore[attr-defined]
        method = self.path.split("?")[0].removeprefix("/api/")
        args = self._arguments()
        with state.lock:
            failure = state.failures.pop(0) if state.failures else None
            if failure is not None:
                status, retry_after = failure
                headers = {"Retry-After": str(retry_after)} if status == 429 else {}
                error = "ratelimited" if status == 429 else "internal_error"
                return self._answer({"ok": False, "error": error}, status=status, headers=headers)
            answer = _dispatch(state, method, self._token(args), args)
        if state.before_answer is not None:
            state.before_answer(method)
        self._answer(answer)

    def _arguments(self) -> dict:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            return json.loads(body) if body else {}
        return dict(parse_qsl(body))

    def _token(self, args: dict) -> str:
        header = self.headers.get("Authorization", "")
        return header.removeprefix("Bearer ").strip() if header else str(args.get("token", ""))

    def _answer(self, data: dict, *, status: int = 200, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def _dispatch(state: FakeSlackState, method: str, token: str, args: dict) -> dict:
    """Slack's answer to one call (under the state lock); accepted calls are recorded."""
    if not token:
        return {"ok": False, "error": "not_authed"}
    if token != state.token:
        return {"ok": False, "error": "invalid_auth"}
    if method == "auth.test":
        answer = {"ok": True, "user": "tocsin", "team": "tocsin-test", "user_id": "U0TOCSIN"}
    elif method in ("chat.postMessage", "chat.update"):
        answer = _chat(state, method, args)
    else:
        return {"ok": False, "error": "unknown_method"}
    if answer["ok"]:
        state.calls.append(SlackCall(method, args, answer))
    return answer


def _chat(state: FakeSlackState, method: str, args: dict) -> dict:
    channel = str(args.get("channel", ""))
    # chat.postMessage takes a name or an id and answers with the id; chat.update needs the id.
    ids = set(state.channels.values())
    channel_id = channel if channel in ids else (state.channels.get(channel) if method == "chat.postMessage" else None)
    if channel_id is None:
        return {"ok": False, "error": "channel_not_found"}
    problem = block_kit_problem(args.get("blocks"), args.get("text"))
    if problem:
        return {"ok": False, "error": "invalid_blocks", "detail": problem}
    message = {"text": args["text"], "blocks": _blocks(args["blocks"]), "thread_ts": args.get("thread_ts")}
    if method == "chat.update":
        ts = str(args.get("ts", ""))
        if (channel_id, ts) not in state.messages:
            return {"ok": False, "error": "message_not_found"}
    else:
        ts = f"{1_700_000_000 + len(state.messages)}.{len(state.messages):06d}"
    state.messages[(channel_id, ts)] = message
    return {"ok": True, "channel": channel_id, "ts": ts, "message": message}


def _blocks(raw) -> list:
    return json.loads(raw) if isinstance(raw, str) else raw


def block_kit_problem(raw_blocks, text) -> str:
    """What is wrong with blocks + fallback text as Slack would see them, or "" when they are fine."""
    if not isinstance(text, str) or not text.strip():
        return "a non-empty text fallback is required with blocks"
    if raw_blocks is None:
        return ""
    try:
        blocks = _blocks(raw_blocks)
    except ValueError:
        return "blocks is not valid JSON"
    if not isinstance(blocks, list) or not 0 < len(blocks) <= 50:
        return "blocks must be a list of 1 to 50 blocks"
    for index, block in enumerate(blocks):
        problem = _block_problem(block)
        if problem:
            return f"blocks[{index}]: {problem}"
    return ""


def _block_problem(block) -> str:
    if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
        return "not a block with a known type"
    kind = block["type"]
    if kind == "header":
        return _text_problem(block.get("text"), 150, plain_only=True)
    if kind == "section":
        if "text" not in block and "fields" not in block:
            return "a section needs text or fields"
        fields = block.get("fields", [])
        if not isinstance(fields, list) or len(fields) > 10:
            return "a section has at most 10 fields"
        texts = ([block["text"]] if "text" in block else []) + fields
        return next((p for p in (_text_problem(t, 3000) for t in texts) if p), "")
    if kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 0 < len(elements) <= 10:
            return "a context needs 1 to 10 elements"
        return next((p for p in (_text_problem(e, 3000) for e in elements) if p), "")
    return ""


def _text_problem(obj, limit: int, plain_only: bool = False) -> str:
    allowed = {"plain_text"} if plain_only else TEXT_TYPES
    if not isinstance(obj, dict) or obj.get("type") not in allowed:
        return f"a text object of type {sorted(allowed)} is required"
    text = obj.get("text")
    if not isinstance(text, str) or not 0 < len(text) <= limit:
        return f"text must be 1 to {limit} characters"
    return ""
