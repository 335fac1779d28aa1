"""Tables of the sync machinery: per-item state, leases, runs, API activity."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dashboard.extensions import db
from dashboard.models.types import SKU, UTCDateTime, utcnow

STATE_OK = "ok"
STATE_PENDING = "pending"
STATE_FAILED = "failed"
STATE_IGNORED = "ignored"
STATES = (STATE_OK, STATE_PENDING, STATE_FAILED, STATE_IGNORED)


class SyncItem(db.Model):
    """What should be on Plugg.to for one key of one kind, and what it has.

    ``kind`` is the kind of push (product content, price, stock, invoice...),
    ``key`` the SKU or order id it concerns and ``group_key`` the unit that is
    never pushed twice at once (a product family, an order).
    """

    __tablename__ = "sync_items"
    __table_args__ = (
        UniqueConstraint("kind", "key", name="uq_sync_items_kind_key"),
        Index("ix_sync_items_kind_state", "kind", "state"),
        Index("ix_sync_items_group_key", "group_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(SKU)
    group_key: Mapped[str] = mapped_column(SKU)
    label: Mapped[str] = mapped_column(String(255), default="")
    desired_hash: Mapped[str | None] = mapped_column(String(40))
    desired_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    acked_hash: Mapped[str | None] = mapped_column(String(40))
    acked_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(10), default=STATE_PENDING)
    last_error: Mapped[str | None] = mapped_column(Text)
    error_detail: Mapped[str | None] = mapped_column(Text)
    permanent: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Claim(db.Model):
    """A lease on a name (a job, a product family, an order) with an expiry."""

    __tablename__ = "claims"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(100))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


RUN_RUNNING = "running"
RUN_OK = "ok"
RUN_PARTIAL = "partial"
RUN_FAILED = "failed"
RUN_INTERRUPTED = "interrupted"


class JobRun(db.Model):
    """One run of a job, manual or scheduled, with its counts and outcome."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(20))
    trigger: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default=RUN_RUNNING)
    owner: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    ok_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    current_item: Mapped[str | None] = mapped_column(String(255))
    message: Mapped[str | None] = mapped_column(Text)
    error_detail: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[Any] = mapped_column(JSON, nullable=True)


class ApiCall(db.Model):
    """One HTTP exchange with Plugg.to, without bodies or secrets."""

    __tablename__ = "api_calls"
    __table_args__ = (Index("ix_api_calls_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    run_id: Mapped[int | None] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(600))
    status: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(300))
