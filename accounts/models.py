from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, address: str, password: str | None = None, **extra: Any) -> User:
        from accounts.addresses import address_validate

        user = self.model(address=address_validate(address), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()  # wallet users never have a password
        user.save(using=self._db)
        return user

    def create_superuser(self, address: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(address, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person, keyed by their Stacks address. Staff may also have a password for the admin."""

    address = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=80, blank=True)
    bio = models.TextField(max_length=2000, blank=True)
    skills = models.JSONField(default=list, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "address"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.display_name or self.address


class RevokedToken(models.Model):
    """A signed-out JWT, kept until it would have expired anyway."""

    jti = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.jti


class SignInChallenge(models.Model):
    """A Sign-In-With-Stacks message issued for one address; single use, short-lived.
    Verification compares the signed text with `message` byte for byte, so nothing is parsed."""

    nonce = models.CharField(max_length=64, unique=True)
    address = models.CharField(max_length=64, db_index=True)
    message = models.TextField()
    domain = models.CharField(max_length=255)
    chain_id = models.PositiveBigIntegerField()
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.address} {self.nonce}"


class WebSocketTicket(models.Model):
    """A single-use, 30-second ticket that authenticates a WebSocket handshake (browsers cannot
    set headers there, and a JWT in a URL ends up in logs). Only its SHA-256 is stored."""

    ticket_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="ws_tickets")
    jti = models.CharField(max_length=64, help_text="The session (JWT) the ticket came from.")
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"ticket for {self.user_id}"
