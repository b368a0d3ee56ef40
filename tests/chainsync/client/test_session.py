"""ApiSession.request against requests.Session.request: the same prepared request and the same
`send` arguments, whatever the session's settings; ApiAdapter against HTTPAdapter: the same
answers, request-line URLs and connection pools; and the transport's own query strings against
the ones requests makes."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from requests.models import RequestEncodingMixin

from chainsync.client import StacksApiClient
from chainsync.client.session import ApiAdapter, ApiSession
from chainsync.client.transport import _query
from tests.chainsync.hiro_server import HiroServer

URL = "http://127.0.0.1:9/extended/v3/transactions/0x" + "ab" * 32


class RecordingSession(ApiSession):
    """Records what reaches `send` instead of sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False
        self.sent: list[tuple[requests.PreparedRequest, dict[str, Any]]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.sent.append((request, kwargs))
        return requests.Response()


def _hook(response: requests.Response, **kwargs: Any) -> None:
    pass


def _with(**attrs: Any) -> Callable[[RecordingSession], None]:
    def configure(session: RecordingSession) -> None:
        for name, value in attrs.items():
            setattr(session, name, value)

    return configure


def _cookies(session: RecordingSession) -> None:
    session.cookies.set("__cf_bm", "abc", domain="127.0.0.1", path="/")
    session.cookies.set("elsewhere", "x", domain="example.org", path="/")


def _api_key(session: RecordingSession) -> None:
    session.headers.update({"Accept": "application/json", "x-api-key": "k"})


def _no_proxy_for_https(session: RecordingSession) -> None:
    session.proxies = {"http": "http://proxy.invalid:3128", "https": None}


SESSIONS: dict[str, Callable[[RecordingSession], None]] = {
    "defaults": lambda session: None,
    "api key and accept headers": _api_key,
    "cookies": _cookies,
    "auth": _with(auth=("user", "secret")),
    "proxies": _no_proxy_for_https,
    "hooks": _with(hooks={"response": [_hook]}),
    "not verifying, client cert, streaming": _with(verify=False, cert="/tmp/c.pem", stream=True),
    "params on the session (merged: the careful path)": _with(params={"a": "1"}),
    "a header removed by None (the careful path)": lambda s: s.headers.update({"Accept": None}),
    "trusting the environment (the careful path)": _with(trust_env=True),
}

CALLS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "GET with a query": (
        "get",
        URL,
        {"params": "include=function_args%2Cresult", "timeout": (3.05, 20.0)},
    ),
    "GET, no redirects": ("GET", URL, {"params": None, "allow_redirects": False, "timeout": 5}),
    "GET with a dict query": ("GET", URL + "?x=1", {"params": {"limit": 50, "cursor": "1:2:3"}}),
    "POST with JSON": (
        "POST",
        "http://127.0.0.1:9/v2/contracts/call-read/SP1/c/f",
        {"json": {"sender": "SP1", "arguments": ["0x01"]}, "params": "tip=latest"},
    ),
    "streaming": ("GET", URL, {"stream": True}),
    "credentials in the URL": ("GET", "http://u:p@127.0.0.1:9/extended", {}),
    "headers of its own (the careful path)": ("GET", URL, {"headers": {"X-A": "1"}}),
}


def _sent(configure: Callable[[RecordingSession], None], call: Callable[..., Any]) -> Any:
    session = RecordingSession()
    configure(session)
    call(session)
    ((request, kwargs),) = session.sent
    return {
        "method": request.method,
        "url": request.url,
        "headers": dict(request.headers),
        "body": request.body,
        "hooks": request.hooks,
        "cookies": sorted((c.name, c.value, c.domain) for c in request._cookies),  # type: ignore[attr-defined]
        "kwargs": kwargs | {"proxies": dict(kwargs["proxies"])},
    }


@pytest.mark.parametrize("session_name", SESSIONS)
@pytest.mark.parametrize("call_name", CALLS)
def test_the_lean_request_sends_what_session_request_sends(session_name, call_name) -> None:
    configure = SESSIONS[session_name]
    method, url, kwargs = CALLS[call_name]

    lean = _sent(configure, lambda s: s.request(method, url, **kwargs))
    careful = _sent(configure, lambda s: requests.Session.request(s, method, url, **kwargs))

    assert lean == careful


def test_the_lean_path_skips_the_settings_merge_only_when_there_is_nothing_to_merge(
    monkeypatch,
) -> None:
    merges: list[str] = []
    stock = requests.Session.prepare_request
    monkeypatch.setattr(
        requests.Session,
        "prepare_request",
        lambda self, request: merges.append(request.url) or stock(self, request),
    )
    session = RecordingSession()

    session.request("GET", URL, params="a=1", timeout=3, allow_redirects=False)
    assert merges == []

    session.request("GET", URL, headers={"X-A": "1"})
    session.params = {"a": "1"}
    session.request("GET", URL)
    session.params, session.trust_env = {}, True
    session.request("GET", URL)
    assert len(merges) == 3


def test_a_cookie_sent_leaves_the_session_jar_as_session_request_does() -> None:
    session = RecordingSession()
    session.cookies.set("gone", "x", domain="127.0.0.1", path="/", expires=1)  # long expired
    session.cookies.set("kept", "y", domain="127.0.0.1", path="/")

    session.request("GET", URL)

    assert sorted(c.name for c in session.cookies) == ["gone", "kept"]
    assert session.sent[0][0].headers["Cookie"] == "kept=y"


@pytest.mark.parametrize(
    "params",
    [
        {"include": "function_args,result"},
        {"limit": 50, "offset": 0},
        {"limit": 100, "cursor": "120:0:3:1"},
        {"event_limit": 100, "event_offset": 200},
        {"tip": "latest", "skipped": None},
        {"odd": "a b&c=d/é?"},
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
    """A session that overrides `request` (the leader's lease, the bench's timer) is still
    called once per attempt, and the default session is an ApiSession."""
    calls: list[str] = []

    class Counting(requests.Session):
        def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            calls.append(url)
            return super().request(method, url, *args, **kwargs)

    counting = Counting()
    counting.trust_env = False
    plain = StacksApiClient(hiro.url, rate_limit=0, max_retries=0, session=counting)
    lean = StacksApiClient(hiro.url, rate_limit=0, max_retries=0)

    assert isinstance(lean._session, ApiSession)
    assert plain.status() == lean.status()
    assert plain.info() == lean.info()
    assert len(calls) == 2


# --- ApiAdapter against HTTPAdapter ---------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = b'{"ok": true}'
        self.send_response(200 if "missing" not in self.path else 404)
        self.send_header("content-type", "application/json; charset=utf-8")
        if "cookie" in self.path:
            self.send_header("set-cookie", "__cf_bm=abc; Path=/")
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


def _answer(adapter: HTTPAdapter, url: str) -> dict[str, Any]:
    prepared = requests.Request("GET", url).prepare()
    response = adapter.send(prepared, timeout=5)
    try:
        return {
            "status": response.status_code,
            "headers": dict(response.headers),
            "encoding": response.encoding,
            "reason": response.reason,
            "url": response.url,
            "cookies": response.cookies.get_dict(),
            "body": response.content,
            "request": response.request is prepared,
            "connection": response.connection is adapter,
        }
    finally:
        adapter.close()


@pytest.mark.parametrize("path", ["/extended?a=1", "/with-cookie", "/missing"])
def test_the_adapter_answers_as_httpadapter_does(origin: str, path: str) -> None:
    assert _answer(ApiAdapter(), origin + path) == _answer(HTTPAdapter(), origin + path)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:3999/extended/v1/tx/0xab?event_limit=100",
        "https://api.hiro.so/extended",
        "http://user:pw@localhost/a//b",
        "HTTP://Example.ORG:80/x#frag",
    ],
)
@pytest.mark.parametrize(
    "proxies", [{}, None, {"http": "http://proxy.invalid:3128"}, {"all": "socks5://p:1"}]
)
def test_the_request_line_url_is_httpadapter_s(url: str, proxies: Any) -> None:
    prepared = requests.Request("GET", url).prepare()

    assert ApiAdapter().request_url(prepared, proxies) == HTTPAdapter().request_url(
        prepared, proxies
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:3999/extended",
        "https://api.hiro.so/extended/v3/transactions/0xab",
        "http://user:pw@LocalHost/a",
        "https://[::1]:8443/x?y=1",
    ],
)
@pytest.mark.parametrize(
    ("verify", "cert"), [(True, None), (False, None), (True, ("c.pem", "k.pem")), ("/", "c.pem")]
)
def test_the_pool_key_is_httpadapter_s_every_time(url: str, verify: Any, cert: Any) -> None:
    adapter, stock = ApiAdapter(), HTTPAdapter()
    prepared = requests.Request("GET", url).prepare()
    expected = stock.build_connection_pool_key_attributes(prepared, verify, cert)

    first = adapter.build_connection_pool_key_attributes(prepared, verify, cert)
    first[0]["host"], first[1]["cert_reqs"] = "changed by the caller", "changed"
    again = adapter.build_connection_pool_key_attributes(prepared, verify, cert)

    assert adapter.build_connection_pool_key_attributes(prepared, verify, cert) == again == expected


