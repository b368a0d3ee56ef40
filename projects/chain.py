"""What the projects app reads of the chain, as a port. The dispute review page shows the chain's
record and the contract's live state next to the database's; chainsync, which builds on this app
(its handlers call the projects services), plugs its reader in when it starts
(chainsync.apps -> chain_reader_set), so this app imports nothing of chainsync."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol


class ChainTx(Protocol):
    """A transaction as the indexer stored it."""

    tx_id: str
    status: str
    error_code: int | None


class ChainReader(Protocol):
    unavailable: type[Exception]  # what the live reads raise when the API cannot be read
    contract_errors: Mapping[int, str]  # the contract's error codes by number

    def contract_id(self) -> str: ...

    def project_events(self, on_chain_id: int) -> list[Any]:
        """The indexed events of an on-chain project, in chain order."""

    def block_times(self, tx_ids: Iterable[str]) -> dict[str, datetime | None]: ...

    def canonical_txs(self, tx_ids: Iterable[str]) -> dict[str, ChainTx]: ...

    def tx_verify(self, tx_id: str) -> Any:
        """The live verify-tx of one call (raises ApplicationError when it cannot be read)."""

    def onchain_project(self, on_chain_id: int) -> Any:
        """The contract's live view of a project, stamped: `.state` (None when the contract has
        no such project), `.tip_height`, `.tip_hash`, `.read_at` (raises `unavailable`)."""

    def contract_roles(self) -> tuple[str, str]:
        """The indexed contract owner and sBTC token contract ("" when unknown)."""


_reader: ChainReader | None = None


def chain_reader_set(reader: ChainReader) -> None:
    global _reader
    _reader = reader


def chain_reader() -> ChainReader:
    if _reader is None:
        raise RuntimeError("no chain reader: chainsync is not installed or not ready")
    return _reader
