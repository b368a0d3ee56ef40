"""Arguments checked before a request is sent (a bad one raises ValueError), the session,
and the headers read from a response."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests

from stacks import ClarityValueError, principal
from stacks.c32 import InvalidAddress

_TX_ID = re.compile(r"(?:0x)?([0-9a-fA-F]{64})")
_BLOCK_HASH = re.compile(r"(?:0x)?[0-9a-fA-F]{64}")
_LOG_CURSOR = re.compile(r"\d+:\d+:\d+:\d+")
_TX_CURSOR = re.compile(r"\d+:\d+:\d+")
_FUNCTION_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_!?+<>=/*-]{0,127}")


def _new_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies or .netrc credentials from the environment
    return session


def _headers(api_key: str | None) -> dict[str, str]:
    headers = {"Accept": "application/json", "User-Agent": "stxworx-chainsync/1"}
    return headers | ({"x-api-key": api_key} if api_key else {})


def _base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        raise ValueError(f"invalid Stacks API base URL {url!r}")
    return url.rstrip("/")


def _check_limit(limit: int, maximum: int) -> None:
    if not 1 <= limit <= maximum:
        raise ValueError(f"limit must be 1..{maximum}")


def _principal(address: str) -> str:
    try:
        principal(address)
    except (InvalidAddress, ClarityValueError) as exc:
        raise ValueError(f"invalid principal {address!r}: {exc}") from None
    return address


def _contract_id(contract_id: str) -> str:
    if "." not in contract_id:
        raise ValueError(f"not a contract id: {contract_id!r}")
    return _principal(contract_id)


def _tx_id(tx_id: str) -> str:
    match = _TX_ID.fullmatch(tx_id)
    if not match:
        raise ValueError(f"invalid tx id {tx_id!r}")
    return "0x" + match.group(1).lower()  # the API redirects ids without 0x


def _block_ref(height_or_hash: int | str) -> str:
    if isinstance(height_or_hash, int) and not isinstance(height_or_hash, bool):
        if height_or_hash < 0:
            raise ValueError("block height must be >= 0")
        return str(height_or_hash)
    if height_or_hash == "latest" or _BLOCK_HASH.fullmatch(str(height_or_hash)):
        return str(height_or_hash).lower()
    raise ValueError(f"invalid block height or hash {height_or_hash!r}")


def _tip(tip: str) -> str:
    if tip == "latest" or _BLOCK_HASH.fullmatch(tip):
        return tip.lower().removeprefix("0x")
    raise ValueError(f"invalid tip {tip!r}")


def _cursor_not_found(response: requests.Response) -> bool:
    """Tell the logs route's own 404 ("Cursor not found") from a missing route's."""
    try:
        body = response.json()
    except ValueError:
        return False
    text = f"{body.get('error')} {body.get('message')}" if isinstance(body, dict) else ""
    return "cursor not found" in text.lower()


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
