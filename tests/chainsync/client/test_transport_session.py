"""The transport's plain requests.Session: what it sends goes through `Session.request` once per
attempt (a caller's subclass that overrides it keeps working), cookies the API sets are kept and
sent back, the environment is not trusted, and the query strings the transport makes itself are
the ones requests would make."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from requests.models import RequestEncodingMixin

from chainsync.client import StacksApiClient
from chainsync.client.routes import STATUS
from chainsync.client.transport import _query
from tests.chainsync.hiro_server import HiroServer


@pytest.mark.parametrize(
    "params",
    [
        {"include": "function_args,result"},
        {"limit": 50, "offset": 0},
        {"limit": 100, "cursor": "120:0:3:1"},
        {"event_limit": 100, "event_offset": 200},
        {"tip": "latest", "skipped": None},
        {"odd": "a b&c=d/é?"},
        {"tx_id": ["0x" + "ab" * 32, "0x" + "cd" * 32]},
    ],
)
def test_the_query_string_is_the_one_requests_would_make(params) -> None:
    assert _query(params) == RequestEncodingMixin._encode_params(params)


def test_no_params_no_query() -> None:
    assert _query(None) is None
    assert _query({}) is None


def test_the_client_sends_through_its_session_request_and_gets_the_same_answers(
    hiro: HiroServer,
) -> None:
    """A session that overrides `request` (a caller's timer) is still called once per attempt;
    the default session is requests' own, with its own HTTPAdapter (and so the TLS-context seam
    requests added for CVE-2024-35195), not trusting the environment."""
    calls: list[str] = []

    class Counting(requests.Session):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            calls.append(url)
            return super().request(method, url, *args, **kwargs)

    counting = Counting()
    counting.trust_env = False
    plain = StacksApiClient(hiro.url, rate_limit=0, max_retries=0, session=counting)
    default = StacksApiClient(hiro.url, rate_limit=0, max_retries=0)

    assert type(default._session) is requests.Session
    assert default._session.trust_env is False
    assert type(default._session.get_adapter(hiro.url)) is HTTPAdapter
    assert plain.status() == default.status()
    assert plain.info() == default.info()
    assert len(calls) == 2


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = b'{"server_version": "x", "status": "ready", "chain_tip": null}'
        self.send_response(200)
        self.send_header("content-type", "application/json; charset=utf-8")
        if self.path == "/extended":
            self.send_header("set-cookie", "__cf_bm=abc; Path=/")
        self.send_header("x-cookie-seen", self.headers.get("cookie", ""))
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_cookies_set_by_the_api_are_kept_and_sent_back(origin: str) -> None:
    """A CDN's cookie (Cloudflare's __cf_bm) set on one answer goes back with the next request."""
    client = StacksApiClient(origin, rate_limit=0, max_retries=0)

    first = client._request(STATUS, "/extended")
    second = client._request(STATUS, "/extended")

    assert first.headers["x-cookie-seen"] == ""
    assert client._session.cookies.get_dict() == {"__cf_bm": "abc"}
    assert second.headers["x-cookie-seen"] == "__cf_bm=abc"
