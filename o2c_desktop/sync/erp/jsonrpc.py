"""Tryton's JSON-RPC over HTTP with `requests`: session, time-outs, retries.

Retries with back-off on connection errors, time-outs and 5xx answers, never on
4xx (a wrong password retried would only lock the account: Tryton counts
failed logins and answers 429 past five). Tryton's typed values travel as
``{"__class__": "Decimal", "decimal": "3384.00"}``, dates and datetimes alike.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

TIMEOUT = (5.0, 120.0)  # connect, read: a search_read of 10,000 lines takes a while
RETRIES = 3
BACKOFF = 0.5  # seconds before the first retry; doubles each time


class RpcError(Exception):
    """Tryton answered with an error; `args[0]` is one line for the user.

    Attributes:
        kind: Tryton's exception name (``UserError``, ``AccessError``...) or
            ``HTTP 403`` for an HTTP refusal.
        retry: a later attempt may work (the server was unreachable or busy).
    """

    def __init__(self, message: str, kind: str = "", *, retry: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry = retry


def to_wire(value: Any) -> Any:
    """A Python value in Tryton's JSON encoding."""
    if isinstance(value, Decimal):
        return {"__class__": "Decimal", "decimal": str(value)}
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return {
            "__class__": "datetime",
            "year": value.year,
            "month": value.month,
            "day": value.day,
            "hour": value.hour,
            "minute": value.minute,
            "second": value.second,
            "microsecond": value.microsecond,
        }
    if isinstance(value, dt.date):
        return {
            "__class__": "date",
            "year": value.year,
            "month": value.month,
            "day": value.day,
        }
    if isinstance(value, list | tuple):
        return [to_wire(v) for v in value]
    if isinstance(value, dict):
        return {k: to_wire(v) for k, v in value.items()}
    return value


def _from_wire(obj: dict[str, Any]) -> Any:
    kind = obj.get("__class__")
    if kind == "Decimal":
        return Decimal(obj["decimal"])
    if kind == "date":
        return dt.date(obj["year"], obj["month"], obj["day"])
    if kind == "datetime":
        return dt.datetime(
            obj["year"],
            obj["month"],
            obj["day"],
            obj.get("hour", 0),
            obj.get("minute", 0),
            obj.get("second", 0),
            obj.get("microsecond", 0),
            tzinfo=dt.UTC,  # Tryton keeps timestamps in UTC, without a zone
        )
    if kind == "timedelta":
        return dt.timedelta(seconds=obj["seconds"])
    if kind == "bytes":
        return base64.b64decode(obj["base64"])
    return obj


def error_text(error: Any) -> tuple[str, str]:
    """(kind, one line) of a JSON-RPC ``error`` member.

    Tryton sends ``[name, [message, description, ...]]`` for its own
    exceptions (UserError, AccessError...) and ``[text, traceback]`` for the
    others.
    """
    if isinstance(error, list) and error:
        name = str(error[0])
        detail = error[1] if len(error) > 1 else ""
        if isinstance(detail, list) and detail:
            text = str(detail[0])
            if len(detail) > 1 and detail[1]:
                text = f"{text} {detail[1]}"
            return name, " ".join(text.split())
        if name in {"LoginException", "RateLimitException", "ConcurrencyException"}:
            return name, name
        return "", " ".join(name.split())
    return "", " ".join(str(error).split())


