"""A pool of HTTP servers (vLLM or SGLang) that every training process can send judge requests to.

:class:`ServerPool` posts JSON requests to several server URLs at once: request ``i`` starts on
server ``i mod n`` (so servers share the load), at most ``max_in_flight`` requests are open at a
time, a connection error, a timeout or a 5xx answer is retried with exponential backoff on the
next server, and the answers come back in input order. Anything that retrying cannot fix (a 404,
a wrong model name, a malformed answer) stops at once with a :class:`ServedJudgeError` that names
the server and the fix; nothing is ever replaced by a default value.
"""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlparse

# Turns a server's JSON answer (with the server's URL and the payload it answers) into a result.
Parser = Callable[[Any, str, dict[str, Any]], Any]
# Retried on the next server: the request may succeed elsewhere or a moment later.
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class ServedJudgeError(RuntimeError):
    """A judge server could not give a usable answer; the message names the server and the fix."""


def check_urls(urls: Sequence[str] | str) -> list[str]:
    """Returns the server base URLs without a trailing slash, raising a clear error on a bad one.

    Example:
        >>> check_urls("http://node1:8000/, http://node1:8001")
        ['http://node1:8000', 'http://node1:8001']
    """
    if isinstance(urls, str):
        urls = [part for part in urls.split(",") if part.strip()]
    if not isinstance(urls, Iterable):
        raise TypeError(
            f"Server URLs are a URL string or a list of them, e.g. ['http://localhost:8000'], got {urls!r}."
        )
    urls = list(urls)
    for url in urls:
        if not isinstance(url, str):
            raise TypeError(f"A server URL is a string such as 'http://node1:8000', got {url!r}.")
    urls = [url.strip().rstrip("/") for url in urls]
    if not urls:
        raise ValueError("A server pool needs at least one URL, e.g. ['http://localhost:8000'].")
    for url in urls:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"Server URL {url!r} is not an http(s) URL such as 'http://node1:8000'.")
    return urls


def error_message(body: str) -> str:
    """The human-readable part of an engine's error body (vLLM's flat and nested forms, FastAPI's detail)."""
    try:
        parsed = json.loads(body)
    except (json.JSONDecodeError, TypeError):
        return body.strip()[:300]
    if isinstance(parsed, dict):
        inner = parsed.get("error", parsed)
        if isinstance(inner, dict):
            return str(inner.get("message") or inner.get("detail") or parsed)[:300]
        return str(inner)[:300]
    return str(parsed)[:300]


MISSING_AIOHTTP = (
    "The served judges need aiohttp, an optional dependency: pip install 'darling-rl[serving]' "
    "(or pip install aiohttp)."
)


def _check_aiohttp() -> None:
    """Raises a clear ``ImportError`` naming the ``serving`` extra when aiohttp is not installed."""
    import importlib.util

    if importlib.util.find_spec("aiohttp") is None:
        raise ImportError(MISSING_AIOHTTP)


