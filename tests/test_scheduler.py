"""The background scheduler, driven tick by tick with a controlled clock."""

import socket
import subprocess
import sys
import threading
import types
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dashboard import settings as settings_store
from dashboard.extensions import db
from dashboard.models.sync import JobRun
from dashboard.settings import JobSettings
from dashboard.sync import runner, scheduler
from dashboard.sync.runner import RunOutcome
from tests.conftest import CREDENTIALS


class Clock:
    """A clock the test moves by hand, starting at the real time.

    ``schedule`` compares its next runs with the real clock, so the test clock
    starts there; a test makes a job due by moving its next run (make_due).
    """

    def __init__(self) -> None:
        self.start = self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class Dispatches(list):
    """Stands in for start_in_background and records what it was asked."""

    def __init__(self, fail_for: str = "") -> None:
        super().__init__()
        self.fail_for = fail_for

    def __call__(self, name, trigger, only=None) -> RunOutcome:
        if name == self.fail_for:
            raise RuntimeError("database is locked")
        self.append((name, trigger))
        return RunOutcome(True, 1, "running", "iniciada")


@pytest.fixture
def use_stock_body(monkeypatch):
    """Point the real stock job at a function the test provides."""
    module = types.ModuleType("fake_scheduler_job")
    monkeypatch.setitem(sys.modules, "fake_scheduler_job", module)
    monkeypatch.setitem(
        runner.JOBS,
        "stock",
        runner.Job("stock", "Estoque", "fake_scheduler_job:body", ("stock",)),
    )

    def use(function):
        module.body = function

    return use


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def dispatches(monkeypatch):
    recorder = Dispatches()
    monkeypatch.setattr(scheduler, "start_in_background", recorder)
    return recorder


@pytest.fixture
def pruned(monkeypatch):
    calls = []
    monkeypatch.setattr(scheduler.pruning, "prune", calls.append)
    return calls


@pytest.fixture
def background(app, clock, pruned):
    return scheduler.BackgroundScheduler(app, threading.Event(), clock=clock)


def set_jobs(**jobs: tuple[bool, int]) -> None:
    settings_store.save(
        {
            "jobs": {
                name: JobSettings(auto, interval)
                for name, (auto, interval) in jobs.items()
            }
        }
    )


def make_due(background, name: str) -> None:
    """Move a job's next run into the past (``schedule`` reads the real clock)."""
    job = next(job for job in background.scheduler.jobs if name in job.tags)
    job.next_run = datetime.now() - timedelta(seconds=1)


def add_run(
    job: str, started_at: datetime, owner: str = "gone:1:x", **values
) -> JobRun:
    run = JobRun(job=job, trigger="scheduled", owner=owner, started_at=started_at)
    for name, value in values.items():
        setattr(run, name, value)
    db.session.add(run)
    db.session.commit()
    return run


def dead_owner() -> str:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return f"{socket.gethostname()[:40]}:{process.pid}:deadbeef0000"


# Scheduling ------------------------------------------------------------------


def test_only_the_automatic_jobs_are_scheduled(background):
    set_jobs(products=(False, 10), orders=(True, 7))

    background.tick()

    assert set(background.next_runs()) == {"prices", "stock", "orders"}
    assert "orders every 7 min" in background.describe()


def test_a_changed_setting_reschedules_without_a_restart(background):
    background.tick()

    set_jobs(stock=(True, 30), orders=(False, 5))
    background.tick()

    jobs = {scheduler.BackgroundScheduler._name(job): job for job in background._jobs()}
    assert jobs["stock"].interval == 30
    assert "orders" not in jobs


def test_nothing_is_rescheduled_when_the_settings_did_not_change(background):
    background.tick()
    first = background._jobs()

    background.tick()

    assert background._jobs() == first


