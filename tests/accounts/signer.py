"""A test wallet: signs the server's challenge the way Leather and Xverse do (stx_signMessage),
byte for byte (tests/chainsync/test_c32.py proves message_sign against stacks.js)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import coincurve
from rest_framework.test import APIClient

from stacks.c32 import TESTNET_SINGLE_SIG, message_sign, public_key_to_address


@dataclass(frozen=True)
class Wallet:
    private_key: str
    version: int = TESTNET_SINGLE_SIG

    @classmethod
    def from_seed(cls, seed: str, version: int = TESTNET_SINGLE_SIG) -> Wallet:
        return cls(hashlib.sha256(seed.encode()).hexdigest(), version)

    @property
    def public_key(self) -> str:
        key = coincurve.PrivateKey(bytes.fromhex(self.private_key))
        return key.public_key.format(compressed=True).hex()

    @property
    def address(self) -> str:
        return public_key_to_address(bytes.fromhex(self.public_key), self.version)

    def sign(self, message: str) -> str:
        return message_sign(self.private_key, message)


def sign_in(api: APIClient, wallet: Wallet, **extra: str) -> dict:
    """The whole wallet flow: challenge, sign, verify. Returns the verify response body."""
    challenge = api.post("/api/auth/challenge", {"address": wallet.address}, format="json")
    assert challenge.status_code == 200, challenge.content
    body = challenge.json()
    verify = api.post(
        "/api/auth/verify",
        {
            "address": wallet.address,
            "signature": wallet.sign(body["challenge"]),
            "challenge": body["challenge"],
            "publicKey": wallet.public_key,
            "nonce": body["nonce"],
            **extra,
        },
        format="json",
    )
    assert verify.status_code == 200, verify.content
    return verify.json()


def bearer(token: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api
