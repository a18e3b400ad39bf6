"""A fake Telegram Bot API server for end-to-end tests of python-telegram-bot applications.

The server runs on 127.0.0.1 in its own thread with its own event loop, so it serves an
in-process ``Application`` (sync or async test) and a bot running as a subprocess alike::

    with FakeBotApi() as api:                      # or the ``fake_api`` fixture
        app = api.application_builder().build()    # token + base_url + base_file_url set
        ...                                        # subprocess: env=api.env()
        api.push_text(1001, "/start")
        [reply] = api.wait_for("欢迎", chat_id=1001)           # sync tests
        [reply] = await api.wait_for_async("欢迎", chat_id=1001)  # async tests
        api.press_button(1001, "开始练习")                     # taps an inline button
        api.fail_next("sendMessage", kind="429", retry_after=1)

Sections below: lifecycle, HTTP plumbing, faults, getUpdates, Bot API methods, files,
driving the bot (push_*), webhooks, inspection, waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import itertools
import json
import logging
import mimetypes
import os
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from .model import (
    FAULT_KINDS,
    ApiCall,
    Edit,
    FaultKind,
    FaultSpec,
    InjectedFault,
    SentMessage,
    StoredFile,
    WebhookDelivery,
)
from .validate import (
    ApiError,
    bad_request,
    check_caption,
    check_commands,
    check_message_text,
    check_reply_markup,
    formatting_entities,
)

if TYPE_CHECKING:
    from telegram.ext import ApplicationBuilder

__all__ = ["DEFAULT_TOKEN", "FakeBotApi", "loopback_url", "tiny_png"]

log = logging.getLogger("fakebot")

DEFAULT_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuv"

# Parameters that are strings in the Bot API. PTB sends form/multipart values JSON-encoded
# *except* plain strings, so everything else is json-decoded; these stay as they are even
# when they look like JSON ("123", "true").
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "data",
        "callback_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "action",
        "emoji",
        "file_id",
        "language_code",
        "name",
        "title",
        "description",
        "short_description",
        "query",
        "business_connection_id",
        "message_effect_id",
        "switch_pm_text",
        "switch_pm_parameter",
        "next_offset",
        "question",
        "explanation",
        "address",
        "first_name",
        "last_name",
        "username",
        "custom_title",
        "invite_link",
        "sticker_set_name",
        "error_message",
        "shipping_query_id",
        "pre_checkout_query_id",
        "payload",
        "currency",
        "provider_token",
        "start_parameter",
        "photo_url",
        "thumbnail_url",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
        "phone_number",
        "vcard",
        "performer",
        "format",
    }
)

# Methods answered with a Message (or list of) that we build; anything unknown is "ok: true".
_MEDIA_METHODS = {
    "sendphoto": ("photo", "sendPhoto"),
    "senddocument": ("document", "sendDocument"),
    "sendaudio": ("audio", "sendAudio"),
    "sendvoice": ("voice", "sendVoice"),
    "sendvideo": ("video", "sendVideo"),
    "sendanimation": ("animation", "sendAnimation"),
    "sendsticker": ("sticker", "sendSticker"),
    "sendvideonote": ("video_note", "sendVideoNote"),
}

_SEND_METHODS = frozenset({"sendmessage", "sendmediagroup", "sendchataction", *_MEDIA_METHODS})
_EDIT_METHODS = frozenset({"editmessagetext", "editmessagecaption", "editmessagereplymarkup"})

_CONFLICT_OTHER_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
_CONFLICT_WEBHOOK = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"


def tiny_png(width: int = 1, height: int = 1) -> bytes:
    """A valid (grey) PNG of the given size, for photo uploads by simulated users."""

    def chunk(tag: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def _image_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    return 1, 1


def loopback_url(url: str) -> bool:
    """True if ``url`` points at this machine (the only place the fake will send webhooks)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode_param(name: str, raw: str) -> Any:
    if name in STRING_PARAMS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _update_type(update: Mapping[str, Any]) -> str:
    return next((k for k in update if k != "update_id"), "")


class _Waiter:
    """Shared by the sync and async ``wait_*`` helpers: re-evaluates until satisfied."""

    def __init__(self, timeout: float) -> None:
        self.deadline = time.monotonic() + timeout

    @property
    def remaining(self) -> float:
        return self.deadline - time.monotonic()


