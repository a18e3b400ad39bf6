"""PTB's Bot API requests over aiohttp, the library the webhook server already uses.

PTB's default transport (httpx → httpcore → h11, pure-Python HTTP parsing and anyio on top of
asyncio) cost about a quarter of the bot's CPU per answered message in benchmarks/bench_e2e.py;
aiohttp parses HTTP in C. PTB keeps everything above the transport: parameters, status codes →
exceptions, RetryAfter, the rate limiter (`telegram.request.BaseRequest` is its extension point).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import JSONDict, ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """Keeps `connections` kept-alive connections; requests beyond them wait for one (`pool_timeout`)."""

    def __init__(self, connections: int = 8, read_timeout: float | None = 5.0, write_timeout: float | None = 5.0,
                 connect_timeout: float | None = 5.0, pool_timeout: float | None = 1.0,
                 media_write_timeout: float | None = 20.0) -> None:
        self.connections = connections
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}
        self._headers = {"User-Agent": self.USER_AGENT}
        self._json_headers = {**self._headers, "Content-Type": "application/json"}

    def _proxy(self, url: str) -> str | None:
        """The proxy the environment names for the URL's host (HTTPS_PROXY, ALL_PROXY, NO_PROXY), as PTB's
        default transport honours them; looked up once per host (aiohttp's trust_env would do it per
        request, in a thread)."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        if key not in self._proxies:
            proxies = getproxies()
            found = proxies.get(parts.scheme) or proxies.get("all")
            self._proxies[key] = None if parts.hostname and proxy_bypass(parts.hostname) else found
        return self._proxies[key]

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            # made here, not in __init__: the session belongs to the running event loop
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connections), headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=None), auto_decompress=True)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        proxy = self._proxy(url)
        files = request_data.multipart_data if request_data is not None else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        write = write_timeout
        if isinstance(write, DefaultValue):
            write = self._media_write_timeout if files else self._write_timeout
        # aiohttp has no write timeout: an upload is bounded by its write and read allowances together
        timeout = aiohttp.ClientTimeout(
            total=(write or 0) + (read or 0) + (connect or 0) + (pool or 0) if files and write and read else None,
            # aiohttp's `connect` covers waiting for a pooled connection *and* opening a new one
            connect=(pool or 0) + (connect or 0) or None, sock_connect=connect, sock_read=read)
        try:
            if files and request_data is not None:
                form = aiohttp.FormData(quote_fields=False)  # file names as UTF-8, as Telegram shows them
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mime_type) in files.items():
                    form.add_field(name, content, filename=filename, content_type=mime_type)
                response = await session.request(method, url, data=form, timeout=timeout, proxy=proxy)
            elif request_data is not None and request_data.parameters:
                # a JSON body, as the Bot API accepts: url-encoding Chinese text byte by byte in Python
                # cost more than the rest of building the request
                body = json.dumps(request_data.parameters, ensure_ascii=False).encode()
                response = await session.request(method, url, data=body, headers=self._json_headers,
                                                 timeout=timeout, proxy=proxy)
            else:
                response = await session.request(method, url, timeout=timeout, proxy=proxy)
            async with response:
                return response.status, await response.read()
        except TimeoutError as exc:  # asyncio's and aiohttp's timeouts are TimeoutError on Python 3.11
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


class UpdatesRequest(AiohttpRequest):
    """getUpdates' own transport; keeps the updates of the last answer as Telegram sent them, so the
    inbox stores those rather than PTB re-serialising each parsed Update (PTB never alters them)."""

    def __init__(self) -> None:
        super().__init__(connections=1)
        self.last_updates: list[dict[str, Any]] | None = None

    def parse_json_payload(self, payload: bytes) -> JSONDict:  # type: ignore[override]  # PTB calls it on self
        data = super().parse_json_payload(payload)
        result = data.get("result")
        self.last_updates = result if isinstance(result, list) else None
        return data
