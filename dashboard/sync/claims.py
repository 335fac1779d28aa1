"""Leases on names, shared by threads and processes through the database.

A job run leases ``job:<name>`` so two runs of the same job never overlap, even
from two processes (the dashboard and a cron CLI); a push leases its product
family or order so the same SKU is never sent twice at once. A lease expires,
so a process killed with -9 does not block the next one forever.
"""

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects.sqlite import insert

from dashboard.extensions import db
from dashboard.models.sync import Claim
from dashboard.models.types import utcnow


def new_owner() -> str:
    """Return an owner name unique to this process and call."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def try_claim(
    key: str, owner: str, ttl: timedelta, now: datetime | None = None
) -> bool:
    """Take or renew a lease; return False if someone else holds it. Commits."""
    now = now or utcnow()
    taken = _take(key, owner, now + ttl, now)
    db.session.commit()
    if not taken:
        steal_if_dead(key)
        taken = _take(key, owner, now + ttl, now)
        db.session.commit()
    return taken


def _take(key: str, owner: str, expires_at: datetime, now: datetime) -> bool:
    # One statement: a lease is taken on every push, so it must be cheap.
    statement = insert(Claim).values(key=key, owner=owner, expires_at=expires_at)
    result = db.session.execute(
        statement.on_conflict_do_update(
            index_elements=[Claim.key],
            set_={"owner": owner, "expires_at": expires_at},
            where=or_(
                Claim.owner.is_(None), Claim.owner == owner, Claim.expires_at < now
            ),
        )
    )
    return result.rowcount == 1


def release(key: str, owner: str) -> None:
    """Give a lease back if we still hold it (no commit)."""
    db.session.execute(
        delete(Claim)
        .where(Claim.key == key, Claim.owner == owner)
        .execution_options(synchronize_session=False)
    )


def holder(key: str, now: datetime | None = None) -> str | None:
    """Return who holds a live lease on a name, if anyone."""
    claim = db.session.execute(
        select(Claim).where(Claim.key == key).execution_options(populate_existing=True)
    ).scalar()
    now = now or utcnow()
    if claim is None or claim.owner is None or claim.expires_at is None:
        return None
    if claim.expires_at < now or owner_is_dead(claim.owner):
        return None
    return claim.owner


def owner_is_dead(owner: str) -> bool:
    """Tell whether an owner is a process of this machine that no longer runs."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname()[:40] or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def steal_if_dead(key: str, now: datetime | None = None) -> None:
    """Expire a lease whose owner process died (kill -9, power cut). Commits."""
    claim = db.session.execute(
        select(Claim).where(Claim.key == key).execution_options(populate_existing=True)
    ).scalar()
    if claim is None or not claim.owner or not owner_is_dead(claim.owner):
        return
    db.session.execute(
        update(Claim)
        .where(Claim.key == key, Claim.owner == claim.owner)
        .values(owner=None, expires_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