def test_an_invalid_port_is_an_invalid_url_every_time() -> None:
    adapter = ApiAdapter()
    prepared = requests.Request("GET", "http://127.0.0.1:3999/").prepare()
    prepared.url = "http://127.0.0.1:99999/"

    for _ in range(2):
        with pytest.raises(requests.exceptions.InvalidURL):
            adapter.get_connection_with_tls_context(prepared, True)
    with pytest.raises(requests.exceptions.InvalidURL):
        HTTPAdapter().get_connection_with_tls_context(prepared, True)


def test_the_connection_pool_is_the_one_httpadapter_picks(origin: str) -> None:
    adapter = ApiAdapter()
    prepared = requests.Request("GET", origin + "/x").prepare()

    pool = adapter.get_connection_with_tls_context(prepared, True)
    again = adapter.get_connection_with_tls_context(prepared, True)
    stock = HTTPAdapter.get_connection_with_tls_context(adapter, prepared, True)

    assert pool is again is stock
    proxied = adapter.get_connection_with_tls_context(
        prepared, True, proxies={"http": "http://proxy.invalid:3128"}
    )
    assert proxied is not pool  # a proxy: HTTPAdapter's own path


def test_the_session_mounts_the_adapter_and_survives_a_pickle() -> None:
    session = ApiSession()

    assert isinstance(session.get_adapter("https://api.hiro.so/x"), ApiAdapter)
    assert isinstance(session.get_adapter("http://127.0.0.1:1/x"), ApiAdapter)
    copy = pickle.loads(pickle.dumps(session))
    prepared = requests.Request("GET", "http://127.0.0.1:1/x").prepare()
    assert copy.get_adapter("http://127.0.0.1:1/x").build_connection_pool_key_attributes(
        prepared, True
    ) == ({"scheme": "http", "host": "127.0.0.1", "port": 1}, {"cert_reqs": "CERT_REQUIRED"})


def test_cookies_set_by_the_api_are_kept_and_sent_back(origin: str) -> None:
    session = ApiSession()
    session.trust_env = False

    session.request("GET", origin + "/with-cookie", timeout=5)
    sent = session.request("GET", origin + "/extended", timeout=5).request

    assert session.cookies.get_dict() == {"__cf_bm": "abc"}
    assert sent.headers["Cookie"] == "__cf_bm=abc"


def test_the_pool_key_follows_verify_and_cert_on_one_adapter() -> None:
    adapter, stock = ApiAdapter(), HTTPAdapter()
    prepared = requests.Request("GET", "https://api.hiro.so/extended").prepare()

    for verify, cert in [(True, None), (False, None), (True, "c.pem"), (True, None)]:
        assert adapter.build_connection_pool_key_attributes(
            prepared, verify, cert
        ) == stock.build_connection_pool_key_attributes(prepared, verify, cert)
