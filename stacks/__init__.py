"""The Stacks codec (no Django): Clarity values in the SIP-005 wire format (this module's
names), and c32 addresses with message signatures (stacks.c32).

Decodes the `hex` of print events, tx results, function args and call-read results into typed
values, and encodes values for read-only call arguments and SIP-018 messages. The API's `repr` is
display text whose escaping and key order vary between tools: always decode `hex`.
"""

from __future__ import annotations

from stacks.clarity import (
    clarity_decode,
)
from stacks.encode import (
    bool_,
    buffer,
    clarity_encode,
    clarity_to_json,
    clarity_to_python,
    err,
    int_,
    list_,
    none,
    ok,
    principal,
    some,
    string_ascii,
    string_utf8,
    to_hex,
    tuple_,
    uint,
)
from stacks.values import (
    JSON_SAFE_INT,
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
    json_int,
)

__all__ = [
    "JSON_SAFE_INT",
    "MAX_DEPTH",
    "MAX_VALUE_SIZE",
    "Bool",
    "Buffer",
    "ClarityDecodeError",
    "ClarityValue",
    "ClarityValueError",
    "ContractPrincipal",
    "Int",
    "List",
    "OptionalNone",
    "OptionalSome",
    "ResponseErr",
    "ResponseOk",
    "StandardPrincipal",
    "StringAscii",
    "StringUtf8",
    "Tuple",
    "UInt",
    "bool_",
    "buffer",
    "clarity_decode",
    "clarity_encode",
    "clarity_to_json",
    "clarity_to_python",
    "err",
    "int_",
    "json_int",
    "list_",
    "none",
    "ok",
    "principal",
    "some",
    "string_ascii",
    "string_utf8",
    "to_hex",
    "tuple_",
    "uint",
]
