"""HTTP for the Stacks API client: the client-side rate limit, retries with exponential
backoff and jitter (or the server's Retry-After) on connection errors, timeouts, 429 and 5xx,
request counts per route, and the mapping of a final status to a StacksApiError."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Self
from urllib.parse import urlencode

import requests

from chainsync.client.checks import _base_url, _headers, _new_session, _retry_after
from chainsync.client.errors import (
    StacksApiBadResponse,
    StacksApiError,
    StacksApiGone,
    StacksApiNotFound,
    StacksApiRejected,
    StacksApiUnavailable,
)
from chainsync.client.routes import DEFAULT_RATE_LIMIT, Route

logger = logging.getLogger(__name__)

_RETRYABLE_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


# --- rate limiting --------------------------------------------------------------------------


class RateLimiter:
    """At most `per_minute` acquisitions in any 60-second window (0 = unlimited), at a steady
    pace: a token bucket of `burst` tokens refilled continuously at `per_minute - burst + 1` a
    minute, the largest rate at which a full bucket plus a minute's refill stays within the
    limit. The budget is spread over the minute (one request every 60/46 s at 50/min) instead of
    spent at once and then waited out for the rest of the minute. Five by default: a busy poll
    (the tip, the calls' and the prints' head pages, a batch of creations) goes at once, so no
    wait of the limiter falls after a poll's reads and delays what they found (at a 10 s poll
    the bucket is full again by the next one)."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        burst: int = 5,
    ) -> None:
        if per_minute < 0:
            raise ValueError("rate limit must be >= 0")
        if burst < 1:
            raise ValueError("burst must be >= 1")
        self.per_minute = per_minute
        self.burst = min(burst, per_minute) if per_minute else 0
        self._rate = (per_minute - self.burst + 1) / 60.0  # tokens a second
        self._clock, self._sleep = clock, sleep
        self._tokens, self._last = float(self.burst), clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Take a token, first sleeping until one has been refilled if none is left."""
        if not self.per_minute:
            return
        with self._lock:
            self._refill()
            while self._tokens < 1.0 - _EPSILON:
                self._sleep((1.0 - self._tokens) / self._rate)
                self._refill()
            self._tokens -= 1.0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self._rate)
        self._last = now


_EPSILON = 1e-9  # a sleep computed to refill exactly one token may leave it a rounding short


# --- HTTP ---------------------------------------------------------------------------------


class HttpTransport:
    """One requests.Session behind the rate limiter and the retry loop; the base of
    StacksApiClient, which adds the routes."""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        rate_limit: int = DEFAULT_RATE_LIMIT,
        timeout: float | tuple[float, float] = (3.05, 20.0),
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_wait: float = 120.0,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.base_url = _base_url(base_url)
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff_base, self.backoff_max, self.max_wait = backoff_base, backoff_max, max_wait
        self._sleep, self._jitter = sleep, jitter
        self._limiter = RateLimiter(rate_limit, clock=clock, sleep=sleep)
        self._session = session or _new_session()
        self._session.headers.update(_headers(api_key))
        self.request_counts: Counter[str] = Counter()
        self._warned: set[str] = set()

    @property
    def requests_made(self) -> int:
        """HTTP requests sent (every attempt, retries included)."""
        return sum(self.request_counts.values())

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get_json(self, route: Route, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self._json(route, self._request(route, path, params=params))

    def _request(
        self,
        route: Route,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
    ) -> requests.Response:
        """Send with retries. Returns the first response that is not 429/5xx."""
        failure, retry_after = "", None
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._pause(route, attempt, failure, retry_after)
            try:
                response = self._send(route, path, params, body)
            except _RETRYABLE_ERRORS as exc:
                failure, retry_after = type(exc).__name__, None
                continue
            if response.status_code != 429 and response.status_code < 500:
                return response
            failure, retry_after = f"HTTP {response.status_code}", _retry_after(response)
        raise StacksApiUnavailable(
            f"{route.name}: {failure} after {self.max_retries + 1} attempts", route=route.name
        )

    def _send(
        self, route: Route, path: str, params: Mapping[str, Any] | None, body: Any
    ) -> requests.Response:
        self._limiter.acquire()
        self.request_counts[route.name] += 1
        response = self._session.request(
            route.method,
            self.base_url + path,
            params=_query(params),
            json=body,
            timeout=self.timeout,
            allow_redirects=False,
        )
        if "warning" in response.headers and route.name not in self._warned:
            self._warned.add(route.name)
            logger.info("Stacks API %s: %s", route.name, response.headers["warning"])
        return response

    def _pause(self, route: Route, attempt: int, failure: str, retry_after: float | None) -> None:
        delay = retry_after if retry_after is not None else self._backoff(attempt)
        if delay > self.max_wait:
            raise StacksApiUnavailable(
                f"{route.name}: {failure}, asked to wait {delay:.0f}s",
                route=route.name,
                retry_after=delay,
            )
        logger.warning("Stacks API %s: %s; retry %d in %.2fs", route.name, failure, attempt, delay)
        self._sleep(delay)

    def _backoff(self, attempt: int) -> float:
        """Exponential, capped, with "equal jitter": between half and all of the step."""
        step = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return step / 2 + self._jitter() * step / 2

    def _json(self, route: Route, response: requests.Response) -> Any:
        status = response.status_code
        if status == 200:
            try:
                return response.json()
            except ValueError:
                raise StacksApiBadResponse(
                    f"{route.name}: body is not JSON", route=route.name, status=status
                ) from None
        message = f"{route.name}: HTTP {status}: {response.text[:200]}"
        error = _STATUS_ERRORS.get(status)
        if error is None:
            error = StacksApiRejected if 400 <= status < 500 else StacksApiBadResponse
        raise error(message, route=route.name, status=status)


_STATUS_ERRORS: dict[int, type[StacksApiError]] = {404: StacksApiNotFound, 410: StacksApiGone}


def _query(params: Mapping[str, str | int | list[str]] | None) -> str | None:
    """The query string requests would make of `params` (str and int values, a list for a
    repeated key; None ones left out), made here: a dict handed to requests is merged and
    re-encoded through its generic `to_key_val_list`, a tenth of a loopback request's CPU; a
    string is used as it is."""
    if not params:
        return None
    pairs = []
    for key, value in params.items():
        if isinstance(value, list):
            pairs.extend((key, item) for item in value)
        elif value is not None:
            pairs.append((key, value))
    return urlencode(pairs)
