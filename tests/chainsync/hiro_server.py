"""A fake Hiro Stacks API on loopback, backed by an in-memory chain that tests drive.

It speaks the routes and shapes of /work/shared/chain/HIRO_API.md (test_client.py checks them
against tests/data/hiro_samples). Everything the API derives (logs and cursors, tx lookups in
v1's order, principal histories, read-only results) is computed from the model on each request,
so mining, forks and mempool moves show up as the real API would show them.

    chain = hiro.chain
    created = events.project_created(project_id=1, client=CLIENT, freelancer=FREELANCER,
                                     milestones=[10 * STX])
    create = chain.call("create-project-stx", sender=CLIENT,
                        args=[principal(FREELANCER), uint(10 * STX), uint(0), uint(0), uint(0)],
                        transfers=[stx(CLIENT, chain.contract_id, 10 * STX)],
                        prints=[created], result=ok(uint(1)))
    hiro.escrow.complete_milestone(freelancer=FREELANCER, project_id=1, milestone=1)  # all in one
    chain.fork(1, [])                   # orphan the last block; its tx goes back to the mempool
    hiro.inject("contract_logs", Fault.throttle(retry_after=2), times=2)
    hiro.disable("tx_v3")               # the v3 route answers 404 from now on
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from chainsync.clarity import (
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
    bool_,
    clarity_decode,
    clarity_to_python,
    err,
    none,
    ok,
    principal,
    some,
    string_ascii,
    to_hex,
    tuple_,
    uint,
)

ESCROW_CONTRACT = "STVNRH0FC9XJP8J18C92J09MNBS2BS2TW6RCAQ87.escrow-contract-v1"
DEPLOYER = "STVNRH0FC9XJP8J18C92J09MNBS2BS2TW6RCAQ87"
CLIENT = "ST3EZ4N7VQ08N9S4K0RN7YJEM08PM3VEHG3QG2915"
FREELANCER = "ST35RSHR1S4PP16W7600BCTE51WX76BF37VS51FQQ"
SBTC_TOKEN = "ST1F7QA2MDF17S807EPA36TSS8AMEFY4KA9TVGWXT.sbtc-token"
STX = 1_000_000  # micro-STX
TESTNET_NETWORK_ID = 2147483648
NAKAMOTO_MICROBLOCK_SEQUENCE = 2147483647
DEFAULT_FEE_RATE = 1000  # bps
SERVER_VERSION = "stacks-blockchain-api v9.0.2 (master:759c4a58)"
NODE_VERSION = "stacks-node 3.3.0.0.1 (release build, linux [x86_64])"

# --- Clarity display text ------------------------------------------------------------------


def clarity_repr(value: ClarityValue) -> str:
    """The API's `repr` (display only; close enough to the node's for a fake)."""
    match value:
        case UInt(n):
            return f"u{n}"
        case Int(n):
            return str(n)
        case Bool(flag):
            return "true" if flag else "false"
        case Buffer(raw):
            return "0x" + raw.hex()
        case StandardPrincipal() | ContractPrincipal():
            return "'" + value.address
        case OptionalNone():
            return "none"
        case OptionalSome(inner) | ResponseOk(inner) | ResponseErr(inner):
            word = {OptionalSome: "some", ResponseOk: "ok", ResponseErr: "err"}[type(value)]
            return f"({word} {clarity_repr(inner)})"
        case List(items):
            return "(list" + "".join(" " + clarity_repr(item) for item in items) + ")"
        case Tuple(data):
            fields = " ".join(f"({key} {clarity_repr(data[key])})" for key in sorted(data))
            return f"(tuple {fields})"
        case StringAscii(text):
            return json.dumps(text)
        case StringUtf8(text):
            return "u" + json.dumps(text)
    raise TypeError(f"not a Clarity value: {value!r}")


def clarity_json(value: ClarityValue) -> dict[str, str]:
    return {"hex": to_hex(value), "repr": clarity_repr(value)}


# --- chain model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Print:
    """A `print` event; `contract_id` None means the chain's escrow contract."""

    value: Tuple
    contract_id: str | None = None


@dataclass(frozen=True)
class StxTransfer:
    sender: str
    recipient: str
    amount: int
    memo: str | None = None


@dataclass(frozen=True)
class FtTransfer:
    asset_id: str  # "<contract id>::<token name>"
    sender: str
    recipient: str
    amount: int


Event = Print | StxTransfer | FtTransfer


def stx(sender: str, recipient: str, amount: int) -> StxTransfer:
    return StxTransfer(sender, recipient, amount)


def stx_sent_equal_to(address: str, amount: int) -> dict[str, Any]:
    """A post condition in the API's JSON shape."""
    return {
        "type": "stx",
        "condition_code": "sent_equal_to",
        "amount": str(amount),
        "principal": {"type_id": "principal_standard", "address": address},
    }


@dataclass(eq=False)
class Tx:
    tx_id: str
    sender: str
    nonce: int
    contract_id: str
    function_name: str | None  # None for the contract deploy
    args: tuple[ClarityValue, ...]
    status: str
    result: ClarityValue
    events: tuple[Event, ...]
    fee: int = 3000
    receipt_time: int = 0
    post_conditions: tuple[dict[str, Any], ...] = ()

    @property
    def tx_type(self) -> str:
        return "smart_contract" if self.function_name is None else "contract_call"


@dataclass(eq=False)
class Block:
    height: int
    hash: str
    index_hash: str
    parent_hash: str
    parent_index_hash: str
    burn_height: int
    time: int
    burn_time: int
    tenure_height: int
    txs: list[Tx]
    canonical: bool = True

    @property
    def burn_hash(self) -> str:
        return _hash("burn", self.burn_height)


@dataclass
class MempoolEntry:
    tx: Tx
    status: str  # pending or dropped_*
    receipt_block_height: int


@dataclass(frozen=True)
class LogRow:
    key: tuple[int, int, int, int]  # height, microblock sequence, tx index, event index
    block: Block
    tx: Tx
    event_index: int
    print: Print

    @property
    def cursor(self) -> str:
        return ":".join(map(str, self.key))


def _hash(*parts: object) -> str:
    return "0x" + hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


