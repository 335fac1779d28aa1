"""Delete old run and API call records so the database does not grow forever.

Deletes go in small batches, each its own short transaction, so a first prune
of months of records never holds SQLite's write lock for long. The latest run
of each job is kept whatever its age: the overview still shows it.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from dashboard.extensions import db
from dashboard.models.sync import RUN_RUNNING, ApiCall, JobRun
from dashboard.models.types import utcnow

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000


@dataclass(frozen=True)
class PruneResult:
    """How many records a prune deleted."""

    runs: int
    calls: int


def cutoff(now: datetime, retention_days: int) -> datetime:
    """Return the moment before which records are deleted."""
    return now - timedelta(days=retention_days)


def prune(
    now: datetime | None = None, retention_days: int | None = None
) -> PruneResult:
    """Delete run and API call records older than the retention period."""
    now = now or utcnow()
    if retention_days is None:
        retention_days = current_app.config["RETENTION_DAYS"]
    before = cutoff(now, retention_days)

    result = PruneResult(runs=_prune_runs(before), calls=_prune_calls(before))
    if result.runs or result.calls:
        logger.info(
            "Pruned %d run(s) and %d API call(s) older than %d days",
            result.runs,
            result.calls,
            retention_days,
        )
    return result


def _prune_runs(before: datetime) -> int:
    latest_per_job = select(func.max(JobRun.id)).group_by(JobRun.job)
    old = (
        select(JobRun.id)
        .where(
            JobRun.started_at < before,
            JobRun.status != RUN_RUNNING,
            JobRun.id.not_in(latest_per_job),
        )
        .limit(BATCH_SIZE)
    )
    return _delete_in_batches(JobRun, old)


def _prune_calls(before: datetime) -> int:
    old = select(ApiCall.id).where(ApiCall.at < before).limit(BATCH_SIZE)
    return _delete_in_batches(ApiCall, old)


def _delete_in_batches(model, ids_query) -> int:
    deleted = 0
    while True:
        result = db.session.execute(
            delete(model)
            .where(model.id.in_(ids_query.scalar_subquery()))
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        deleted += result.rowcount
        if result.rowcount < BATCH_SIZE:
            return deleted
