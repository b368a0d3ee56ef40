"""Rate limits on the sign-in endpoints, per client IP and per claimed address. Counters live in
the default cache: per process in the embedded setup, shared through Redis in production."""

from __future__ import annotations

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from stacks.c32 import InvalidAddress, address_normalize


class _AuthThrottle(SimpleRateThrottle):
    setting: str

    def get_rate(self) -> str:
        return settings.AUTH[self.setting]

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        ident = self.ident(request)
        if ident is None:
            return None
        return f"throttle:{self.setting}:{view.__class__.__name__}:{ident}"

    def ident(self, request: Request) -> str | None:
        raise NotImplementedError


class AuthIpThrottle(_AuthThrottle):
    setting = "RATE_PER_IP"

    def ident(self, request: Request) -> str | None:
        return self.get_ident(request)


class AuthAddressThrottle(_AuthThrottle):
    setting = "RATE_PER_ADDRESS"

    def ident(self, request: Request) -> str | None:
        address = request.data.get("address") if isinstance(request.data, dict) else None
        if not isinstance(address, str) or not address:
            return None
        try:  # look-alike spellings (O for 0, lower case) count as the same address
            return address_normalize(address.strip())
        except InvalidAddress:
            return address.strip().upper()[:64]
