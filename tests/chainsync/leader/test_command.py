"""run_indexer: --once under the lease, refused or forced under another leader, and SIGTERM
stopping a real process that releases its lease."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection

from chainsync.indexer import sync_once
from chainsync.lease import leader_acquire, leader_get
from chainsync.management.commands import run_indexer as run_indexer_command
from projects.models import Project
from tests.chainsync.leader.helpers import CONTRACT, lease_row, wait_for
from tests.chainsync.scenarios import fund, pending_project

# --- the command ----------------------------------------------------------------------------


@pytest.fixture
def indexer_settings(hiro, settings) -> None:
    settings.CHAINSYNC = {
        **settings.CHAINSYNC,
        "STACKS_API_URL": hiro.url,
        "STACKS_API_RATE_LIMIT": 0,
        "ESCROW_CONTRACT_ID": CONTRACT,
    }


def run_indexer(*args: str) -> str:
    out = io.StringIO()
    call_command("run_indexer", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_run_indexer_once_takes_the_lease_syncs_and_releases_it(
    hiro, indexer_settings, monkeypatch
):
    fund(hiro, pending_project())
    leaders: list[str] = []

    def watched(**kwargs):
        leaders.append(leader_get(contract_id=CONTRACT)[0])
        return sync_once(**kwargs)

    monkeypatch.setattr(run_indexer_command, "sync_once", watched)
    run_indexer("--once", "--holder", "me")
    assert Project.objects.get().status == "active"
    assert leaders == ["me"] and leader_get(contract_id=CONTRACT) == ("", None)


@pytest.mark.django_db
def test_run_indexer_once_under_another_leader_says_so_and_does_not_sync(hiro, indexer_settings):
    fund(hiro, pending_project())
    leader_acquire(contract_id=CONTRACT, holder="other:1:ab", ttl=30)
    out = run_indexer("--once")
    assert "other:1:ab leads" in out and "not syncing" in out
    assert hiro.requests == [] and Project.objects.get().status == "pending"
    assert lease_row().leader == "other:1:ab"


@pytest.mark.django_db
def test_run_indexer_once_forced_syncs_and_leaves_the_other_lease_alone(hiro, indexer_settings):
    fund(hiro, pending_project())
    leader_acquire(contract_id=CONTRACT, holder="other:1:ab", ttl=30)
    out = run_indexer("--once", "--force")
    assert "syncing anyway" in out and Project.objects.get().status == "active"
    assert lease_row().leader == "other:1:ab"


def _database_env() -> dict[str, str]:
    """The environment that points a child process at this test's database."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return {"SQLITE_PATH": db["NAME"]}
    auth = f"{db['USER']}:{db['PASSWORD']}@" if db["PASSWORD"] else f"{db['USER']}@"
    return {"DATABASE_URL": f"postgres://{auth}{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"}


def _indexer_env(hiro) -> dict[str, str]:
    """A child run_indexer's environment: this test's database, the fake API, a 30 s poll."""
    return {
        **os.environ,
        **_database_env(),
        "STACKS_API_URL": hiro.url,
        "STACKS_API_RATE_LIMIT": "0",
        "ESCROW_CONTRACT_ID": CONTRACT,
        "INDEXER_POLL_SECONDS": "30",
    }


@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_the_indexer_at_once_and_releases_its_lease(hiro):
    # given: the indexer running in its own process, leading
    env = _indexer_env(hiro)
    manage = Path(django_settings.BASE_DIR) / "manage.py"
    indexer = subprocess.Popen(
        [sys.executable, str(manage), "run_indexer", "--holder", "child"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: leader_get(contract_id=CONTRACT)[0] == "child" or indexer.poll())
        assert indexer.poll() is None, indexer.stderr.read().decode()
        # when
        indexer.send_signal(signal.SIGTERM)
        # then: it stops during its 30 s sleep, not after it
        assert indexer.wait(timeout=10) == 0
    finally:
        indexer.kill()
        indexer.wait()
    assert leader_get(contract_id=CONTRACT) == ("", None)


@pytest.mark.django_db(transaction=True)
def test_after_a_sigkill_a_restarted_indexer_takes_the_dead_ones_lease_at_once(hiro):
    # given: the indexer running in its own process, leading under its host:pid:random name,
    # with a lease of 60 s
    env = _indexer_env(hiro)
    command = [sys.executable, str(Path(django_settings.BASE_DIR) / "manage.py"), "run_indexer"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    second = None
    try:
        wait_for(lambda: f":{first.pid}:" in leader_get(contract_id=CONTRACT)[0] or first.poll())
        assert first.poll() is None, first.stderr.read().decode()
        # when: it is killed without a chance to release its lease, and another one starts
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert f":{first.pid}:" in leader_get(contract_id=CONTRACT)[0]  # the lease is left behind
        started = time.monotonic()
        second = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        # then: the new one leads within seconds, not after the 60 s TTL
        wait_for(
            lambda: f":{second.pid}:" in leader_get(contract_id=CONTRACT)[0] or second.poll(),
            seconds=15,
        )
        assert second.poll() is None, second.stderr.read().decode()
        assert time.monotonic() - started < 10
    finally:
        for process in (first, second):
            if process is not None:
                process.kill()
                process.wait()
