"""Encoding Clarity values (read-only call arguments, SIP-018 messages), rendering them as
Python or JSON, and building them."""

from __future__ import annotations

from typing import Any

from stacks.c32 import address_decode
from stacks.values import (
    MAX_VALUE_SIZE,
    Bool,
    Buffer,
    ClarityValue,
    ClarityValueError,
    ContractPrincipal,
    Int,
    List,
    OptionalNone,
    OptionalSome,
    ResponseErr,
    ResponseOk,
    StandardPrincipal,
    StringAscii,
    StringUtf8,
    Tuple,
    UInt,
    _short_name,
    _sized,
    json_int,
)

# --- encoding and rendering -----------------------------------------------------------------


def clarity_encode(value: ClarityValue) -> bytes:
    """Serialize a value (tuple fields sorted bytewise). Raises ClarityValueError if > 1 MiB."""
    raw = _encode(value)
    if len(raw) > MAX_VALUE_SIZE:
        raise ClarityValueError(f"encoded value is larger than {MAX_VALUE_SIZE} bytes")
    return raw


def _encode(value: ClarityValue) -> bytes:
    match value:
        case Int(n):
            return b"\x00" + n.to_bytes(16, "big", signed=True)
        case UInt(n):
            return b"\x01" + n.to_bytes(16, "big")
        case Buffer(raw):
            return b"\x02" + _sized(raw)
        case Bool(flag):
            return b"\x03" if flag else b"\x04"
        case StandardPrincipal(version, hash160):
            return bytes([0x05, version]) + hash160
        case ContractPrincipal(version, hash160, name):
            return bytes([0x06, version]) + hash160 + _short_name(name)
        case ResponseOk(inner) | ResponseErr(inner) | OptionalSome(inner):
            return _WRAPPER_PREFIXES[type(value)] + _encode(inner)
        case OptionalNone():
            return b"\x09"
        case List(items):
            return b"\x0b" + len(items).to_bytes(4, "big") + b"".join(map(_encode, items))
        case Tuple(data):
            fields = sorted(data.items())  # names are ASCII, so str order is byte order
            body = (_short_name(name) + _encode(item) for name, item in fields)
            return b"\x0c" + len(fields).to_bytes(4, "big") + b"".join(body)
        case StringAscii(text):
            return b"\x0d" + _sized(text.encode("ascii"))
        case StringUtf8(text):
            return b"\x0e" + _sized(text.encode("utf-8"))
    raise ClarityValueError(f"not a Clarity value: {value!r}")


_WRAPPER_PREFIXES = {ResponseOk: b"\x07", ResponseErr: b"\x08", OptionalSome: b"\x0a"}


def to_hex(value: ClarityValue) -> str:
    return "0x" + clarity_encode(value).hex()


def clarity_to_python(value: ClarityValue) -> Any:
    """Plain data with exact Python ints; see clarity_to_json for the other shapes."""
    return _render(value, json_ints=False)


def clarity_to_json(value: ClarityValue) -> Any:
    """JSON-safe data: ints beyond 2**53 as decimal strings, principals as strings, buffers as
    "0x…", none as None, some as its value, responses as {"ok": v}/{"err": v}, tuples as dicts,
    lists as lists. Lossy (none and (some none) look alike): keep the hex as the source of truth.
    """
    return _render(value, json_ints=True)


def _render(value: ClarityValue, json_ints: bool) -> Any:
    match value:
        case Int() | UInt():
            return json_int(value.value) if json_ints else value.value
        case Buffer():
            return "0x" + value.value.hex()
        case Bool() | StringAscii() | StringUtf8():
            return value.value
        case StandardPrincipal() | ContractPrincipal():
            return value.address
        case OptionalNone():
            return None
        case OptionalSome():
            return _render(value.value, json_ints)
        case ResponseOk() | ResponseErr():
            key = "ok" if isinstance(value, ResponseOk) else "err"
            return {key: _render(value.value, json_ints)}
        case List():
            return [_render(item, json_ints) for item in value.items]
        case Tuple():
            return {name: _render(item, json_ints) for name, item in value.data.items()}
    raise ClarityValueError(f"not a Clarity value: {value!r}")


# --- convenience constructors ---------------------------------------------------------------


# Aliases that read like stacks.js's Cl.* (trailing _ where a builtin would be shadowed).
int_, uint, bool_, buffer = Int, UInt, Bool, Buffer
none, some, ok, err = OptionalNone, OptionalSome, ResponseOk, ResponseErr
string_ascii, string_utf8, list_, tuple_ = StringAscii, StringUtf8, List, Tuple


def principal(address: str) -> StandardPrincipal | ContractPrincipal:
    """`SP…` or `SP….name`. Raises stacks.c32.InvalidAddress or ClarityValueError."""
    issuer, dot, name = address.partition(".")
    version, hash160 = address_decode(issuer)
    return ContractPrincipal(version, hash160, name) if dot else StandardPrincipal(version, hash160)
