"""The contract's print events (CONTRACT.md "Print events"): names, field types, and one parser
that turns a print's Clarity value into a checked record, or says precisely what is wrong; what a
stored ChainEvent row holds of a print (its content, its place), and the writes of its state,
each one a move of ChainEvent.State's transition table (EVENT_STATE_MOVES)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, NamedTuple

from django.db.models import QuerySet

from chainsync.models import EVENT_STATE_MOVES, ChainEvent, ChainTransaction
from stacks import (
    Bool,
    ClarityDecodeError,
    ClarityValue,
    ContractPrincipal,
    StandardPrincipal,
    StringAscii,
    Tuple,
    UInt,
    clarity_decode,
    json_int,
)
from stxworx.sql import pks_update

UINT, PRINCIPAL, BOOL, TOKEN = "uint", "principal", "bool", "token"

SCHEMAS: dict[str, dict[str, str]] = {
    "project-created": {
        "project-id": UINT,
        "client": PRINCIPAL,
        "freelancer": PRINCIPAL,
        "gross-amount": UINT,
        "net-escrow": UINT,
        "fee-collected": UINT,
        "num-milestones": UINT,
        "token": TOKEN,
    },
    "milestone-completed": {"project-id": UINT, "milestone": UINT, "freelancer": PRINCIPAL},
    "dispute-filed": {"project-id": UINT, "milestone": UINT, "filed-by": PRINCIPAL},
    "milestone-released": {"project-id": UINT, "milestone": UINT, "amount": UINT, "token": TOKEN},
    "full-refund": {"project-id": UINT, "amount": UINT, "client": PRINCIPAL, "token": TOKEN},
    "emergency-refund": {
        "project-id": UINT,
        "refund-amount": UINT,
        "released-amount": UINT,
        "client": PRINCIPAL,
        "token": TOKEN,
    },
    "dispute-resolved": {
        "project-id": UINT,
        "milestone": UINT,
        "released-to-freelancer": BOOL,
        "amount": UINT,
        "token": TOKEN,
    },
    "force-released": {"project-id": UINT, "milestone": UINT, "amount": UINT, "token": TOKEN},
    "force-refund": {
        "project-id": UINT,
        "refund-amount": UINT,
        "client": PRINCIPAL,
        "token": TOKEN,
    },
    "milestone-reset": {"project-id": UINT, "milestone": UINT},
    "sbtc-recovered": {"amount": UINT, "recipient": PRINCIPAL},
    "treasury-updated": {"new-treasury": PRINCIPAL},
    "ownership-proposed": {"proposed-owner": PRINCIPAL},
    "ownership-transferred": {"new-owner": PRINCIPAL},
    "contract-paused-updated": {"paused": BOOL},
    "fee-rate-updated": {"new-rate": UINT},
    "sbtc-contract-updated": {"contract": PRINCIPAL},
}
TOKENS = {"STX", "sBTC"}


class MalformedEvent(ValueError):
    """A print that is not one of the contract's events as documented."""


@dataclass(frozen=True)
class PrintEvent:
    name: str
    fields: dict[str, Any]  # uint -> int, principal -> address, bool -> bool, token -> str

    @property
    def project_id(self) -> int | None:
        return self.fields.get("project-id")


def _field(name: str, kind: str, value: Any) -> Any:
    if kind == UINT and isinstance(value, UInt):
        return value.value
    if kind == BOOL and isinstance(value, Bool):
        return value.value
    if kind == PRINCIPAL and isinstance(value, StandardPrincipal | ContractPrincipal):
        return value.address
    if kind == TOKEN and isinstance(value, StringAscii) and value.value in TOKENS:
        return value.value
    raise MalformedEvent(f"field {name!r} should be a {kind}, not {value!r}")


# How each kind reads the value types it accepts, looked up by the value's exact type: one dict
# look-up per field instead of `_field`'s chain of checks, which stays the judge of anything
# else (a token string outside TOKENS, a value of the wrong type) and words the refusal.
_VALUE, _ADDRESS = attrgetter("value"), attrgetter("address")
_READERS: dict[str, dict[type, Any]] = {
    UINT: {UInt: _VALUE},
    BOOL: {Bool: _VALUE},
    PRINCIPAL: {StandardPrincipal: _ADDRESS, ContractPrincipal: _ADDRESS},
    TOKEN: {},
}
_PLANS = {
    name: tuple((key, kind, _READERS[kind]) for key, kind in schema.items())
    for name, schema in SCHEMAS.items()
}
_EVENT_KEY = "event"


