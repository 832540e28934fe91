"""One HTTP client for the risk providers: time-outs, rate limits, 429 and 5xx.

`requests` with a connect and a read time-out on every call. A 429 waits
as long as ``Retry-After`` says (up to `max_wait`) and tries again; past
that the call returns a ``rate_limited`` error so the caller resumes later
with nothing lost. A 5xx is tried once more. Errors come back as values.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from o2c_desktop.sync.risk import RiskError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

TIMEOUT = (5.0, 30.0)  # connect, read (seconds)


@dataclass(frozen=True)
class Reply:
    """A JSON answer: status and body (None when not JSON)."""

    status: int
    body: Any


class HttpClient:
    """GET/POST JSON with the providers' rules; `sleep` and `clock` injectable.

    Args:
        source: the provider's name, for errors.
        per_second: at most this many requests a second (0: no pacing).
        max_wait: the longest Retry-After honoured by waiting, in seconds.
        attempts: tries per call for 429 and 5xx answers.
    """

    def __init__(
        self,
        source: str,
        *,
        per_second: float = 0,
        max_wait: float = 60.0,
        attempts: int = 3,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self._gap = 1.0 / per_second if per_second else 0.0
        self._max_wait = max_wait
        self._attempts = attempts
        self._session = session or requests.Session()
        self._sleep = sleep
        self._clock = clock
        self._last = -1e9
        self.requests = 0  # calls made, for reports and benchmarks

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        *,
        remote_id: str | None = None,
    ) -> tuple[Reply | None, RiskError | None]:
        """GET `url`; (reply, None) on any HTTP answer below 500 but 429."""
        return self._call("GET", url, params, None, headers, remote_id)

    def post(
        self,
        url: str,
        payload: Any,
        headers: Mapping[str, str] | None = None,
        *,
        remote_id: str | None = None,
    ) -> tuple[Reply | None, RiskError | None]:
        """POST JSON to `url`, same rules as `get`."""
        return self._call("POST", url, None, payload, headers, remote_id)

    def _pace(self) -> None:
        if self._gap:
            wait = self._last + self._gap - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last = self._clock()

    def _call(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        payload: Any,
        headers: Mapping[str, str] | None,
        remote_id: str | None,
    ) -> tuple[Reply | None, RiskError | None]:
        error: RiskError | None = None
        failed = 0  # 5xx answers: tried once more, then reported
        for attempt in range(self._attempts + 1):
            self._pace()
            self.requests += 1
            try:
                resp = self._session.request(
                    method,
                    url,
                    params=params,
                    json=payload,
                    headers=dict(headers or {}),
                    timeout=TIMEOUT,
                )
            except requests.RequestException as exc:
                return None, RiskError(
                    self.source, "network", f"cannot reach {url}: {exc}", remote_id
                )
            if resp.status_code == 429:
                wait = _retry_after(resp.headers.get("Retry-After"))
                error = RiskError(
                    self.source,
                    "rate_limited",
                    f"quota reached: retry after {wait:g} s",
                    remote_id,
                    retry_after=wait,
                )
                if wait > self._max_wait or attempt + 1 >= self._attempts:
                    return None, error
                log.info("%s: 429, waiting %.1f s as told", self.source, wait)
                self._sleep(wait)
                continue
            if resp.status_code >= 500:
                error = RiskError(
                    self.source,
                    "http",
                    f"the provider failed (HTTP {resp.status_code})",
                    remote_id,
                )
                failed += 1
                if failed < 2:
                    continue
                return None, error
            try:
                body = resp.json()
            except ValueError:
                body = None
            return Reply(resp.status_code, body), None
        return None, error


def _retry_after(value: str | None) -> float:
    """Seconds from a Retry-After header (seconds; a date is taken as 60 s)."""
    try:
        return max(0.0, float(value or "1"))
    except ValueError:
        return 60.0


def message_of(body: Any, default: str) -> str:
    """The provider's own error text, whatever key it uses."""
    if isinstance(body, dict):
        for key in ("message", "error", "erreur", "details"):
            if body.get(key):
                return str(body[key])
    return default