class ServerPool:
    """Sends JSON requests to a pool of servers with bounded concurrency, retries and timeouts.

    Requests go round-robin over the servers, across calls too; a failed one is retried on the next.

    Args:
        urls: Base URLs (``"http://node1:8000"``), a list or one comma-separated string.
        max_in_flight: Most requests open at once (over all servers), per pool call.
        timeout: Seconds a request may take before it counts as failed.
        retries: Extra attempts after a failure, each on the next server.
        backoff: Seconds before the first retry; doubled at each further retry (at most ``max_backoff``).
        max_backoff: Longest wait between two attempts.
        not_found_hint: What a 404 means for this kind of request (e.g. how to start a server that
            has the endpoint); added to the error.
        refused_hint: ``error message -> fix or None``: what a 400 with this message means for this
            kind of request (e.g. an engine version that refuses token ids); the generic fix otherwise.

    Attributes:
        requests_per_server: How many requests each URL received (attempts included).
    """

    def __init__(
        self,
        urls: Sequence[str] | str,
        *,
        max_in_flight: int = 16,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        not_found_hint: str = "",
        refused_hint: Callable[[str], str | None] | None = None,
    ) -> None:
        _check_aiohttp()  # before a run, not at its first request
        self.urls = check_urls(urls)
        for name, value, low in (("max_in_flight", max_in_flight, 1), ("retries", retries, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"`{name}` must be an int >= {low}, got {value!r}.")
        for name, value, positive in (
            ("timeout", timeout, True),
            ("backoff", backoff, False),
            ("max_backoff", max_backoff, False),
        ):
            number = not isinstance(value, bool) and isinstance(value, (int, float))
            if not number or not (value > 0 if positive else value >= 0):  # NaN fails both
                kind = "a positive" if positive else "a non-negative"
                raise ValueError(f"`{name}` must be {kind} number of seconds, got {value!r}.")
        self.max_in_flight = max_in_flight
        self.timeout = float(timeout)
        self.retries = retries
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.not_found_hint = not_found_hint
        self.refused_hint = refused_hint
        self.requests_per_server: Counter[str] = Counter()
        self._next = 0  # the server the next request starts on: round-robin across calls too
        self._start_own_loop()

    def post(self, path: str, payloads: Sequence[dict[str, Any]], parse: Parser) -> list[Any]:
        """Posts every payload to ``path`` and returns ``parse(answer_json, url, payload)`` of each, in input order.

        Runs on the pool's own event loop (a daemon thread), whose HTTP connections stay open between
        calls, so the rounds of a partition do not pay for new connections.

        Raises:
            ServedJudgeError: When a request cannot be answered (see the class docstring).
        """
        if not payloads:
            return []
        future = asyncio.run_coroutine_threadsafe(
            self._post_on_own_loop(path, payloads, parse), self._own_loop()
        )
        return future.result()

    async def apost(self, path: str, payloads: Sequence[dict[str, Any]], parse: Parser) -> list[Any]:
        """:meth:`post` as a coroutine on the caller's event loop (with connections of its own)."""
        import aiohttp

        if not payloads:
            return []
        async with aiohttp.ClientSession(**self._session_options()) as session:
            return await self._gather(session, path, payloads, parse)

    def _session_options(self) -> dict[str, Any]:
        import aiohttp

        return {
            "timeout": aiohttp.ClientTimeout(total=self.timeout),
            "connector": aiohttp.TCPConnector(limit=self.max_in_flight),
        }

    def _start_own_loop(self) -> None:
        self._lock = threading.Lock()
        self._own = _OwnLoop()
        # Connections close when the pool is garbage collected or the interpreter exits.
        weakref.finalize(self, self._own.shutdown)

    def _own_loop(self) -> asyncio.AbstractEventLoop:
        return self._own.get()

    async def _post_on_own_loop(
        self, path: str, payloads: Sequence[dict[str, Any]], parse: Parser
    ) -> list[Any]:
        import aiohttp

        if self._own.session is None or self._own.session.closed:
            self._own.session = aiohttp.ClientSession(**self._session_options())
        return await self._gather(self._own.session, path, payloads, parse)

    async def _gather(
        self, session, path: str, payloads: Sequence[dict[str, Any]], parse: Parser
    ) -> list[Any]:
        limit = asyncio.Semaphore(self.max_in_flight)
        with self._lock:
            first, self._next = self._next, self._next + len(payloads)
        tasks = [
            asyncio.ensure_future(self._send(session, limit, path, payload, first + index, parse))
            for index, payload in enumerate(payloads)
        ]
        try:
            return list(await asyncio.gather(*tasks))
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise

    def close(self) -> None:
        """Closes the pool's open connections and stops its event loop (a later call starts them again)."""
        self._own.shutdown()

    def __getstate__(self) -> dict[str, Any]:
        # Pickled without its lock, loop and connections (reward functions travel between processes).
        return {k: v for k, v in self.__dict__.items() if k not in ("_lock", "_own")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._start_own_loop()

    async def _send(self, session, limit, path: str, payload: dict, index: int, parse) -> Any:
        import aiohttp

        failures: list[str] = []
        for attempt in range(self.retries + 1):
            url = self.urls[(index + attempt) % len(self.urls)]
            if attempt:
                await asyncio.sleep(min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))
            with self._lock:
                self.requests_per_server[url] += 1
            try:
                async with limit, session.post(url + path, json=payload) as response:
                    status, body = response.status, await response.text()
            except asyncio.TimeoutError:
                failures.append(f"{url}: no answer within {self.timeout:g} s")
                continue
            except aiohttp.ClientError as err:
                failures.append(f"{url}: {type(err).__name__}: {err}")
                continue
            if status in _RETRY_STATUSES:
                failures.append(f"{url}: HTTP {status} {error_message(body)}")
                continue
            if status == 404:
                raise ServedJudgeError(self._not_found(url + path, body))
            if status >= 400:
                message = error_message(body)
                fix = (self.refused_hint(message) if self.refused_hint else None) or (
                    "Check the server's settings (model name, --max-model-len) against the judge's."
                )
                raise ServedJudgeError(f"{url}{path} refused the request (HTTP {status}): {message}. {fix}")
            try:
                answer = json.loads(body)
            except json.JSONDecodeError:
                raise ServedJudgeError(
                    f"{url}{path} answered HTTP {status} with a body that is not JSON: {body[:200]!r}. Is it a "
                    "vLLM/SGLang server?"
                ) from None
            return parse(answer, url, payload)
        timed_out = all("no answer within" in failure for failure in failures)
        fix = (
            f"raise `timeout` (now {self.timeout:g} s) or add servers"
            if timed_out
            else "check that the servers are running and reachable from this machine"
        )
        raise ServedJudgeError(
            f"No server of the pool answered a request to {path} after {len(failures)} attempts "
            f"({'; '.join(failures)}); {fix}."
        )

    def _not_found(self, endpoint: str, body: str) -> str:
        message = error_message(body)
        if (
            "does not exist" in message
        ):  # vLLM: "The model `X` does not exist."; a missing route says "Not Found"
            return (
                f"{endpoint} does not serve the requested model ({message}). Pass the server's "
                "--served-model-name as `model` (GET /v1/models on the server lists it)."
            )
        return f"{endpoint} does not exist (HTTP 404: {message}). {self.not_found_hint}".strip()

    def __repr__(self) -> str:
        return f"ServerPool({self.urls}, max_in_flight={self.max_in_flight}, timeout={self.timeout:g})"


class _OwnLoop:
    """:meth:`ServerPool.post`'s event loop (in a daemon thread) and the connections it keeps open."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.session: Any = None

    def get(self) -> asyncio.AbstractEventLoop:
        with self.lock:
            if self.loop is None:
                self.loop = asyncio.new_event_loop()
                threading.Thread(
                    target=self.loop.run_forever, name="darling-server-pool", daemon=True
                ).start()
            return self.loop

    def shutdown(self) -> None:
        with self.lock:
            loop, session, self.loop, self.session = self.loop, self.session, None, None
        if loop is None or not loop.is_running():
            return
        if session is not None:
            asyncio.run_coroutine_threadsafe(session.close(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
