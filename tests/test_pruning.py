"""Old run and API call records are deleted; recent ones and the latest stay."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models.sync import ApiCall, JobRun
from dashboard.models.types import utcnow
from dashboard.sync import pruning

DAY = timedelta(days=1)


@pytest.fixture
def now(app):
    return utcnow()


def add_run(job: str, age: timedelta, now, status: str = "ok") -> int:
    run = JobRun(
        job=job, trigger="scheduled", owner="x", status=status, started_at=now - age
    )
    db.session.add(run)
    db.session.commit()
    return run.id


def add_calls(count: int, age: timedelta, now) -> None:
    db.session.add_all(
        ApiCall(at=now - age, method="GET", path="/orders", status=200)
        for _ in range(count)
    )
    db.session.commit()


def run_ids() -> set[int]:
    return set(db.session.scalars(select(JobRun.id)))


def test_runs_older_than_the_retention_are_deleted(now):
    old = add_run("stock", 40 * DAY, now)
    recent = add_run("stock", 2 * DAY, now)

    result = pruning.prune(now, retention_days=30)

    assert run_ids() == {recent}
    assert result.runs == 1 and old not in run_ids()


def test_the_latest_run_of_each_job_is_kept_however_old(now):
    older = add_run("orders", 90 * DAY, now)
    latest = add_run("orders", 60 * DAY, now)

    pruning.prune(now, retention_days=30)

    assert run_ids() == {latest}
    assert older not in run_ids()


def test_a_run_still_going_is_never_deleted(now):
    going = add_run("products", 45 * DAY, now, status="running")
    add_run("products", DAY, now)

    pruning.prune(now, retention_days=30)

    assert going in run_ids()


def test_old_api_calls_are_deleted_in_batches(now, monkeypatch):
    monkeypatch.setattr(pruning, "BATCH_SIZE", 3)
    add_calls(10, 31 * DAY, now)
    add_calls(2, 29 * DAY, now)

    result = pruning.prune(now, retention_days=30)

    assert result.calls == 10
    assert db.session.scalar(select(db.func.count(ApiCall.id))) == 2


def test_the_retention_comes_from_the_config(app, now):
    app.config["RETENTION_DAYS"] = 7
    add_calls(1, 8 * DAY, now)
    add_calls(1, 6 * DAY, now)

    result = pruning.prune(now)

    assert result.calls == 1


def test_the_default_retention_is_thirty_days(app):
    assert app.config["RETENTION_DAYS"] == 30


def test_nothing_to_delete_deletes_nothing(now):
    result = pruning.prune(now)

    assert result == pruning.PruneResult(runs=0, calls=0)