class FakeBotApi:
    """Fake Telegram Bot API on ``127.0.0.1`` (see module docstring).

    Thread-safe: the server thread and test threads share state under one lock.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        port: int = 0,
        bot_username: str = "salescoach_test_bot",
        bot_first_name: str = "SalesCoach",
        timeout_delay: float = 6.0,
        strict: bool = True,
        webhook_auto_deliver: bool = True,
        webhook_retry_delay: float = 0.2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """
        Args:
            token: the only token accepted; others get 401 Unauthorized.
            port: 0 = pick a free port.
            timeout_delay: how long a ``kind="timeout"`` fault stalls (make it longer than the
                client's read timeout; PTB's default read timeout is 5 s).
            strict: validate parse_mode markup and answer 400 like Telegram on bad HTML/MarkdownV2.
            webhook_auto_deliver: while a webhook is set (setWebhook), POST pushed updates to it,
                like Telegram does, instead of keeping them for getUpdates.
            clock: source of message ``date`` values (seconds since the epoch).
        """
        if ":" not in token:
            raise ValueError("a Bot API token looks like '123456:ABC...'")
        self.token = token
        self.bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.timeout_delay = timeout_delay
        self.strict = strict
        self.webhook_auto_deliver = webhook_auto_deliver
        self.webhook_retry_delay = webhook_retry_delay
        self._clock = clock
        self._requested_port = port
        self.port: int = 0

        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)

        # updates
        self._next_update_id = 700_000_001
        self._pending: list[dict[str, Any]] = []
        self._updates: dict[int, dict[str, Any]] = {}
        self._deliveries: dict[int, int] = {}
        self._confirmed_below = 0
        self._allowed_updates: list[str] = []
        # chats, users, messages
        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._msg_counter: dict[int, int] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._sent: list[SentMessage] = []
        self._sent_by_id: dict[tuple[int, int], SentMessage] = {}
        self._blocked: set[int] = set()
        self._callback_ids = itertools.count(4_200_000_000_000_000_001)
        self._open_callbacks: set[str] = set()
        self._callback_answers: dict[str, dict[str, Any]] = {}
        # files
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_seq = itertools.count(1)
        # bot settings
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._webhook: dict[str, Any] | None = None
        self._webhook_deliveries: list[WebhookDelivery] = []
        # recording / faults
        self._calls: list[ApiCall] = []
        self._call_seq = itertools.count(1)
        self._fault_plan: list[FaultSpec] = []
        self._faults: list[InjectedFault] = []

        # server-thread side (touched only on self._loop)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._closing: asyncio.Event | None = None
        self._poll_waiters: set[asyncio.Event] = set()
        self._polls_open = 0
        self._poll_generation = 0
        self._webhook_task: asyncio.Task[None] | None = None
        self._http: aiohttp.ClientSession | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)``: ``http://127.0.0.1:PORT/bot``."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``: ``http://127.0.0.1:PORT/file/bot``."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    def start(self) -> FakeBotApi:
        """Start serving (idempotent). Restarting after :meth:`stop` reuses the same port."""
        if self.running:
            return self
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="FakeBotApi", daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._astart(), loop).result(10)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving; the recorded state stays readable."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if thread.is_alive():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._astop(), loop).result(10)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
        if not thread.is_alive():
            loop.close()
        self._loop = None
        self._thread = None

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _astart(self) -> None:
        self._closing = asyncio.Event()
        self._poll_waiters = set()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle_http)
        self._runner = web.AppRunner(
            app, handle_signals=False, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port or self._requested_port))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()
        self._http = aiohttp.ClientSession()
        self._webhook_task = asyncio.create_task(self._webhook_worker(), name="FakeBotApi:webhook")

    async def _astop(self) -> None:
        assert self._closing is not None
        self._closing.set()
        self._wake_pollers()
        if self._webhook_task:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._webhook_task
        if self._http:
            await self._http.close()
        if self._runner:
            await self._runner.cleanup()

    def application_builder(self) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
        """A PTB ``ApplicationBuilder`` with token, base_url and base_file_url set to this fake."""
        from telegram.ext import ApplicationBuilder

        return (
            ApplicationBuilder().token(self.token).base_url(self.base_url).base_file_url(self.base_file_url)
        )

    def env(self, token_var: str | None = "TELEGRAM_BOT_TOKEN", **extra: str) -> dict[str, str]:
        """``os.environ`` plus what a subprocess bot needs to talk to this fake."""
        env = dict(os.environ)
        env["TELEGRAM_API_BASE_URL"] = self.base_url
        env["TELEGRAM_API_BASE_FILE_URL"] = self.base_file_url
        if token_var:
            env[token_var] = self.token
        env.update(extra)
        return env

    def clear(self) -> None:
        """Forget recorded calls, sent messages, faults and pending updates (ids keep increasing)."""
        with self._changed:
            self._calls.clear()
            self._sent.clear()
            self._sent_by_id.clear()
            self._faults.clear()
            self._fault_plan.clear()
            self._pending.clear()
            self._webhook_deliveries.clear()
            self._changed.notify_all()

    # ------------------------------------------------------------------ HTTP plumbing

    async def _handle_http(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path.startswith("/file/bot"):
            return self._serve_file(path[len("/file/bot") :])
        if not path.startswith("/bot") or "/" not in path[4:]:
            return self._error_response(404, "Not Found")
        token, method = path[4:].split("/", 1)
        try:
            params, files = await self._read_params(request)
        except ApiError as exc:
            return self._error_response(exc.code, exc.description)
        call = self._record_call(method, params, files, request.method, token == self.token)
        if token != self.token:
            return self._finish(call, ApiError(401, "Unauthorized"))

        try:
            spec = self._take_fault(method)
            if spec is not None:
                return await self._serve_fault(spec, call, request)
            return self._finish(call, await self._process(call))
        except asyncio.CancelledError:  # the client went away (e.g. a bot killed mid long poll)
            with self._changed:
                if call.status is None:
                    call.status, call.error = 0, "client disconnected"
                self._changed.notify_all()
            raise

    async def _process(self, call: ApiCall) -> Any:
        """The method's result, or the ApiError it fails with."""
        try:
            if call.method.lower() == "getupdates":
                return await self._get_updates(call.params)
            with self._lock:
                return self._dispatch(call)
        except ApiError as exc:
            return exc
        except Exception as exc:  # a bug in the fake, or a request it cannot make sense of
            log.exception("fake Bot API failed on %s", call.method)
            return bad_request(f"fake Bot API could not handle the request: {exc!r}")

    def _finish(self, call: ApiCall, outcome: Any) -> web.Response:
        with self._changed:
            if isinstance(outcome, ApiError):
                call.status, call.error = outcome.code, outcome.description
                response = self._error_response(outcome.code, outcome.description, outcome.parameters)
            else:
                call.status, call.result = 200, outcome
                response = web.json_response({"ok": True, "result": outcome})
            self._changed.notify_all()
        return response

    @staticmethod
    def _error_response(
        code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=code)

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, StoredFile]]:
        params: dict[str, Any] = {k: _decode_param(k, v) for k, v in request.query.items()}
        files: dict[str, StoredFile] = {}
        if request.method != "POST" or not request.can_read_body:
            return params, files
        if request.content_type == "application/json":
            raw = await request.read()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError as exc:
                    raise bad_request("can't parse JSON body") from exc
                if not isinstance(body, dict):
                    raise bad_request("JSON body must be an object")
                params.update(body)
            return params, files
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                data = value.file.read()
                files[name] = self._new_file(data, value.filename, value.content_type, register=False)
            else:
                params[name] = _decode_param(name, str(value))
        return params, files

    def _serve_file(self, rest: str) -> web.Response:
        token, _, file_path = rest.partition("/")
        if token != self.token:
            return self._error_response(401, "Unauthorized")
        with self._lock:
            stored = self._files_by_path.get(file_path)
        if stored is None:
            return self._error_response(404, "Not Found")
        return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")

    def _record_call(
        self,
        method: str,
        params: dict[str, Any],
        files: dict[str, StoredFile],
        http_method: str,
        token_ok: bool,
    ) -> ApiCall:
        with self._changed:
            call = ApiCall(
                seq=next(self._call_seq),
                method=method,
                params=params,
                files=files,
                time=time.time(),
                http_method=http_method,
                token_ok=token_ok,
            )
            self._calls.append(call)
            self._changed.notify_all()
            return call

    # ------------------------------------------------------------------ faults

    def fail_next(
        self,
        method: str,
        times: int = 1,
        kind: FaultKind = "429",
        *,
        retry_after: int = 1,
        delay: float | None = None,
        apply: bool = False,
        description: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (``"*"`` = any method) fail.

        kinds:
          * ``"429"``: Too Many Requests with ``parameters.retry_after`` (PTB raises RetryAfter)
          * ``"500"``: HTTP 500 JSON error; ``"502"``: nginx-style HTML Bad Gateway (NetworkError)
          * ``"400"``/``"403"``: Bad Request / Forbidden with ``description`` (BadRequest/Forbidden)
          * ``"timeout"``: stall ``delay`` (default :attr:`timeout_delay`) seconds, then answer 504;
            with ``apply=True`` the call takes effect at once and only the answer is late (the
            "message was sent but the bot never heard back" case)
          * ``"reset"``: close the connection without an answer (NetworkError)

        ``times=-1`` keeps failing until :meth:`clear_faults`.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}")
        if times == 0 or times < -1:
            raise ValueError("times must be positive, or -1 for 'until cleared'")
        with self._lock:
            self._fault_plan.append(
                FaultSpec(
                    method=method,
                    kind=kind,
                    times=times,
                    retry_after=retry_after,
                    delay=delay,
                    apply=apply,
                    description=description,
                )
            )

    def clear_faults(self) -> None:
        with self._lock:
            self._fault_plan.clear()

    @property
    def faults(self) -> list[InjectedFault]:
        """Faults actually served, in order."""
        with self._lock:
            return list(self._faults)

    def _take_fault(self, method: str) -> FaultSpec | None:
        with self._lock:
            lowered = method.lower()
            for wildcard in (False, True):
                for spec in self._fault_plan:
                    if (spec.method == "*") == wildcard and (wildcard or spec.method.lower() == lowered):
                        if spec.times > 0:
                            spec.times -= 1
                            if spec.times == 0:
                                self._fault_plan.remove(spec)
                        return spec
        return None

    async def _serve_fault(self, spec: FaultSpec, call: ApiCall, request: web.Request) -> web.StreamResponse:
        with self._changed:
            call.fault = spec.kind
            self._faults.append(InjectedFault(call.method, spec.kind, time.time(), call.seq))
            self._changed.notify_all()
        kind = spec.kind
        if kind == "429":
            n = spec.retry_after
            err = ApiError(429, f"Too Many Requests: retry after {n}", {"retry_after": n})
            return self._finish(call, err)
        if kind == "500":
            return self._finish(call, ApiError(500, spec.description or "Internal Server Error"))
        if kind == "502":
            with self._changed:
                call.status, call.error = 502, "Bad Gateway"
                self._changed.notify_all()
            page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"
            return web.Response(status=502, text=page, content_type="text/html")
        if kind == "400":
            return self._finish(
                call, ApiError(400, spec.description or "Bad Request: injected by FakeBotApi")
            )
        if kind == "403":
            return self._finish(
                call, ApiError(403, spec.description or "Forbidden: bot was blocked by the user")
            )
        if kind == "reset":
            with self._changed:
                call.status, call.error = 0, "connection reset (injected)"
                self._changed.notify_all()
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)
        # timeout
        outcome: Any = await self._process(call) if spec.apply else None
        assert self._closing is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                self._closing.wait(), spec.delay if spec.delay is not None else self.timeout_delay
            )
        if spec.apply:
            return self._finish(call, outcome)
        return self._finish(call, ApiError(504, "Gateway Timeout (injected)"))

    # ------------------------------------------------------------------ getUpdates

    def _wake_pollers(self) -> None:
        for ev in self._poll_waiters:
            ev.set()

    def _notify_loop(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake_pollers)

    def _confirm_below(self, offset: int) -> None:
        if offset > self._confirmed_below:
            self._confirmed_below = offset
        self._pending = [u for u in self._pending if u["update_id"] >= self._confirmed_below]

    def _select_updates(self, limit: int) -> list[dict[str, Any]]:
        allowed = self._allowed_updates
        return [u for u in self._pending if not allowed or _update_type(u) in allowed][:limit]

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        assert self._loop is not None
        assert self._closing is not None
        offset = params.get("offset")
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        with self._changed:
            if self._webhook is not None:
                raise ApiError(409, _CONFLICT_WEBHOOK)
            if offset is not None:
                offset = int(offset)
                if offset < 0:
                    keep = self._pending[offset:]
                    self._pending = keep
                    if keep:
                        self._confirmed_below = max(self._confirmed_below, keep[0]["update_id"])
                else:
                    self._confirm_below(offset)
            if params.get("allowed_updates") is not None:
                self._allowed_updates = list(params["allowed_updates"])
            self._changed.notify_all()
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()  # an older long poll from another "instance" now gets 409
        deadline = self._loop.time() + timeout
        self._polls_open += 1
        try:
            while True:
                ev = asyncio.Event()
                self._poll_waiters.add(ev)
                try:
                    if generation != self._poll_generation:
                        raise ApiError(409, _CONFLICT_OTHER_POLL)
                    with self._lock:
                        batch = self._select_updates(limit)
                    remaining = deadline - self._loop.time()
                    if batch or remaining <= 0 or self._closing.is_set():
                        break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(ev.wait(), remaining)
                finally:
                    self._poll_waiters.discard(ev)
        finally:
            self._polls_open -= 1
        with self._changed:
            for u in batch:
                self._deliveries[u["update_id"]] = self._deliveries.get(u["update_id"], 0) + 1
            self._changed.notify_all()
        return [json.loads(json.dumps(u)) for u in batch]

    # ------------------------------------------------------------------ method dispatch

    def _dispatch(self, call: ApiCall) -> Any:
        name = call.method.lower()
        p = call.params
        if name in _SEND_METHODS or name in _EDIT_METHODS:
            chat_id = p.get("chat_id")
            if chat_id is not None and self._resolve_chat_id(chat_id) in self._blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
        if name in _MEDIA_METHODS:
            return self._send_media(name, p, call.files)
        handler = self._handlers.get(name)
        if handler is None:
            return True
        return handler(self, p, call.files)

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _get_me(self, p: dict[str, Any], files: dict[str, StoredFile]) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _resolve_chat_id(self, chat_id: Any) -> int:
        if isinstance(chat_id, bool):
            raise bad_request("chat not found")
        if isinstance(chat_id, int):
            return chat_id
        s = str(chat_id)
        if s.lstrip("-").isdigit():
            return int(s)
        if s.startswith("@"):
            for cid, chat in self._chats.items():
                if chat.get("username", "").lower() == s[1:].lower():
                    return cid
        raise bad_request("chat not found")

    def _chat(self, chat_id: int) -> dict[str, Any]:
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_id > 0:
                chat = {"id": chat_id, "type": "private", "first_name": "User"}
            elif str(chat_id).startswith("-100"):
                chat = {"id": chat_id, "type": "supergroup", "title": "Test Supergroup"}
            else:
                chat = {"id": chat_id, "type": "group", "title": "Test Group"}
            self._chats[chat_id] = chat
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        n = self._msg_counter.get(chat_id, 0) + 1
        self._msg_counter[chat_id] = n
        return n

    def _now(self) -> int:
        return int(self._clock())

    def _reply_to(self, chat_id: int, p: dict[str, Any]) -> dict[str, Any] | None:
        rp = p.get("reply_parameters")
        target = rp.get("message_id") if isinstance(rp, dict) else p.get("reply_to_message_id")
        if target is None:
            return None
        if isinstance(rp, dict) and rp.get("chat_id") is not None:
            chat_id = self._resolve_chat_id(rp["chat_id"])
        found = self._messages.get((chat_id, int(target)))
        if found is None:
            if (isinstance(rp, dict) and rp.get("allow_sending_without_reply")) or p.get(
                "allow_sending_without_reply"
            ):
                return None
            raise bad_request("message to be replied not found")
        return {k: v for k, v in found.items() if k != "reply_to_message"}

    def _store_bot_message(
        self,
        method: str,
        kind: str,
        chat_id: int,
        p: dict[str, Any],
        body: dict[str, Any],
        *,
        raw_text: str | None,
        plain_text: str | None,
        stored_file: StoredFile | None = None,
    ) -> dict[str, Any]:
        check_reply_markup(p.get("reply_markup"))
        reply_to = self._reply_to(chat_id, p)
        chat = self._chat(chat_id)
        mid = self._next_message_id(chat_id)
        msg: dict[str, Any] = {"message_id": mid, "date": self._now(), "chat": chat, "from": self._bot_user()}
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        msg.update(body)
        markup = p.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            msg["reply_markup"] = markup
        self._messages[(chat_id, mid)] = msg
        sent = SentMessage(
            chat_id=chat_id,
            message_id=mid,
            method=method,
            kind=kind,
            date=msg["date"],
            time=time.time(),
            text=raw_text,
            plain_text=plain_text,
            parse_mode=p.get("parse_mode"),
            reply_markup=markup if isinstance(markup, dict) else None,
            params=p,
            file=stored_file,
            reply_to_message_id=reply_to["message_id"] if reply_to else None,
        )
        self._sent.append(sent)
        self._sent_by_id[(chat_id, mid)] = sent
        self._changed.notify_all()
        return msg

    @staticmethod
    def _entities(raw: Any, parse_mode: Any, explicit: Any) -> list[dict[str, Any]]:
        """Entities for the Message we answer with: given ones, else those of the HTML markup."""
        if explicit:
            return list(explicit)
        return formatting_entities(str(raw), parse_mode) if raw is not None else []

    def _send_message(self, p: dict[str, Any], files: dict[str, StoredFile]) -> dict[str, Any]:
        chat_id = self._resolve_chat_id(p.get("chat_id"))
        text = p.get("text")
        plain = check_message_text(text, p.get("parse_mode"), strict=self.strict)
        body: dict[str, Any] = {"text": plain}
        entities = self._entities(text, p.get("parse_mode"), p.get("entities"))
        if entities:
            body["entities"] = entities
        return self._store_bot_message(
            "sendMessage", "text", chat_id, p, body, raw_text=str(text), plain_text=plain
        )

    def _resolve_media(self, field: str, value: Any, files: dict[str, StoredFile]) -> StoredFile:
        if field in files:
            return self._register(files[field])
        if isinstance(value, str) and value.startswith("attach://") and value[9:] in files:
            return self._register(files[value[9:]])
        if isinstance(value, str) and value in self._files:
            return self._files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            name = urlsplit(value).path.rsplit("/", 1)[-1] or None
            return self._new_file(b"", name, None)
        if isinstance(value, str) and value:
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request(f"there is no {field} in the request")

    def _media_object(self, kind: str, stored: StoredFile, p: dict[str, Any]) -> Any:
        base = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "file_size": stored.size}
        if kind == "photo":
            w, h = _image_size(stored.data)
            return [{**base, "width": w, "height": h}]
        if kind == "sticker":
            return {
                **base,
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        obj = dict(base)
        if stored.mime_type:
            obj["mime_type"] = stored.mime_type
        if kind in ("document", "audio", "animation", "video") and stored.filename:
            obj["file_name"] = stored.filename
        if kind in ("voice", "audio", "video", "animation", "video_note"):
            obj["duration"] = int(p.get("duration") or 1)
        if kind in ("video", "animation"):
            obj["width"] = int(p.get("width") or 1)
            obj["height"] = int(p.get("height") or 1)
        if kind == "video_note":
            obj["length"] = int(p.get("length") or 1)
        return obj

    def _send_media(self, name: str, p: dict[str, Any], files: dict[str, StoredFile]) -> dict[str, Any]:
        kind, method = _MEDIA_METHODS[name]
        chat_id = self._resolve_chat_id(p.get("chat_id"))
        stored = self._resolve_media(kind, p.get(kind), files)
        caption = p.get("caption")
        plain = check_caption(caption, p.get("parse_mode"), strict=self.strict)
        body: dict[str, Any] = {kind: self._media_object(kind, stored, p)}
        if plain is not None and kind != "sticker":
            body["caption"] = plain
            entities = self._entities(caption, p.get("parse_mode"), p.get("caption_entities"))
            if entities:
                body["caption_entities"] = entities
        return self._store_bot_message(
            method,
            kind,
            chat_id,
            p,
            body,
            raw_text=None if caption is None else str(caption),
            plain_text=plain,
            stored_file=stored,
        )

    def _send_media_group(self, p: dict[str, Any], files: dict[str, StoredFile]) -> list[dict[str, Any]]:
        chat_id = self._resolve_chat_id(p.get("chat_id"))
        media = p.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise bad_request("media must contain 2-10 items")
        group_id = str(next(self._file_seq))
        out = []
        for item in media:
            kind = item.get("type", "photo")
            stored = self._resolve_media(kind, item.get("media"), files)
            caption = item.get("caption")
            plain = check_caption(caption, item.get("parse_mode"), strict=self.strict)
            body: dict[str, Any] = {kind: self._media_object(kind, stored, item), "media_group_id": group_id}
            if plain is not None:
                body["caption"] = plain
                entities = self._entities(caption, item.get("parse_mode"), item.get("caption_entities"))
                if entities:
                    body["caption_entities"] = entities
            item_params = {**p, **item, "reply_markup": None}
            out.append(
                self._store_bot_message(
                    "sendMediaGroup",
                    kind,
                    chat_id,
                    item_params,
                    body,
                    raw_text=caption,
                    plain_text=plain,
                    stored_file=stored,
                )
            )
        return out

    def _target_message(self, p: dict[str, Any], what: str) -> tuple[dict[str, Any], SentMessage] | None:
        if p.get("inline_message_id") is not None:
            return None
        chat_id = self._resolve_chat_id(p.get("chat_id"))
        mid = p.get("message_id")
        msg = self._messages.get((chat_id, int(mid))) if mid is not None else None
        sent = self._sent_by_id.get((chat_id, int(mid))) if mid is not None else None
        if msg is None or (sent is not None and sent.deleted):
            raise bad_request(f"message to {what} not found")
        if sent is None:
            raise bad_request("message can't be edited")
        return msg, sent

    def _apply_edit(
        self,
        method: str,
        p: dict[str, Any],
        msg: dict[str, Any],
        sent: SentMessage,
        *,
        new_text: str | None,
        new_plain: str | None,
        text_key: str | None,
    ) -> dict[str, Any]:
        markup = p.get("reply_markup")
        check_reply_markup(markup)
        new_markup = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
        old_markup = msg.get("reply_markup")
        text_same = text_key is None or (new_text == sent.text and p.get("parse_mode") == sent.parse_mode)
        if text_same and new_markup == old_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same "
                "as a current content and reply markup of the message"
            )
        sent.edits.append(
            Edit(
                method=method,
                params=p,
                time=time.time(),
                old_text=sent.text,
                new_text=new_text if text_key else sent.text,
                old_reply_markup=sent.reply_markup,
                new_reply_markup=new_markup,
            )
        )
        if text_key is not None:
            sent.text, sent.plain_text, sent.parse_mode = new_text, new_plain, p.get("parse_mode")
            entities_key = "entities" if text_key == "text" else "caption_entities"
            msg.pop(entities_key, None)
            if new_plain is None:
                msg.pop(text_key, None)
            else:
                msg[text_key] = new_plain
                entities = self._entities(new_text, p.get("parse_mode"), p.get(entities_key))
                if entities:
                    msg[entities_key] = entities
        sent.reply_markup = new_markup
        if new_markup is None:
            msg.pop("reply_markup", None)
        else:
            msg["reply_markup"] = new_markup
        msg["edit_date"] = self._now()
        self._changed.notify_all()
        return msg

    def _edit_message_text(self, p: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        plain = check_message_text(p.get("text"), p.get("parse_mode"), strict=self.strict)
        target = self._target_message(p, "edit")
        if target is None:
            return True
        msg, sent = target
        if sent.kind != "text":
            raise bad_request("there is no text in the message to edit")
        return self._apply_edit(
            "editMessageText", p, msg, sent, new_text=str(p["text"]), new_plain=plain, text_key="text"
        )

    def _edit_message_caption(self, p: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        plain = check_caption(p.get("caption"), p.get("parse_mode"), strict=self.strict)
        target = self._target_message(p, "edit")
        if target is None:
            return True
        msg, sent = target
        if sent.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        caption = p.get("caption")
        return self._apply_edit(
            "editMessageCaption",
            p,
            msg,
            sent,
            new_text=None if caption is None else str(caption),
            new_plain=plain,
            text_key="caption",
        )

    def _edit_message_reply_markup(self, p: dict[str, Any], files: dict[str, StoredFile]) -> Any:
        target = self._target_message(p, "edit")
        if target is None:
            return True
        msg, sent = target
        return self._apply_edit(
            "editMessageReplyMarkup", p, msg, sent, new_text=None, new_plain=None, text_key=None
        )

    def _delete_message(self, p: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        chat_id = self._resolve_chat_id(p.get("chat_id"))
        key = (chat_id, int(p.get("message_id") or 0))
        sent = self._sent_by_id.get(key)
        if key not in self._messages or (sent is not None and sent.deleted):
            raise bad_request("message to delete not found")
        if sent is not None:
            sent.deleted = True
        self._messages.pop(key, None)
        self._changed.notify_all()
        return True

    def _delete_messages(self, p: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        for mid in p.get("message_ids") or []:
            with contextlib.suppress(ApiError):
                self._delete_message({"chat_id": p.get("chat_id"), "message_id": mid}, files)
        return True

    def _answer_callback_query(self, p: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        qid = str(p.get("callback_query_id"))
        if qid not in self._open_callbacks:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = p.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self._open_callbacks.discard(qid)
        self._callback_answers[qid] = p
        return True

    def _send_chat_action(self, p: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        self._resolve_chat_id(p.get("chat_id"))
        if not p.get("action"):
            raise bad_request("wrong parameter action in request")
        return True

    @staticmethod
    def _scope_key(scope: Any) -> str:
        if not scope or (isinstance(scope, dict) and scope.get("type") == "default"):
            return "default"
        return json.dumps(scope, sort_keys=True, separators=(",", ":"))

    def _set_my_commands(self, p: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        commands = check_commands(p.get("commands"))
        self._commands[(self._scope_key(p.get("scope")), str(p.get("language_code") or ""))] = commands
        return True

    def _get_my_commands(self, p: dict[str, Any], files: dict[str, StoredFile]) -> list[dict[str, Any]]:
        return list(
            self._commands.get((self._scope_key(p.get("scope")), str(p.get("language_code") or "")), [])
        )

    def _delete_my_commands(self, p: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        self._commands.pop((self._scope_key(p.get("scope")), str(p.get("language_code") or "")), None)
        return True

    def _set_chat_menu_button(self, p: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        chat_id = self._resolve_chat_id(p["chat_id"]) if p.get("chat_id") is not None else None
        self._menu_buttons[chat_id] = p.get("menu_button") or {"type": "default"}
        return True

    def _get_chat_menu_button(self, p: dict[str, Any], files: dict[str, StoredFile]) -> dict[str, Any]:
        chat_id = self._resolve_chat_id(p["chat_id"]) if p.get("chat_id") is not None else None
        return self._menu_buttons.get(chat_id) or self._menu_buttons.get(None) or {"type": "default"}

    def _set_webhook(self, p: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        url = str(p.get("url") or "")
        secret = p.get("secret_token")
        if secret is not None and (
            not 1 <= len(str(secret)) <= 256 or not all(c.isalnum() or c in "_-" for c in str(secret))
        ):
            raise bad_request("secret token contains unallowed characters")
        if p.get("drop_pending_updates"):
            self._drop_pending()
        if not url:
            self._webhook = None
        else:
            self._webhook = {
                "url": url,
                "secret_token": secret,
                "allowed_updates": p.get("allowed_updates"),
                "max_connections": p.get("max_connections") or 40,
                "ip_address": p.get("ip_address"),
                "has_custom_certificate": "certificate" in files,
                "last_error_date": None,
                "last_error_message": None,
            }
            if p.get("allowed_updates") is not None:
                self._allowed_updates = list(p["allowed_updates"])
        self._notify_loop()
        return True

    def _drop_pending(self) -> None:
        if self._pending:
            self._confirmed_below = self._pending[-1]["update_id"] + 1
        self._pending = []

    def _delete_webhook(self, p: dict[str, Any], files: dict[str, StoredFile]) -> bool:
        if p.get("drop_pending_updates"):
            self._drop_pending()
        self._webhook = None
        self._notify_loop()
        return True

    def _get_webhook_info(self, p: dict[str, Any], files: dict[str, StoredFile]) -> dict[str, Any]:
        wh = self._webhook
        info: dict[str, Any] = {
            "url": wh["url"] if wh else "",
            "has_custom_certificate": bool(wh and wh["has_custom_certificate"]),
            "pending_update_count": len(self._pending),
        }
        if wh:
            info["max_connections"] = wh["max_connections"]
            if wh["allowed_updates"] is not None:
                info["allowed_updates"] = wh["allowed_updates"]
            if wh["ip_address"]:
                info["ip_address"] = wh["ip_address"]
            if wh["last_error_date"]:
                info["last_error_date"] = wh["last_error_date"]
                info["last_error_message"] = wh["last_error_message"]
        return info

    def _get_chat(self, p: dict[str, Any], files: dict[str, StoredFile]) -> dict[str, Any]:
        chat_id = self._resolve_chat_id(p.get("chat_id"))
        if chat_id not in self._chats:
            raise bad_request("chat not found")
        return {
            **self._chats[chat_id],
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _get_file(self, p: dict[str, Any], files: dict[str, StoredFile]) -> dict[str, Any]:
        stored = self._files.get(str(p.get("file_id")))
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    _handlers: ClassVar[dict[str, Callable[[FakeBotApi, dict[str, Any], dict[str, StoredFile]], Any]]] = {
        "getme": _get_me,
        "sendmessage": _send_message,
        "sendmediagroup": _send_media_group,
        "editmessagetext": _edit_message_text,
        "editmessagecaption": _edit_message_caption,
        "editmessagereplymarkup": _edit_message_reply_markup,
        "deletemessage": _delete_message,
        "deletemessages": _delete_messages,
        "answercallbackquery": _answer_callback_query,
        "sendchataction": _send_chat_action,
        "setmycommands": _set_my_commands,
        "getmycommands": _get_my_commands,
        "deletemycommands": _delete_my_commands,
        "setchatmenubutton": _set_chat_menu_button,
        "getchatmenubutton": _get_chat_menu_button,
        "setwebhook": _set_webhook,
        "deletewebhook": _delete_webhook,
        "getwebhookinfo": _get_webhook_info,
        "getchat": _get_chat,
        "getfile": _get_file,
    }

    # ------------------------------------------------------------------ files

    def _new_file(
        self, data: bytes, filename: str | None, mime_type: str | None, *, register: bool = True
    ) -> StoredFile:
        n = next(self._file_seq)
        digest = hashlib.sha1(data + str(n).encode()).hexdigest()
        if mime_type in (None, "", "application/octet-stream") and filename:
            mime_type = mimetypes.guess_type(filename)[0] or mime_type
        ext = os.path.splitext(filename or "")[1] or mimetypes.guess_extension(mime_type or "") or ""
        stored = StoredFile(
            file_id=f"FAKE{n:06d}-{digest[:24]}",
            file_unique_id=f"U{n:06d}{digest[:8]}",
            data=data,
            filename=filename,
            mime_type=mime_type,
            file_path=f"files/file_{n}{ext}",
        )
        if register:
            self._register(stored)
        return stored

    def _register(self, stored: StoredFile) -> StoredFile:
        with self._lock:
            self._files[stored.file_id] = stored
            self._files_by_path[stored.file_path] = stored
        return stored

    def add_file(self, data: bytes, filename: str | None = None, mime_type: str | None = None) -> StoredFile:
        """Make a file known to the fake (getFile + download work for its ``file_id``)."""
        with self._lock:
            return self._new_file(data, filename, mime_type)

    def file(self, file_id: str) -> StoredFile:
        with self._lock:
            return self._files[file_id]

    # ------------------------------------------------------------------ driving the bot: updates

    def _user(
        self, user_id: int, first_name: str, username: str | None, language_code: str | None
    ) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._users[user_id] = user
        return user

    def _user_chat(self, user: dict[str, Any], chat_id: int | None) -> dict[str, Any]:
        if chat_id is None or chat_id == user["id"]:
            chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
            if "username" in user:
                chat["username"] = user["username"]
            self._chats[user["id"]] = chat
            return chat
        return self._chat(chat_id)

    def _user_message(
        self,
        user_id: int,
        chat_id: int | None,
        first_name: str,
        username: str | None,
        language_code: str | None,
        body: dict[str, Any],
        reply_to: int | None = None,
        date: int | None = None,
    ) -> dict[str, Any]:
        user = self._user(user_id, first_name, username, language_code)
        chat = self._user_chat(user, chat_id)
        mid = self._next_message_id(chat["id"])
        msg: dict[str, Any] = {
            "message_id": mid,
            "from": user,
            "chat": chat,
            "date": self._now() if date is None else date,
        }
        if reply_to is not None:
            target = self._messages.get((chat["id"], reply_to))
            if target is None:
                raise ValueError(f"no message {reply_to} in chat {chat['id']} to reply to")
            msg["reply_to_message"] = {k: v for k, v in target.items() if k != "reply_to_message"}
        msg.update(body)
        self._messages[(chat["id"], mid)] = msg
        return msg

    def _new_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        uid = self._next_update_id
        self._next_update_id += 1
        return {"update_id": uid, kind: payload}

    def _enqueue(self, update: dict[str, Any]) -> int:
        with self._changed:
            self._pending.append(update)
            self._pending.sort(key=lambda u: u["update_id"])
            self._updates[update["update_id"]] = update
            self._changed.notify_all()
        self._notify_loop()
        return int(update["update_id"])

    def make_text_update(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        first_name: str = "Rep",
        username: str | None = None,
        language_code: str | None = "zh-hans",
        reply_to: int | None = None,
        date: int | None = None,
    ) -> dict[str, Any]:
        """A text-message Update (not queued: for :meth:`post_update_to`). Commands get an entity."""
        body: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0] if text.strip() else text
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        with self._lock:
            msg = self._user_message(
                user_id, chat_id, first_name, username, language_code, body, reply_to, date
            )
            return self._new_update("message", msg)

    def push_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        first_name: str = "Rep",
        username: str | None = None,
        language_code: str | None = "zh-hans",
        reply_to: int | None = None,
        date: int | None = None,
    ) -> int:
        """Queue a text message from ``user_id`` (private chat unless ``chat_id``); returns update_id."""
        return self._enqueue(
            self.make_text_update(
                user_id,
                text,
                chat_id=chat_id,
                first_name=first_name,
                username=username,
                language_code=language_code,
                reply_to=reply_to,
                date=date,
            )
        )

    def _find_callback_target(
        self, chat_id: int, data: str, message_id: int | None, check: bool
    ) -> dict[str, Any]:
        if message_id is not None:
            msg = self._messages.get((chat_id, message_id))
            if msg is None:
                raise ValueError(f"no message {message_id} in chat {chat_id} (deleted or never sent)")
            return msg
        candidates = [s for s in self._sent if s.chat_id == chat_id and not s.deleted]
        for s in reversed(candidates):
            if data in s.callback_data:
                return self._messages[(chat_id, s.message_id)]
        if not check and candidates:
            return self._messages[(chat_id, candidates[-1].message_id)]
        summary = [c.summary() for c in candidates[-5:]]
        raise ValueError(
            f"no bot message in chat {chat_id} has a button with callback_data {data!r}; last: {summary}"
        )

    def make_callback_update(
        self,
        user_id: int,
        data: str,
        *,
        message_id: int | None = None,
        chat_id: int | None = None,
        first_name: str = "Rep",
        username: str | None = None,
        language_code: str | None = "zh-hans",
        check: bool = True,
    ) -> dict[str, Any]:
        """A callback_query Update for a button press on a bot message (not queued).

        Without ``message_id`` the latest bot message in the chat that has a button with this
        ``data`` is used. With ``check`` (default) pressing a button the message doesn't have
        raises ValueError, as a real user could not do it.
        """
        with self._lock:
            chat = chat_id if chat_id is not None else user_id
            msg = self._find_callback_target(chat, data, message_id, check)
            if check and message_id is not None:
                sent = self._sent_by_id.get((chat, message_id))
                if sent is not None and data not in sent.callback_data:
                    raise ValueError(
                        f"message {message_id} has no button with callback_data {data!r}; it has {sent.callback_data}"
                    )
            user = self._user(user_id, first_name, username, language_code)
            qid = str(next(self._callback_ids))
            self._open_callbacks.add(qid)
            query = {
                "id": qid,
                "from": user,
                "message": json.loads(json.dumps(msg)),
                "chat_instance": str(int(hashlib.sha1(f"chat{chat}".encode()).hexdigest()[:15], 16)),
                "data": data,
            }
            return self._new_update("callback_query", query)

    def push_callback(
        self,
        user_id: int,
        data: str,
        *,
        message_id: int | None = None,
        chat_id: int | None = None,
        first_name: str = "Rep",
        username: str | None = None,
        language_code: str | None = "zh-hans",
        check: bool = True,
    ) -> int:
        """Queue a button press (callback_query with ``data``) on a bot message; returns update_id."""
        return self._enqueue(
            self.make_callback_update(
                user_id,
                data,
                message_id=message_id,
                chat_id=chat_id,
                first_name=first_name,
                username=username,
                language_code=language_code,
                check=check,
            )
        )

    def press_button(
        self,
        user_id: int,
        text: str,
        *,
        message_id: int | None = None,
        chat_id: int | None = None,
        exact: bool = False,
        language_code: str | None = "zh-hans",
    ) -> int:
        """Press the inline button labelled ``text`` (substring unless ``exact``) on the latest
        bot message that has it (or on ``message_id``); returns update_id."""
        chat = chat_id if chat_id is not None else user_id
        with self._lock:
            candidates = [
                s
                for s in self._sent
                if s.chat_id == chat and not s.deleted and (message_id is None or s.message_id == message_id)
            ]
            for s in reversed(candidates):
                try:
                    button = s.button(text, exact=exact)
                except KeyError:
                    continue
                if "callback_data" not in button:
                    raise ValueError(f"button {button} has no callback_data")
                return self.push_callback(
                    user_id,
                    button["callback_data"],
                    message_id=s.message_id,
                    chat_id=chat_id,
                    language_code=language_code,
                )
            summary = [c.summary() for c in candidates[-5:]]
        raise ValueError(f"no inline button {text!r} in chat {chat}; last messages: {summary}")

    def _push_user_file(
        self,
        user_id: int,
        kind: str,
        obj: Any,
        *,
        caption: str | None,
        chat_id: int | None,
        first_name: str,
        username: str | None,
        language_code: str | None,
    ) -> int:
        body: dict[str, Any] = {kind: obj}
        if caption is not None:
            body["caption"] = caption
        with self._lock:
            msg = self._user_message(user_id, chat_id, first_name, username, language_code, body)
            update = self._new_update("message", msg)
        return self._enqueue(update)

    def push_sticker(
        self,
        user_id: int,
        *,
        emoji: str = "👍",
        chat_id: int | None = None,
        first_name: str = "Rep",
        username: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> int:
        with self._lock:
            stored = self._new_file(b"RIFF\x00\x00\x00\x00WEBP", "sticker.webp", "image/webp")
        obj = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": stored.size,
        }
        return self._push_user_file(
            user_id,
            "sticker",
            obj,
            caption=None,
            chat_id=chat_id,
            first_name=first_name,
            username=username,
            language_code=language_code,
        )

    def push_photo(
        self,
        user_id: int,
        data: bytes | None = None,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
        first_name: str = "Rep",
        username: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> int:
        """Queue a photo from the user (default: a 1x1 PNG); the bot can getFile + download it."""
        data = tiny_png() if data is None else data
        with self._lock:
            stored = self._new_file(data, "photo.png" if data[:4] == b"\x89PNG" else "photo.jpg", None)
        w, h = _image_size(data)
        sizes = [
            {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "width": w,
                "height": h,
                "file_size": stored.size,
            }
        ]
        return self._push_user_file(
            user_id,
            "photo",
            sizes,
            caption=caption,
            chat_id=chat_id,
            first_name=first_name,
            username=username,
            language_code=language_code,
        )

    def push_voice(
        self,
        user_id: int,
        data: bytes | None = None,
        *,
        duration: int = 2,
        chat_id: int | None = None,
        first_name: str = "Rep",
        username: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> int:
        data = b"OggS" + b"\x00" * 60 if data is None else data
        with self._lock:
            stored = self._new_file(data, None, "audio/ogg")
        obj = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": stored.size,
        }
        return self._push_user_file(
            user_id,
            "voice",
            obj,
            caption=None,
            chat_id=chat_id,
            first_name=first_name,
            username=username,
            language_code=language_code,
        )

    def push_document(
        self,
        user_id: int,
        data: bytes,
        filename: str,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        chat_id: int | None = None,
        first_name: str = "Rep",
        username: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> int:
        """Queue a document (e.g. an XLSX) from the user; the bot can getFile + download it."""
        with self._lock:
            stored = self._new_file(data, filename, mime_type)
        obj: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": filename,
            "file_size": stored.size,
        }
        if stored.mime_type:
            obj["mime_type"] = stored.mime_type
        return self._push_user_file(
            user_id,
            "document",
            obj,
            caption=caption,
            chat_id=chat_id,
            first_name=first_name,
            username=username,
            language_code=language_code,
        )

    def push_raw(self, update: dict[str, Any]) -> int:
        """Queue any Update dict. Without ``update_id`` one is assigned; a given one must be
        higher than all before it. Message ids and callback query ids inside are registered."""
        update = json.loads(json.dumps(update))
        with self._lock:
            if "update_id" not in update:
                update["update_id"] = self._next_update_id
            elif int(update["update_id"]) < self._next_update_id:
                raise ValueError(f"update_id must be >= {self._next_update_id} (ids only increase)")
            self._next_update_id = int(update["update_id"]) + 1
            for key in ("message", "edited_message", "channel_post", "business_message"):
                msg = update.get(key)
                if isinstance(msg, dict) and isinstance(msg.get("chat"), dict) and "message_id" in msg:
                    cid = int(msg["chat"]["id"])
                    self._chats.setdefault(cid, msg["chat"])
                    self._msg_counter[cid] = max(self._msg_counter.get(cid, 0), int(msg["message_id"]))
                    self._messages.setdefault((cid, int(msg["message_id"])), msg)
            cq = update.get("callback_query")
            if isinstance(cq, dict) and "id" in cq:
                self._open_callbacks.add(str(cq["id"]))
        return self._enqueue(update)

    # ------------------------------------------------------------------ webhooks

    async def _webhook_worker(self) -> None:
        assert self._closing is not None
        while not self._closing.is_set():
            ev = asyncio.Event()
            self._poll_waiters.add(ev)
            try:
                with self._lock:
                    wh = dict(self._webhook) if self._webhook else None
                    batch = self._select_updates(1) if wh and self.webhook_auto_deliver else []
                if not batch or wh is None:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(ev.wait(), 1.0)
                    continue
            finally:
                self._poll_waiters.discard(ev)
            update = batch[0]
            status, error = await self._deliver(wh["url"], update, wh["secret_token"])
            with self._changed:
                self._webhook_deliveries.append(
                    WebhookDelivery(update["update_id"], wh["url"], status, error, time.time())
                )
                self._deliveries[update["update_id"]] = self._deliveries.get(update["update_id"], 0) + 1
                if status is not None and 200 <= status < 300:
                    self._confirm_below(update["update_id"] + 1)
                elif self._webhook is not None:
                    self._webhook["last_error_date"] = self._now()
                    self._webhook["last_error_message"] = (
                        error or f"Wrong response from the webhook: {status}"
                    )
                self._changed.notify_all()
            if status is None or not 200 <= status < 300:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), self.webhook_retry_delay)

    async def _deliver(
        self,
        url: str,
        update: dict[str, Any],
        secret_token: str | None,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> tuple[int | None, str | None]:
        if not loopback_url(url):
            return None, f"FakeBotApi only delivers webhooks to loopback addresses, not {url!r}"
        assert self._http is not None
        return await self._post_update(self._http, url, update, secret_token, timeout)

    @staticmethod
    async def _post_update(
        session: aiohttp.ClientSession,
        url: str,
        update: dict[str, Any],
        secret_token: str | None,
        timeout: float,  # noqa: ASYNC109
    ) -> tuple[int | None, str | None]:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret_token} if secret_token else {}
        try:
            async with session.post(
                url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as resp:
                await resp.read()
                return resp.status, None
        except (aiohttp.ClientError, TimeoutError) as exc:
            return None, f"{type(exc).__name__}: {exc}"

    def post_update_to(
        self, url: str, update: dict[str, Any], secret_token: str | None = None, *, timeout: float = 5.0
    ) -> int:
        """POST ``update`` to a bot's webhook like Telegram does; returns the HTTP status.

        Blocking: from an async test whose event loop runs the bot, use
        :meth:`post_update_to_async` instead. Only loopback URLs are allowed.
        """
        self._no_running_loop("post_update_to", "post_update_to_async")
        if not loopback_url(url):
            raise ValueError(f"only loopback webhook URLs are allowed, not {url!r}")
        if self._loop is None:
            raise RuntimeError("FakeBotApi is not running")
        status, error = asyncio.run_coroutine_threadsafe(
            self._deliver(url, update, secret_token, timeout), self._loop
        ).result(timeout + 5)
        if status is None:
            raise ConnectionError(error)
        return status

    async def post_update_to_async(
        self,
        url: str,
        update: dict[str, Any],
        secret_token: str | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> int:
        """Async :meth:`post_update_to`, running on the caller's event loop."""
        if not loopback_url(url):
            raise ValueError(f"only loopback webhook URLs are allowed, not {url!r}")
        async with aiohttp.ClientSession() as session:
            status, error = await self._post_update(session, url, update, secret_token, timeout)
        if status is None:
            raise ConnectionError(error)
        return status

    @property
    def webhook(self) -> dict[str, Any] | None:
        """The webhook the bot set (url, secret_token, allowed_updates, ...), or None."""
        with self._lock:
            return dict(self._webhook) if self._webhook else None

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        with self._lock:
            return list(self._webhook_deliveries)

    # ------------------------------------------------------------------ inspection

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """Recorded calls (all, or of one method, case-insensitive), oldest first."""
        with self._lock:
            if method is None:
                return list(self._calls)
            m = method.lower()
            return [c for c in self._calls if c.method.lower() == m]

    def sent(self, chat_id: int | None = None, *, include_deleted: bool = True) -> list[SentMessage]:
        """Messages the bot sent (optionally to one chat), oldest first, edits applied."""
        with self._lock:
            return [
                s
                for s in self._sent
                if (chat_id is None or s.chat_id == chat_id) and (include_deleted or not s.deleted)
            ]

    def texts(self, chat_id: int | None = None) -> list[str]:
        """Current texts/captions of the bot's (undeleted) messages."""
        return [s.text or "" for s in self.sent(chat_id, include_deleted=False)]

    def last(self, chat_id: int | None = None) -> SentMessage:
        sent = self.sent(chat_id)
        if not sent:
            raise AssertionError(f"the bot sent nothing{'' if chat_id is None else f' to chat {chat_id}'}")
        return sent[-1]

    def mark(self, chat_id: int | None = None) -> int:
        """How many messages the bot has sent so far (to ``chat_id``): pass as ``since=``."""
        return len(self.sent(chat_id))

    def message(self, chat_id: int, message_id: int) -> SentMessage:
        with self._lock:
            return self._sent_by_id[(chat_id, message_id)]

    def callback_answers(self, callback_query_id: str | None = None) -> list[dict[str, Any]]:
        """Params of successful answerCallbackQuery calls."""
        with self._lock:
            return [
                a
                for qid, a in self._callback_answers.items()
                if callback_query_id is None or qid == str(callback_query_id)
            ]

    def chat_actions(self, chat_id: int | None = None) -> list[str]:
        return [
            str(c.params.get("action"))
            for c in self.calls("sendChatAction")
            if c.ok and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, Any]]:
        """Commands set with setMyCommands for that scope (None = default) and language."""
        with self._lock:
            return list(self._commands.get((self._scope_key(scope), language_code), []))

    @property
    def all_commands(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """Every command list set: {(scope_key, language_code): commands}."""
        with self._lock:
            return dict(self._commands)

    def menu_button(self, chat_id: int | None = None) -> dict[str, Any] | None:
        with self._lock:
            return self._menu_buttons.get(chat_id)

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (getUpdates offset or webhook 2xx)."""
        with self._lock:
            return list(self._pending)

    def is_confirmed(self, update_id: int) -> bool:
        with self._lock:
            return update_id < self._confirmed_below or all(
                u["update_id"] != update_id for u in self._pending
            )

    def polls_waiting(self) -> int:
        """Long polls parked in the server, including those of a bot that has since died."""
        return self._polls_open

    def delivery_count(self, update_id: int) -> int:
        """How many times the update was handed to the bot (getUpdates answers / webhook POSTs)."""
        with self._lock:
            return self._deliveries.get(update_id, 0)

    def update(self, update_id: int) -> dict[str, Any]:
        with self._lock:
            return self._updates[update_id]

    def block_chat(self, chat_id: int) -> None:
        """Sends/edits to this chat now fail with 403 'Forbidden: bot was blocked by the user'."""
        with self._lock:
            self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        with self._lock:
            self._blocked.discard(chat_id)

    # ------------------------------------------------------------------ waiting

    @staticmethod
    def _no_running_loop(name: str, alternative: str) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        raise RuntimeError(
            f"FakeBotApi.{name}() blocks, and would freeze the running event loop (and an in-process bot "
            f"with it); use `await api.{alternative}(...)` in async code"
        )

    def _match_sent(self, match: Any, chat_id: int | None, since: int) -> tuple[bool, list[SentMessage], str]:
        messages = self.sent(chat_id)[since:]
        if match is None:
            match = 1
        if isinstance(match, bool):
            raise TypeError("match must be a count, a substring or a predicate")
        if isinstance(match, int):
            return len(messages) >= match, messages, f"{match} bot message(s)"
        if isinstance(match, str):
            found = [m for m in messages if match in (m.text or "") or match in (m.plain_text or "")]
            return bool(found), found, f"a bot message containing {match!r}"
        found = [m for m in messages if match(m)]
        return bool(found), found, f"a bot message matching {getattr(match, '__name__', match)!r}"

    def _timeout_report(self, what: str, timeout: float, chat_id: int | None, since: int) -> str:
        where = "" if chat_id is None else f" in chat {chat_id}"
        messages = self.sent(chat_id)
        lines = [f"timed out after {timeout}s waiting for {what}{where} (since={since})."]
        lines.append(f"The bot sent {len(messages)} message(s){where}:")
        lines += [("  * " if i >= since else "    ") + m.summary() for i, m in enumerate(messages[-15:])]
        calls = [c for c in self.calls() if c.method.lower() != "getupdates"][-15:]
        lines.append("Last API calls (getUpdates omitted):")
        lines += [f"    {c!r}" for c in calls]
        pending = self.pending_updates()
        if pending:
            lines.append(f"Updates not yet confirmed by the bot: {[u['update_id'] for u in pending]}")
        return "\n".join(lines)

    def wait_for(
        self,
        match: int | str | Callable[[SentMessage], bool] | None = None,
        *,
        chat_id: int | None = None,
        timeout: float = 5.0,
        since: int = 0,
    ) -> list[SentMessage]:
        """Block until the bot has sent what ``match`` asks for; return the matching messages.

        ``match``: a count (at least that many messages), a substring of the text/caption (raw,
        or as displayed with HTML/Markdown stripped), or a predicate on :class:`SentMessage`
        (re-checked as edits arrive); None = 1 message.
        Only messages from index ``since`` on count (see :meth:`mark`).
        Raises AssertionError describing what was received instead.
        """
        self._no_running_loop("wait_for", "wait_for_async")
        waiter = _Waiter(timeout)
        with self._changed:
            while True:
                ok, found, what = self._match_sent(match, chat_id, since)
                if ok:
                    return found
                if waiter.remaining <= 0:
                    raise AssertionError(self._timeout_report(what, timeout, chat_id, since))
                self._changed.wait(min(waiter.remaining, 0.25))

    async def wait_for_async(
        self,
        match: int | str | Callable[[SentMessage], bool] | None = None,
        *,
        chat_id: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        since: int = 0,
    ) -> list[SentMessage]:
        """:meth:`wait_for` for async tests: polls without blocking the event loop."""
        waiter = _Waiter(timeout)
        while True:
            with self._lock:
                ok, found, what = self._match_sent(match, chat_id, since)
            if ok:
                return found
            if waiter.remaining <= 0:
                raise AssertionError(self._timeout_report(what, timeout, chat_id, since))
            await asyncio.sleep(0.01)

    def _match_calls(
        self, method: str, match: Mapping[str, Any] | Callable[[ApiCall], bool] | None, count: int, since: int
    ) -> tuple[bool, list[ApiCall]]:
        calls = [c for c in self.calls(method)[since:] if c.status is not None]
        if match is None:
            found = calls
        elif callable(match):
            found = [c for c in calls if match(c)]
        else:
            found = [c for c in calls if all(c.params.get(k) == v for k, v in match.items())]
        return len(found) >= count, found

    def wait_for_call(
        self,
        method: str,
        match: Mapping[str, Any] | Callable[[ApiCall], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
        since: int = 0,
    ) -> list[ApiCall]:
        """Block until ``count`` answered calls of ``method`` match (params subset or predicate)."""
        self._no_running_loop("wait_for_call", "wait_for_call_async")
        waiter = _Waiter(timeout)
        with self._changed:
            while True:
                ok, found = self._match_calls(method, match, count, since)
                if ok:
                    return found
                if waiter.remaining <= 0:
                    raise AssertionError(self._call_report(method, match, count, timeout))
                self._changed.wait(min(waiter.remaining, 0.25))

    async def wait_for_call_async(
        self,
        method: str,
        match: Mapping[str, Any] | Callable[[ApiCall], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        since: int = 0,
    ) -> list[ApiCall]:
        waiter = _Waiter(timeout)
        while True:
            ok, found = self._match_calls(method, match, count, since)
            if ok:
                return found
            if waiter.remaining <= 0:
                raise AssertionError(self._call_report(method, match, count, timeout))
            await asyncio.sleep(0.01)

    def _call_report(self, method: str, match: Any, count: int, timeout: float) -> str:
        calls = [c for c in self.calls() if c.method.lower() != "getupdates"][-20:]
        lines = [f"timed out after {timeout}s waiting for {count} {method} call(s) matching {match!r}."]
        lines.append("Last API calls (getUpdates omitted):")
        lines += [f"    {c!r}" for c in calls]
        return "\n".join(lines)

    def wait_until(self, condition: Callable[[], bool], *, timeout: float = 5.0, message: str = "") -> None:
        """Block until ``condition()`` is true (re-checked on every change in the fake)."""
        self._no_running_loop("wait_until", "wait_until_async")
        waiter = _Waiter(timeout)
        with self._changed:
            while not condition():
                if waiter.remaining <= 0:
                    raise AssertionError(f"timed out after {timeout}s: {message or condition}")
                self._changed.wait(min(waiter.remaining, 0.05))

    async def wait_until_async(
        self,
        condition: Callable[[], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        message: str = "",
    ) -> None:
        waiter = _Waiter(timeout)
        while not condition():
            if waiter.remaining <= 0:
                raise AssertionError(f"timed out after {timeout}s: {message or condition}")
            await asyncio.sleep(0.01)
