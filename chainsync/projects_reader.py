"""The chain as the projects app's review page reads it (projects.chain.ChainReader), plugged in
by chainsync.apps at start-up."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from chainsync.conf import escrow_contract_id
from chainsync.models import ChainTransaction, ContractSettings
from chainsync.selectors import (
    CONTRACT_ERRORS,
    ChainApiUnavailable,
    chain_event_list,
    chain_project_onchain_read,
    chain_tx_verify,
)


class ProjectsChainReader:
    unavailable = ChainApiUnavailable
    contract_errors = CONTRACT_ERRORS

    def contract_id(self) -> str:
        return escrow_contract_id()

    def project_events(self, on_chain_id: int) -> list[Any]:
        return list(chain_event_list(filters={"project": on_chain_id}))

    def block_times(self, tx_ids: Iterable[str]) -> dict[str, datetime | None]:
        rows = ChainTransaction.objects.filter(tx_id__in=set(tx_ids))
        return dict(rows.values_list("tx_id", "block_time"))

    def canonical_txs(self, tx_ids: Iterable[str]) -> dict[str, ChainTransaction]:
        rows = ChainTransaction.objects.filter(tx_id__in=list(tx_ids), canonical=True)
        return {tx.tx_id: tx for tx in rows}

    def tx_verify(self, tx_id: str) -> Any:
        return chain_tx_verify(tx_id=tx_id)

    def onchain_project(self, on_chain_id: int) -> Any:
        return chain_project_onchain_read(on_chain_id=on_chain_id)

    def contract_roles(self) -> tuple[str, str]:
        rows = ContractSettings.objects.filter(contract_id=escrow_contract_id())
        return rows.values_list("owner", "sbtc_contract").first() or ("", "")