def print_parse(raw_hex: str, value: ClarityValue | None = None) -> PrintEvent:
    """The event in a print's hex (or its `value`, when the client decoded it already), checked
    against the contract's schema."""
    if value is None:
        try:
            value = clarity_decode(raw_hex)
        except ClarityDecodeError as exc:
            raise MalformedEvent(f"undecodable print: {exc}") from exc
    data = value.data if isinstance(value, Tuple) else None
    event = data.get(_EVENT_KEY) if data is not None else None
    if not isinstance(event, StringAscii):
        raise MalformedEvent("a print without an `event` name")
    name = event.value
    plan = _PLANS.get(name)
    if plan is None:
        raise MalformedEvent(f"unknown event {name!r}")
    schema = SCHEMAS[name]
    if not data.keys() >= schema.keys():
        missing = sorted(set(schema) - set(data))
        raise MalformedEvent(f"{name} lacks {', '.join(missing)}")
    fields = {}
    for key, kind, readers in plan:
        item = data[key]
        read = readers.get(type(item))
        fields[key] = _field(key, kind, item) if read is None else read(item)
    return PrintEvent(name, fields)


def json_safe(fields: dict[str, Any]) -> dict[str, Any]:
    """Integers beyond what a JSON number holds exactly become decimal strings (u128 amounts)."""
    return {key: json_int(value) if type(value) is int else value for key, value in fields.items()}


# --- a stored print: its content and its place ------------------------------------------------

EVENT_PLACE_FIELDS = [  # what event_placed sets
    "canonical",
    "block_height",
    "block_hash",
    "burn_block_height",
    "tx_index",
    "sender",
    "function_name",
]
EVENT_CONTENT_FIELDS = ["raw_hex", "state", "error", "event_name", "payload", "project_id"]


class Place(NamedTuple):
    """Where a stored call sits (what `event_placed` reads of it)."""

    block_height: int
    block_hash: str
    burn_block_height: int
    tx_index: int
    sender: str
    function_name: str


def event_content(raw_hex: str, value: ClarityValue | None = None) -> tuple[Any, ...]:
    """EVENT_CONTENT_FIELDS of a print: its hex and what it says, pending; or failed with the
    reason when malformed. `value` is the hex's value when the caller has it decoded."""
    try:
        parsed = print_parse(raw_hex, value)
    except MalformedEvent as exc:
        return (raw_hex, ChainEvent.State.FAILED, str(exc), "", {}, None)
    payload = json_safe(parsed.fields)
    return (raw_hex, ChainEvent.State.PENDING, "", parsed.name, payload, parsed.project_id)


def event_content_set(
    event: ChainEvent, raw_hex: str, value: ClarityValue | None = None
) -> ChainEvent:
    """The print's hex and what it says: pending, or failed with the reason when malformed."""
    for name, field in zip(EVENT_CONTENT_FIELDS, event_content(raw_hex, value), strict=True):
        setattr(event, name, field)
    return event


def event_placed(event: ChainEvent, tx: ChainTransaction | Place) -> ChainEvent:
    """The event, canonical, at its call's place in the chain."""
    event.canonical = True
    event.block_height, event.block_hash = tx.block_height, tx.block_hash
    event.burn_block_height, event.tx_index = tx.burn_block_height, tx.tx_index
    event.sender, event.function_name = tx.sender, tx.function_name
    return event


# --- state moves ------------------------------------------------------------------------------

PENDING = ChainEvent.State.PENDING


def event_states_save(done: Sequence[Any]) -> int:
    """Save the states the apply set on pending events (applied or failed, the moves out of
    pending): one UPDATE per distinct (state, error), so usually one. Returns how many were
    applied. Raises ValueError for a state pending cannot move to."""
    groups: dict[tuple[str, str], list[int]] = {}
    for event in done:
        if not PENDING.can_become(event.state):
            raise ValueError(f"an event cannot move from pending to {event.state}")
        groups.setdefault((event.state, event.error), []).append(event.pk)
    at = done[0].applied_at if done else None
    for (state, error), pks in groups.items():
        pks_update(ChainEvent, pks, state=state, error=error, applied_at=at)
    return sum(e.state == ChainEvent.State.APPLIED for e in done)


def events_requeue(rows: QuerySet[ChainEvent], *, keep_applied_at: bool = False) -> int:
    """Move `rows` back to pending, error cleared: the rebuild's replay (every state may move
    there, and pending ones start afresh too), or, with `keep_applied_at`, events a fork took out
    of the projection (those not pending yet; when they had been applied stays recorded).
    Returns how many rows were written."""
    if keep_applied_at:
        return rows.exclude(state=PENDING).update(state=PENDING, error="")
    return rows.update(state=PENDING, error="", applied_at=None)


assert all(PENDING in EVENT_STATE_MOVES[s] for s in EVENT_STATE_MOVES if s != PENDING)
