"""The background scheduler: one named daemon thread, stopped by an Event.

It uses a ``schedule.Scheduler`` instance (never the module-level default),
rebuilds the jobs whenever the settings change, writes a heartbeat the pages
can show, and hands each due job to ``start_in_background`` so a long product
push never delays the stock job. ``schedule`` does not catch exceptions, so
every tick and every dispatch is wrapped here.

``schedule`` keeps its times as naive local datetimes; this module speaks
aware UTC everywhere else and converts at the edge.
"""

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import schedule
from flask import Flask, current_app
from sqlalchemy import select

from dashboard import settings as settings_store
from dashboard.extensions import db
from dashboard.models.settings import Setting
from dashboard.models.sync import RUN_INTERRUPTED, RUN_RUNNING, JobRun
from dashboard.models.types import utcnow
from dashboard.sync import pruning
from dashboard.sync.runner import JOBS, close_interrupted, start_in_background

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "state.scheduler_heartbeat"
HEARTBEAT_SECONDS = 15
STALE_AFTER_SECONDS = 90
TICK_SECONDS = 1
# Leave the server a moment to come up, and do not start every job at once.
START_DELAY_SECONDS = 5
STAGGER_SECONDS = 5
PRUNE_EVERY_HOURS = 24
JOB_TAG = "job"
PRUNE_TAG = "prune"

Clock = Callable[[], datetime]


def _to_local(moment: datetime) -> datetime:
    """Return an aware UTC datetime as the naive local time ``schedule`` uses."""
    return moment.astimezone().replace(tzinfo=None)


def _to_utc(moment: datetime) -> datetime:
    """Return a naive local ``schedule`` time as an aware UTC datetime."""
    return moment.astimezone(UTC)


PAUSED_CREDENTIALS_MISSING = "credentials missing"
PAUSED_CREDENTIALS_REJECTED = "credentials rejected"
PAUSED_SETTINGS_INCOMPLETE = "settings incomplete"


def pause_reason(settings: settings_store.Settings) -> str:
    """Say why automatic runs are paused right now, or return ''."""
    if any(not getattr(settings, name) for name in settings_store.CREDENTIAL_FIELDS):
        return PAUSED_CREDENTIALS_MISSING
    if settings_store.credentials_rejected():
        return PAUSED_CREDENTIALS_REJECTED
    if settings.missing():
        return PAUSED_SETTINGS_INCOMPLETE
    return ""


def _last_started(name: str) -> datetime | None:
    return db.session.scalar(
        select(JobRun.started_at)
        .where(JobRun.job == name)
        .order_by(JobRun.id.desc())
        .limit(1)
    )


class BackgroundScheduler:
    """Run the automatic jobs at their intervals until stopped."""

    def __init__(
        self,
        app: Flask,
        stop_event: threading.Event,
        clock: Clock = utcnow,
        resume: set[str] | None = None,
    ) -> None:
        self.app = app
        self.stop_event = stop_event
        self.clock = clock
        self.started_at = clock()
        self.resume = set(resume or ())
        self.scheduler = schedule.Scheduler()
        self.version: int | None = None
        self._beat_at: datetime | None = None
        self._published: dict[str, str] | None = None
        self.thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        prune = self.scheduler.every(PRUNE_EVERY_HOURS).hours.do(self._prune)
        prune.tag(PRUNE_TAG)
        prune.next_run = _to_local(self.started_at)

    def start(self) -> None:
        self.thread.start()

    def join(self, timeout: float | None = None) -> None:
        self.thread.join(timeout)

    def alive(self) -> bool:
        return self.thread.is_alive()

    def _loop(self) -> None:
        logger.info("Scheduler started")
        while not self.stop_event.is_set():
            with self.app.app_context():
                try:
                    self.tick()
                except Exception:
                    logger.exception("Scheduler tick failed")
                finally:
                    db.session.remove()
            self.stop_event.wait(TICK_SECONDS)
        logger.info("Scheduler stopped")

    def tick(self) -> None:
        """Reschedule if the settings changed, run what is due, beat."""
        settings = settings_store.load()
        if settings.version != self.version:
            self._reschedule(settings)
        self._resume_interrupted(settings)
        self.scheduler.run_pending()
        self._heartbeat()

    # Scheduling -----------------------------------------------------------

    def _reschedule(self, settings: settings_store.Settings) -> None:
        self.scheduler.clear(JOB_TAG)
        position = 0
        for name in JOBS:
            job_settings = settings.jobs[name]
            if not job_settings.auto:
                continue
            job = self.scheduler.every(job_settings.interval).minutes.do(
                self._run, name
            )
            job.tag(JOB_TAG, name)
            job.next_run = _to_local(
                self._first_run(name, job_settings.interval, position)
            )
            position += 1
        self.version = settings.version
        logger.info("Jobs scheduled: %s", self.describe())

    def _first_run(self, name: str, interval: int, position: int) -> datetime:
        """Keep the rhythm of the last run; an overdue job runs soon."""
        now = self.clock()
        earliest = max(
            now, self.started_at + timedelta(seconds=START_DELAY_SECONDS)
        ) + timedelta(seconds=position * STAGGER_SECONDS)
        last = _last_started(name)
        if last is None:
            return earliest
        return max(earliest, last + timedelta(minutes=interval))

    def _jobs(self) -> list[schedule.Job]:
        return self.scheduler.get_jobs(JOB_TAG)

    @staticmethod
    def _name(job: schedule.Job) -> str:
        return next(tag for tag in job.tags if tag != JOB_TAG)

    def describe(self) -> str:
        """Say in one line which jobs run and how often (for the log)."""
        return (
            ", ".join(
                f"{self._name(job)} every {job.interval} min" for job in self._jobs()
            )
            or "none (manual only)"
        )

    def next_runs(self) -> dict[str, datetime]:
        """Return when each automatic job runs next (aware UTC)."""
        return {
            self._name(job): _to_utc(job.next_run)
            for job in self._jobs()
            if job.next_run is not None
        }

    # Running --------------------------------------------------------------

    def _run(self, name: str) -> None:
        """Start one scheduled run; never raise into ``schedule``."""
        try:
            self._dispatch(name, "scheduled")
        except Exception:
            logger.exception("Could not start scheduled %s", name)

    def _dispatch(self, name: str, trigger: str) -> bool:
        reason = pause_reason(settings_store.load())
        if reason:
            logger.info("Skipping %s run of %s: %s", trigger, name, reason)
            return False
        outcome = start_in_background(name, trigger)
        if not outcome.started:
            logger.info("Skipping %s run of %s: %s", trigger, name, outcome.message)
        return outcome.started

    def _resume_interrupted(self, settings: settings_store.Settings) -> None:
        """Run again, soon after start, the jobs a crash cut short."""
        if not self.resume:
            return
        if self.clock() < self.started_at + timedelta(seconds=START_DELAY_SECONDS):
            return
        names, self.resume = sorted(self.resume), set()
        for name in names:
            try:
                self._dispatch(name, "resume")
            except Exception:
                logger.exception("Could not resume %s", name)

    def _prune(self) -> None:
        try:
            pruning.prune(self.clock())
        except Exception:
            logger.exception("Pruning old records failed")

    # Heartbeat ------------------------------------------------------------

    def _heartbeat(self) -> None:
        """Write when we last ticked and the next runs, when due or changed."""
        now = self.clock()
        published = {name: at.isoformat() for name, at in self.next_runs().items()}
        due = self._beat_at is None or (
            (now - self._beat_at).total_seconds() >= HEARTBEAT_SECONDS
        )
        if not due and published == self._published:
            return

        value = json.dumps({"at": now.isoformat(), "next": published})
        row = db.session.get(Setting, HEARTBEAT_KEY)
        if row is None:
            db.session.add(Setting(key=HEARTBEAT_KEY, value=value))
        else:
            row.value = value
        db.session.commit()
        self._beat_at, self._published = now, published


