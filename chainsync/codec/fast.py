"""The fast Clarity reader: the careful reader's grammar in one function with few calls."""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Any

from chainsync.codec.values import (
    _ASCII_ALLOWED,
    _CLARITY_NAME,
    _CONTRACT_NAME,
    MAX_DEPTH,
    MAX_NAME_LENGTH,
    Bool,
    Buffer,
    ClarityValue,
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
)

# --- the fast reader ------------------------------------------------------------------------
# The same grammar as _READERS, in one function with few calls, building the (immutable) values
# without their checks where the bytes already guarantee them. Anything unusual (truncation, a
# name or string to reject, excess depth) raises _Slow and the careful reader takes over.


class _Slow(Exception):
    pass


_new, _set = object.__new__, object.__setattr__
_from_bytes = int.from_bytes
_TRUE, _FALSE, _NONE = Bool(True), Bool(False), OptionalNone()
_ASCII_ALLOWED_BYTES = bytes(sorted(_ASCII_ALLOWED))
_NAMES: dict[bytes, str] = {}  # tuple keys seen valid
_CONTRACT_NAMES: dict[bytes, str] = {}
_PRINCIPALS: dict[bytes, StandardPrincipal] = {}
_WRAPPERS = {0x07: ResponseOk, 0x08: ResponseErr, 0x0A: OptionalSome}
_set_uint = UInt.value.__set__  # the slot's own setter: the commonest value, built inline


def _one(cls: type, name: str, value: Any) -> Any:
    obj = _new(cls)
    _set(obj, name, value)
    return obj


def _valid_name(raw: bytes, pattern: re.Pattern[str], cache: dict[bytes, str]) -> str:
    name = cache.get(raw)
    if name is None:
        if not raw.isascii() or not 1 <= len(raw) <= MAX_NAME_LENGTH:
            raise _Slow
        name = raw.decode("ascii")
        if not pattern.fullmatch(name):
            raise _Slow
        if len(cache) < 10_000:
            cache[raw] = name
    return name


def _fast_read(buf: bytes, pos: int, depth: int) -> tuple[ClarityValue, int]:
    if depth > MAX_DEPTH:
        raise _Slow
    prefix = buf[pos]
    pos += 1
    if prefix == 0x01 or prefix == 0x00:
        end = pos + 16
        if end > len(buf):
            raise _Slow
        if prefix:
            value = _new(UInt)
            _set_uint(value, _from_bytes(buf[pos:end], "big"))
            return value, end
        return _one(Int, "value", _from_bytes(buf[pos:end], "big", signed=True)), end
    if prefix == 0x0C:
        count = _from_bytes(buf[pos : pos + 4], "big")
        pos += 4
        if not count or pos + count > len(buf):
            raise _Slow
        data: dict[str, ClarityValue] = {}
        for _ in range(count):
            end = pos + 1 + buf[pos]
            if end > len(buf):
                raise _Slow
            raw = buf[pos + 1 : end]
            name = _NAMES.get(raw) or _valid_name(raw, _CLARITY_NAME, _NAMES)
            if name in data:
                raise _Slow
            data[name], pos = _fast_read(buf, end, depth + 1)
        return _one(Tuple, "data", MappingProxyType(data)), pos  # read-only, as Tuple makes it
    if prefix == 0x05:
        end = pos + 21
        if end > len(buf) or buf[pos] >= 32:
            raise _Slow
        key = buf[pos:end]
        value = _PRINCIPALS.get(key)
        if value is None:
            value = StandardPrincipal(buf[pos], key[1:])
            if len(_PRINCIPALS) < 10_000:
                _PRINCIPALS[key] = value
        return value, end
    if prefix == 0x0D or prefix == 0x0E or prefix == 0x02:
        size = _from_bytes(buf[pos : pos + 4], "big")
        pos += 4
        end = pos + size
        if end > len(buf) or pos > len(buf):
            raise _Slow
        raw = buf[pos:end]
        if prefix == 0x0D:
            if raw.translate(None, _ASCII_ALLOWED_BYTES):
                raise _Slow
            return _one(StringAscii, "value", raw.decode("ascii")), end
        if prefix == 0x0E:
            return _one(StringUtf8, "value", raw.decode("utf-8")), end  # bad UTF-8: ValueError
        return _one(Buffer, "value", raw), end
    if prefix == 0x03:
        return _TRUE, pos
    if prefix == 0x04:
        return _FALSE, pos
    if prefix == 0x09:
        return _NONE, pos
    wrapper = _WRAPPERS.get(prefix)
    if wrapper is not None:
        inner, pos = _fast_read(buf, pos, depth + 1)
        return _one(wrapper, "value", inner), pos
    if prefix == 0x0B:
        count = _from_bytes(buf[pos : pos + 4], "big")
        pos += 4
        if pos > len(buf) or pos + count > len(buf):
            raise _Slow
        items = []
        for _ in range(count):
            item, pos = _fast_read(buf, pos, depth + 1)
            items.append(item)
        return _one(List, "items", tuple(items)), pos
    if prefix == 0x06:
        end = pos + 21
        if end >= len(buf) or buf[pos] >= 32:
            raise _Slow
        stop = end + 1 + buf[end]
        if stop > len(buf):
            raise _Slow
        name = _valid_name(buf[end + 1 : stop], _CONTRACT_NAME, _CONTRACT_NAMES)
        return ContractPrincipal(buf[pos], buf[pos + 1 : end], name), stop
    raise _Slow
