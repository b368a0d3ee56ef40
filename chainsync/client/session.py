"""The client's requests.Session: `Session.request` without the per-call settings merge.

`requests.Session.request` builds a Request, merges it with the session's settings
(`prepare_request`: headers, params, cookies, auth, hooks) and with the environment's
(`merge_environment_settings`), then calls `send`. For the calls this client makes (no per-call
headers, cookies, auth, files or form data; the environment not trusted) most of that merging is
copying the session's own settings through `merge_setting`, whose runtime-Protocol `isinstance`
checks alone are about a tenth of a loopback request's CPU. `ApiSession.request` prepares the
same request from the session's settings directly and calls the same `send` with the same
arguments; any call outside that narrow shape goes through `requests.Session.request` unchanged.

Below it, `ApiAdapter` (mounted for http:// and https:// as requests mounts its HTTPAdapter)
skips the steps of `HTTPAdapter.send` that cannot change the outcome: with no proxy configured,
the proxy look-up (a URL parse) and the choice of the request line's URL; the connection-pool
key's host attributes are parsed once per scheme and host rather than per call; a response without
Set-Cookie is not searched for cookies. Everything else (the pool, timeouts, urllib3, the error
mapping) is HTTPAdapter's own.

Subclasses that override `request` (to keep a lease, to time requests) keep working: the
transport always calls `session.request`.
"""

from __future__ import annotations

import re
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.cookies import RequestsCookieJar, merge_cookies
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers

# The keyword arguments the lean path knows how to pass on exactly as Session.request would.
_LEAN_KWARGS = frozenset({"params", "json", "timeout", "allow_redirects", "stream"})


# A URL's scheme and authority, split where urllib.parse.urlsplit splits them.
_ORIGIN = re.compile(r"[^:/?#]+://[^/?#]*")
_POOL_KEYS_KEPT = 64  # distinct (origin, verify, cert) remembered; the client has one


class ApiAdapter(HTTPAdapter):
    """HTTPAdapter without the per-call work that cannot change the outcome (see the module
    docstring); any request that does not fit (a proxy, a CA bundle path) takes its own path."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pool_keys: dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, Any]]] = {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self._pool_keys = {}

    def get_connection_with_tls_context(
        self, request: requests.PreparedRequest, verify: Any, proxies: Any = None, cert: Any = None
    ) -> Any:
        if proxies:
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        try:
            host_params, pool_kwargs = self.build_connection_pool_key_attributes(
                request, verify, cert
            )
        except ValueError as exc:
            raise requests.exceptions.InvalidURL(exc, request=request) from exc
        return self.poolmanager.connection_from_host(**host_params, pool_kwargs=pool_kwargs)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """HTTPAdapter's, remembered by the URL's origin while `verify` is a bool (a CA bundle
        path is looked up on disk each time, as there)."""
        origin = _ORIGIN.match(request.url or "")
        if origin is None or not isinstance(verify, bool):
            return super().build_connection_pool_key_attributes(request, verify, cert)
        key = (origin.group(), verify, cert)
        found = self._pool_keys.get(key)
        if found is None:
            found = super().build_connection_pool_key_attributes(request, verify, cert)
            if len(self._pool_keys) >= _POOL_KEYS_KEPT:
                self._pool_keys.clear()
            self._pool_keys[key] = found
        host_params, pool_kwargs = found
        return dict(host_params), dict(pool_kwargs)

    def request_url(self, request: requests.PreparedRequest, proxies: Any) -> str:
        """With no proxy, HTTPAdapter's answer is the path (and query) whatever the URL."""
        if proxies:
            return super().request_url(request, proxies)
        return request.path_url

    def build_response(self, req: requests.PreparedRequest, resp: Any) -> requests.Response:
        """HTTPAdapter's, without looking for cookies in a response that sets none."""
        headers = getattr(resp, "headers", {})
        if "set-cookie" in headers or "set-cookie2" in headers or isinstance(req.url, bytes):
            return super().build_response(req, resp)
        response = requests.Response()
        response.status_code = getattr(resp, "status", None)  # type: ignore[assignment]
        response.headers = CaseInsensitiveDict(headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = resp
        response.reason = resp.reason
        response.url = req.url  # type: ignore[assignment]
        response.request = req
        response.connection = self
        return response


class ApiSession(requests.Session):
    """A requests.Session whose `request` skips the settings merge when there is nothing to merge
    and whose adapters are ApiAdapters (see the module docstring); `send`, retries, cookies and
    hooks are requests' own."""

    def __init__(self) -> None:
        super().__init__()
        self.mount("https://", ApiAdapter())
        self.mount("http://", ApiAdapter())

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if args or not self._lean(url, kwargs):
            return super().request(method, url, *args, **kwargs)
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method=method.upper(),
            url=url,
            headers=self.headers,  # copied by prepare_headers, as the merged copy would be
            data={},
            params=kwargs.get("params") or {},
            json=kwargs.get("json"),
            auth=self.auth,
            cookies=self._cookies_copy(),
            hooks=self.hooks,
        )
        stream = kwargs.get("stream")
        return self.send(
            prepared,
            timeout=kwargs.get("timeout"),
            allow_redirects=kwargs.get("allow_redirects", True),
            proxies=self._proxies(),
            stream=self.stream if stream is None else stream,
            verify=self.verify,
            cert=self.cert,
        )

    def _lean(self, url: object, kwargs: dict[str, Any]) -> bool:
        """True when merging would only copy the session's settings: no environment to read,
        no session params to merge with the call's, no header to drop, only known arguments."""
        return (
            isinstance(url, str)
            and not self.trust_env
            and not self.params
            and kwargs.keys() <= _LEAN_KWARGS
            and None not in self.headers.values()
        )

    def _proxies(self) -> dict[str, str]:
        """The session's proxies without the ones set to None, as merge_setting leaves them."""
        return {key: value for key, value in (self.proxies or {}).items() if value is not None}

    def _cookies_copy(self) -> RequestsCookieJar:
        """The session's cookies in a jar of their own, as prepare_request passes them (sending
        them clears expired ones from the jar it is given); none: an empty jar."""
        jar = RequestsCookieJar()
        return merge_cookies(jar, self.cookies) if len(self.cookies) else jar
