"""The in-memory chain the fake API serves: canonical and orphaned blocks and a mempool."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from stacks import ClarityValue, bool_, err, ok, uint
from tests.chainsync.hiro_server.model import (
    ESCROW_CONTRACT,
    NAKAMOTO_MICROBLOCK_SEQUENCE,
    TESTNET_NETWORK_ID,
    Block,
    Event,
    FtTransfer,
    LogRow,
    MempoolEntry,
    Print,
    StxTransfer,
    Tx,
    _hash,
)
from tests.chainsync.hiro_server.state import EscrowState


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
        self.unlisted: set[str] = set()  # txs a principal's listing leaves out (a lagging API)
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
                if address in _parties(tx) and tx.tx_id not in self.unlisted
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
