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

The package, by layer: `model` (txs, events, blocks, fixed names), `chain` (the in-memory chain),
`prints` (the escrow's print builders, `events`), `state` (the contract's state and read-only
answers), `escrow` (happy-path calls), `shapes` (the API's JSON), `routes` (what each route
answers), `server` (HiroServer, faults). Import from `tests.chainsync.hiro_server`.
"""

from __future__ import annotations

from tests.chainsync.hiro_server.chain import Chain
from tests.chainsync.hiro_server.escrow import Escrow
from tests.chainsync.hiro_server.model import (
    CLIENT,
    DEFAULT_FEE_RATE,
    DEPLOYER,
    ESCROW_CONTRACT,
    FREELANCER,
    NAKAMOTO_MICROBLOCK_SEQUENCE,
    NODE_VERSION,
    SBTC_TOKEN,
    SERVER_VERSION,
    STX,
    TESTNET_NETWORK_ID,
    Block,
    Event,
    FtTransfer,
    LogRow,
    MempoolEntry,
    Print,
    StxTransfer,
    Tx,
    stx,
    stx_sent_equal_to,
)
from tests.chainsync.hiro_server.prints import EscrowPrints, events, milestone_fees
from tests.chainsync.hiro_server.routes import RecordedRequest
from tests.chainsync.hiro_server.server import DEPRECATED_ROUTES, ROUTE_NAMES, Fault, HiroServer
from tests.chainsync.hiro_server.shapes import (
    block_json,
    clarity_json,
    clarity_repr,
    tx_v1_json,
    tx_v1_mempool_json,
    tx_v3_json,
    tx_v3_mempool_json,
    tx_v3_summary_json,
)
from tests.chainsync.hiro_server.state import READ_ONLY, SIGNATURES, EscrowState

__all__ = [
    "CLIENT",
    "DEFAULT_FEE_RATE",
    "DEPLOYER",
    "DEPRECATED_ROUTES",
    "ESCROW_CONTRACT",
    "FREELANCER",
    "NAKAMOTO_MICROBLOCK_SEQUENCE",
    "NODE_VERSION",
    "READ_ONLY",
    "ROUTE_NAMES",
    "SBTC_TOKEN",
    "SERVER_VERSION",
    "SIGNATURES",
    "STX",
    "TESTNET_NETWORK_ID",
    "Block",
    "Chain",
    "Escrow",
    "EscrowPrints",
    "EscrowState",
    "Event",
    "Fault",
    "FtTransfer",
    "HiroServer",
    "LogRow",
    "MempoolEntry",
    "Print",
    "RecordedRequest",
    "StxTransfer",
    "Tx",
    "block_json",
    "clarity_json",
    "clarity_repr",
    "events",
    "milestone_fees",
    "stx",
    "stx_sent_equal_to",
    "tx_v1_json",
    "tx_v1_mempool_json",
    "tx_v3_json",
    "tx_v3_mempool_json",
    "tx_v3_summary_json",
]
