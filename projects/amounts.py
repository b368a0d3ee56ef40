"""Amounts as people read them: tokens with their unit and thousands separators (`1,011.25 STX`,
`0.013 sBTC`) and, beside them, the exact base units. The database and the API keep integers in
base units; this is the one place that turns them into tokens (the review panel's template filter
`token_amount`, its dispute list, the timeline's text), with integer arithmetic only (no float
ever touches an amount)."""

from __future__ import annotations

from typing import Any

# CONTRACT.md: STX amounts are micro-STX (10^6 per STX), sBTC amounts sats (10^8 per sBTC).
TOKEN_DECIMALS = {"STX": 6, "sBTC": 8}
BASE_UNIT_NAMES = {"STX": "micro-STX", "sBTC": "sats"}


def _as_int(amount: Any) -> int | None:
    """An amount as stored or decoded: an int, or a string of digits (the agreement's JSON and
    u128 values may carry one). Anything else is not an amount."""
    if isinstance(amount, bool):
        return None
    if isinstance(amount, int):
        return amount
    if isinstance(amount, str) and amount.strip().lstrip("-").isdigit():
        return int(amount.strip())
    return None


def token_amount_text(amount: Any, token: str) -> str:
    """1011250000 micro-STX -> "1,011.25 STX"; 1300000 sats -> "0.013 sBTC"; 5000000 -> "5 STX".
    Every significant digit is kept (a sat is never rounded away). An unknown token shows its
    base units, said so; a missing amount is "—"."""
    value = _as_int(amount)
    if value is None:
        return "—"
    if token not in TOKEN_DECIMALS:
        return f"{value:,} base units of {token or 'an unknown token'}"
    decimals = TOKEN_DECIMALS[token]
    whole, fraction = divmod(abs(value), 10**decimals)
    digits = f"{fraction:0{decimals}d}".rstrip("0")
    sign = "-" if value < 0 else ""
    return f"{sign}{whole:,}{'.' + digits if digits else ''} {token}"


def base_units_text(amount: Any, token: str) -> str:
    """1011250000 micro-STX -> "1,011,250,000 micro-STX" (what the contract and API hold)."""
    value = _as_int(amount)
    if value is None:
        return ""
    return f"{value:,} {BASE_UNIT_NAMES.get(token, 'base units')}"
