"""The lease in the database: one holder at a time, renewed while it works, taken over once
it lapses."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from chainsync.lease import (
    Lease,
    LeaseLost,
    holder_gone,
    leader_acquire,
    leader_get,
    leader_holder_new,
    leader_release,
    leader_ttl,
)
from chainsync.models import SyncState
from tests.chainsync.leader.helpers import CONTRACT, Clock, lapse, lease_row, seconds_left

# --- the lease ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_free_lease_is_taken_and_its_row_created():
    assert not SyncState.objects.exists()
    assert leader_acquire(contract_id=CONTRACT, holder="a", ttl=30)
    assert lease_row().leader == "a"
    assert 25 < seconds_left() <= 30


@pytest.mark.django_db
def test_the_holder_renews_its_lease():
    leader_acquire(contract_id=CONTRACT, holder="a", ttl=30)
    SyncState.objects.update(lease_expires_at=timezone.now() + timedelta(seconds=1))
    assert leader_acquire(contract_id=CONTRACT, holder="a", ttl=30)
    assert 25 < seconds_left() <= 30


@pytest.mark.django_db
def test_another_holder_is_refused_while_the_lease_runs():
    leader_acquire(contract_id=CONTRACT, holder="a", ttl=30)
    expires = lease_row().lease_expires_at
    assert not leader_acquire(contract_id=CONTRACT, holder="b", ttl=30)
    assert (lease_row().leader, lease_row().lease_expires_at) == ("a", expires)


@pytest.mark.django_db
def test_a_lapsed_lease_is_taken_over_and_its_old_holder_cannot_renew_it():
    leader_acquire(contract_id=CONTRACT, holder="a", ttl=30)
    lapse()
    assert leader_acquire(contract_id=CONTRACT, holder="b", ttl=30)
    assert not leader_acquire(contract_id=CONTRACT, holder="a", ttl=30)
    assert leader_get(contract_id=CONTRACT)[0] == "b"


@pytest.mark.django_db
def test_only_the_holder_releases_and_a_released_lease_is_free_at_once():
    leader_acquire(contract_id=CONTRACT, holder="a", ttl=30)
    assert not leader_release(contract_id=CONTRACT, holder="b")
    assert lease_row().leader == "a"
    assert leader_release(contract_id=CONTRACT, holder="a")
    assert leader_get(contract_id=CONTRACT) == ("", None)
    assert leader_acquire(contract_id=CONTRACT, holder="b", ttl=30)


def test_holder_names_name_the_host_and_process_and_differ(monkeypatch):
    first, second = leader_holder_new(), leader_holder_new()
    assert first.startswith(f"{socket.gethostname()[:80]}:{os.getpid()}:") and first != second
    monkeypatch.setattr(socket, "gethostname", lambda: "h" * 255)
    assert len(leader_holder_new()) <= SyncState._meta.get_field("leader").max_length


def _here(pid: int) -> str:
    return f"{socket.gethostname()[:80]}:{pid}:0123abcd"


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_a_holder_is_gone_only_when_its_process_on_this_host_is():
    assert holder_gone(_here(_dead_pid()))
    assert not holder_gone(_here(os.getppid()))  # alive
    assert not holder_gone(_here(os.getpid()))  # this process: another of its holders
    assert not holder_gone(f"elsewhere-{socket.gethostname()}:{_dead_pid()}:0123abcd")
    assert not holder_gone("child") and not holder_gone("a:b:c") and not holder_gone("")


def test_a_killed_holder_not_yet_reaped_is_gone():
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert not holder_gone(_here(child.pid))
        child.send_signal(signal.SIGKILL)
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # dead, left a zombie
        assert holder_gone(_here(child.pid))
    finally:
        child.kill()
        child.wait()


@pytest.mark.django_db
def test_the_running_lease_of_a_dead_holder_on_this_host_is_taken_at_once(caplog):
    dead, alive = _here(_dead_pid()), _here(os.getppid())
    assert leader_acquire(contract_id=CONTRACT, holder=dead, ttl=60)
    assert leader_acquire(contract_id=CONTRACT, holder="b", ttl=60)
    assert lease_row().leader == "b" and seconds_left() > 50
    assert f"b takes the lease of {dead}" in caplog.text
    # an alive holder, or one of another host, is waited for as before
    leader_release(contract_id=CONTRACT, holder="b")
    for holder in (alive, f"other-host:{_dead_pid()}:0123abcd"):
        leader_release(contract_id=CONTRACT, holder=lease_row().leader)
        assert leader_acquire(contract_id=CONTRACT, holder=holder, ttl=60)
        assert not leader_acquire(contract_id=CONTRACT, holder="c", ttl=60)
        assert lease_row().leader == holder


def test_the_ttl_comes_from_the_settings_with_a_default(settings):
    conf = {k: v for k, v in settings.CHAINSYNC.items() if k != "LEADER_TTL_SECONDS"}
    with override_settings(CHAINSYNC=conf):
        assert leader_ttl() == 60.0
    with override_settings(CHAINSYNC={**conf, "LEADER_TTL_SECONDS": 5}):
        assert leader_ttl() == 5.0


@pytest.mark.django_db
def test_a_held_lease_is_renewed_only_once_a_third_of_its_ttl_has_passed(
    django_assert_num_queries,
):
    clock = Clock()
    lease = Lease(contract_id=CONTRACT, holder="a", ttl=30, clock=clock)
    assert lease.acquire()
    SyncState.objects.update(lease_expires_at=timezone.now() + timedelta(seconds=1))
    clock.now += 9
    with django_assert_num_queries(0):
        lease.keep()
    clock.now += 1
    lease.keep()
    assert lease.renewed_at == clock.now and 25 < seconds_left() <= 30


@pytest.mark.django_db
def test_keeping_a_lease_another_holder_took_raises_lease_lost():
    clock = Clock()
    lease = Lease(contract_id=CONTRACT, holder="a", ttl=30, clock=clock)
    lease.acquire()
    lapse()
    leader_acquire(contract_id=CONTRACT, holder="b", ttl=30)
    clock.now += 31  # paused past the TTL
    with pytest.raises(LeaseLost, match="b leads"):
        lease.keep()
    assert not lease.held
