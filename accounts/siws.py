"""The Sign-In-With-Stacks message (the ERC-4361 layout, as ../shared/chain/SIGNING.md fixes it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

CHAIN_IDS = {"mainnet": 1, "testnet": 2147483648}
MAX_MESSAGE_BYTES = 2048


def iso_ms(moment: datetime) -> str:
    """`2026-05-04T10:15:23.000Z`, as JavaScript's toISOString writes it."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


@dataclass(frozen=True)
class SiwsMessage:
    domain: str
    address: str
    statement: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: datetime
    expires_at: datetime

    def text(self) -> str:
        return "\n".join(
            [
                f"{self.domain} wants you to sign in with your Stacks account:",
                self.address,
                "",
                self.statement,
                "",
                f"URI: {self.uri}",
                "Version: 1",
                f"Chain ID: {self.chain_id}",
                f"Nonce: {self.nonce}",
                f"Issued At: {iso_ms(self.issued_at)}",
                f"Expiration Time: {iso_ms(self.expires_at)}",
            ]
        )