class Chain:
    """Canonical blocks, orphaned blocks and a mempool. All methods are thread-safe.

    Build txs with `tx()` (or the `call()` shortcut, which also mines them), mine with `mine()`,
    advance with `advance()`, reorganise with `fork()`, move txs with `submit()` and `drop()`.
    """

    def __init__(
        self,
        *,
        contract_id: str = ESCROW_CONTRACT,
        start_height: int = 3712000,
        start_burn_height: int = 152300,
        start_time: int = 1777880000,
        network_id: int = TESTNET_NETWORK_ID,
    ) -> None:
        self.lock = threading.RLock()
        self.contract_id = contract_id
        self.deployer = contract_id.partition(".")[0]
        self.network_id = network_id
        self.start_time = start_time
        self.blocks: list[Block] = []
        self.orphans: list[Block] = []
        self.mempool: dict[str, MempoolEntry] = {}
        self.read_only: dict[str, Callable[[EscrowState, list[ClarityValue]], ClarityValue]] = {}
        self._serial = 0
        self._nonces: Counter[str] = Counter()
        self._genesis(start_height, start_burn_height)

    # --- building ---

    def tx(
        self,
        function: str,
        *,
        sender: str,
        args: Sequence[ClarityValue] = (),
        prints: Sequence[Print] = (),
        transfers: Sequence[StxTransfer | FtTransfer] = (),
        events: Sequence[Event] | None = None,
        result: ClarityValue | None = None,
        error: int | None = None,
        status: str | None = None,
        contract_id: str | None = None,
        fee: int = 3000,
        post_conditions: Sequence[dict[str, Any]] = (),
    ) -> Tx:
        """A contract call, not yet mined. Events are `transfers` then `prints` unless `events`
        gives the order. `error=106` makes an aborted call returning `(err u106)`; aborted calls
        carry no events, as on the real chain."""
        events = tuple(events if events is not None else (*transfers, *prints))
        status = status or ("abort_by_response" if error is not None else "success")
        if error is not None:
            result = err(uint(error))
        if status != "success" and events:
            raise ValueError("aborted txs have no events")
        with self.lock:
            tx = self._new_tx(
                function,
                sender,
                tuple(args),
                status,
                result or ok(bool_(True)),
                events,
                contract_id or self.contract_id,
                fee,
            )
        tx.post_conditions = tuple(post_conditions)
        return tx

    def mine(self, *txs: Tx, burn_blocks: int = 1, burn_height: int | None = None) -> Block:
        """Append a block holding `txs` (in that order) and take them out of the mempool."""
        with self.lock:
            burn = burn_height if burn_height is not None else self.tip.burn_height + burn_blocks
            if burn < self.tip.burn_height:
                raise ValueError("burn height cannot go backwards")
            for tx in txs:
                if self._canonical_block_of(tx.tx_id) is not None:
                    raise ValueError(f"{tx.tx_id} is already mined")
            block = self._append_block(list(txs), burn)
            for tx in txs:
                self.mempool.pop(tx.tx_id, None)
            return block

    def call(self, function: str, *, sender: str, burn_blocks: int = 1, **tx_args: Any) -> Tx:
        """`tx()` then `mine()` it alone in a new block; returns the tx."""
        tx = self.tx(function, sender=sender, **tx_args)
        self.mine(tx, burn_blocks=burn_blocks)
        return tx

    def advance(self, blocks: int = 1, *, burn_blocks: int = 1) -> Block:
        """Mine empty blocks; returns the new tip."""
        with self.lock:
            for _ in range(blocks):
                self.mine(burn_blocks=burn_blocks)
            return self.tip

    def fork(self, depth: int, *replacement: Sequence[Tx]) -> list[Block]:
        """Orphan the last `depth` blocks and mine `replacement` blocks (lists of txs) instead.

        With no replacement the same txs are mined again in as many blocks, with new hashes.
        Orphaned txs not mined again go back to the mempool as `pending`.
        """
        with self.lock:
            if not 0 < depth < len(self.blocks):
                raise ValueError("fork depth must be between 1 and the chain length - 1")
            old = self.blocks[-depth:]
            del self.blocks[-depth:]
            for block in old:
                block.canonical = False
            self.orphans.extend(old)
            layout = replacement or tuple(list(block.txs) for block in old)
            new = [self.mine(*txs) for txs in layout]
            self._return_to_mempool(tx for block in old for tx in block.txs)
            return new

    def submit(self, tx: Tx) -> None:
        """Put a tx in the mempool (pending)."""
        with self.lock:
            self.mempool[tx.tx_id] = MempoolEntry(tx, "pending", self.tip.height)

    def drop(self, tx: Tx, status: str = "dropped_replace_by_fee") -> None:
        with self.lock:
            self.mempool[tx.tx_id].status = status

    # --- reading ---

    @property
    def tip(self) -> Block:
        with self.lock:
            return self.blocks[-1]

    def block_at(self, height: int) -> Block | None:
        with self.lock:
            index = height - self.blocks[0].height
            return self.blocks[index] if 0 <= index < len(self.blocks) else None

    def find_block(self, ref: str) -> Block | None:
        """A canonical block by "latest", height, hash or index hash (0x optional)."""
        with self.lock:
            if ref == "latest":
                return self.tip
            if ref.isdigit():
                return self.block_at(int(ref))
            wanted = "0x" + ref.lower().removeprefix("0x")
            return next((b for b in self.blocks if wanted in (b.hash, b.index_hash)), None)

    def logs(self, contract_id: str) -> list[LogRow]:
        """Canonical print events of a contract, newest first."""
        with self.lock:
            rows = [
                LogRow((block.height, NAKAMOTO_MICROBLOCK_SEQUENCE, i, e), block, tx, e, event)
                for block in self.blocks
                for i, tx in enumerate(block.txs)
                for e, event in enumerate(tx.events)
                if isinstance(event, Print) and self._print_contract(event) == contract_id
            ]
            return rows[::-1]

    def locate(self, tx_id: str) -> tuple[Tx, Block | None, MempoolEntry | None] | None:
        """v1's lookup order: canonical mined copy, mempool, then a non-canonical copy."""
        with self.lock:
            block = self._canonical_block_of(tx_id)
            if block is not None:
                return self._tx_in(block, tx_id), block, None
            if tx_id in self.mempool:
                entry = self.mempool[tx_id]
                return entry.tx, None, entry
            orphan = next((b for b in reversed(self.orphans) if self._tx_in(b, tx_id)), None)
            return (self._tx_in(orphan, tx_id), orphan, None) if orphan else None

    def principal_rows(self, address: str) -> list[tuple[tuple[int, int, int], Block, Tx]]:
        """Canonical txs touching a principal (sender, callee, deployed or transfer party)."""
        with self.lock:
            rows = [
                ((block.height, NAKAMOTO_MICROBLOCK_SEQUENCE, i), block, tx)
                for block in self.blocks
                for i, tx in enumerate(block.txs)
                if address in _parties(tx)
            ]
            return rows[::-1]

    def state(self, at: Block | None = None) -> EscrowState:
        """The escrow contract's state after `at` (default: the tip), replayed from prints."""
        with self.lock:
            state = EscrowState(self.contract_id)
            for block in self._ancestry(at or self.tip):
                for tx in block.txs:
                    state.apply(tx, block)
            return state

    def block_by_index_hash(self, index_hash: str) -> Block | None:
        with self.lock:
            return next((b for b in self.blocks + self.orphans if b.index_hash == index_hash), None)

    # --- internals ---

    def _genesis(self, height: int, burn_height: int) -> None:
        self.blocks.append(self._make_block(height, burn_height, [], parent=None))
        deploy = self._new_tx(
            None, self.deployer, (), "success", ok(bool_(True)), (), self.contract_id, 50_000
        )
        self.mine(deploy, burn_blocks=0)

    def _new_tx(
        self,
        function: str | None,
        sender: str,
        args: tuple[ClarityValue, ...],
        status: str,
        result: ClarityValue,
        events: tuple[Event, ...],
        contract_id: str,
        fee: int,
    ) -> Tx:
        self._serial += 1
        nonce = self._nonces[sender]
        self._nonces[sender] += 1
        return Tx(
            _hash("tx", self._serial),
            sender,
            nonce,
            contract_id,
            function,
            args,
            status,
            result,
            events,
            fee,
            self.start_time + self._serial,
        )

    def _append_block(self, txs: list[Tx], burn_height: int) -> Block:
        block = self._make_block(self.tip.height + 1, burn_height, txs, parent=self.tip)
        self.blocks.append(block)
        return block

    def _make_block(self, height: int, burn: int, txs: list[Tx], parent: Block | None) -> Block:
        self._serial += 1
        tenure = parent.tenure_height + (burn != parent.burn_height) if parent else 101870
        return Block(
            height=height,
            hash=_hash("block", height, self._serial),
            index_hash=_hash("index", height, self._serial),
            parent_hash=parent.hash if parent else _hash("genesis-parent"),
            parent_index_hash=parent.index_hash if parent else _hash("genesis-parent-index"),
            burn_height=burn,
            time=self.start_time + 5 * self._serial,
            burn_time=self.start_time + 600 * (burn - self.blocks[0].burn_height if parent else 0),
            tenure_height=tenure,
            txs=txs,
        )

    def _return_to_mempool(self, txs: Iterator[Tx]) -> None:
        for tx in txs:
            if self._canonical_block_of(tx.tx_id) is None and tx.tx_id not in self.mempool:
                self.submit(tx)

    def _canonical_block_of(self, tx_id: str) -> Block | None:
        return next((b for b in self.blocks if self._tx_in(b, tx_id)), None)

    @staticmethod
    def _tx_in(block: Block, tx_id: str) -> Tx | None:
        return next((tx for tx in block.txs if tx.tx_id == tx_id), None)

    def _print_contract(self, event: Print) -> str:
        return event.contract_id or self.contract_id

    def _ancestry(self, block: Block) -> list[Block]:
        by_index = {b.index_hash: b for b in self.blocks + self.orphans}
        chain = [block]
        while chain[-1].parent_index_hash in by_index:
            chain.append(by_index[chain[-1].parent_index_hash])
        return chain[::-1]


