"""Stacks addresses (c32check) and wallet message signatures (`stx_signMessage`).

Pure Python plus `coincurve` for secp256k1; no Django. The rules, and the vectors the tests
check, are in /work/shared/chain/SIGNING.md; tests/data/signing_vectors.json holds vectors
produced by stacks.js and c32check themselves.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from collections.abc import Callable

import coincurve

C32_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MAINNET_SINGLE_SIG = 22  # SP
MAINNET_MULTI_SIG = 20  # SM
TESTNET_SINGLE_SIG = 26  # ST
TESTNET_MULTI_SIG = 21  # SN
ADDRESS_VERSIONS = frozenset(
    {MAINNET_SINGLE_SIG, MAINNET_MULTI_SIG, TESTNET_SINGLE_SIG, TESTNET_MULTI_SIG}
)
# "S" + version char + base32 of hash160||checksum (24 bytes -> at most 39 digits); no
# string longer than this can decode to a 20-byte hash, even with extra leading zeros.
ADDRESS_MAX_LENGTH = 41

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
MESSAGE_PREFIX = b"\x17Stacks Signed Message:\n"
SIGNATURE_HEX_LENGTH = 130
PUBLIC_KEY_HEX_LENGTH = 66

_C32_INDEX = {char: value for value, char in enumerate(C32_ALPHABET)}
_C32_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class InvalidAddress(ValueError):
    """A string that is not a well-formed Stacks address."""


class InvalidSignature(ValueError):
    """A malformed signature, or one from which no public key can be recovered."""


class InvalidPublicKey(ValueError):
    """Not a compressed secp256k1 public key (33 bytes, 02/03, on the curve)."""


# --- c32 / c32check -----------------------------------------------------------------------


def c32_encode(data: bytes) -> str:
    """Base-32 of `data` as one big-endian integer, plus one "0" per leading zero byte."""
    value = int.from_bytes(data, "big")
    digits = []
    while value:
        value, digit = divmod(value, 32)
        digits.append(C32_ALPHABET[digit])
    leading_zeros = len(data) - len(data.lstrip(b"\0"))
    return "0" * leading_zeros + "".join(reversed(digits))


def c32_normalize(text: str) -> str:
    """Upper-case and map the look-alikes O -> 0 and I, L -> 1 (ASCII input only)."""
    if not text.isascii():
        raise ValueError("c32 text must be ASCII")
    return text.upper().translate(_C32_ALIASES)


def c32_decode(text: str) -> bytes:
    """Inverse of `c32_encode`; each leading "0" is one zero byte. Raises ValueError."""
    text = c32_normalize(text)
    bad = sorted({char for char in text if char not in _C32_INDEX})
    if bad:
        raise ValueError(f"invalid c32 characters: {''.join(bad)!r}")
    body = text.lstrip("0")
    value = 0
    for char in body:
        value = value * 32 + _C32_INDEX[char]
    return b"\0" * (len(text) - len(body)) + value.to_bytes((value.bit_length() + 7) // 8, "big")


def _c32_checksum(version: int, data: bytes) -> bytes:
    return hashlib.sha256(hashlib.sha256(bytes([version]) + data).digest()).digest()[:4]


def c32check_encode(version: int, data: bytes) -> str:
    if not 0 <= version < 32:
        raise ValueError(f"c32check version must be 0..31, got {version}")
    return C32_ALPHABET[version] + c32_encode(data + _c32_checksum(version, data))


def c32check_decode(text: str) -> tuple[int, bytes]:
    """Return (version, data); raises ValueError on bad characters or a bad checksum."""
    text = c32_normalize(text)
    if not text or text[0] not in _C32_INDEX:
        raise ValueError("c32check text must start with a version character")
    version = _C32_INDEX[text[0]]
    raw = c32_decode(text[1:])
    if len(raw) < 4:
        raise ValueError("c32check text is too short to hold a checksum")
    data, checksum = raw[:-4], raw[-4:]
    if _c32_checksum(version, data) != checksum:
        raise ValueError("c32check checksum mismatch")
    return version, data


# --- addresses ----------------------------------------------------------------------------


def address_from_hash160(version: int, h160: bytes | bytearray | memoryview) -> str:
    """The address of a hash160, from any bytes-like input (the cache behind it needs bytes,
    which are hashable: a bytearray or memoryview is copied to bytes first)."""
    if type(h160) is not bytes:
        h160 = bytes(h160)
    return _address_cached(version, h160)


@functools.lru_cache(maxsize=8192)  # the same parties recur in every page of prints
def _address_cached(version: int, h160: bytes) -> str:
    if len(h160) != 20:
        raise ValueError(f"hash160 must be 20 bytes, got {len(h160)}")
    return "S" + c32check_encode(version, h160)


def address_decode(address: str) -> tuple[int, bytes]:
    """Return (version, hash160) of a Stacks address; raises InvalidAddress saying why."""
    if not isinstance(address, str):
        raise InvalidAddress("address must be a string")
    if not address:
        raise InvalidAddress("address is empty")
    if len(address) > ADDRESS_MAX_LENGTH:
        raise InvalidAddress(f"address is longer than {ADDRESS_MAX_LENGTH} characters")
    if not address.isascii():
        raise InvalidAddress("address contains non-ASCII characters")
    if address[0] not in "Ss":
        raise InvalidAddress('address must start with "S"')
    try:
        version, h160 = c32check_decode(address[1:])
    except ValueError as exc:
        raise InvalidAddress(f"invalid address: {exc}") from exc
    if len(h160) != 20:
        raise InvalidAddress(f"address hash must be 20 bytes, got {len(h160)}")
    if version not in ADDRESS_VERSIONS:
        raise InvalidAddress(f"unknown address version {version}")
    return version, h160


def address_normalize(address: str) -> str:
    """The canonical (re-encoded) form; compare addresses only in this form."""
    return address_from_hash160(*address_decode(address))


def hash160(data: bytes) -> bytes:
    return _ripemd160(hashlib.sha256(data).digest())


def public_key_to_address(pubkey33: bytes, version: int) -> str:
    if len(pubkey33) != 33 or pubkey33[0] not in (2, 3):
        raise InvalidPublicKey("public key must be 33 bytes starting with 02 or 03")
    return address_from_hash160(version, hash160(pubkey33))


# --- message signatures -------------------------------------------------------------------


def compact_size(n: int) -> bytes:
    """Bitcoin CompactSize (varint) encoding of a non-negative integer."""
    if n < 0:
        raise ValueError("compact_size needs a non-negative integer")
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + struct.pack("<H", n)
    if n <= 0xFFFFFFFF:
        return b"\xfe" + struct.pack("<I", n)
    return b"\xff" + struct.pack("<Q", n)


def message_hash(message: str | bytes) -> bytes:
    """SHA-256 of prefix || varint(len) || UTF-8 bytes, exactly as `stx_signMessage` signs."""
    data = message.encode("utf-8") if isinstance(message, str) else bytes(message)
    return hashlib.sha256(MESSAGE_PREFIX + compact_size(len(data)) + data).digest()


def _hex_to_bytes(text: str, length: int, what: str, error: type[ValueError]) -> bytes:
    if not isinstance(text, str):
        raise error(f"{what} must be a hex string")
    if len(text) != length:
        raise error(f"{what} must be {length} hex characters, got {len(text)}")
    if not _HEX_DIGITS.issuperset(text):
        raise error(f"{what} is not hex")
    return bytes.fromhex(text)


def signature_parse(sig_hex: str) -> tuple[bytes, int]:
    """Parse an RSV signature into (r||s with low S, recovery id); raises InvalidSignature.

    A high S is folded to n - s with the recovery id flipped: stacks.js accepts high S
    (strict=False) and so does libsecp256k1's recovery, but its verify does not, so the
    returned (r||s, v) works with either coincurve path.
    """
    if isinstance(sig_hex, str) and sig_hex[:2] in ("0x", "0X"):
        sig_hex = sig_hex[2:]
    raw = _hex_to_bytes(sig_hex, SIGNATURE_HEX_LENGTH, "signature", InvalidSignature)
    r, s, v = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]
    if v not in (0, 1):
        raise InvalidSignature(f"recovery id must be 0 or 1, got {v} (is it v||r||s order?)")
    for name, scalar in (("r", r), ("s", s)):
        if not 0 < scalar < SECP256K1_N:
            raise InvalidSignature(f"signature {name} is out of range")
    if s > SECP256K1_N // 2:
        s, v = SECP256K1_N - s, v ^ 1
    return r.to_bytes(32, "big") + s.to_bytes(32, "big"), v


def public_key_recover(message_hash: bytes, sig_hex: str) -> bytes:
    """The 33-byte compressed key that made `sig_hex` over `message_hash`."""
    if len(message_hash) != 32:
        raise ValueError("message hash must be 32 bytes")
    rs, v = signature_parse(sig_hex)
    try:
        key = coincurve.PublicKey.from_signature_and_message(
            rs + bytes([v]), message_hash, hasher=None
        )
    except ValueError as exc:  # coincurve: "failed to recover ECDSA public key"
        raise InvalidSignature("no public key can be recovered from this signature") from exc
    return key.format(compressed=True)


def public_key_parse(hex_key: str) -> bytes:
    """Validate a compressed public key given as 66 hex characters; raises InvalidPublicKey."""
    raw = _hex_to_bytes(hex_key, PUBLIC_KEY_HEX_LENGTH, "public key", InvalidPublicKey)
    if raw[0] not in (2, 3):
        raise InvalidPublicKey("public key must be compressed (start with 02 or 03)")
    try:
        coincurve.PublicKey(raw)
    except ValueError as exc:
        raise InvalidPublicKey("public key is not a point on secp256k1") from exc
    return raw


def message_sign(private_key_hex: str, message: str | bytes) -> str:
    """Test/dev signer: the 130-hex RSV a Stacks wallet returns (RFC-6979, low S, v 0/1).

    Accepts the 32-byte key or the wallet's 33-byte form with the 01 "compressed" suffix.
    """
    if len(private_key_hex) == 66 and private_key_hex.endswith("01"):
        private_key_hex = private_key_hex[:64]
    key = coincurve.PrivateKey(bytes.fromhex(private_key_hex))
    return key.sign_recoverable(message_hash(message), hasher=None).hex()


# --- RIPEMD-160 ---------------------------------------------------------------------------


def _ripemd160_hashlib(data: bytes) -> bytes:
    return hashlib.new("ripemd160", data).digest()


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split())


# Pure-Python fallback for OpenSSL 3 builds whose hashlib lacks ripemd160 (legacy provider).
# Tables from the RIPEMD-160 specification (Dobbertin, Bosselaers, Preneel).
_RMD_R = _ints(
    "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 7 4 13 1 10 6 15 3 12 0 9 5 2 14 11 8 "
    "3 10 14 4 9 15 8 1 2 7 0 6 13 11 5 12 1 9 11 10 0 8 12 4 13 3 7 15 14 5 6 2 "
    "4 0 5 9 7 12 2 10 14 1 3 8 11 6 15 13"
)
_RMD_RP = _ints(
    "5 14 7 0 9 2 11 4 13 6 15 8 1 10 3 12 6 11 3 7 0 13 5 10 14 15 8 12 4 9 1 2 "
    "15 5 1 3 7 14 6 9 11 8 12 2 10 0 4 13 8 6 4 1 3 11 15 0 5 12 2 13 9 7 10 14 "
    "12 15 10 4 1 5 8 7 6 2 13 14 0 3 9 11"
)
_RMD_S = _ints(
    "11 14 15 12 5 8 7 9 11 13 14 15 6 7 9 8 7 6 8 13 11 9 7 15 7 12 15 9 11 7 13 12 "
    "11 13 6 7 14 9 13 15 14 8 13 6 5 12 7 5 11 12 14 15 14 15 9 8 9 14 5 6 8 6 5 12 "
    "9 15 5 11 6 8 13 12 5 12 13 14 11 8 5 6"
)
_RMD_SP = _ints(
    "8 9 9 11 13 15 15 5 7 7 8 11 14 14 12 6 9 13 15 7 12 8 9 11 7 7 12 7 6 15 13 11 "
    "9 7 15 11 8 6 6 14 12 13 5 14 13 13 7 5 15 5 8 11 14 14 6 14 6 9 12 9 12 5 15 8 "
    "8 5 12 9 12 5 14 6 8 13 6 5 15 13 11 11"
)
_RMD_K = (0x00000000, 0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xA953FD4E)
_RMD_KP = (0x50A28BE6, 0x5C4DD124, 0x6D703EF3, 0x7A6D76E9, 0x00000000)
_MASK = 0xFFFFFFFF


def _rmd_f(j: int, x: int, y: int, z: int) -> int:
    round_ = j // 16
    if round_ == 0:
        return x ^ y ^ z
    if round_ == 1:
        return (x & y) | (~x & z)
    if round_ == 2:
        return (x | ~y) ^ z
    if round_ == 3:
        return (x & z) | (y & ~z)
    return x ^ (y | ~z)


def _rol(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & _MASK


def _rmd_line(h: tuple[int, ...], x: tuple[int, ...], right: bool) -> list[int]:
    a, b, c, d, e = h
    order, shifts, consts = (_RMD_RP, _RMD_SP, _RMD_KP) if right else (_RMD_R, _RMD_S, _RMD_K)
    for j in range(80):
        f = _rmd_f(79 - j if right else j, b, c, d)
        t = _rol((a + f + x[order[j]] + consts[j // 16]) & _MASK, shifts[j]) + e
        a, b, c, d, e = e, t & _MASK, b, _rol(c, 10), d
    return [a, b, c, d, e]


def _ripemd160_pure(data: bytes) -> bytes:
    h = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0)
    padded = data + b"\x80" + b"\0" * ((55 - len(data)) % 64) + struct.pack("<Q", 8 * len(data))
    for offset in range(0, len(padded), 64):
        x = struct.unpack("<16I", padded[offset : offset + 64])
        al, bl, cl, dl, el = _rmd_line(h, x, right=False)
        ar, br, cr, dr, er = _rmd_line(h, x, right=True)
        h = tuple(
            v & _MASK
            for v in (
                h[1] + cl + dr,
                h[2] + dl + er,
                h[3] + el + ar,
                h[4] + al + br,
                h[0] + bl + cr,
            )
        )
    return struct.pack("<5I", *h)


def _ripemd160_select() -> Callable[[bytes], bytes]:
    try:
        hashlib.new("ripemd160", b"")
    except ValueError:
        return _ripemd160_pure
    return _ripemd160_hashlib


_ripemd160 = _ripemd160_select()