def test_a_job_that_never_ran_starts_soon_after_start_one_after_another(
    background, clock
):
    background.tick()

    next_runs = background.next_runs()
    delay = timedelta(seconds=scheduler.START_DELAY_SECONDS)
    step = timedelta(seconds=scheduler.STAGGER_SECONDS)
    assert next_runs["products"] == clock.start + delay
    assert next_runs["prices"] == clock.start + delay + step
    assert next_runs["orders"] == clock.start + delay + 3 * step


def test_a_job_keeps_the_rhythm_of_its_last_run(background, clock):
    add_run("stock", clock.start - timedelta(minutes=2), status="ok")

    background.tick()

    assert background.next_runs()["stock"] == clock.start + timedelta(minutes=3)


def test_an_overdue_job_runs_soon(background, clock):
    add_run("products", clock.start - timedelta(hours=3), status="ok")

    background.tick()

    assert background.next_runs()["products"] == clock.start + timedelta(seconds=5)


# Running ---------------------------------------------------------------------


def test_a_due_job_is_handed_to_a_background_run(background, configured, dispatches):
    background.tick()
    make_due(background, "stock")

    background.tick()

    assert dispatches == [("stock", "scheduled")]
    assert background.next_runs()["stock"] > datetime.now(UTC)


def test_jobs_pause_while_the_credentials_are_rejected(
    background, configured, dispatches
):
    settings_store.mark_credentials_rejected("Credenciais recusadas.")
    background.tick()
    make_due(background, "stock")

    background.tick()

    assert dispatches == []


def test_jobs_pause_while_the_credentials_were_never_configured(background, dispatches):
    background.tick()
    make_due(background, "orders")

    background.tick()

    assert dispatches == []
    reason = scheduler.pause_reason(settings_store.load())
    assert reason == scheduler.PAUSED_CREDENTIALS_MISSING


def test_one_missing_credential_is_enough_to_pause(background, dispatches):
    settings_store.save({k: v for k, v in CREDENTIALS.items() if k != "api_secret"})
    background.tick()
    make_due(background, "stock")

    background.tick()

    assert dispatches == []
    reason = scheduler.pause_reason(settings_store.load())
    assert reason == scheduler.PAUSED_CREDENTIALS_MISSING


def test_jobs_wait_until_the_store_domain_is_set(background, configured, dispatches):
    settings_store.save({"store_domain": ""})
    background.tick()
    make_due(background, "products")

    background.tick()

    assert dispatches == []
    reason = scheduler.pause_reason(settings_store.load())
    assert reason == scheduler.PAUSED_SETTINGS_INCOMPLETE


def test_a_scheduled_run_is_refused_while_a_manual_one_goes_on(
    app, background, configured, use_stock_body
):
    release = threading.Event()
    use_stock_body(lambda ctx: release.wait(10))
    manual = runner.start_in_background("stock", "manual")
    background.tick()
    make_due(background, "stock")

    background.tick()

    release.set()
    assert runner.wait_for_runs(10) == 0
    runs = db.session.scalars(select(JobRun.trigger).where(JobRun.job == "stock"))
    assert manual.started and list(runs) == ["manual"]
    assert background.next_runs()["stock"] > datetime.now(UTC)


def test_a_failing_dispatch_does_not_stop_the_other_jobs(
    background, configured, monkeypatch
):
    recorder = Dispatches(fail_for="prices")
    monkeypatch.setattr(scheduler, "start_in_background", recorder)
    background.tick()
    for name in ("prices", "stock"):
        make_due(background, name)

    background.tick()

    assert recorder == [("stock", "scheduled")]
    assert background.next_runs()["prices"] > datetime.now(UTC)


def test_a_busy_job_is_skipped_quietly(background, configured, monkeypatch):
    def busy(name, trigger, only=None):
        return RunOutcome(False, message="já está em andamento")

    monkeypatch.setattr(scheduler, "start_in_background", busy)
    background.tick()
    make_due(background, "stock")

    background.tick()

    assert background.next_runs()["stock"] > datetime.now(UTC)


