"""The fake chain's building blocks: txs, their events, blocks, mempool entries and log rows,
and the fixed names (contract, parties, versions) every test uses."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from stacks import ClarityValue, Tuple

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
