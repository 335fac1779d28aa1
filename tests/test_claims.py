"""Leases shared through the database by threads and processes."""

import os
import socket
import subprocess
import sys
from datetime import timedelta

import pytest

from dashboard.models.types import utcnow
from dashboard.sync import claims

MINUTE = timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _app(app):
    return app


def test_a_held_lease_refuses_another_owner():
    assert claims.try_claim("job:stock", "a", MINUTE)

    assert not claims.try_claim("job:stock", "b", MINUTE)
    assert claims.holder("job:stock") == "a"


def test_the_owner_can_renew_its_lease():
    claims.try_claim("job:stock", "a", MINUTE)

    assert claims.try_claim("job:stock", "a", MINUTE)


def test_a_released_lease_can_be_taken():
    claims.try_claim("job:stock", "a", MINUTE)

    claims.release("job:stock", "a")

    assert claims.try_claim("job:stock", "b", MINUTE)


def test_an_expired_lease_can_be_taken():
    claims.try_claim("job:stock", "a", MINUTE, now=utcnow() - timedelta(minutes=5))

    assert claims.holder("job:stock") is None
    assert claims.try_claim("job:stock", "b", MINUTE)


def test_a_lease_of_a_dead_process_is_taken_at_once():
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(finished.stdout)
    owner = f"{socket.gethostname()[:40]}:{dead_pid}:abc"
    claims.try_claim("job:products", owner, timedelta(hours=1))

    assert claims.owner_is_dead(owner)
    assert claims.try_claim("job:products", claims.new_owner(), MINUTE)


def test_a_lease_of_a_live_process_is_respected():
    owner = f"{socket.gethostname()[:40]}:{os.getppid()}:abc"
    claims.try_claim("job:products", owner, timedelta(hours=1))

    assert not claims.owner_is_dead(owner)
    assert not claims.try_claim("job:products", claims.new_owner(), MINUTE)
