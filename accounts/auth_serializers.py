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
    signature = serializers.CharField(max_length=200, help_text="65-byte RSV signature, hex.")
    challenge = serializers.CharField(
        max_length=4096, trim_whitespace=False, help_text="The exact text that was signed."
    )
    publicKey = serializers.CharField(source="public_key", max_length=200, required=False)
    nonce = serializers.CharField(max_length=64, required=False)


class SessionOutput(serializers.Serializer):
    token = serializers.CharField()
    expiresAt = serializers.DateTimeField()
    user = UserOutput()


class TicketOutput(serializers.Serializer):
    ticket = serializers.CharField()
    expiresAt = serializers.DateTimeField()
