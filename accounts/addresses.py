"""Stacks addresses as this deployment accepts them: valid c32check, of the configured network."""

from __future__ import annotations

from django.conf import settings

from stacks.c32 import (
    MAINNET_MULTI_SIG,
    MAINNET_SINGLE_SIG,
    TESTNET_MULTI_SIG,
    TESTNET_SINGLE_SIG,
    InvalidAddress,
    address_decode,
    address_from_hash160,
)
from stxworx.errors import NotFound

__all__ = [
    "InvalidAddress",
    "address_from_path",
    "address_validate",
    "network_versions",
    "single_sig_version",
]

_VERSIONS = {
    "mainnet": (MAINNET_SINGLE_SIG, MAINNET_MULTI_SIG),
    "testnet": (TESTNET_SINGLE_SIG, TESTNET_MULTI_SIG),
}


def network_versions() -> tuple[int, int]:
    """(single-sig, multi-sig) address versions of the configured network."""
    return _VERSIONS[settings.STACKS_NETWORK]


def single_sig_version() -> int:
    return network_versions()[0]


def address_validate(address: str, *, single_sig: bool = False) -> str:
    """The canonical form of `address`, or InvalidAddress saying what is wrong with it."""
    version, h160 = address_decode(address.strip())
    single, multi = network_versions()
    if version not in (single, multi):
        raise InvalidAddress(f"not a {settings.STACKS_NETWORK} address")
    if single_sig and version != single:
        raise InvalidAddress("a multi-sig address cannot sign a message; use a single-sig address")
    return address_from_hash160(version, h160)


def address_from_path(address: str) -> str:
    """An address taken from a URL: canonical, or a 404 that says what is wrong with it (there is
    nothing at a path that names no address)."""
    try:
        return address_validate(address)
    except InvalidAddress as exc:
        raise NotFound(f"No such address: {exc}.") from exc
