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


@pytest.fixture(autouse=True)
def _responses_match_the_schema(request, monkeypatch):
    """Every response under /api/ an API test gets (through Django's or DRF's test client) must
    match the served OpenAPI: its status documented for the operation, its content type, its
    body. A test that means to see a response the schema does not describe marks itself
    `@pytest.mark.off_contract`."""
    if request.node.get_closest_marker("off_contract"):
        yield
        return
    from django.test.client import Client

    from tests.contract.validator import served_contract

    original = Client.request

    def checked(self, **environ):
        response = original(self, **environ)
        path = environ.get("PATH_INFO", "")
        if path.startswith("/api/") and not path.startswith(("/api/schema/", "/api/docs/")):
            method = environ.get("REQUEST_METHOD", "GET")
            unread = getattr(response, "streaming", False) or method == "HEAD"  # no body to check
            served_contract().check(
                method,
                path,
                response.status_code,
                response.get("Content-Type", ""),
                None if unread else response.content,
            )
        return response

    monkeypatch.setattr(Client, "request", checked)
    yield