def _parties(tx: Tx) -> set[str]:
    parties = {tx.sender, tx.contract_id}
    for event in tx.events:
        if isinstance(event, StxTransfer | FtTransfer):
            parties |= {event.sender, event.recipient}
    return parties


# --- escrow print builders (CONTRACT.md "Print events") ------------------------------------


def _print(event: str, fields: dict[str, ClarityValue]) -> Print:
    return Print(tuple_({"event": string_ascii(event), **fields}))


def _token(token: str) -> StringAscii:
    if token not in ("STX", "sBTC"):
        raise ValueError(f"token is STX or sBTC, not {token!r}")
    return string_ascii(token)


def milestone_fees(milestones: Sequence[int], fee_rate: int = DEFAULT_FEE_RATE) -> list[int]:
    """The contract's per-slot fee: floor(m * rate / 10000)."""
    return [m * fee_rate // 10_000 for m in milestones]


class EscrowPrints:
    """Builders for the escrow contract's print tuples, with the exact field names and types.

    Principals are addresses, amounts ints in base units, `token` "STX" or "sBTC".
    """

    @staticmethod
    def project_created(
        *,
        project_id: int,
        client: str,
        freelancer: str,
        milestones: Sequence[int] = (),
        fee_rate: int = DEFAULT_FEE_RATE,
        gross_amount: int | None = None,
        fee_collected: int | None = None,
        net_escrow: int | None = None,
        num_milestones: int | None = None,
        token: str = "STX",
    ) -> Print:
        """Amounts default to what the contract computes from the gross `milestones` slots."""
        gross = sum(milestones) if gross_amount is None else gross_amount
        fee = sum(milestone_fees(milestones, fee_rate)) if fee_collected is None else fee_collected
        count = sum(1 for m in milestones if m) if num_milestones is None else num_milestones
        return _print(
            "project-created",
            {
                "project-id": uint(project_id),
                "client": principal(client),
                "freelancer": principal(freelancer),
                "gross-amount": uint(gross),
                "net-escrow": uint(gross - fee if net_escrow is None else net_escrow),
                "fee-collected": uint(fee),
                "num-milestones": uint(count),
                "token": _token(token),
            },
        )

    @staticmethod
    def milestone_completed(*, project_id: int, milestone: int, freelancer: str) -> Print:
        return _print(
            "milestone-completed",
            {
                "project-id": uint(project_id),
                "milestone": uint(milestone),
                "freelancer": principal(freelancer),
            },
        )

    @staticmethod
    def dispute_filed(*, project_id: int, milestone: int, filed_by: str) -> Print:
        return _print(
            "dispute-filed",
            {
                "project-id": uint(project_id),
                "milestone": uint(milestone),
                "filed-by": principal(filed_by),
            },
        )

    @staticmethod
    def milestone_released(
        *, project_id: int, milestone: int, amount: int, token: str = "STX"
    ) -> Print:
        return _print(
            "milestone-released",
            {
                "project-id": uint(project_id),
                "milestone": uint(milestone),
                "amount": uint(amount),
                "token": _token(token),
            },
        )

    @staticmethod
    def full_refund(*, project_id: int, amount: int, client: str, token: str = "STX") -> Print:
        return _print(
            "full-refund",
            {
                "project-id": uint(project_id),
                "amount": uint(amount),
                "client": principal(client),
                "token": _token(token),
            },
        )

    @staticmethod
    def emergency_refund(
        *,
        project_id: int,
        refund_amount: int,
        released_amount: int,
        client: str,
        token: str = "STX",
    ) -> Print:
        return _print(
            "emergency-refund",
            {
                "project-id": uint(project_id),
                "refund-amount": uint(refund_amount),
                "released-amount": uint(released_amount),
                "client": principal(client),
                "token": _token(token),
            },
        )

    @staticmethod
    def dispute_resolved(
        *,
        project_id: int,
        milestone: int,
        released_to_freelancer: bool,
        amount: int,
        token: str = "STX",
    ) -> Print:
        return _print(
            "dispute-resolved",
            {
                "project-id": uint(project_id),
                "milestone": uint(milestone),
                "released-to-freelancer": bool_(released_to_freelancer),
                "amount": uint(amount),
                "token": _token(token),
            },
        )

    @staticmethod
    def force_released(
        *, project_id: int, milestone: int, amount: int, token: str = "STX"
    ) -> Print:
        return _print(
            "force-released",
            {
                "project-id": uint(project_id),
                "milestone": uint(milestone),
                "amount": uint(amount),
                "token": _token(token),
            },
        )

    @staticmethod
    def force_refund(
        *, project_id: int, refund_amount: int, client: str, token: str = "STX"
    ) -> Print:
        return _print(
            "force-refund",
            {
                "project-id": uint(project_id),
                "refund-amount": uint(refund_amount),
                "client": principal(client),
                "token": _token(token),
            },
        )

    @staticmethod
    def milestone_reset(*, project_id: int, milestone: int) -> Print:
        return _print(
            "milestone-reset", {"project-id": uint(project_id), "milestone": uint(milestone)}
        )

    @staticmethod
    def sbtc_recovered(*, amount: int, recipient: str) -> Print:
        return _print("sbtc-recovered", {"amount": uint(amount), "recipient": principal(recipient)})

    @staticmethod
    def treasury_updated(*, new_treasury: str) -> Print:
        return _print("treasury-updated", {"new-treasury": principal(new_treasury)})

    @staticmethod
    def ownership_proposed(*, proposed_owner: str) -> Print:
        return _print("ownership-proposed", {"proposed-owner": principal(proposed_owner)})

    @staticmethod
    def ownership_transferred(*, new_owner: str) -> Print:
        return _print("ownership-transferred", {"new-owner": principal(new_owner)})

    @staticmethod
    def contract_paused_updated(*, paused: bool) -> Print:
        return _print("contract-paused-updated", {"paused": bool_(paused)})

    @staticmethod
    def fee_rate_updated(*, new_rate: int) -> Print:
        return _print("fee-rate-updated", {"new-rate": uint(new_rate)})

    @staticmethod
    def sbtc_contract_updated(*, contract: str) -> Print:
        return _print("sbtc-contract-updated", {"contract": principal(contract)})


events = EscrowPrints()


# --- escrow state (for call-read), replayed from prints ------------------------------------


@dataclass
class EscrowState:
    """Maps of Clarity tuple fields, as the getters return them."""

    contract_id: str
    projects: dict[int, dict[str, ClarityValue]] = field(default_factory=dict)
    milestones: dict[tuple[int, int], dict[str, ClarityValue]] = field(default_factory=dict)
    disputes: dict[tuple[int, int], dict[str, ClarityValue]] = field(default_factory=dict)
    fee_rate: int = DEFAULT_FEE_RATE
    dispute_count: int = 0

    def apply(self, tx: Tx, block: Block) -> None:
        if tx.status != "success":
            return
        for event in tx.events:
            if (
                isinstance(event, Print)
                and (event.contract_id or self.contract_id) == self.contract_id
            ):
                fields = clarity_to_python(event.value)
                handler = getattr(self, "_on_" + str(fields.get("event")).replace("-", "_"), None)
                if handler is not None:
                    handler(fields, tx, block.burn_height)

    def _on_project_created(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        pid = f["project-id"]
        self.projects[pid] = {
            "client": principal(f["client"]),
            "created-at": uint(burn),
            "fee-paid": uint(f["fee-collected"]),
            "freelancer": principal(f["freelancer"]),
            "num-milestones": uint(f["num-milestones"]),
            "refunded": bool_(False),
            "token-type": uint(0 if f["token"] == "STX" else 1),
            "total-amount": uint(f["net-escrow"]),
        }
        slots = [a.value if isinstance(a, UInt) else 0 for a in tx.args[1:5]]
        for slot, (gross, fee) in enumerate(
            zip(slots, milestone_fees(slots, self.fee_rate), strict=True), 1
        ):
            if gross:
                self.milestones[(pid, slot)] = {
                    "amount": uint(gross - fee),
                    "complete": bool_(False),
                    "completed-at": uint(0),
                    "released": bool_(False),
                }

    def _on_milestone_completed(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        self._milestone(f).update({"complete": bool_(True), "completed-at": uint(burn)})

    def _on_dispute_filed(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        self.dispute_count += 1
        self.disputes[(f["project-id"], f["milestone"])] = {
            "filed-at": uint(burn),
            "filed-by": principal(f["filed-by"]),
            "resolved-at": uint(0),
            "resolved-in-favor-of": none(),
            "status": uint(1),
        }

    def _on_milestone_released(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        self._milestone(f)["released"] = bool_(True)
        self._close_dispute(f["project-id"], f["milestone"], burn, to_freelancer=True)

    _on_force_released = _on_milestone_released

    def _on_dispute_resolved(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        self._milestone(f)["released"] = bool_(True)
        to_freelancer = f["released-to-freelancer"]
        self._close_dispute(f["project-id"], f["milestone"], burn, to_freelancer=to_freelancer)

    def _on_full_refund(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        self.projects.get(f["project-id"], {})["refunded"] = bool_(True)

    _on_emergency_refund = _on_full_refund

    def _on_force_refund(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        pid = f["project-id"]
        self.projects.get(pid, {})["refunded"] = bool_(True)
        for project_id, slot in list(self.disputes):
            if project_id == pid:
                self._close_dispute(pid, slot, burn, to_freelancer=False)

    def _on_milestone_reset(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        self._milestone(f).update({"complete": bool_(False), "completed-at": uint(0)})
        self.disputes.pop((f["project-id"], f["milestone"]), None)

    def _on_fee_rate_updated(self, f: dict[str, Any], tx: Tx, burn: int) -> None:
        self.fee_rate = f["new-rate"]

    def _milestone(self, f: dict[str, Any]) -> dict[str, ClarityValue]:
        # Tolerant: tests may print events for projects they never created.
        return self.milestones.get((f["project-id"], f["milestone"]), {})

    def _close_dispute(self, pid: int, slot: int, burn: int, *, to_freelancer: bool) -> None:
        dispute = self.disputes.get((pid, slot))
        if dispute is None or dispute["status"] != uint(1) or pid not in self.projects:
            return
        party = self.projects[pid]["freelancer" if to_freelancer else "client"]
        dispute.update(
            {"status": uint(2), "resolved-at": uint(burn), "resolved-in-favor-of": some(party)}
        )


def _optional_tuple(fields: dict[str, ClarityValue] | None) -> ClarityValue:
    return some(tuple_(fields)) if fields else none()


def _uints(args: list[ClarityValue]) -> list[int]:
    if not all(isinstance(arg, UInt) for arg in args):
        raise TypeError("expected uint arguments")
    return [arg.value for arg in args]  # type: ignore[union-attr]


# name -> (arity, evaluator)
READ_ONLY: dict[str, tuple[int, Callable[[EscrowState, list[int]], ClarityValue]]] = {
    "get-project": (1, lambda s, a: _optional_tuple(s.projects.get(a[0]))),
    "get-milestone": (2, lambda s, a: _optional_tuple(s.milestones.get((a[0], a[1])))),
    "get-dispute": (2, lambda s, a: _optional_tuple(s.disputes.get((a[0], a[1])))),
    "get-project-count": (0, lambda s, a: uint(len(s.projects))),
    "get-dispute-count": (0, lambda s, a: uint(s.dispute_count)),
    "get-fee-rate": (0, lambda s, a: uint(s.fee_rate)),
}

_PM = (("project-id", "uint"), ("milestone-num", "uint"))
_P = (("project-id", "uint"),)
_TOKEN = (("sbtc-token", "trait_reference"),)
_CREATE = (("freelancer", "principal"), *((f"m{i}", "uint") for i in range(1, 5)))
SIGNATURES: dict[str, tuple[tuple[str, str], ...]] = {
    "create-project-stx": _CREATE,
    "create-project-sbtc": _CREATE + _TOKEN,
    "complete-milestone": _PM,
    "file-dispute": _PM,
    "release-milestone-stx": _PM,
    "release-milestone-sbtc": _PM + _TOKEN,
    "request-full-refund-stx": _P,
    "request-full-refund-sbtc": _P + _TOKEN,
    "emergency-refund-stx": _P,
    "emergency-refund-sbtc": _P + _TOKEN,
    "admin-resolve-dispute-stx": (*_PM, ("release-to-freelancer", "bool")),
    "admin-resolve-dispute-sbtc": (*_PM, ("release-to-freelancer", "bool"), *_TOKEN),
    "admin-force-release-stx": _PM,
    "admin-force-release-sbtc": _PM + _TOKEN,
    "admin-force-refund-stx": _P,
    "admin-force-refund-sbtc": _P + _TOKEN,
    "admin-recover-sbtc": (("amount", "uint"), ("recipient", "principal"), *_TOKEN),
    "admin-reset-milestone": _PM,
    "set-treasury": (("new", "principal"),),
    "propose-ownership": (("new-owner", "principal"),),
    "accept-ownership": (),
    "set-paused": (("paused", "bool"),),
    "set-fee-rate": (("new-rate", "uint"),),
    "set-sbtc-contract": (("contract", "principal"),),
    "get-balance-sbtc": _TOKEN,
}


# --- escrow scenarios ----------------------------------------------------------------------


class Escrow:
    """Happy-path escrow calls with matching args, transfers, prints and results.

    Each returns the tx, mined alone in a new block unless `mine=False`. Amounts come from the
    chain's replayed state, so call them in chain order.
    """

    def __init__(self, chain: Chain) -> None:
        self.chain = chain

    def create_project_stx(
        self,
        *,
        client: str,
        freelancer: str,
        milestones: Sequence[int],
        project_id: int | None = None,
        mine: bool = True,
    ) -> Tx:
        slots = [*milestones, 0, 0, 0, 0][:4]
        state = self.chain.state()
        pid = project_id or len(state.projects) + 1
        fee = sum(milestone_fees(slots, state.fee_rate))
        contract = self.chain.contract_id
        return self._done(
            mine,
            self.chain.tx(
                "create-project-stx",
                sender=client,
                args=[principal(freelancer), *map(uint, slots)],
                transfers=[
                    stx(client, contract, sum(slots)),
                    stx(contract, self.chain.deployer, fee),
                ],
                post_conditions=[stx_sent_equal_to(client, sum(slots))],
                prints=[
                    events.project_created(
                        project_id=pid,
                        client=client,
                        freelancer=freelancer,
                        milestones=slots,
                        fee_rate=state.fee_rate,
                    )
                ],
                result=ok(uint(pid)),
            ),
        )

    def complete_milestone(
        self, *, freelancer: str, project_id: int, milestone: int, mine: bool = True
    ) -> Tx:
        return self._done(
            mine,
            self.chain.tx(
                "complete-milestone",
                sender=freelancer,
                args=[uint(project_id), uint(milestone)],
                prints=[
                    events.milestone_completed(
                        project_id=project_id, milestone=milestone, freelancer=freelancer
                    )
                ],
            ),
        )

    def file_dispute(
        self, *, sender: str, project_id: int, milestone: int, mine: bool = True
    ) -> Tx:
        return self._done(
            mine,
            self.chain.tx(
                "file-dispute",
                sender=sender,
                args=[uint(project_id), uint(milestone)],
                prints=[
                    events.dispute_filed(
                        project_id=project_id, milestone=milestone, filed_by=sender
                    )
                ],
            ),
        )

    def release_milestone_stx(
        self, *, client: str, project_id: int, milestone: int, mine: bool = True
    ) -> Tx:
        amount = self._amount(project_id, milestone)
        freelancer = self._party(project_id, "freelancer")
        return self._done(
            mine,
            self.chain.tx(
                "release-milestone-stx",
                sender=client,
                args=[uint(project_id), uint(milestone)],
                transfers=[stx(self.chain.contract_id, freelancer, amount)],
                prints=[
                    events.milestone_released(
                        project_id=project_id, milestone=milestone, amount=amount
                    )
                ],
                result=ok(uint(amount)),
            ),
        )

    def resolve_dispute_stx(
        self, *, project_id: int, milestone: int, to_freelancer: bool, mine: bool = True
    ) -> Tx:
        amount = self._amount(project_id, milestone)
        payee = self._party(project_id, "freelancer" if to_freelancer else "client")
        return self._done(
            mine,
            self.chain.tx(
                "admin-resolve-dispute-stx",
                sender=self.chain.deployer,
                args=[uint(project_id), uint(milestone), bool_(to_freelancer)],
                transfers=[stx(self.chain.contract_id, payee, amount)],
                prints=[
                    events.dispute_resolved(
                        project_id=project_id,
                        milestone=milestone,
                        released_to_freelancer=to_freelancer,
                        amount=amount,
                    )
                ],
                result=ok(uint(amount)),
            ),
        )

    def request_full_refund_stx(self, *, client: str, project_id: int, mine: bool = True) -> Tx:
        total = self.chain.state().projects[project_id]["total-amount"]
        assert isinstance(total, UInt)
        amount = total.value
        return self._done(
            mine,
            self.chain.tx(
                "request-full-refund-stx",
                sender=client,
                args=[uint(project_id)],
                transfers=[stx(self.chain.contract_id, client, amount)],
                prints=[events.full_refund(project_id=project_id, amount=amount, client=client)],
                result=ok(uint(amount)),
            ),
        )

    def _amount(self, project_id: int, milestone: int) -> int:
        amount = self.chain.state().milestones[(project_id, milestone)]["amount"]
        assert isinstance(amount, UInt)
        return amount.value

    def _party(self, project_id: int, role: str) -> str:
        party = self.chain.state().projects[project_id][role]
        assert isinstance(party, StandardPrincipal | ContractPrincipal)
        return party.address

    def _done(self, mine: bool, tx: Tx) -> Tx:
        if mine:
            self.chain.mine(tx)
        return tx


# --- JSON shapes ---------------------------------------------------------------------------


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _event_v1(tx: Tx, index: int, event: Event, contract_id: str) -> dict[str, Any]:
    head = {"event_index": index, "tx_id": tx.tx_id}
    match event:
        case Print(value):
            return head | {
                "event_type": "smart_contract_log",
                "contract_log": {
                    "contract_id": event.contract_id or contract_id,
                    "topic": "print",
                    "value": clarity_json(value),
                },
            }
        case StxTransfer(sender, recipient, amount, memo):
            asset = {
                "asset_event_type": "transfer",
                "sender": sender,
                "recipient": recipient,
                "amount": str(amount),
            } | ({"memo": memo} if memo else {})
            return head | {"event_type": "stx_asset", "asset": asset}
        case FtTransfer(asset_id, sender, recipient, amount):
            return head | {
                "event_type": "fungible_token_asset",
                "asset": {
                    "asset_event_type": "transfer",
                    "asset_id": asset_id,
                    "sender": sender,
                    "recipient": recipient,
                    "amount": str(amount),
                },
            }
    raise TypeError(event)


def _log_item(row: LogRow, contract_id: str) -> dict[str, Any]:
    item = _event_v1(row.tx, row.event_index, row.print, contract_id)
    return {key: item[key] for key in ("event_index", "event_type", "tx_id", "contract_log")}


def _function_args_v1(tx: Tx) -> list[dict[str, str]]:
    names = SIGNATURES.get(tx.function_name or "", ())
    return [
        clarity_json(arg)
        | {
            "name": names[i][0] if i < len(names) else f"arg{i}",
            "type": names[i][1] if i < len(names) else "unknown",
        }
        for i, arg in enumerate(tx.args)
    ]


def _signature(function: str) -> str:
    params = " ".join(f"({name} {kind})" for name, kind in SIGNATURES.get(function, ()))
    return f"(define-public ({function}{' ' if params else ''}{params}))"


def _payload_v1(tx: Tx, with_args: bool) -> dict[str, Any]:
    if tx.function_name is None:
        return {
            "tx_type": "smart_contract",
            "smart_contract": {
                "clarity_version": 4,
                "contract_id": tx.contract_id,
                "source_code": ";; escrow",
            },
        }
    call = {
        "contract_id": tx.contract_id,
        "function_name": tx.function_name,
        "function_signature": _signature(tx.function_name),
    }
    if with_args:
        call["function_args"] = _function_args_v1(tx)
    return {"tx_type": "contract_call", "contract_call": call}


def _common_v1(tx: Tx) -> dict[str, Any]:
    return {
        "tx_id": tx.tx_id,
        "nonce": tx.nonce,
        "fee_rate": str(tx.fee),
        "sender_address": tx.sender,
        "sponsored": False,
        "post_condition_mode": "allow",
        "post_conditions": list(tx.post_conditions),
        "anchor_mode": "any",
    }


def tx_v1_json(
    tx: Tx,
    block: Block,
    contract_id: str,
    *,
    event_limit: int = 20,
    event_offset: int = 0,
    with_args: bool = True,
) -> dict[str, Any]:
    all_events = [_event_v1(tx, i, e, contract_id) for i, e in enumerate(tx.events)]
    return (
        _common_v1(tx)
        | {
            "block_hash": block.hash,
            "block_height": block.height,
            "block_time": block.time,
            "block_time_iso": _iso(block.time),
            "burn_block_time": block.burn_time,
            "burn_block_height": block.burn_height,
            "burn_block_time_iso": _iso(block.burn_time),
            "parent_burn_block_time": block.burn_time,
            "parent_burn_block_time_iso": _iso(block.burn_time),
            "canonical": block.canonical,
            "tx_index": block.txs.index(tx),
            "tx_status": tx.status,
            "tx_result": clarity_json(tx.result),
            "event_count": len(all_events),
            "parent_block_hash": block.parent_hash,
            "is_unanchored": False,
            "microblock_hash": "0x",
            "microblock_sequence": NAKAMOTO_MICROBLOCK_SEQUENCE,
            "microblock_canonical": True,
            **_costs("execution_cost_"),
            "vm_error": None,
            "events": all_events[event_offset : event_offset + event_limit],
        }
        | _payload_v1(tx, with_args)
    )


def tx_v1_mempool_json(entry: MempoolEntry) -> dict[str, Any]:
    tx = entry.tx
    return (
        _common_v1(tx)
        | {
            "tx_status": entry.status,
            "receipt_time": tx.receipt_time,
            "receipt_time_iso": _iso(tx.receipt_time),
        }
        | _payload_v1(tx, True)
    )


def _costs(prefix: str) -> dict[str, int]:
    return {
        f"{prefix}{name}": 1
        for name in ("read_count", "read_length", "runtime", "write_count", "write_length")
    }


def _call_v3(tx: Tx, include: set[str]) -> dict[str, Any]:
    if tx.function_name is None:
        return {"smart_contract": {"contract_id": tx.contract_id, "clarity_version": 4}}
    call: dict[str, Any] = {"contract_id": tx.contract_id, "function_name": tx.function_name}
    if "function_args" in include:
        call["function_args"] = [clarity_json(arg) for arg in tx.args]
    return {"contract_call": call}


def _head_v3(tx: Tx) -> dict[str, Any]:
    return {
        "tx_id": tx.tx_id,
        "sender": {"address": tx.sender, "nonce": tx.nonce},
        "sponsor": None,
        "fee_rate": str(tx.fee),
    }


def tx_v3_summary_json(tx: Tx, block: Block) -> dict[str, Any]:
    return (
        _head_v3(tx)
        | {
            "block": {
                "height": block.height,
                "hash": block.hash,
                "index_hash": block.index_hash,
                "time": block.time,
                "tx_index": block.txs.index(tx),
            },
            "bitcoin_block": {"height": block.burn_height, "time": block.burn_time},
            "status": tx.status,
            "type": tx.tx_type,
        }
        | _call_v3(tx, set())
    )


def tx_v3_json(tx: Tx, block: Block, include: set[str]) -> dict[str, Any]:
    data = (
        tx_v3_summary_json(tx, block)
        | _call_v3(tx, include)
        | {
            "parent_block": {"hash": block.parent_hash, "index_hash": block.parent_index_hash},
            "event_count": len(tx.events),
            "execution_cost": {key.removeprefix("x_"): v for key, v in _costs("x_").items()},
            "vm_error": None,
        }
    )
    return data | ({"result": clarity_json(tx.result)} if "result" in include else {})


def tx_v3_mempool_json(entry: MempoolEntry, include: set[str]) -> dict[str, Any]:
    return (
        _head_v3(entry.tx)
        | {"status": entry.status, "type": entry.tx.tx_type}
        | _call_v3(entry.tx, include)
        | {
            "receipt_time": entry.tx.receipt_time,
            "receipt_block_height": entry.receipt_block_height,
        }
    )


def block_json(block: Block) -> dict[str, Any]:
    return {
        "canonical": block.canonical,
        "height": block.height,
        "hash": block.hash,
        "block_time": block.time,
        "block_time_iso": _iso(block.time),
        "tenure_height": block.tenure_height,
        "index_block_hash": block.index_hash,
        "parent_block_hash": block.parent_hash,
        "parent_index_block_hash": block.parent_index_hash,
        "burn_block_time": block.burn_time,
        "burn_block_time_iso": _iso(block.burn_time),
        "burn_block_hash": block.burn_hash,
        "burn_block_height": block.burn_height,
        "miner_txid": _hash("miner", block.hash),
        "tx_count": len(block.txs),
        **_costs("execution_cost_"),
    }


def _balance_changes(tx: Tx, address: str) -> dict[str, Any]:
    transfers = [e for e in tx.events if isinstance(e, StxTransfer)]
    sent = sum(e.amount for e in transfers if e.sender == address)
    sent += tx.fee if tx.sender == address else 0
    received = sum(e.amount for e in transfers if e.recipient == address)
    touched = any(address in (e.sender, e.recipient) for e in transfers)
    ft = any(isinstance(e, FtTransfer) and address in (e.sender, e.recipient) for e in tx.events)
    return {
        "involvement": "sender" if tx.sender == address else "affected",
        "balance_changes": {
            "stx": {"sent": str(sent), "received": str(received), "net": str(received - sent)}
        },
        "affected_balances": {"stx": touched or tx.sender == address, "ft": ft, "nft": False},
    }


# --- the HTTP server -----------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    route: str | None  # the route name, None for a path no route matches
    params: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: Any  # parsed JSON, raw bytes if not JSON, None if empty


@dataclass(frozen=True)
class Fault:
    """What a route answers instead of the real thing. Build with the class methods."""

    status: int = 200
    body: Any = None
    raw: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    hang: float = 0.0
    drop: bool = False

    @classmethod
    def throttle(cls, retry_after: int | str | None = 1) -> Fault:
        headers = (("retry-after", str(retry_after)),) if retry_after is not None else ()
        body = {"error": "Too Many Requests", "message": "Rate limit exceeded"}
        return cls(429, body, headers=headers)

    @classmethod
    def error(cls, status: int = 500) -> Fault:
        return cls(status, {"error": "Internal Server Error", "message": "injected fault"})

    @classmethod
    def slow(cls, seconds: float = 2.0) -> Fault:
        """Answer normally after `seconds` (or at server stop): longer than a client timeout."""
        return cls(hang=seconds)

    @classmethod
    def malformed(cls) -> Fault:
        return cls(raw=b'{"limit": 20, "offset": 0, "results": [{"event_index": ')

    @classmethod
    def disconnect(cls) -> Fault:
        return cls(drop=True)

    @classmethod
    def respond(cls, status: int, body: Any) -> Fault:
        return cls(status, body)

    @classmethod
    def route_missing(cls) -> Fault:
        return cls(404, {"error": "Not Found", "message": "Route not found", "statusCode": 404})

    @classmethod
    def gone(cls) -> Fault:
        message = "This endpoint has been disabled. Use the v2/v3 endpoints instead."
        return cls(410, {"error": "Gone", "message": message})


class _BadRequest(Exception):
    pass


class _HttpError(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.body = status, {"error": error, "message": message}


_ROUTES: list[tuple[str, str, re.Pattern[str]]] = [
    (name, method, re.compile(pattern))
    for name, method, pattern in [
        ("status", "GET", r"/extended/?"),
        ("info", "GET", r"/v2/info"),
        ("contract_logs", "GET", r"/extended/v2/smart-contracts/(?P<contract_id>[^/]+)/logs"),
        ("contract_events", "GET", r"/extended/v1/contract/(?P<contract_id>[^/]+)/events"),
        ("tx_v1", "GET", r"/extended/v1/tx/(?P<tx_id>[^/]+)"),
        ("tx_v3", "GET", r"/extended/v3/transactions/(?P<tx_id>[^/]+)"),
        (
            "principal_transactions",
            "GET",
            r"/extended/v3/principals/(?P<principal>[^/]+)/transactions",
        ),
        ("block", "GET", r"/extended/v2/blocks/(?P<block>[^/]+)"),
        (
            "call_read",
            "POST",
            r"/v2/contracts/call-read/(?P<address>[^/]+)/(?P<contract>[^/]+)/(?P<function>[^/]+)",
        ),
    ]
]
DEPRECATED_ROUTES = {"contract_events", "tx_v1"}
ROUTE_NAMES = frozenset(name for name, _, _ in _ROUTES)
_TX_ID = re.compile(r"0x[0-9a-f]{64}")
_HEX64 = re.compile(r"(?:0x)?[0-9a-fA-F]{64}")
_LOG_CURSOR = re.compile(r"(\d+):(\d+):(\d+):(\d+)")
_TX_CURSOR = re.compile(r"(\d+):(\d+):(\d+)")


class HiroServer:
    """The fake API: `url`, the `chain` it serves, `requests` it received, faults to inject.

    Start/stop with `start()`/`stop()` or as a context manager (the `hiro` fixture does it).
    """

    def __init__(self, chain: Chain | None = None, *, rate_limit: int = 50) -> None:
        self.chain = chain or Chain()
        self.escrow = Escrow(self.chain)
        self.rate_limit = rate_limit
        self.requests: list[RecordedRequest] = []
        self.before_request: list[Callable[[RecordedRequest], None]] = []
        self._faults: dict[str, deque[list[Any]]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---

    def start(self) -> HiroServer:
        handler = type("Handler", (_Handler,), {"hiro": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> HiroServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    # --- driving ---

    def inject(self, route: str, fault: Fault, *, times: int | None = 1) -> None:
        """The next `times` requests to `route` (None = all from now on) get `fault`."""
        if route not in ROUTE_NAMES:
            raise ValueError(f"unknown route {route!r}; one of {sorted(ROUTE_NAMES)}")
        with self._lock:
            self._faults.setdefault(route, deque()).append([fault, times])

    def disable(self, route: str, *, status: int = 404) -> None:
        """From now on `route` answers like a missing route (404) or a disabled one (410)."""
        fault = Fault.route_missing() if status == 404 else Fault.gone()
        self.inject(route, fault, times=None)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def requests_to(self, route: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.route == route]

    def route_counts(self) -> Counter[str]:
        with self._lock:
            return Counter(r.route or r.path for r in self.requests)

    # --- serving (called on handler threads) ---

    def _serve(self, handler: _Handler) -> None:
        request, parts = self._record(handler)
        for hook in list(self.before_request):
            hook(request)
        fault = self._next_fault(request.route)
        if fault is not None and fault.hang:
            self._stopping.wait(fault.hang)
        if fault is not None and fault.drop:
            handler.close_connection = True
            return
        if fault is not None and not fault.hang:
            self._send_fault(handler, fault)
            return
        self._answer(handler, request, parts)

    def _record(self, handler: _Handler) -> tuple[RecordedRequest, dict[str, str]]:
        split = urlsplit(handler.path)
        route, parts = _match(handler.command, split.path)
        length = int(handler.headers.get("content-length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        request = RecordedRequest(
            handler.command,
            split.path,
            route,
            parse_qs(split.query, keep_blank_values=True),
            {k.lower(): v for k, v in handler.headers.items()},
            body,
        )
        with self._lock:
            self.requests.append(request)
        return request, parts

    def _next_fault(self, route: str | None) -> Fault | None:
        with self._lock:
            queue = self._faults.get(route or "")
            if not queue:
                return None
            entry = queue[0]
            if entry[1] is not None:
                entry[1] -= 1
                if entry[1] <= 0:
                    queue.popleft()
            return entry[0]

    def _answer(self, handler: _Handler, request: RecordedRequest, parts: dict[str, str]) -> None:
        if request.route is None:
            message = f"Route {request.method}:{request.path} not found"
            self._send(handler, 404, {"error": "Not Found", "message": message, "statusCode": 404})
            return
        try:
            with self.chain.lock:
                status, body, headers = getattr(self, "_" + request.route)(request, parts)
        except _BadRequest as exc:
            status, body, headers = 400, {"error": "Bad Request", "message": str(exc)}, {}
        except _HttpError as exc:
            status, body, headers = exc.status, exc.body, {}
        if request.route in DEPRECATED_ROUTES:
            headers = {"warning": '299 - "Deprecated: use the v2/v3 endpoints"'} | headers
        self._send(handler, status, body, headers)

    def _send_fault(self, handler: _Handler, fault: Fault) -> None:
        raw = fault.raw if fault.raw is not None else json.dumps(fault.body).encode()
        self._send_raw(handler, fault.status, raw, dict(fault.headers))

    def _send(
        self, handler: _Handler, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        self._send_raw(handler, status, json.dumps(body).encode(), headers or {})

    def _send_raw(
        self, handler: _Handler, status: int, raw: bytes, headers: dict[str, str]
    ) -> None:
        try:
            handler.send_response(status)
            base = {
                "content-type": "application/json; charset=utf-8",
                "content-length": str(len(raw)),
                "ratelimit-limit": str(self.rate_limit),
                "x-ratelimit-cost-stacks": "1",
            }
            for name, value in (base | headers).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(raw)
        except OSError:
            pass  # the client gave up (a timeout test)

    # --- routes: each returns (status, body, headers) ---

    def _status(self, request: RecordedRequest, parts: dict[str, str]) -> tuple[int, Any, dict]:
        tip = self.chain.tip
        chain_tip = {
            "block_height": tip.height,
            "block_hash": tip.hash,
            "index_block_hash": tip.index_hash,
            "burn_block_height": tip.burn_height,
        }
        return (
            200,
            {"server_version": SERVER_VERSION, "status": "ready", "chain_tip": chain_tip},
            {},
        )

    def _info(self, request: RecordedRequest, parts: dict[str, str]) -> tuple[int, Any, dict]:
        tip = self.chain.tip
        return (
            200,
            {
                "peer_version": 4207599118,
                "pox_consensus": _hash("pox", tip.burn_height)[2:42],
                "burn_block_height": tip.burn_height,
                "stable_pox_consensus": _hash("pox", tip.burn_height - 7)[2:42],
                "stable_burn_block_height": tip.burn_height - 7,
                "server_version": NODE_VERSION,
                "network_id": self.chain.network_id,
                "parent_network_id": 118034699,
                "stacks_tip_height": tip.height,
                "stacks_tip": tip.hash[2:],
                "stacks_tip_consensus_hash": _hash("consensus", tip.burn_height)[2:42],
                "genesis_chainstate_hash": _hash("genesis")[2:],
                "unanchored_tip": None,
                "unanchored_seq": None,
                "tenure_height": tip.tenure_height,
                "exit_at_block_height": None,
                "is_fully_synced": True,
            },
            {},
        )

    def _contract_logs(
        self, request: RecordedRequest, parts: dict[str, str]
    ) -> tuple[int, Any, dict]:
        limit = _int_param(request, "limit", 20, 1, 100)
        offset = _int_param(request, "offset", 0, 0, 10**9)
        cursor = _cursor_param(request, "cursor", _LOG_CURSOR)
        rows = self.chain.logs(_contract_param(parts))
        start = 0 if cursor is None else _first_at_or_below(rows, cursor)
        page = rows[start + offset : start + offset + limit]
        end = start + offset + limit
        return (
            200,
            {
                "limit": limit,
                "offset": offset,
                "total": len(rows),
                "next_cursor": rows[start - limit].cursor if start >= limit else None,
                "prev_cursor": rows[end].cursor if end < len(rows) else None,
                "cursor": page[0].cursor if page else None,
                "results": [_log_item(row, self.chain.contract_id) for row in page],
            },
            {},
        )

    def _contract_events(
        self, request: RecordedRequest, parts: dict[str, str]
    ) -> tuple[int, Any, dict]:
        limit = _int_param(request, "limit", 20, 0, 50) or 20
        offset = _int_param(request, "offset", 0, 0, 10**9)
        rows = self.chain.logs(_contract_param(parts))[offset : offset + limit]
        results = [_log_item(row, self.chain.contract_id) for row in rows]
        return 200, {"limit": limit, "offset": offset, "results": results}, {}

    def _tx_v1(self, request: RecordedRequest, parts: dict[str, str]) -> tuple[int, Any, dict]:
        tx_id = parts["tx_id"]
        if _HEX64.fullmatch(tx_id) and not tx_id.startswith("0x"):
            return 302, {}, {"location": f"/extended/v1/tx/0x{tx_id}"}
        found = self._locate(tx_id)
        event_limit = _int_param(request, "event_limit", 20, 1, 100)
        event_offset = _int_param(request, "event_offset", 0, 0, 10**9)
        with_args = _param(request, "exclude_function_args") != "true"
        tx, block, entry = found
        if block is None:
            return 200, tx_v1_mempool_json(entry), {}  # type: ignore[arg-type]
        return (
            200,
            tx_v1_json(
                tx,
                block,
                self.chain.contract_id,
                event_limit=event_limit,
                event_offset=event_offset,
                with_args=with_args,
            ),
            {},
        )

    def _tx_v3(self, request: RecordedRequest, parts: dict[str, str]) -> tuple[int, Any, dict]:
        tx, block, entry = self._locate(parts["tx_id"])
        include = {item for value in request.params.get("include", []) for item in value.split(",")}
        if entry is not None:
            return 200, tx_v3_mempool_json(entry, include), {}
        if block is None or not block.canonical:
            raise _HttpError(404, "Not Found", "Transaction not found")
        return 200, tx_v3_json(tx, block, include), {}

    def _principal_transactions(
        self, request: RecordedRequest, parts: dict[str, str]
    ) -> tuple[int, Any, dict]:
        address = unquote(parts["principal"])
        _checked_principal(address)
        limit = _int_param(request, "limit", 20, 1, 50)
        cursor = _cursor_param(request, "cursor", _TX_CURSOR)
        rows = self.chain.principal_rows(address)
        start = (
            0
            if cursor is None
            else next((i for i, row in enumerate(rows) if row[0] <= cursor), len(rows))
        )
        page, end = rows[start : start + limit], start + limit

        def key(i: int) -> str:
            return ":".join(map(str, rows[i][0]))

        return (
            200,
            {
                "limit": limit,
                "total": len(rows),
                "cursor": {
                    "next": key(end) if end < len(rows) else None,
                    "previous": key(start - limit) if start >= limit else None,
                    "current": key(start) if page else None,
                },
                "results": [
                    {"transaction": tx_v3_summary_json(tx, block)} | _balance_changes(tx, address)
                    for _, block, tx in page
                ],
            },
            {},
        )

    def _block(self, request: RecordedRequest, parts: dict[str, str]) -> tuple[int, Any, dict]:
        ref = parts["block"]
        if not (ref == "latest" or ref.isdigit() or _HEX64.fullmatch(ref)):
            raise _BadRequest(f"invalid height or hash {ref!r}")
        block = self.chain.find_block(ref)
        if block is None:
            raise _HttpError(404, "Not Found", "Block not found")
        return 200, block_json(block), {}

    def _call_read(self, request: RecordedRequest, parts: dict[str, str]) -> tuple[int, Any, dict]:
        contract_id = f"{parts['address']}.{parts['contract']}"
        function = parts["function"]
        args = _call_read_args(request.body)
        if contract_id != self.chain.contract_id:
            raise _HttpError(404, "Not Found", f"No contract {contract_id}")
        state = self.chain.state(self._tip_block(request))
        if function in self.chain.read_only:
            return 200, _okay(self.chain.read_only[function](state, args)), {}
        if function in READ_ONLY:
            return 200, _evaluate(function, state, args), {}
        if function in SIGNATURES:
            cause = f'Unchecked(NotReadOnly("{function}"))'
            return 200, {"okay": False, "cause": cause}, {}
        raise _HttpError(404, "Not Found", f"No function {function} in {contract_id}")

    # --- route helpers ---

    def _locate(self, tx_id: str) -> tuple[Tx, Block | None, MempoolEntry | None]:
        if not _TX_ID.fullmatch(tx_id):
            raise _BadRequest(f"invalid tx id {tx_id!r}")
        found = self.chain.locate(tx_id)
        if found is None:
            raise _HttpError(404, "Not Found", f"could not find transaction by ID {tx_id}")
        return found

    def _tip_block(self, request: RecordedRequest) -> Block | None:
        tip = _param(request, "tip")
        if tip and re.fullmatch(r"[0-9a-f]{64}", tip):
            return self.chain.block_by_index_hash("0x" + tip)
        return None  # omitted, "latest" or malformed: the latest state


class _Handler(BaseHTTPRequestHandler):
    hiro: HiroServer

    def do_GET(self) -> None:
        self.hiro._serve(self)

    def do_POST(self) -> None:
        self.hiro._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _match(method: str, path: str) -> tuple[str | None, dict[str, str]]:
    for name, route_method, pattern in _ROUTES:
        found = pattern.fullmatch(path)
        if found and method == route_method:
            return name, {k: unquote(v) for k, v in found.groupdict().items()}
    return None, {}


def _param(request: RecordedRequest, name: str) -> str | None:
    values = request.params.get(name)
    return values[-1] if values else None


def _int_param(request: RecordedRequest, name: str, default: int, low: int, high: int) -> int:
    text = _param(request, name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise _BadRequest(f"{name} must be an integer in {low}..{high}")
    return int(text)


def _cursor_param(
    request: RecordedRequest, name: str, pattern: re.Pattern[str]
) -> tuple[int, ...] | None:
    text = _param(request, name)
    if text is None:
        return None
    found = pattern.fullmatch(text)
    if not found:
        raise _BadRequest(f"{name} does not match {pattern.pattern}")
    return tuple(int(group) for group in found.groups())


def _checked_principal(address: str) -> str:
    try:
        principal(address)
    except ValueError as exc:
        raise _BadRequest(f"invalid principal {address!r}: {exc}") from None
    return address


def _contract_param(parts: dict[str, str]) -> str:
    contract_id = _checked_principal(parts["contract_id"])
    if "." not in contract_id:
        raise _BadRequest("not a contract id")
    return contract_id


def _first_at_or_below(rows: list[LogRow], cursor: tuple[int, ...]) -> int:
    start = next((i for i, row in enumerate(rows) if row.key <= cursor), None)
    if start is None:
        raise _HttpError(404, "Not Found", "Cursor not found")
    return start


def _call_read_args(body: Any) -> list[ClarityValue]:
    if not isinstance(body, dict) or not isinstance(body.get("sender"), str):
        raise _BadRequest("body must be {sender, arguments}")
    _checked_principal(body["sender"])
    arguments = body.get("arguments")
    if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
        raise _BadRequest("arguments must be a list of hex strings")
    try:
        return [clarity_decode(a) for a in arguments]
    except ClarityDecodeError as exc:
        raise _BadRequest(f"invalid argument: {exc}") from None


def _okay(value: ClarityValue) -> dict[str, Any]:
    return {"okay": True, "result": to_hex(value)}


def _evaluate(function: str, state: EscrowState, args: list[ClarityValue]) -> dict[str, Any]:
    arity, evaluate = READ_ONLY[function]
    if len(args) != arity:
        return {"okay": False, "cause": f"Unchecked(IncorrectArgumentCount({arity}, {len(args)}))"}
    try:
        return _okay(evaluate(state, _uints(args)))
    except TypeError:
        return {"okay": False, "cause": "Unchecked(TypeValueError(UIntType, ...))"}
