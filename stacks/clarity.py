"""Decoding Clarity values from hex (the `hex` of print events, tx results, function args and
call-read results). The API's `repr` is display text whose escaping and key order vary between
tools: always decode `hex`.

One reader: it builds the (immutable) values without their constructors' checks where the bytes
already guarantee them, and checks the rest itself, raising ClarityDecodeError with the offset
where the problem starts and the reason, as the values' own checks word it.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from stacks.values import (
    _ASCII_ALLOWED,
    _CLARITY_NAME,
    _CONTRACT_NAME,
    MAX_DEPTH,
    MAX_NAME_LENGTH,
    MAX_VALUE_SIZE,
    Bool,
    Buffer,
    ClarityDecodeError,
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
    _first_bad_ascii,
)

_new, _set = object.__new__, object.__setattr__
_from_bytes = int.from_bytes
_TRUE, _FALSE, _NONE = Bool(True), Bool(False), OptionalNone()
_ASCII_ALLOWED_BYTES = bytes(sorted(_ASCII_ALLOWED))
# Validation memos (names and principals seen valid), not a memo of decoded values.
_NAMES: dict[bytes, str] = {}
_CONTRACT_NAMES: dict[bytes, str] = {}
_PRINCIPALS: dict[bytes, StandardPrincipal] = {}
_MEMO_SIZE = 10_000
_WRAPPERS = {0x07: ResponseOk, 0x08: ResponseErr, 0x0A: OptionalSome}
_set_uint = UInt.value.__set__  # the slot's own setter: the commonest value, built inline


def clarity_decode(data: str | bytes) -> ClarityValue:
    """Decode one Clarity value from hex (with or without 0x) or bytes.

    Raises ClarityDecodeError on bad hex, oversize input, truncation, trailing bytes, unknown
    prefixes, excess nesting and invalid strings, names or principals.
    """
    buf = _input_bytes(data)
    value, end = _read(buf, 0, 1)
    if end != len(buf):
        raise ClarityDecodeError(end, f"{len(buf) - end} trailing bytes")
    return value


def _input_bytes(data: str | bytes) -> bytes:
    if isinstance(data, str):
        text = data[2:] if data[:2].lower() == "0x" else data
        if len(text) > 2 * MAX_VALUE_SIZE:
            raise ClarityDecodeError(0, f"value is larger than {MAX_VALUE_SIZE} bytes")
        data = _from_hex(text)
    raw = bytes(data)
    if len(raw) > MAX_VALUE_SIZE:
        raise ClarityDecodeError(0, f"value is larger than {MAX_VALUE_SIZE} bytes")
    return raw


def _from_hex(text: str) -> bytes:
    """The bytes of `text`, which must be hex digits only. bytes.fromhex refuses anything else
    but ASCII whitespace, which it skips: then fewer bytes come out than the text has pairs.
    (A third of the time of matching a pattern over the text first.)"""
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise ClarityDecodeError(0, "input is not hex") from None
    if 2 * len(data) != len(text):
        raise ClarityDecodeError(0, "input is not hex")
    return data


def _short(buf: bytes, pos: int, n: int, what: str) -> ClarityDecodeError:
    return ClarityDecodeError(pos, f"{what} needs {n} bytes, {max(len(buf) - pos, 0)} left")


def _one(cls: type, name: str, value: Any) -> Any:
    obj = _new(cls)
    _set(obj, name, value)
    return obj


def _read(buf: bytes, pos: int, depth: int) -> tuple[ClarityValue, int]:
    """The value at `pos` and the offset after it; the commonest kinds inline."""
    if depth > MAX_DEPTH:
        raise ClarityDecodeError(pos, f"value nests deeper than {MAX_DEPTH} levels")
    if pos >= len(buf):
        raise _short(buf, pos, 1, "type prefix")
    prefix = buf[pos]
    if prefix == 0x01 or prefix == 0x00:
        end = pos + 17
        if end > len(buf):
            raise _short(buf, pos + 1, 16, "uint" if prefix else "int")
        if prefix:
            value = _new(UInt)
            _set_uint(value, _from_bytes(buf[pos + 1 : end], "big"))
            return value, end
        return _one(Int, "value", _from_bytes(buf[pos + 1 : end], "big", signed=True)), end
    if prefix == 0x0C:
        return _read_tuple(buf, pos, depth)
    if prefix == 0x0D or prefix == 0x0E or prefix == 0x02:
        return _read_sized(buf, pos, prefix)
    if prefix == 0x05:
        return _read_standard(buf, pos)
    if prefix == 0x03:
        return _TRUE, pos + 1
    if prefix == 0x04:
        return _FALSE, pos + 1
    if prefix == 0x09:
        return _NONE, pos + 1
    wrapper = _WRAPPERS.get(prefix)
    if wrapper is not None:
        inner, end = _read(buf, pos + 1, depth + 1)
        return _one(wrapper, "value", inner), end
    if prefix == 0x0B:
        return _read_list(buf, pos, depth)
    if prefix == 0x06:
        return _read_contract(buf, pos)
    raise ClarityDecodeError(pos, f"unknown type prefix 0x{prefix:02x}")


def _read_count(buf: bytes, pos: int, what: str) -> int:
    """The u32 item count at `pos` (after a prefix), which the rest of the input must hold at a
    byte per item at least."""
    if pos + 4 > len(buf):
        raise _short(buf, pos, 4, f"{what} length")
    count = _from_bytes(buf[pos : pos + 4], "big")
    if count > len(buf) - pos - 4:
        raise ClarityDecodeError(pos, f"{what} of {count} items overruns the input")
    return count


def _read_list(buf: bytes, start: int, depth: int) -> tuple[List, int]:
    count = _read_count(buf, start + 1, "list")
    pos = start + 5
    items = []
    for _ in range(count):
        item, pos = _read(buf, pos, depth + 1)
        items.append(item)
    return _one(List, "items", tuple(items)), pos


def _read_tuple(buf: bytes, start: int, depth: int) -> tuple[Tuple, int]:
    count = _read_count(buf, start + 1, "tuple")
    if not count:
        raise ClarityDecodeError(start, "a tuple needs at least one field")
    pos = start + 5
    data: dict[str, ClarityValue] = {}
    for _ in range(count):
        if pos >= len(buf):
            raise _short(buf, pos, 1, "tuple key length")
        end = pos + 1 + buf[pos]
        if end > len(buf):
            raise _short(buf, pos + 1, buf[pos], "tuple key")
        raw = buf[pos + 1 : end]
        name = _NAMES.get(raw) or _valid_name(start, pos + 1, raw, "tuple key")
        if name in data:
            raise ClarityDecodeError(pos, f"duplicate tuple key {name!r}")
        data[name], pos = _read(buf, end, depth + 1)
    return _one(Tuple, "data", MappingProxyType(data)), pos  # read-only, as Tuple makes it


def _valid_name(start: int, at: int, raw: bytes, what: str) -> str:
    """`raw` (read at offset `at` of a value starting at `start`) as a tuple key or contract
    name, remembered once seen valid."""
    if what == "tuple key":
        pattern, memo = _CLARITY_NAME, _NAMES
    else:
        pattern, memo = _CONTRACT_NAME, _CONTRACT_NAMES
    name = memo.get(raw)
    if name is not None:
        return name
    if not raw.isascii():
        raise ClarityDecodeError(at, f"{what} is not ASCII")
    name = raw.decode("ascii")
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise ClarityDecodeError(start, f"{what} must be 1..{MAX_NAME_LENGTH} characters: {name!r}")
    if not pattern.fullmatch(name):
        raise ClarityDecodeError(start, f"invalid {what} {name!r}")
    if len(memo) < _MEMO_SIZE:
        memo[raw] = name
    return name


def _read_sized(buf: bytes, start: int, prefix: int) -> tuple[ClarityValue, int]:
    what = "string-ascii" if prefix == 0x0D else "string-utf8" if prefix == 0x0E else "buffer"
    pos = start + 5
    if pos > len(buf):
        raise _short(buf, start + 1, 4, f"{what} length")
    end = pos + _from_bytes(buf[start + 1 : pos], "big")
    if end > len(buf):
        raise _short(buf, pos, end - pos, what)
    raw = buf[pos:end]
    if prefix == 0x02:
        return _one(Buffer, "value", raw), end
    if prefix == 0x0D:
        if raw.translate(None, _ASCII_ALLOWED_BYTES):
            bad = _first_bad_ascii(raw) or 0
            raise ClarityDecodeError(
                pos + bad, f"byte 0x{raw[bad]:02x} is not allowed in string-ascii"
            )
        return _one(StringAscii, "value", raw.decode("ascii")), end
    try:
        return _one(StringUtf8, "value", raw.decode("utf-8")), end
    except UnicodeDecodeError as exc:
        raise ClarityDecodeError(
            pos + exc.start, f"invalid UTF-8 in string-utf8: {exc.reason}"
        ) from None


def _read_hash(buf: bytes, start: int) -> int:
    """Check the version byte and hash160 after a principal's prefix; the offset after them."""
    if start + 1 >= len(buf):
        raise _short(buf, start + 1, 1, "principal version")
    end = start + 22
    if end > len(buf):
        raise _short(buf, start + 2, 20, "hash160")
    if buf[start + 1] >= 32:
        raise ClarityDecodeError(start, f"principal version {buf[start + 1]!r} is not in 0..31")
    return end


def _read_standard(buf: bytes, start: int) -> tuple[StandardPrincipal, int]:
    end = _read_hash(buf, start)
    key = buf[start + 1 : end]
    value = _PRINCIPALS.get(key)
    if value is None:
        value = StandardPrincipal(key[0], key[1:])
        if len(_PRINCIPALS) < _MEMO_SIZE:
            _PRINCIPALS[key] = value
    return value, end


def _read_contract(buf: bytes, start: int) -> tuple[ContractPrincipal, int]:
    end = _read_hash(buf, start)
    if end >= len(buf):
        raise _short(buf, end, 1, "contract name length")
    stop = end + 1 + buf[end]
    if stop > len(buf):
        raise _short(buf, end + 1, buf[end], "contract name")
    name = _valid_name(start, end + 1, buf[end + 1 : stop], "contract name")
    return ContractPrincipal(buf[start + 1], buf[start + 2 : end], name), stop
