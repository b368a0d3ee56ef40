"""The v3 transaction's one checked parser, on the documented sample and on every mutation of
it (each field removed, nulled or given another type; each Clarity hex broken): a Transaction
whose decoded values are its hex's, or StacksApiBadResponse naming the route, never another
exception."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from chainsync.client import TX_V3, StacksApiBadResponse
from chainsync.client.parsing import _parse, _v3_transaction
from stacks import clarity_decode
from tests.chainsync.client.helpers import sample

_REPLACEMENTS: tuple[Any, ...] = (None, True, 0, 7, 1.5, "", "x", [], {}, {"hex": "0x09"})
_HEX_BREAKS = ("", "0x", "0x01", "zz", "0x0e00000002ff")  # empty, short, truncated, bad UTF-8


def _bodies() -> Iterator[tuple[str, Any]]:
    base = sample("v3_transaction")
    yield "sample", base
    yield "mempool (no block)", base | {"block": None}
    yield (
        "no result, no args",
        base
        | {
            "result": None,
            "contract_call": {
                k: v for k, v in base["contract_call"].items() if k != "function_args"
            },
        },
    )
    yield "a deploy", {k: v for k, v in base.items() if k != "contract_call"}
    for path in _paths(base):
        for value in _REPLACEMENTS:
            yield f"{path} = {value!r}", _set(base, path, value)
        yield f"{path} removed", _set(base, path, _REMOVE)
        if path[-1] == "hex":
            for broken in _HEX_BREAKS:
                yield f"{path} = {broken!r}", _set(base, path, broken)
    yield "not an object", [base]


_REMOVE = object()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        yield (*prefix, key)
        if isinstance(child, dict | list):
            yield from _paths(child, (*prefix, key))


def _set(base: Any, path: tuple[Any, ...], value: Any) -> Any:
    body = copy.deepcopy(base)
    holder = body
    for key in path[:-1]:
        holder = holder[key]
    if value is _REMOVE:
        del holder[path[-1]]
    else:
        holder[path[-1]] = value
    return body


def _outcome(body: Any) -> tuple[Any, ...]:
    try:
        tx = _parse(TX_V3, _v3_transaction, body)
    except StacksApiBadResponse as exc:
        assert exc.message.startswith("tx_v3: ") and exc.status == 200
        return ("error", exc.message)
    assert tx.raw is body
    assert tx.result() == (None if tx.result_hex is None else clarity_decode(tx.result_hex))
    call = tx.contract_call
    if call is not None and call.function_args is not None:
        assert call.values == tuple(clarity_decode(arg) for arg in call.function_args)
    return ("tx", tx)


BODIES = dict(_bodies())


def test_the_mutations_cover_every_field() -> None:
    assert len(BODIES) > 500


@pytest.mark.parametrize("name", BODIES)
def test_every_mutation_parses_or_is_refused_as_a_bad_response(name: str) -> None:
    _outcome(BODIES[name])


def test_the_sample_parses_with_its_values_decoded_once() -> None:
    tx = _v3_transaction(sample("v3_transaction"))

    assert tx.contract_call is not None
    assert len(tx.contract_call.function_args or ()) == 5
    assert len(tx.contract_call.values or ()) == 5
    assert tx.result_value is not None and tx.result() is tx.result_value
    assert tx.canonical and tx.block_height == 3712040 and tx.burn_block_height == 152310


def test_a_broken_hex_is_refused_with_the_field_s_reason() -> None:
    outcome = _outcome(_set(sample("v3_transaction"), ("result", "hex"), "0x01"))

    assert outcome[0] == "error" and "uint needs 16 bytes" in outcome[1]
