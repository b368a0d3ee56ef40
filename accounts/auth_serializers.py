from __future__ import annotations

from rest_framework import serializers

from accounts.serializers import UserOutput
from stxworx.serializers import StrictSerializer


class ChallengeInput(StrictSerializer):
    address = serializers.CharField(max_length=64)


class ChallengeOutput(serializers.Serializer):
    challenge = serializers.CharField()
    nonce = serializers.CharField()
    expiresAt = serializers.DateTimeField()


class VerifyInput(StrictSerializer):
    address = serializers.CharField(max_length=64)
    signature = serializers.RegexField(
        r"^(0[xX])?[0-9a-fA-F]{130}$", help_text="65-byte RSV signature, hex (0x optional)."
    )
    challenge = serializers.CharField(
        max_length=4096, trim_whitespace=False, help_text="The exact text that was signed."
    )
    publicKey = serializers.RegexField(
        r"^[0-9a-fA-F]{66}$", source="public_key", required=False, help_text="Compressed, hex."
    )
    nonce = serializers.RegexField(r"^[0-9a-f]{32}$", required=False)


class SessionOutput(serializers.Serializer):
    token = serializers.CharField()
    expiresAt = serializers.DateTimeField()
    user = UserOutput()


class TicketOutput(serializers.Serializer):
    ticket = serializers.CharField()
    expiresAt = serializers.DateTimeField()
