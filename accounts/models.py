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
