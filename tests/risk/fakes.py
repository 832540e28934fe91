"""Fake BODACC, Recherche d'entreprises and Creditsafe servers on loopback.

Each follows its documented contract (tests/risk/contracts/), error replies
included; tests queue faults with `fail_next` and read `calls` afterwards.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

CONTRACTS = Path(__file__).parent / "contracts"


def contract(name: str) -> Any:
    return json.loads((CONTRACTS / name).read_text("utf-8"))


class Fake:
    """One fake provider: routes requests to `handle(method, path, query, body)`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.fail_next: list[tuple[int, Any, dict[str, str]]] = []
        self.delay = 0.0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Fake:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                fake.calls.append((method, parts.path, query))
                if fake.delay:
                    time.sleep(fake.delay)
                if fake.fail_next:
                    status, payload, headers = fake.fail_next.pop(0)
                else:
                    status, payload, headers = fake.handle(
                        method, parts.path, query, body, dict(self.headers)
                    )
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self._reply("GET")

            def do_POST(self) -> None:
                self._reply("POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: Any,
        headers: dict[str, str],
    ) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError


_WINDOW = re.compile(
    r"^familleavis=\"collective\" and dateparution>=date'(\d{4}-\d{2}-\d{2})' "
    r"and dateparution<=date'(\d{4}-\d{2}-\d{2})'$"
)
_REGISTRE = re.compile(r'^registre like "(\d{9})" and familleavis="collective"$')
_ID = re.compile(r'^id="([^"]+)"$')


class FakeBodacc(Fake):
    """Opendatasoft explore v2.1, dataset annonces-commerciales."""

    PATH = "/api/explore/v2.1/catalog/datasets/annonces-commerciales/records"

    def __init__(self, records: list[dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.records = records if records is not None else []

    @property
    def base(self) -> str:
        return f"{self.url}/api/explore/v2.1"

    def handle(self, method, path, query, body, headers):
        if method != "GET" or path != self.PATH:
            return 404, {"error_code": "NotFound", "message": "Unknown path"}, {}
        limit = int(query.get("limit", "10"))
        offset = int(query.get("offset", "0"))
        if limit > 100:
            return (
                400,
                {
                    "error_code": "InvalidRESTParameterError",
                    "message": "Invalid value for limit API parameter: "
                    f"{limit} was found but -1 <= limit <= 100 is expected.",
                },
                {},
            )
        if offset + limit > 10000:
            return (
                400,
                {
                    "error_code": "InvalidRESTParameterError",
                    "message": "Invalid value for offset API parameter: offset + "
                    "limit must be lower than 10000.",
                },
                {},
            )
        where = query.get("where", "")
        if m := _WINDOW.match(where):
            low, high = m.group(1), m.group(2)
            rows = [
                r
                for r in self.records
                if r.get("familleavis") == "collective"
                and low <= r["dateparution"] <= high
            ]
        elif m := _REGISTRE.match(where):
            rows = [r for r in self.records if m.group(1) in (r.get("registre") or [])]
        elif m := _ID.match(where):
            rows = [r for r in self.records if r.get("id") == m.group(1)]
        else:
            return (
                400,
                {"error_code": "ODSQLError", "message": f"cannot parse {where!r}"},
                {},
            )
        desc = query.get("order_by", "").startswith("dateparution desc")
        rows.sort(key=lambda r: (r["dateparution"], r["id"]), reverse=desc)
        page = [copy.deepcopy(r) for r in rows[offset : offset + limit]]
        return 200, {"total_count": len(rows), "results": page}, {}


class FakeSirene(Fake):
    """Recherche d'entreprises: GET /search?q=<siren>&page=1&per_page=1."""

    def __init__(self, units: list[dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.units = {u["siren"]: u for u in units or []}

    def handle(self, method, path, query, body, headers):
        if path != "/search":
            return 404, {"erreur": "Not found"}, {}
        q = query.get("q", "")
        if not q:
            return (
                400,
                {"erreur": "Veuillez indiquer au moins un paramètre de recherche."},
                {},
            )
        found = [copy.deepcopy(self.units[q])] if q in self.units else []
        return (
            200,
            {
                "results": found,
                "total_results": len(found),
                "page": 1,
                "per_page": int(query.get("per_page", "10")),
                "total_pages": 1 if found else 0,
            },
            {},
        )


class FakeCreditsafe(Fake):
    """Creditsafe Connect: authenticate, company search, report, monitoring."""

    USER, PASSWORD = "user@example.com", "secret"

    def __init__(self) -> None:
        super().__init__()
        self.companies: dict[str, dict[str, Any]] = {}  # regNo -> search entry
        self.reports: dict[str, dict[str, Any]] = {}  # connectId -> response
        self.events: dict[str, list[dict[str, Any]]] = {}  # portfolio -> events
        self.tokens: set[str] = set()
        self.page_size_seen: list[int] = []

    @property
    def base(self) -> str:
        return f"{self.url}/v1"

    def expire_tokens(self) -> None:
        self.tokens.clear()

    def handle(self, method, path, query, body, headers):
        if path == "/v1/authenticate" and method == "POST":
            if not body or (body.get("username"), body.get("password")) != (
                self.USER,
                self.PASSWORD,
            ):
                return 401, {"message": "Invalid username or password"}, {}
            token = f"eyJ.{len(self.calls)}.sig"
            self.tokens.add(token)
            return 200, {"token": token}, {}
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            return 401, {"error": "Invalid or expired token"}, {}
        if path == "/v1/companies":
            reg = query.get("regNo", "")
            found = [
                copy.deepcopy(c)
                for k, c in self.companies.items()
                if reg and k.startswith(reg) and query.get("countries") == "FR"
            ]
            if not found:
                return (
                    200,
                    {
                        "totalSize": 0,
                        "companies": {},
                        "messages": [
                            {
                                "type": "Information",
                                "code": "NoResults",
                                "text": "No results found",
                            }
                        ],
                    },
                    {},
                )
            return (
                200,
                {
                    "correlationId": "00000000-0000-0000-0000-000000000001",
                    "totalSize": len(found),
                    "messages": [],
                    "companies": found,
                },
                {},
            )
        if m := re.fullmatch(r"/v1/companies/([^/]+)", path):
            if m.group(1) not in self.reports:
                return (
                    404,
                    {
                        "correlationId": "00000000-0000-0000-0000-00000000dead",
                        "message": "Company not found",
                        "details": f"No company with id {m.group(1)}",
                    },
                    {},
                )
            return 200, copy.deepcopy(self.reports[m.group(1)]), {}
        if m := re.fullmatch(
            r"/v1/monitoring/portfolios/(\d+)/notificationEvents", path
        ):
            size = int(query.get("pageSize", "50"))
            page = int(query.get("page", "0"))
            self.page_size_seen.append(size)
            start = query.get("startDate", "")
            rows = [
                e for e in self.events.get(m.group(1), []) if e["eventDate"] >= start
            ]
            last = max(0, (len(rows) - 1) // size)
            return (
                200,
                {
                    "correlationId": "00000000-0000-0000-0000-000000000004",
                    "totalCount": len(rows),
                    "data": rows[page * size : (page + 1) * size],
                    "paging": {
                        "size": size,
                        "prev": page - 1 if page else None,
                        "next": page + 1 if page < last else None,
                        "last": last,
                    },
                },
                {},
            )
        return 404, {"message": "Not found"}, {}
