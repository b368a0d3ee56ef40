"""Schemathesis hooks (SCHEMATHESIS_HOOKS=tests.contract.schemathesis_hooks): every request is
signed in as the test wallet, which signs the server's challenge like Leather or Xverse
(tests/accounts/signer.py). `POST /api/auth/logout` revokes the token it is sent with, so it
gets a fresh session each time; the Chainhook push sends the shared secret the server is given
(STXWORX_CHAINHOOK_SECRET); every other operation shares one session."""

from __future__ import annotations

import os

import requests
import schemathesis

from tests.accounts.signer import Wallet

WALLET = Wallet.from_seed(os.environ.get("STXWORX_TEST_WALLET_SEED", "schemathesis"))
LOGOUT = "/api/auth/logout"
CHAINHOOK = "/api/blockchain/chainhook"


def sign_in(base_url: str) -> str:
    challenge = requests.post(
        f"{base_url}/api/auth/challenge", json={"address": WALLET.address}, timeout=30
    )
    challenge.raise_for_status()
    body = challenge.json()
    verify = requests.post(
        f"{base_url}/api/auth/verify",
        json={
            "address": WALLET.address,
            "signature": WALLET.sign(body["challenge"]),
            "challenge": body["challenge"],
            "publicKey": WALLET.public_key,
            "nonce": body["nonce"],
        },
        timeout=30,
    )
    verify.raise_for_status()
    return verify.json()["token"]


class _Session:
    def get(self, case, ctx):
        return sign_in(os.environ["STXWORX_API_URL"])

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.auth(refresh_interval=None).apply_to(path=LOGOUT)
class FreshSession(_Session):
    """A session for logout to end."""


@schemathesis.auth().apply_to(path=CHAINHOOK)
class ChainhookSecret(_Session):
    """Chainhook's bearer: the shared secret, not a session."""

    def get(self, case, ctx):
        return os.environ["STXWORX_CHAINHOOK_SECRET"]


@schemathesis.auth().skip_for(path=LOGOUT).skip_for(path=CHAINHOOK)
class SharedSession(_Session):
    """The session every other operation uses (signed in once; refreshed every 300 s)."""