def test_old_records_are_pruned_at_start_and_then_daily(background, pruned, clock):
    background.tick()
    background.tick()

    assert pruned == [clock.start]
    prune_job = background.scheduler.get_jobs(scheduler.PRUNE_TAG)[0]
    assert prune_job.interval == scheduler.PRUNE_EVERY_HOURS


# Interrupted runs ------------------------------------------------------------


def test_a_run_left_running_by_a_crash_is_closed_and_resumed_soon(
    app, clock, configured, dispatches, pruned
):
    crashed = add_run("stock", clock.start - timedelta(minutes=1), owner=dead_owner())

    resume = scheduler.interrupted_jobs()
    background = scheduler.BackgroundScheduler(
        app, threading.Event(), clock=clock, resume=resume
    )
    background.tick()
    first_tick = list(dispatches)
    clock.advance(seconds=scheduler.START_DELAY_SECONDS)
    background.tick()
    background.tick()

    assert resume == {"stock"}
    assert db.session.get(JobRun, crashed.id).status == "interrupted"
    assert first_tick == []
    assert dispatches == [("stock", "resume")]


def test_nothing_is_resumed_when_no_run_was_left_open(app, clock):
    add_run("stock", clock.start, status="ok")

    assert scheduler.interrupted_jobs() == set()


# Heartbeat and status --------------------------------------------------------


def test_the_heartbeat_carries_the_time_and_the_next_runs(background, clock):
    background.tick()

    heartbeat = scheduler.read_heartbeat()
    assert heartbeat.at == clock.start
    assert heartbeat.next_runs == background.next_runs()
    assert scheduler.last_heartbeat() == clock.start


def test_the_heartbeat_is_written_every_few_seconds_not_every_tick(background, clock):
    background.tick()
    clock.advance(seconds=5)
    background.tick()
    written = scheduler.last_heartbeat()
    clock.advance(seconds=scheduler.HEARTBEAT_SECONDS)
    background.tick()

    assert written == clock.start
    assert scheduler.last_heartbeat() == clock.start + timedelta(seconds=20)


def test_a_changed_schedule_is_published_at_once(background, clock):
    background.tick()
    clock.advance(seconds=2)
    set_jobs(stock=(False, 5))

    background.tick()

    assert "stock" not in scheduler.read_heartbeat().next_runs


def test_an_unreadable_heartbeat_counts_as_none(app):
    settings_store._write({scheduler.HEARTBEAT_KEY: "not json"})

    assert scheduler.read_heartbeat().at is None


def test_without_a_scheduler_in_this_process_nothing_is_expected(app):
    status = scheduler.status()

    assert not status.expected and not status.stopped


def test_a_scheduler_that_went_silent_is_reported_stopped(
    app, background, monkeypatch, clock
):
    app.extensions["scheduler"] = background
    monkeypatch.setattr(background, "alive", lambda: True)
    background.tick()

    fresh = scheduler.status(clock.start + timedelta(seconds=30))
    silent = scheduler.status(
        clock.start + timedelta(seconds=scheduler.STALE_AFTER_SECONDS + 1)
    )

    assert fresh.expected and not fresh.stopped
    assert silent.stopped


def test_a_dead_scheduler_thread_is_reported_stopped_at_once(app, background, clock):
    app.extensions["scheduler"] = background

    status = scheduler.status(clock.start)

    assert status.stopped


def test_a_scheduler_stopping_with_the_server_is_not_reported(app, background, clock):
    app.extensions["scheduler"] = background
    background.stop_event.set()

    assert not scheduler.status(clock.start).stopped


def test_the_thread_stops_when_the_event_is_set(app, pruned):
    stop = threading.Event()
    background = scheduler.start(app, stop)

    stop.set()
    background.join(timeout=5)

    assert background.thread.name == "scheduler" and background.thread.daemon
    assert not background.alive()
    assert app.extensions["scheduler"] is background
