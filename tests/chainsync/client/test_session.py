"""ApiSession.request against requests.Session.request: the same prepared request and the same
`send` arguments, whatever the session's settings; and the transport's own query strings
against the ones requests makes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from requests.models import RequestEncodingMixin

from chainsync.client import StacksApiClient
from chainsync.client.session import ApiSession
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
