"""The client's requests.Session: `Session.request` without the per-call settings merge.

`requests.Session.request` builds a Request, merges it with the session's settings
(`prepare_request`: headers, params, cookies, auth, hooks) and with the environment's
(`merge_environment_settings`), then calls `send`. For the calls this client makes (no per-call
headers, cookies, auth, files or form data; the environment not trusted) most of that merging is
copying the session's own settings through `merge_setting`, whose runtime-Protocol `isinstance`
checks alone are about a tenth of a loopback request's CPU. `ApiSession.request` prepares the
same request from the session's settings directly and calls the same `send` with the same
arguments; any call outside that narrow shape goes through `requests.Session.request` unchanged.

Subclasses that override `request` (to keep a lease, to time requests) keep working: the
transport always calls `session.request`.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.cookies import RequestsCookieJar, merge_cookies

# The keyword arguments the lean path knows how to pass on exactly as Session.request would.
_LEAN_KWARGS = frozenset({"params", "json", "timeout", "allow_redirects", "stream"})


class ApiSession(requests.Session):
    """A requests.Session whose `request` skips the settings merge when there is nothing to merge
    (see the module docstring); `send`, adapters, retries below it, cookies and hooks are
    requests' own."""

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
