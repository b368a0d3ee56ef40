"""Decoding Clarity values from hex (the `hex` of print events, tx results, function args and
call-read results). The API's `repr` is display text whose escaping and key order vary between
tools: always decode `hex`."""

from __future__ import annotations

from collections.abc import Callable

from chainsync.codec.fast import _fast_read, _Slow
from chainsync.codec.values import (
    MAX_DEPTH,
    MAX_VALUE_SIZE,
    Bool,
    Buffer,
    ClarityDecodeError,
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
    _first_bad_ascii,
)

# --- decoding -------------------------------------------------------------------------------


class _Reader:
    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        left = len(self.buf) - self.pos
        if n > left:
            raise ClarityDecodeError(self.pos, f"{what} needs {n} bytes, {left} left")
        self.pos += n
        return self.buf[self.pos - n : self.pos]

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def u32(self, what: str) -> int:
        return int.from_bytes(self.take(4, what), "big")


def clarity_decode(data: str | bytes) -> ClarityValue:
    """Decode one Clarity value from hex (with or without 0x) or bytes.

    Raises ClarityDecodeError on bad hex, oversize input, truncation, trailing bytes, unknown
    prefixes, excess nesting and invalid strings, names or principals.

    Values are immutable, so the last few thousand decoded from hex are remembered: a print the
    client checked on arrival is not decoded again when it is parsed and stored.
    """
    if type(data) is str:
        value = _RECENT.get(data)
        if value is None:
            value = _decode(_input_bytes(data))
            if len(_RECENT) >= RECENT_SIZE:
                _RECENT.clear()
            _RECENT[data] = value
        return value
    return _decode(_input_bytes(data))


RECENT_SIZE = 4096
_RECENT: dict[str, ClarityValue] = {}


def _decode(buf: bytes) -> ClarityValue:
    """The fast reader, or the careful one when the fast one finds anything amiss (so every
    error is reported by the careful one, with its offset and reason)."""
    try:
        value, end = _fast_read(buf, 0, 1)
        if end == len(buf):
            return value
    except (_Slow, IndexError, ValueError):
        pass
    return _careful_decode(buf)


def _careful_decode(buf: bytes) -> ClarityValue:
    reader = _Reader(buf)
    value = _read(reader, 1)
    if reader.pos != len(reader.buf):
        raise ClarityDecodeError(reader.pos, f"{len(reader.buf) - reader.pos} trailing bytes")
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


def _read(r: _Reader, depth: int) -> ClarityValue:
    start = r.pos
    if depth > MAX_DEPTH:
        raise ClarityDecodeError(start, f"value nests deeper than {MAX_DEPTH} levels")
    prefix = r.u8("type prefix")
    reader = _READERS.get(prefix)
    if reader is None:
        raise ClarityDecodeError(start, f"unknown type prefix 0x{prefix:02x}")
    try:
        return reader(r, depth)
    except ClarityValueError as exc:
        raise ClarityDecodeError(start, str(exc)) from None


def _read_count(r: _Reader, what: str) -> int:
    at = r.pos
    count = r.u32(f"{what} length")
    if count > len(r.buf) - r.pos:  # every item takes at least one byte
        raise ClarityDecodeError(at, f"{what} of {count} items overruns the input")
    return count


def _read_name(r: _Reader, what: str) -> str:
    raw = r.take(r.u8(f"{what} length"), what)
    if not raw.isascii():
        raise ClarityDecodeError(r.pos - len(raw), f"{what} is not ASCII")
    return raw.decode("ascii")


def _read_sized(r: _Reader, what: str) -> bytes:
    return r.take(r.u32(f"{what} length"), what)


def _read_list(r: _Reader, depth: int) -> List:
    return List(tuple(_read(r, depth + 1) for _ in range(_read_count(r, "list"))))


def _read_tuple(r: _Reader, depth: int) -> Tuple:
    data: dict[str, ClarityValue] = {}
    for _ in range(_read_count(r, "tuple")):
        at = r.pos
        name = _read_name(r, "tuple key")
        if name in data:
            raise ClarityDecodeError(at, f"duplicate tuple key {name!r}")
        data[name] = _read(r, depth + 1)
    return Tuple(data)


def _read_ascii(r: _Reader, depth: int) -> StringAscii:
    raw = _read_sized(r, "string-ascii")
    bad = _first_bad_ascii(raw)
    if bad is not None:
        at = r.pos - len(raw) + bad
        raise ClarityDecodeError(at, f"byte 0x{raw[bad]:02x} is not allowed in string-ascii")
    return StringAscii(raw.decode("ascii"))


def _read_utf8(r: _Reader, depth: int) -> StringUtf8:
    raw = _read_sized(r, "string-utf8")
    try:
        return StringUtf8(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        at = r.pos - len(raw) + exc.start
        raise ClarityDecodeError(at, f"invalid UTF-8 in string-utf8: {exc.reason}") from None


_READERS: dict[int, Callable[[_Reader, int], ClarityValue]] = {
    0x00: lambda r, d: Int(int.from_bytes(r.take(16, "int"), "big", signed=True)),
    0x01: lambda r, d: UInt(int.from_bytes(r.take(16, "uint"), "big")),
    0x02: lambda r, d: Buffer(_read_sized(r, "buffer")),
    0x03: lambda r, d: Bool(True),
    0x04: lambda r, d: Bool(False),
    0x05: lambda r, d: StandardPrincipal(r.u8("principal version"), r.take(20, "hash160")),
    0x06: lambda r, d: ContractPrincipal(
        r.u8("principal version"), r.take(20, "hash160"), _read_name(r, "contract name")
    ),
    0x07: lambda r, d: ResponseOk(_read(r, d + 1)),
    0x08: lambda r, d: ResponseErr(_read(r, d + 1)),
    0x09: lambda r, d: OptionalNone(),
    0x0A: lambda r, d: OptionalSome(_read(r, d + 1)),
    0x0B: _read_list,
    0x0C: _read_tuple,
    0x0D: _read_ascii,
    0x0E: _read_utf8,
}
