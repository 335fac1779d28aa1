"""The background scheduler: one named daemon thread, stopped by an Event.

It uses a ``schedule.Scheduler`` instance (never the module-level default),
rebuilds the jobs whenever the settings change, writes a heartbeat the pages
can show, and hands each due job to ``start_in_background`` so a long product
push never delays the stock job. ``schedule`` does not catch exceptions, so
every tick is wrapped here.
"""

import logging
import threading
from datetime import datetime

import schedule
from flask import Flask

from dashboard import settings as settings_store
from dashboard.extensions import db
from dashboard.models.settings import Setting
from dashboard.models.types import utcnow
from dashboard.sync.runner import JOBS, close_interrupted, start_in_background

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "state.scheduler_heartbeat"
HEARTBEAT_SECONDS = 15
STALE_AFTER_SECONDS = 90


class BackgroundScheduler:
    """Run the automatic jobs at their intervals until stopped."""

    def __init__(self, app: Flask, stop_event: threading.Event) -> None:
        self.app = app
        self.stop_event = stop_event
        self.scheduler = schedule.Scheduler()
        self.version: int | None = None
        self._beat_at = 0.0
        self.thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def join(self, timeout: float | None = None) -> None:
        self.thread.join(timeout)

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
            self.stop_event.wait(1)
        logger.info("Scheduler stopped")

    def tick(self) -> None:
        """Reschedule if the settings changed, run what is due, beat."""
        settings = settings_store.load()
        if settings.version != self.version:
            self._reschedule(settings)
        self.scheduler.run_pending()
        self._heartbeat()

    def _reschedule(self, settings: settings_store.Settings) -> None:
        self.scheduler.clear()
        for name in JOBS:
            job_settings = settings.jobs[name]
            if job_settings.auto:
                self.scheduler.every(job_settings.interval).minutes.do(
                    self._run, name
                ).tag(name)
        self.version = settings.version
        logger.info("Jobs scheduled: %s", self.describe())

    def describe(self) -> str:
        return (
            ", ".join(
                f"{next(iter(job.tags))} every {job.interval} min"
                for job in self.scheduler.get_jobs()
            )
            or "none (manual only)"
        )

    def next_runs(self) -> dict[str, datetime]:
        """Return when each automatic job runs next (local naive times)."""
        return {next(iter(job.tags)): job.next_run for job in self.scheduler.get_jobs()}

    def _run(self, name: str) -> None:
        if settings_store.credentials_rejected():
            logger.warning("Skipping %s: credentials were rejected", name)
            return
        outcome = start_in_background(name, "scheduled")
        if not outcome.started:
            logger.info("Skipping scheduled %s: %s", name, outcome.message)

    def _heartbeat(self) -> None:
        now = utcnow()
        if now.timestamp() - self._beat_at < HEARTBEAT_SECONDS:
            return
        self._beat_at = now.timestamp()
        row = db.session.get(Setting, HEARTBEAT_KEY)
        if row is None:
            db.session.add(Setting(key=HEARTBEAT_KEY, value=now.isoformat()))
        else:
            row.value = now.isoformat()
        db.session.commit()


def last_heartbeat() -> datetime | None:
    """Return when the scheduler last ticked, if ever."""
    row = db.session.get(Setting, HEARTBEAT_KEY)
    if row is None or not row.value:
        return None
    return datetime.fromisoformat(row.value)


def start(app: Flask, stop_event: threading.Event) -> BackgroundScheduler:
    """Close runs a crash left open, then start the scheduler thread."""
    with app.app_context():
        closed = close_interrupted()
        if closed:
            logger.warning("Closed %d run(s) interrupted by a previous stop", closed)
    scheduler = BackgroundScheduler(app, stop_event)
    scheduler.start()
    return scheduler