class TrytonRpc:
    """One Tryton database over JSON-RPC, with a logged-in session.

    Args:
        url: the server (``http://host:8000/``).
        database: the database name.
        login: the user.
        password: its password (from the keyring).
        sleep: how to wait between retries (tests pass a recorder).
    """

    def __init__(
        self,
        url: str,
        database: str,
        login: str,
        password: str,
        *,
        timeout: tuple[float, float] = TIMEOUT,
        retries: int = RETRIES,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = f"{url.rstrip('/')}/{database}/rpc/"
        self._server_url = f"{url.rstrip('/')}/rpc/"
        self.database = database
        self._login = login
        self._password = password
        self._timeout = timeout
        self._retries = retries
        self._sleep = sleep
        self._http = requests.Session()
        self._http.headers["Content-Type"] = "application/json"
        self._id = 0
        self.context: dict[str, Any] = {}
        self.calls = 0  # JSON-RPC calls made (benchmarks count them)

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def login(self) -> dict[str, Any]:
        """Log in and read the user's preferences (the context of every call).

        Raises:
            RpcError: wrong login or password (never retried), too many
                attempts, or the server unreachable.
        """
        self._http.headers.pop("Authorization", None)
        result = self._call(
            "common.db.login",
            [self._login, {"password": self._password}, "en"],
        )
        if not isinstance(result, list) or len(result) < 2:
            raise RpcError(f"Tryton refused the login of {self._login!r}", "login")
        token = f"{self._login}:{result[0]}:{result[1]}".encode()
        self._http.headers["Authorization"] = (
            "Session " + base64.b64encode(token).decode()
        )
        prefs = self._call("model.res.user.get_preferences", [True, {}])
        self.context = prefs if isinstance(prefs, dict) else {}
        return self.context

    def model(self, model: str, method: str, *args: Any) -> Any:
        """``model.<model>.<method>(*args, context)``; logs in first if needed."""
        if "Authorization" not in self._http.headers:
            self.login()
        return self._call(f"model.{model}.{method}", [*args, self.context])

    def call(self, method: str, *args: Any) -> Any:
        """Any other method (``wizard.…``, ``common.…``) with the context last."""
        if "Authorization" not in self._http.headers:
            self.login()
        return self._call(method, [*args, self.context])

    def raw(self, method: str, params: list[Any]) -> Any:
        """A call with exactly these parameters (no context added)."""
        return self._call(method, params)

    def server_version(self) -> str:
        """The server's version (asked of the server, not of a database)."""
        return str(self._call("common.server.version", [], url=self._server_url))

    def _call(self, method: str, params: list[Any], url: str | None = None) -> Any:
        self._id += 1
        body = {"id": self._id, "method": method, "params": to_wire(params)}
        delay = BACKOFF
        for attempt in range(1, self._retries + 1):
            self.calls += 1
            try:
                reply = self._http.post(
                    url or self._url, json=body, timeout=self._timeout
                )
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt == self._retries:
                    raise RpcError(
                        f"the Tryton server at {self._url} cannot be reached "
                        f"({type(exc).__name__})",
                        "unreachable",
                        retry=True,
                    ) from exc
            else:
                if reply.status_code < 500:
                    return self._result(reply, method)
                if attempt == self._retries:
                    raise RpcError(
                        f"the Tryton server answered HTTP {reply.status_code} "
                        f"to {method}: {_short(reply.text)}",
                        f"HTTP {reply.status_code}",
                        retry=True,
                    )
            log.info(
                "Tryton %s: attempt %d failed, again in %.1f s", method, attempt, delay
            )
            self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns

    def _result(self, reply: requests.Response, method: str) -> Any:
        if reply.status_code == 401 and "Authorization" in self._http.headers:
            raise RpcError("the Tryton session expired", "HTTP 401", retry=True)
        if reply.status_code == 429:
            raise RpcError(
                f"Tryton refused {self._login!r}: too many login attempts, "
                "wait a few minutes and check the password",
                "HTTP 429",
            )
        if reply.status_code in {401, 403} and method == "common.db.login":
            raise RpcError(
                f"the login or password of {self._login!r} is wrong",
                f"HTTP {reply.status_code}",
            )
        if reply.status_code >= 400:
            raise RpcError(
                f"Tryton refused {method} (HTTP {reply.status_code}): "
                f"{_short(reply.text)}",
                f"HTTP {reply.status_code}",
            )
        data = reply.json(object_hook=_from_wire)
        if "error" in data and data["error"] is not None:
            kind, text = error_text(data["error"])
            if method == "common.db.login" and kind in {"LoginException", ""}:
                text = f"the login or password of {self._login!r} is wrong"
            raise RpcError(text, kind)
        return data.get("result")


def _short(text: str) -> str:
    return " ".join(text.split())[:200]
