"""Clarity values (SIP-005): the typed values, their limits and checks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar

from stacks.c32 import address_from_hash160

MAX_VALUE_SIZE = 1024 * 1024
# Counted like a Clarity type signature: a bare scalar has depth 1, each wrapper adds one.
MAX_DEPTH = 32
MAX_NAME_LENGTH = 128
JSON_SAFE_INT = 2**53  # the first int a JSON number (an IEEE double) may not hold exactly

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


def json_int(value: Any) -> int | str:
    """An exact int as JSON: a number below 2**53 in magnitude (exact in JavaScript), a string
    of decimal digits from there (u128 amounts). The one statement of that rule: the event
    payloads, `clarity_to_json` and the API's amounts all use it."""
    number = int(value)
    return number if abs(number) < JSON_SAFE_INT else str(number)


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


@dataclass(frozen=True, slots=True, repr=False)
class Tuple:
    """Fields by name; encoding sorts them bytewise, as the node does.

    `data` is a read-only view of the fields' own copy: values are immutable (the decoder
    remembers and shares recent ones), so no caller can change a value another one holds."""

    data: Mapping[str, ClarityValue]

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", MappingProxyType(dict(self.data)))
        if not self.data:
            raise ClarityValueError("a tuple needs at least one field")
        for name, value in self.data.items():
            _check_name(name, _CLARITY_NAME, "tuple key")
            _check_value(value)

    def __getitem__(self, name: str) -> ClarityValue:
        return self.data[name]

    def __repr__(self) -> str:
        return f"Tuple(data={dict(self.data)!r})"

    def __reduce__(self) -> tuple[type[Tuple], tuple[dict[str, ClarityValue]]]:
        """Pickled and copied through a plain dict (a read-only view cannot be pickled)."""
        return (Tuple, (dict(self.data),))


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