@dataclass
class Heartbeat:
    """What the scheduler last published."""

    at: datetime | None = None
    next_runs: dict[str, datetime] = field(default_factory=dict)


def read_heartbeat() -> Heartbeat:
    """Return the scheduler's last heartbeat, if any."""
    row = db.session.get(Setting, HEARTBEAT_KEY)
    if row is None or not row.value:
        return Heartbeat()
    try:
        data = json.loads(row.value)
        return Heartbeat(
            datetime.fromisoformat(data["at"]),
            {name: datetime.fromisoformat(at) for name, at in data["next"].items()},
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        logger.warning("Unreadable scheduler heartbeat: %r", row.value[:100])
        return Heartbeat()


def last_heartbeat() -> datetime | None:
    """Return when the scheduler last ticked, if ever."""
    return read_heartbeat().at


@dataclass
class SchedulerStatus:
    """What the pages say about the scheduler."""

    expected: bool  # this process started a scheduler
    stopped: bool  # ... and it has gone silent
    heartbeat: Heartbeat


def status(now: datetime | None = None) -> SchedulerStatus:
    """Tell whether the scheduler this server started is still ticking."""
    now = now or utcnow()
    heartbeat = read_heartbeat()
    running: BackgroundScheduler | None = current_app.extensions.get("scheduler")
    if running is None:
        return SchedulerStatus(False, False, heartbeat)

    last_sign = max(filter(None, (heartbeat.at, running.started_at)))
    silent = (now - last_sign).total_seconds() > STALE_AFTER_SECONDS
    stopping = running.stop_event.is_set()
    stopped = not stopping and (silent or not running.alive())
    return SchedulerStatus(True, stopped, heartbeat)


def interrupted_jobs() -> set[str]:
    """Close runs a crash left open; return the jobs they belonged to."""
    open_ids = list(
        db.session.scalars(select(JobRun.id).where(JobRun.status == RUN_RUNNING))
    )
    if not open_ids or not close_interrupted():
        return set()
    return set(
        db.session.scalars(
            select(JobRun.job).where(
                JobRun.id.in_(open_ids), JobRun.status == RUN_INTERRUPTED
            )
        )
    )


def start(app: Flask, stop_event: threading.Event) -> BackgroundScheduler:
    """Close runs a crash left open, then start the scheduler thread."""
    with app.app_context():
        resume = interrupted_jobs()
        if resume:
            logger.warning(
                "Runs of %s were interrupted by a previous stop; resuming them soon",
                ", ".join(sorted(resume)),
            )
        db.session.remove()
    scheduler = BackgroundScheduler(app, stop_event, resume=resume)
    app.extensions["scheduler"] = scheduler
    scheduler.start()
    return scheduler
