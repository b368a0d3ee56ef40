from __future__ import annotations

import os
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import UserFactory


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist each worker gets a Redis database of its own for the cache: tests clear
    the cache (FLUSHDB), which would wipe another worker's rate-limit counters mid-test."""
    from django.conf import settings

    worker = re.fullmatch(r"gw(\d+)", os.environ.get("PYTEST_XDIST_WORKER", ""))
    cache = settings.CACHES["default"]
    if worker and cache["BACKEND"].endswith("RedisCache"):
        url = urlsplit(cache["LOCATION"])
        db = int(url.path.strip("/") or 0) + 1 + int(worker[1])
        cache["LOCATION"] = url._replace(path=f"/{db}").geturl()


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for() -> Callable[[User | str], APIClient]:
    """An API client signed in as a user (or as the user with that address)."""

    def make(who: User | str) -> APIClient:
        user = who if isinstance(who, User) else UserFactory(address=who)
        api = APIClient()
        api.force_authenticate(user)
        return api

    return make


@pytest.fixture
def user() -> User:
    return UserFactory()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters live in the cache; every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """A new channel layer object per test: channels_redis keeps connection pools per event loop,
    and every async test (and every async_to_sync call) runs its own loop."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()
