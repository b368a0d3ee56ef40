"""The v3 transaction's direct read against its field checks: on the documented sample and on
every mutation of it (each field removed, nulled or given another type; each Clarity hex broken),
both give the same Transaction or the same error."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from chainsync.client import TX_V3, StacksApiBadResponse, Transaction, parsing
from chainsync.client.parsing import _parse, _v3_transaction, _v3_transaction_checked
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


def _outcome(parser: Any, body: Any) -> tuple[Any, ...]:
    try:
        tx = _parse(TX_V3, parser, body)
    except StacksApiBadResponse as exc:
        return ("error", exc.message, exc.status)
    return ("tx", tx, tx.raw is body)


BODIES = dict(_bodies())


def test_the_mutations_cover_every_field() -> None:
    assert len(BODIES) > 500


@pytest.mark.parametrize("name", BODIES)
def test_the_direct_read_agrees_with_the_checks(name: str) -> None:
    body = BODIES[name]

    assert _outcome(_v3_transaction, body) == _outcome(_v3_transaction_checked, body)


def test_the_sample_takes_the_direct_read(monkeypatch) -> None:
    def refuse(data: Any) -> Transaction:
        raise AssertionError("took the checked path")

    monkeypatch.setattr(parsing, "_v3_transaction_checked", refuse)

    tx = _v3_transaction(sample("v3_transaction"))

    assert tx.contract_call is not None
    assert len(tx.contract_call.function_args or ()) == 5
    assert tx.canonical and tx.block_height == 3712040 and tx.burn_block_height == 152310
