"""Every print the contract makes parses into a checked event; anything else is refused."""

from __future__ import annotations

import pytest

from chainsync.log.events import SCHEMAS, MalformedEvent, _field, json_safe, print_parse
from stacks import (
    bool_,
    buffer,
    clarity_encode,
    int_,
    json_int,
    principal,
    string_ascii,
    string_utf8,
    to_hex,
    tuple_,
    uint,
)
from tests.chainsync.hiro_server import CLIENT, FREELANCER, events

SBTC = "ST1PQHQKV0RJXZFY1DGX8MNSNYVE3VGZJSRTPGZGM.sbtc-token"

PRINTS = {
    "project-created": events.project_created(
        project_id=1, client=CLIENT, freelancer=FREELANCER, milestones=[10, 20, 0, 0]
    ),
    "milestone-completed": events.milestone_completed(
        project_id=1, milestone=1, freelancer=FREELANCER
    ),
    "dispute-filed": events.dispute_filed(project_id=1, milestone=1, filed_by=CLIENT),
    "milestone-released": events.milestone_released(project_id=1, milestone=1, amount=9),
    "full-refund": events.full_refund(project_id=1, amount=9, client=CLIENT),
    "emergency-refund": events.emergency_refund(
        project_id=1, refund_amount=9, released_amount=1, client=CLIENT
    ),
    "dispute-resolved": events.dispute_resolved(
        project_id=1, milestone=1, released_to_freelancer=True, amount=9
    ),
    "force-released": events.force_released(project_id=1, milestone=1, amount=9),
    "force-refund": events.force_refund(project_id=1, refund_amount=9, client=CLIENT),
    "milestone-reset": events.milestone_reset(project_id=1, milestone=1),
    "sbtc-recovered": events.sbtc_recovered(amount=5, recipient=CLIENT),
    "treasury-updated": events.treasury_updated(new_treasury=CLIENT),
    "ownership-proposed": events.ownership_proposed(proposed_owner=CLIENT),
    "ownership-transferred": events.ownership_transferred(new_owner=CLIENT),
    "contract-paused-updated": events.contract_paused_updated(paused=True),
    "fee-rate-updated": events.fee_rate_updated(new_rate=500),
    "sbtc-contract-updated": events.sbtc_contract_updated(contract=SBTC),
}


def test_every_documented_event_is_covered():
    assert set(PRINTS) == set(SCHEMAS)


@pytest.mark.parametrize("name", sorted(PRINTS))
def test_each_print_parses_with_typed_fields(name):
    event = print_parse(to_hex(PRINTS[name].value))
    assert event.name == name
    assert set(event.fields) == set(SCHEMAS[name])
    for key, kind in SCHEMAS[name].items():
        value = event.fields[key]
        expected = {"uint": int, "bool": bool, "principal": str, "token": str}[kind]
        assert type(value) is expected, (key, value)


def test_values_come_through():
    created = print_parse(to_hex(PRINTS["project-created"].value))
    assert created.project_id == 1
    assert created.fields["client"] == CLIENT
    assert created.fields["gross-amount"] == 30
    assert created.fields["token"] == "STX"
    assert print_parse(to_hex(PRINTS["sbtc-contract-updated"].value)).fields["contract"] == SBTC


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (uint(1), "without an `event` name"),
        (tuple_({"event": string_ascii("mystery")}), "unknown event 'mystery'"),
        (
            tuple_({"event": string_ascii("milestone-reset"), "project-id": uint(1)}),
            "milestone-reset lacks milestone",
        ),
        (
            tuple_(
                {
                    "event": string_ascii("milestone-reset"),
                    "project-id": int_(1),
                    "milestone": uint(1),
                }
            ),
            "field 'project-id' should be a uint",
        ),
        (
            tuple_({"event": string_ascii("contract-paused-updated"), "paused": uint(1)}),
            "field 'paused' should be a bool",
        ),
        (
            tuple_(
                {
                    "event": string_ascii("full-refund"),
                    "project-id": uint(1),
                    "amount": uint(1),
                    "client": string_ascii("x"),
                    "token": string_ascii("STX"),
                }
            ),
            "field 'client' should be a principal",
        ),
        (
            tuple_(
                {
                    "event": string_ascii("force-released"),
                    "project-id": uint(1),
                    "milestone": uint(1),
                    "amount": uint(1),
                    "token": string_ascii("ETH"),
                }
            ),
            "field 'token' should be a token",
        ),
        (tuple_({"event": bool_(True)}), "without an `event` name"),
    ],
)
def test_malformed_prints_are_refused_with_the_reason(value, reason):
    with pytest.raises(MalformedEvent, match=reason.replace("(", r"\(").replace("'", "'")):
        print_parse(to_hex(value))


def test_undecodable_hex_is_malformed():
    with pytest.raises(MalformedEvent, match="undecodable"):
        print_parse("0x0c0000")
    assert clarity_encode(uint(1))  # the codec itself is fine


def test_json_safe_keeps_u128_exact():
    assert json_safe({"a": 2**53, "b": 5, "c": True, "d": "x"}) == {
        "a": str(2**53),
        "b": 5,
        "c": True,
        "d": "x",
    }


def test_json_safe_follows_the_one_json_int_rule():
    fields = {"at": 2**53 - 1, "past": 2**53, "low": -(2**53), "u128": 2**128 - 1, "flag": False}
    assert json_safe(fields) == {
        "at": 2**53 - 1,
        "past": str(2**53),
        "low": str(-(2**53)),
        "u128": str(2**128 - 1),
        "flag": False,  # a bool is not an amount
    }
    assert all(json_int(v) == json_safe({"k": v})["k"] for v in (0, 2**53 - 1, 2**53, 2**70))


@pytest.mark.parametrize("name", sorted(PRINTS))
def test_fields_read_by_type_agree_with_the_careful_checks(name):
    """print_parse reads each field by its value's type; _field, the careful check, agrees."""
    value = PRINTS[name].value
    expected = {key: _field(key, kind, value[key]) for key, kind in SCHEMAS[name].items()}
    assert print_parse(to_hex(value)).fields == expected


@pytest.mark.parametrize(
    ("kind", "wrong"),
    [
        ("uint", [int_(1), bool_(True), string_ascii("1"), principal(CLIENT)]),
        ("bool", [uint(1), string_ascii("true")]),
        ("principal", [string_ascii(CLIENT), uint(1), buffer(b"x" * 20)]),
        ("token", [string_ascii("stx"), string_utf8("STX"), uint(0), bool_(False)]),
    ],
)
def test_every_wrong_field_type_is_refused_as_the_careful_check_words_it(kind, wrong):
    name, key = next(
        (name, key)
        for name, schema in SCHEMAS.items()
        for key, k in schema.items()
        if k == kind and key != "project-id"
    )
    good = dict(PRINTS[name].value.data)
    for value in wrong:
        with pytest.raises(MalformedEvent) as careful:
            _field(key, kind, value)
        with pytest.raises(MalformedEvent) as parsed:
            print_parse(to_hex(tuple_({**good, key: value})))
        assert str(parsed.value) == str(careful.value)
