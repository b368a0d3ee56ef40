"""Wallet sign-in: issue a Sign-In-With-Stacks challenge, verify the wallet's signature of it,
open a JWT session; single-use WebSocket tickets. Services in the house style, split out of
services.py because they are a sub-domain of their own."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.addresses import InvalidAddress, address_validate, single_sig_version
from accounts.errors import SignInFailed
from accounts.models import SignInChallenge, User, WebSocketTicket
from accounts.services import user_get_or_create
from accounts.signals import session_revoked
from accounts.siws import CHAIN_IDS, MAX_MESSAGE_BYTES, SiwsMessage
from accounts.tokens import TokenClaims, token_is_revoked, token_issue, token_revoke
from stacks.c32 import (
    InvalidPublicKey,
    InvalidSignature,
    message_hash,
    public_key_parse,
    public_key_recover,
    public_key_to_address,
    signature_parse,
)
from stxworx.errors import InvalidInput

NONCE_RE = re.compile(r"^[0-9a-f]{32}$")
_NONCE_LINE = re.compile(r"^Nonce: ([0-9a-f]{32})$", re.MULTILINE)


def _now_ms() -> datetime:
    now = timezone.now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _address(address: str, field: str = "address") -> str:
    try:
        return address_validate(address, single_sig=True)
    except InvalidAddress as exc:
        raise InvalidInput(str(exc), field=field) from exc


def challenge_create(*, address: str) -> SignInChallenge:
    """A new SIWS challenge for `address` (a single-sig address of the configured network)."""
    conf = settings.AUTH
    issued_at = _now_ms()
    SignInChallenge.objects.filter(expires_at__lt=issued_at - 2 * conf["CLOCK_SKEW"]).delete()
    message = SiwsMessage(
        domain=conf["DOMAIN"],
        address=_address(address),
        statement=conf["STATEMENT"],
        uri=conf["URI"],
        chain_id=CHAIN_IDS[settings.STACKS_NETWORK],
        nonce=secrets.token_hex(16),  # 128 bits
        issued_at=issued_at,
        expires_at=issued_at + conf["CHALLENGE_TTL"],
    )
    return SignInChallenge.objects.create(
        nonce=message.nonce,
        address=message.address,
        message=message.text(),
        domain=message.domain,
        chain_id=message.chain_id,
        issued_at=message.issued_at,
        expires_at=message.expires_at,
    )


@dataclass(frozen=True)
class SignIn:
    token: str
    claims: TokenClaims
    user: User


def sign_in_verify(
    *,
    address: str,
    signature: str,
    challenge: str,
    public_key: str | None = None,
    nonce: str | None = None,
) -> SignIn:
    """Verify a wallet's signature of an issued challenge and open a session.

    Input that cannot be right raises InvalidInput (400); a signature that does not prove
    control of the address, or a challenge that is unknown, expired or used, raises
    SignInFailed (401). The nonce is consumed only after the signature verifies, atomically:
    of any number of concurrent attempts with one challenge, one wins."""
    address = _address(address)
    _parse_signature(signature)
    key = _parse_public_key(public_key) if public_key else None
    if len(challenge.encode()) > MAX_MESSAGE_BYTES:
        raise InvalidInput(f"Longer than {MAX_MESSAGE_BYTES} bytes.", field="challenge")
    record = _challenge_find(address=address, challenge=challenge, nonce=nonce)
    _check_binding(record)
    _check_signer(record, signature, key)
    _challenge_consume(record)
    user = user_get_or_create(address=address)
    if not user.is_active:
        raise SignInFailed("This account is disabled.", code="account_disabled")
    token, claims = token_issue(user=user)
    return SignIn(token=token, claims=claims, user=user)


def _parse_signature(signature: str) -> tuple[bytes, int]:
    try:
        return signature_parse(signature)
    except InvalidSignature as exc:
        raise InvalidInput(str(exc), field="signature") from exc


def _parse_public_key(public_key: str) -> bytes:
    try:
        return public_key_parse(public_key)
    except InvalidPublicKey as exc:
        raise InvalidInput(str(exc), field="publicKey") from exc


def _challenge_find(*, address: str, challenge: str, nonce: str | None) -> SignInChallenge:
    if nonce is None:
        found = _NONCE_LINE.search(challenge)
        if found is None:
            raise InvalidInput(
                "Has no 'Nonce:' line; send the challenge as issued.", field="challenge"
            )
        nonce = found.group(1)
    if not NONCE_RE.match(nonce):
        raise InvalidInput(
            "Must be the 32 hex characters the challenge was issued with.", field="nonce"
        )
    record = SignInChallenge.objects.filter(nonce=nonce).first()
    if record is None or record.address != address:
        raise SignInFailed("Unknown challenge; request a new one.", code="challenge_unknown")
    if record.message != challenge:
        raise SignInFailed(
            "The signed text differs from the challenge issued.", code="challenge_mismatch"
        )
    if record.used_at is not None:
        raise SignInFailed("This challenge was already used.", code="challenge_used")
    if record.expires_at + settings.AUTH["CLOCK_SKEW"] <= timezone.now():
        raise SignInFailed(
            "This challenge has expired; request a new one.", code="challenge_expired"
        )
    return record


def _check_binding(record: SignInChallenge) -> None:
    """Fail closed when the deployment changed since the challenge was issued."""
    if (
        record.domain != settings.AUTH["DOMAIN"]
        or record.chain_id != CHAIN_IDS[settings.STACKS_NETWORK]
    ):
        raise SignInFailed(
            "The challenge was issued for another domain or chain.", code="challenge_unknown"
        )


def _check_signer(record: SignInChallenge, signature: str, key: bytes | None) -> None:
    try:
        recovered = public_key_recover(message_hash(record.message), signature)
    except InvalidSignature as exc:
        raise SignInFailed(f"Signature does not verify: {exc}", code="signature_invalid") from exc
    if key is not None and key != recovered:
        raise SignInFailed("The signature was not made by publicKey.", code="public_key_mismatch")
    if public_key_to_address(recovered, single_sig_version()) != record.address:
        raise SignInFailed(
            "The signature was not made by the key of this address.", code="address_mismatch"
        )


def _challenge_consume(record: SignInChallenge) -> None:
    now = timezone.now()
    used = SignInChallenge.objects.filter(
        pk=record.pk,
        used_at__isnull=True,
        expires_at__gt=now - settings.AUTH["CLOCK_SKEW"],
    ).update(used_at=now)
    if used != 1:
        raise SignInFailed("This challenge was already used.", code="challenge_used")


@transaction.atomic
def sign_out(*, claims: TokenClaims) -> None:
    """Revoke the session's token and close the WebSockets it opened."""
    token_revoke(claims)
    session_revoked.send(sender=sign_out, jti=claims.jti)


def _ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def ws_ticket_issue(*, user: User, claims: TokenClaims) -> tuple[str, datetime]:
    ticket = secrets.token_urlsafe(32)
    expires_at = timezone.now() + settings.AUTH["WS_TICKET_TTL"]
    WebSocketTicket.objects.filter(expires_at__lt=timezone.now()).delete()
    WebSocketTicket.objects.create(
        ticket_hash=_ticket_hash(ticket), user=user, jti=claims.jti, expires_at=expires_at
    )
    return ticket, expires_at


@transaction.atomic
def ws_ticket_redeem(*, ticket: str) -> WebSocketTicket | None:
    """The ticket's record (with its user) if it is valid, consuming it; None otherwise."""
    if not ticket or len(ticket) > 128:
        return None
    now = timezone.now()
    found = WebSocketTicket.objects.filter(
        ticket_hash=_ticket_hash(ticket), used_at__isnull=True, expires_at__gt=now
    )
    if found.update(used_at=now) != 1:
        return None
    record = WebSocketTicket.objects.select_related("user").get(ticket_hash=_ticket_hash(ticket))
    if not record.user.is_active or token_is_revoked(record.jti):
        return None
    return record
