"""Per-item sync state: what should be on Plugg.to versus what it acknowledged.

Catalog and order code *stage* the desired value of an item; a job selects the
items that are *due*, pushes them, then marks each one *sent* (storing the
fingerprint of exactly what was sent) or *failed*. A value staged while its push
is in flight keeps the item pending, so the change goes out on the next run.
"""

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, case, or_, select, update

from dashboard.extensions import db
from dashboard.models.sync import (
    STATE_FAILED,
    STATE_IGNORED,
    STATE_OK,
    STATE_PENDING,
    SyncItem,
)
from dashboard.models.types import utcnow
from dashboard.pluggto.errors import PluggtoError

RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=6)
STAGE_CHUNK = 500


@dataclass(frozen=True)
class Desired:
    """The value an item should have on Plugg.to."""

    kind: str
    key: str
    value: Any
    group_key: str = ""
    label: str = ""


def fingerprint(value: Any) -> str:
    """Return a stable short hash of a JSON-like value."""
    canonical = json.dumps(
        value, sort_keys=True, separators=(",", ":"), default=_canonical
    )
    return hashlib.sha1(canonical.encode("utf-8")).hexdigest()[:20]


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.quantize(Decimal("0.01")), "f")
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


def to_json(value: Any) -> Any:
    """Return a copy of a value that the JSON column can store."""
    return json.loads(json.dumps(value, default=_canonical))


def stage(desired: Desired) -> None:
    """Record one desired value (no commit)."""
    stage_many([desired])


def stage_many(items: Iterable[Desired]) -> int:
    """Record desired values in bulk; return how many changed (no commit)."""
    changed = 0
    batch: list[Desired] = []
    for item in items:
        batch.append(item)
        if len(batch) >= STAGE_CHUNK:
            changed += _stage_batch(batch)
            batch = []
    if batch:
        changed += _stage_batch(batch)
    return changed


def _stage_batch(batch: Sequence[Desired]) -> int:
    kinds = {item.kind for item in batch}
    keys = [item.key for item in batch]
    existing = {
        (row.kind, row.key): row
        for row in db.session.scalars(
            select(SyncItem).where(SyncItem.kind.in_(kinds), SyncItem.key.in_(keys))
        )
    }

    changed = 0
    now = utcnow()
    for item in batch:
        digest = fingerprint(item.value)
        row = existing.get((item.kind, item.key))
        if row is None:
            row = SyncItem(kind=item.kind, key=item.key, attempts=0, permanent=False)
            db.session.add(row)
            existing[(item.kind, item.key)] = row
        elif row.desired_hash == digest:
            _refresh_labels(row, item)
            continue
        changed += 1
        _apply_desired(row, item, digest, now)
    return changed


def _refresh_labels(row: SyncItem, item: Desired) -> None:
    if item.label and row.label != item.label:
        row.label = item.label
    if item.group_key and row.group_key != item.group_key:
        row.group_key = item.group_key


def _apply_desired(row: SyncItem, item: Desired, digest: str, now) -> None:
    row.group_key = item.group_key or item.key
    row.label = item.label or row.label or item.key
    row.desired_hash = digest
    row.desired_value = to_json(item.value)
    row.updated_at = now
    if digest == row.acked_hash:
        _reset(row, STATE_OK)
    else:
        _reset(row, STATE_PENDING)


def _reset(row: SyncItem, state: str) -> None:
    row.state = state
    row.attempts = 0
    row.permanent = False
    row.next_retry_at = None
    row.last_error = None
    row.error_detail = None


def due_query(kind: str, now: datetime, keys: Iterable[str] | None = None):
    """Select the items of a kind that should be pushed now."""
    query = select(SyncItem).where(
        SyncItem.kind == kind,
        SyncItem.state.in_((STATE_PENDING, STATE_FAILED)),
        or_(
            SyncItem.acked_hash.is_(None), SyncItem.acked_hash != SyncItem.desired_hash
        ),
        SyncItem.permanent.is_(False),
        or_(SyncItem.next_retry_at.is_(None), SyncItem.next_retry_at <= now),
    )
    if keys is not None:
        query = query.where(SyncItem.key.in_(list(keys)))
    return query.order_by(SyncItem.id)


def due(kind: str, now: datetime, keys: Iterable[str] | None = None) -> list[SyncItem]:
    """Return the items of a kind that should be pushed now."""
    return list(db.session.scalars(due_query(kind, now, keys)))


def mark_sent(kind: str, key: str, sent_value: Any, now: datetime) -> None:
    """Record that Plugg.to acknowledged a value (no commit).

    The state becomes ``ok`` only if nothing newer was staged meanwhile.
    """
    mark_sent_many(kind, [(key, sent_value)], now)


def mark_sent_many(kind: str, sent: Iterable[tuple[str, Any]], now: datetime) -> None:
    """Record several acknowledged values of one kind in one statement."""
    rows = [
        {
            "b_kind": kind,
            "b_key": key,
            "b_hash": fingerprint(value),
            "b_value": to_json(value),
            "b_now": now,
        }
        for key, value in sent
    ]
    if not rows:
        return
    # Core executemany on the session's connection with a statement built
    # once: one short hold of the write lock for a whole product family.
    db.session.flush()
    db.session.connection().execute(_MARK_SENT, rows)


def _mark_sent_statement():
    digest = bindparam("b_hash", type_=SyncItem.acked_hash.type)
    now = bindparam("b_now", type_=SyncItem.acked_at.type)
    return (
        update(SyncItem)
        .where(SyncItem.kind == bindparam("b_kind"), SyncItem.key == bindparam("b_key"))
        .values(
            acked_hash=digest,
            acked_value=bindparam("b_value", type_=SyncItem.acked_value.type),
            acked_at=now,
            state=case(
                (SyncItem.desired_hash == digest, STATE_OK),
                (SyncItem.state == STATE_IGNORED, STATE_IGNORED),
                else_=STATE_PENDING,
            ),
            attempts=0,
            permanent=False,
            next_retry_at=None,
            last_error=None,
            error_detail=None,
            last_attempt_at=now,
        )
    )


_MARK_SENT = _mark_sent_statement()


def mark_failed(kind: str, key: str, error: PluggtoError, now: datetime) -> None:
    """Record a failed push with its reason and next retry time (no commit)."""
    row = db.session.scalar(
        select(SyncItem).where(SyncItem.kind == kind, SyncItem.key == key)
    )
    if row is None:
        return
    row.attempts = (row.attempts or 0) + 1
    row.state = STATE_FAILED
    row.permanent = error.permanent
    row.last_error = error.message
    row.error_detail = error.detail or None
    row.last_attempt_at = now
    row.next_retry_at = None if error.permanent else now + backoff(row.attempts)


def backoff(attempts: int) -> timedelta:
    """Return how long to wait before the next try after N failures."""
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_CAP)


def retry(ids: Iterable[int]) -> int:
    """Make failed or ignored items due again now (no commit)."""
    result = db.session.execute(
        update(SyncItem)
        .where(
            SyncItem.id.in_(list(ids)),
            SyncItem.state.in_((STATE_FAILED, STATE_IGNORED)),
        )
        .values(
            state=STATE_PENDING,
            permanent=False,
            next_retry_at=None,
            attempts=0,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def ignore(ids: Iterable[int]) -> int:
    """Stop retrying items until their data changes (no commit)."""
    result = db.session.execute(
        update(SyncItem)
        .where(SyncItem.id.in_(list(ids)), SyncItem.state == STATE_FAILED)
        .values(state=STATE_IGNORED, next_retry_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount
