"""Clarity value codec (SIP-005 wire format).

Decodes the `hex` of print events, tx results, function args and call-read results into typed
values, and encodes values for read-only call arguments and SIP-018 messages. The API's `repr` is
display text whose escaping and key order vary between tools: always decode `hex`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from chainsync.c32 import address_decode, address_from_hash160

MAX_VALUE_SIZE = 1024 * 1024
# Counted like a Clarity type signature: a bare scalar has depth 1, each wrapper adds one.
MAX_DEPTH = 32
MAX_NAME_LENGTH = 128
JSON_SAFE_INT = 2**53

_HEX = re.compile(r"[0-9a-fA-F]*")
_CONTRACT_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_-]*")
_CLARITY_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9_!?+<>=/*-]*|[-+=/*]|[<>]=?")
# The node accepts only alphanumerics, punctuation and whitespace (Rust's is_ascii_* classes).
_ASCII_ALLOWED = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0C, 0x0D}


class ClarityValueError(ValueError):
    """A value Clarity cannot represent: out of range, bad name, bad characters."""


class ClarityDecodeError(ValueError):
    """Bytes that are not one valid Clarity value; `offset` is where the problem starts."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(f"invalid Clarity value at byte {offset}: {reason}")
        self.offset = offset
        self.reason = reason


# --- value types ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Integer:
    value: int
    BITS: ClassVar[tuple[int, int]]

    def __post_init__(self) -> None:
        kind, (low, high) = type(self).__name__, self.BITS
        if not isinstance(self.value, int) or isinstance(self.value, bool):
            raise ClarityValueError(f"{kind} needs an int, got {type(self.value).__name__}")
        if not low <= self.value <= high:
            raise ClarityValueError(f"{self.value} is out of range for {kind}")


@dataclass(frozen=True, slots=True)
class Int(_Integer):
    BITS = (-(2**127), 2**127 - 1)


@dataclass(frozen=True, slots=True)
class UInt(_Integer):
    BITS = (0, 2**128 - 1)


@dataclass(frozen=True, slots=True)
class Buffer:
    value: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.value, bytes | bytearray | memoryview):
            raise ClarityValueError(f"buffer needs bytes, got {type(self.value).__name__}")
        object.__setattr__(self, "value", bytes(self.value))


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool

    def __post_init__(self) -> None:
        if not isinstance(self.value, bool):
            raise ClarityValueError(f"bool needs a bool, got {type(self.value).__name__}")


@dataclass(frozen=True, slots=True)
class StandardPrincipal:
    version: int
    hash160: bytes

    def __post_init__(self) -> None:
        _check_principal(self.version, self.hash160)

    @property
    def address(self) -> str:
        return address_from_hash160(self.version, self.hash160)


@dataclass(frozen=True, slots=True)
class ContractPrincipal:
    version: int
    hash160: bytes
    name: str

    def __post_init__(self) -> None:
        _check_principal(self.version, self.hash160)
        _check_name(self.name, _CONTRACT_NAME, "contract name")

    @property
    def address(self) -> str:
        """The contract id, `<issuer address>.<name>`."""
        return f"{address_from_hash160(self.version, self.hash160)}.{self.name}"


@dataclass(frozen=True, slots=True)
class _Wrapper:
    value: ClarityValue

    def __post_init__(self) -> None:
        _check_value(self.value)


@dataclass(frozen=True, slots=True)
class ResponseOk(_Wrapper):
    pass


@dataclass(frozen=True, slots=True)
class ResponseErr(_Wrapper):
    pass


@dataclass(frozen=True, slots=True)
class OptionalSome(_Wrapper):
    pass


@dataclass(frozen=True, slots=True)
class OptionalNone:
    pass


@dataclass(frozen=True, slots=True)
class List:
    items: tuple[ClarityValue, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(self.items))
        for item in self.items:
            _check_value(item)


@dataclass(frozen=True, slots=True)
class Tuple:
    """Fields by name; encoding sorts them bytewise, as the node does."""

    data: dict[str, ClarityValue]

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", dict(self.data))
        if not self.data:
            raise ClarityValueError("a tuple needs at least one field")
        for name, value in self.data.items():
            _check_name(name, _CLARITY_NAME, "tuple key")
            _check_value(value)

    def __getitem__(self, name: str) -> ClarityValue:
        return self.data[name]


@dataclass(frozen=True, slots=True)
class StringAscii:
    value: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, str) or not self.value.isascii():
            raise ClarityValueError(f"string-ascii needs ASCII text: {self.value!r}")
        bad = _first_bad_ascii(self.value.encode("ascii"))
        if bad is not None:
            raise ClarityValueError(f"string-ascii has a disallowed character at index {bad}")


@dataclass(frozen=True, slots=True)
class StringUtf8:
    value: str

    def __post_init__(self) -> None:
        try:
            self.value.encode("utf-8")
        except (AttributeError, UnicodeEncodeError) as exc:
            raise ClarityValueError(f"string-utf8 needs valid text: {exc}") from None


ClarityValue = (
    Int | UInt | Buffer | Bool | StandardPrincipal | ContractPrincipal | ResponseOk | ResponseErr
    | OptionalNone | OptionalSome | List | Tuple | StringAscii | StringUtf8
)  # fmt: skip


def _check_principal(version: int, hash160: bytes) -> None:
    # c32 has 32 version characters; the node rejects any version byte beyond them.
    if not isinstance(version, int) or not 0 <= version < 32:
        raise ClarityValueError(f"principal version {version!r} is not in 0..31")
    if not isinstance(hash160, bytes) or len(hash160) != 20:
        raise ClarityValueError("principal hash160 must be 20 bytes")


def _check_name(name: str, pattern: re.Pattern[str], what: str) -> None:
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME_LENGTH:
        raise ClarityValueError(f"{what} must be 1..{MAX_NAME_LENGTH} characters: {name!r}")
    if not name.isascii() or not pattern.fullmatch(name):
        raise ClarityValueError(f"invalid {what} {name!r}")


def _check_value(value: object) -> None:
    if not isinstance(value, ClarityValue):
        raise ClarityValueError(f"not a Clarity value: {value!r}")


def _first_bad_ascii(raw: bytes) -> int | None:
    return next((i for i, byte in enumerate(raw) if byte not in _ASCII_ALLOWED), None)


def _sized(raw: bytes) -> bytes:
    return len(raw).to_bytes(4, "big") + raw


def _short_name(name: str) -> bytes:
    raw = name.encode("ascii")
    return bytes([len(raw)]) + raw


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
        if len(text) % 2 or not _HEX.fullmatch(text):  # fromhex alone would skip spaces
            raise ClarityDecodeError(0, "input is not hex")
        data = bytes.fromhex(text)
    raw = bytes(data)
    if len(raw) > MAX_VALUE_SIZE:
        raise ClarityDecodeError(0, f"value is larger than {MAX_VALUE_SIZE} bytes")
    return raw


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
            return _one(UInt, "value", _from_bytes(buf[pos:end], "big")), end
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
            name = _valid_name(buf[pos + 1 : end], _CLARITY_NAME, _NAMES)
            if name in data:
                raise _Slow
            data[name], pos = _fast_read(buf, end, depth + 1)
        return _one(Tuple, "data", data), pos
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
            big = json_ints and abs(value.value) >= JSON_SAFE_INT
            return str(value.value) if big else value.value
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
    """`SP…` or `SP….name`. Raises chainsync.c32.InvalidAddress or ClarityValueError."""
    issuer, dot, name = address.partition(".")
    version, hash160 = address_decode(issuer)
    return ContractPrincipal(version, hash160, name) if dot else StandardPrincipal(version, hash160)
