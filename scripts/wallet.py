#!/usr/bin/env python
"""A development wallet that signs exactly like Leather or Xverse (`stx_signMessage`).

    .venv/bin/python scripts/wallet.py address KEY [--mainnet]   # the key's Stacks address
    .venv/bin/python scripts/wallet.py sign KEY < challenge.txt  # 130-hex RSV signature
    .venv/bin/python scripts/wallet.py pubkey KEY                # compressed public key

KEY is a 32-byte private key in hex (a wallet's trailing 01 is accepted). For local testing only:
never paste a real wallet's key anywhere.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import coincurve

from stacks.c32 import (
    MAINNET_SINGLE_SIG,
    TESTNET_SINGLE_SIG,
    message_sign,
    public_key_to_address,
)


def public_key(key_hex: str) -> bytes:
    raw = bytes.fromhex(key_hex[:64])
    return coincurve.PrivateKey(raw).public_key.format(compressed=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["address", "sign", "pubkey"])
    parser.add_argument("key", help="private key, hex")
    parser.add_argument("--mainnet", action="store_true", help="SP address instead of ST")
    args = parser.parse_args(argv)
    if args.command == "address":
        version = MAINNET_SINGLE_SIG if args.mainnet else TESTNET_SINGLE_SIG
        print(public_key_to_address(public_key(args.key), version))
    elif args.command == "pubkey":
        print(public_key(args.key).hex())
    else:
        # The exact bytes, no trailing newline added or stripped by us: sign what was issued.
        print(message_sign(args.key, sys.stdin.buffer.read()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
