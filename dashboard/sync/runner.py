"""The one wrapper every job run goes through, manual or scheduled.

It holds the job's lease (single-flight across threads and processes), keeps a
run record with counts and progress for the page, turns every exception into a
recorded failure and never lets one escape into the scheduler thread.
"""

import importlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select, update

from dashboard import settings as settings_store
from dashboard.extensions import db
from dashboard.models.sync import (
    RUN_FAILED,
    RUN_INTERRUPTED,
    RUN_OK,
    RUN_PARTIAL,
    RUN_RUNNING,
    JobRun,
)
from dashboard.models.types import utcnow
from dashboard.pluggto.client import PluggtoClient
from dashboard.pluggto.errors import CredentialsRejected, PluggtoError
from dashboard.sync import claims
from dashboard.sync.api import CallRecorder, make_client

logger = logging.getLogger(__name__)

PROGRESS_SECONDS = 0.5
MAX_STORED_FAILURES = 500
INTERRUPTED_MESSAGE = "Interrompida: o programa foi encerrado durante a execução."


@dataclass(frozen=True)
class Job:
    """A named job: its pt-BR label and the function that does the work."""

    name: str
    label: str
    target: str  # "module:function", imported when the job runs
    kinds: tuple[str, ...] = ()

    def function(self) -> Callable[["JobContext"], None]:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)


JOBS: dict[str, Job] = {
    "products": Job(
        "products",
        "Produtos",
        "dashboard.catalog.jobs:push_products",
        ("product",),
    ),
    "prices": Job("prices", "Preços", "dashboard.catalog.jobs:push_prices", ("price",)),
    "stock": Job("stock", "Estoque", "dashboard.catalog.jobs:push_stock", ("stock",)),
    "orders": Job("orders", "Pedidos", "dashboard.orders.jobs:sync_orders"),
}


def job_for_kind(kind: str) -> Job | None:
    """Return the job that pushes items of a sync kind."""
    for job in JOBS.values():
        if kind in job.kinds:
            return job
    return JOBS["orders"] if kind.startswith("order") else None


@dataclass
class RunOutcome:
    """What a request to run a job led to."""

    started: bool
    run_id: int | None = None
    status: str | None = None
    message: str = ""


class Stop(Exception):
    """Raised inside a job to end the run early with a message."""


@dataclass
class _Counts:
    ok: int = 0
    failed: int = 0
    skipped: int = 0
    done: int = 0
    total: int = 0
    current: str | None = None
    failures: list[dict[str, str]] = field(default_factory=list)


class JobContext:
    """What a job function receives: settings, a client, counters, progress."""

    def __init__(self, app: Flask, run: JobRun, owner: str, only, stop_event):
        self.app = app
        self.run_id = run.id
        self.job = run.job
        self.trigger = run.trigger
        self.owner = owner
        self.only = list(only) if only is not None else None
        self.stop_event = stop_event or threading.Event()
        self.settings = settings_store.load()
        self.recorder = CallRecorder(run.id)
        self.counts = _Counts()
        self._lock = threading.Lock()
        self._client: PluggtoClient | None = None
        self._written_at = 0.0
        self.credentials_rejected: CredentialsRejected | None = None

    @property
    def concurrency(self) -> int:
        return self.settings.concurrency

    @property
    def client(self) -> PluggtoClient:
        """A client shared by the run's threads (lazily built)."""
        with self._lock:
            if self._client is None:
                self._client = make_client(self.settings, self.recorder)
            return self._client

    def now(self) -> datetime:
        return utcnow()

    def stopping(self) -> bool:
        """Tell whether the run should stop taking new items."""
        return self.stop_event.is_set() or self.credentials_rejected is not None

    # Counters and progress ------------------------------------------------

    def set_total(self, total: int) -> None:
        with self._lock:
            self.counts.total = total
        self.progress(force=True)

    def add_total(self, extra: int) -> None:
        with self._lock:
            self.counts.total += extra
        self.progress()

    def ok(self, label: str | None = None) -> None:
        self._count("ok", label)

    def skipped(self, label: str | None = None) -> None:
        self._count("skipped", label)

    def failed(self, key: str, message: str, label: str = "") -> None:
        with self._lock:
            if len(self.counts.failures) < MAX_STORED_FAILURES:
                self.counts.failures.append(
                    {"key": key, "label": label or key, "message": message}
                )
        self._count("failed", label or key)

    def _count(self, which: str, label: str | None) -> None:
        with self._lock:
            setattr(self.counts, which, getattr(self.counts, which) + 1)
            self.counts.done += 1
            if label:
                self.counts.current = label
        self.progress()

    def progress(self, current: str | None = None, force: bool = False) -> None:
        """Write counts to the run record, at most twice a second."""
        with self._lock:
            if current:
                self.counts.current = current
            now = time.monotonic()
            if not force and now - self._written_at < PROGRESS_SECONDS:
                return
            self._written_at = now
            values = self._values()
        with self.app.app_context():
            db.session.execute(
                update(JobRun).where(JobRun.id == self.run_id).values(**values)
            )
            db.session.commit()

    def _values(self) -> dict[str, Any]:
        counts = self.counts
        return {
            "total": max(counts.total, counts.done),
            "done": counts.done,
            "ok_count": counts.ok,
            "failed_count": counts.failed,
            "skipped_count": counts.skipped,
            "current_item": (counts.current or "")[:255] or None,
            "calls": self.recorder.count,
            "failures": list(counts.failures),
        }

    # Parallel work ---------------------------------------------------------

    def for_each(
        self,
        items: Iterable[Any],
        handle: Callable[[Any], None],
        *,
        group_of: Callable[[Any], str] | None = None,
        label_of: Callable[[Any], str] = str,
    ) -> None:
        """Call ``handle(item)`` for each item on ``concurrency`` threads.

        The items of one group go to one thread, in order, under the group's
        lease, so two pushes of the same group never overlap, even across
        processes; a group leased elsewhere is skipped and stays pending.
        ``handle`` records its own success or failure (ok()/failed()); an
        exception it lets escape counts as a failure of that item and the
        others go on.
        """
        lease = timedelta(seconds=self.app.config["GROUP_LEASE_SECONDS"])

        def work(unit: tuple[str | None, list[Any]]) -> None:
            group, members = unit
            key = f"group:{group}" if group is not None else None
            with self.app.app_context():
                try:
                    for item in members:
                        if self.stopping():
                            return
                        # Claimed again per item: a long family renews its lease.
                        if key and not claims.try_claim(key, self.owner, lease):
                            self.skipped(label_of(item))
                            continue
                        self._handle(item, handle, label_of(item))
                finally:
                    if key:
                        claims.release(key, self.owner)
                        db.session.commit()
                    db.session.remove()

        workers = max(1, self.concurrency)
        with ThreadPoolExecutor(workers, thread_name_prefix=f"sync-{self.job}") as pool:
            for _ in pool.map(work, _units(items, group_of)):
                pass
        if self.credentials_rejected is not None:
            raise self.credentials_rejected

    def _handle(self, item: Any, handle: Callable[[Any], None], label: str) -> None:
        try:
            handle(item)
        except CredentialsRejected as error:
            db.session.rollback()
            self.credentials_rejected = error
        except PluggtoError as error:
            db.session.rollback()
            self.failed(label, error.message)
        except Exception as error:  # one bad item never stops the rest
            db.session.rollback()
            logger.exception("Unexpected error on %s", label)
            self.failed(label, f"Erro inesperado: {error}")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self.recorder.flush()


def _units(
    items: Iterable[Any], group_of: Callable[[Any], str] | None
) -> list[tuple[str | None, list[Any]]]:
    """Split the items into work units: one per group, in first-seen order."""
    if group_of is None:
        return [(None, [item]) for item in items]
    units: dict[str, list[Any]] = {}
    for item in items:
        units.setdefault(group_of(item), []).append(item)
    return list(units.items())


def run_job(
    name: str,
    trigger: str,
    *,
    only: Iterable[str] | None = None,
    stop_event: threading.Event | None = None,
) -> RunOutcome:
    """Run a job now in this thread; refuse if it is already running."""
    app = current_app._get_current_object()
    begun = _begin(app, name, trigger)
    if begun is None:
        return RunOutcome(False, message=_busy_message(JOBS[name]))
    return _run_begun(app, begun, only, stop_event)


@dataclass(frozen=True)
class _Begun:
    """A run whose job lease is held and whose record exists."""

    job: Job
    run_id: int
    owner: str
    lease_key: str
    lease: timedelta


def _begin(app: Flask, name: str, trigger: str) -> _Begun | None:
    """Take the job's lease and open its run record; None if it is busy."""
    job = JOBS[name]
    owner = claims.new_owner()
    lease_key = f"job:{name}"
    lease = timedelta(seconds=app.config["JOB_LEASE_SECONDS"])
    if not claims.try_claim(lease_key, owner, lease):
        return None

    try:
        close_interrupted(name)
        run = JobRun(job=name, trigger=trigger, owner=owner, status=RUN_RUNNING)
        db.session.add(run)
        db.session.commit()
    except Exception:
        db.session.rollback()
        claims.release(lease_key, owner)
        db.session.commit()
        raise
    return _Begun(job, run.id, owner, lease_key, lease)


def _run_begun(app: Flask, begun: _Begun, only, stop_event) -> RunOutcome:
    """Execute a begun run, keeping its lease alive, then give the lease back."""
    try:
        run = db.session.get(JobRun, begun.run_id)
        stop_event = stop_event or app.extensions.get("shutdown")
        with _LeaseKeeper(app, begun.lease_key, begun.owner, begun.lease):
            return _execute(app, begun.job, run, begun.owner, only, stop_event)
    finally:
        claims.release(begun.lease_key, begun.owner)
        db.session.commit()


def _busy_message(job: Job) -> str:
    return (
        f"A sincronização de {job.label.lower()} já está em andamento; "
        "aguarde ela terminar."
    )


def _execute(app, job: Job, run: JobRun, owner, only, stop_event) -> RunOutcome:
    context = JobContext(app, run, owner, only, stop_event)
    status, message, detail = RUN_OK, "", None
    started = time.monotonic()
    try:
        job.function()(context)
    except CredentialsRejected as error:
        db.session.rollback()
        settings_store.mark_credentials_rejected(error.message)
        status, message, detail = RUN_FAILED, error.message, error.detail
    except PluggtoError as error:
        db.session.rollback()
        status, message, detail = RUN_FAILED, error.message, error.detail
    except Stop as stop:
        db.session.rollback()
        status, message = RUN_FAILED, str(stop)
    except Exception as error:  # never into the scheduler thread
        db.session.rollback()
        logger.exception("Job %s failed", job.name)
        status, message, detail = (
            RUN_FAILED,
            "Erro inesperado na sincronização.",
            repr(error),
        )
    finally:
        context.close()

    status = _final_status(status, context)
    _finish(run.id, context, status, message, detail)
    counts = context.counts
    logger.info(
        "Job %s (%s) %s in %.1f s: %d ok, %d failed, %d skipped, %d calls",
        job.name,
        run.trigger,
        status,
        time.monotonic() - started,
        counts.ok,
        counts.failed,
        counts.skipped,
        context.recorder.count,
    )
    return RunOutcome(True, run.id, status, message or _summary(context))


def _final_status(status: str, context: JobContext) -> str:
    if status != RUN_OK:
        return status
    if context.stop_event.is_set():
        return RUN_INTERRUPTED
    if context.counts.failed and context.counts.ok:
        return RUN_PARTIAL
    if context.counts.failed:
        return RUN_FAILED
    return RUN_OK


def _summary(context: JobContext) -> str:
    counts, calls = context.counts, context.recorder.count
    return (
        f"{counts.ok} ok, {counts.failed} com falha, "
        f"{_plural(counts.skipped, 'pulado', 'pulados')}, "
        f"{_plural(calls, 'chamada', 'chamadas')} à API."
    )


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _finish(run_id: int, context: JobContext, status, message, detail) -> None:
    values = context._values()
    values.update(
        status=status,
        finished_at=utcnow(),
        message=(message or _summary(context))[:2000],
        error_detail=(detail or None) and str(detail)[:4000],
        current_item=None,
    )
    db.session.execute(update(JobRun).where(JobRun.id == run_id).values(**values))
    db.session.commit()


def close_interrupted(name: str | None = None) -> int:
    """Close runs left 'running' by a process that died. Commits."""
    query = select(JobRun).where(JobRun.status == RUN_RUNNING)
    if name:
        query = query.where(JobRun.job == name)

    closed = 0
    for run in db.session.scalars(query):
        if claims.holder(f"job:{run.job}") == run.owner:
            continue  # still alive and renewing its lease
        run.status = RUN_INTERRUPTED
        run.finished_at = utcnow()
        run.message = INTERRUPTED_MESSAGE
        closed += 1
    db.session.commit()
    return closed


class _LeaseKeeper:
    """Renew a job lease in the background while the run is alive."""

    def __init__(self, app: Flask, key: str, owner: str, lease: timedelta) -> None:
        self.app, self.key, self.owner, self.lease = app, key, owner, lease
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"lease-{key}", daemon=True
        )

    def __enter__(self) -> "_LeaseKeeper":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        interval = self.lease.total_seconds() / 3
        while not self._stop.wait(interval):
            with self.app.app_context():
                try:
                    claims.try_claim(self.key, self.owner, self.lease)
                except Exception:
                    logger.exception("Could not renew lease %s", self.key)
                finally:
                    db.session.remove()


_threads: set[threading.Thread] = set()
_threads_lock = threading.Lock()


def start_in_background(
    name: str, trigger: str, only: Iterable[str] | None = None
) -> RunOutcome:
    """Start a run on its own thread unless the job is already running.

    The lease and the run record are taken here, before the thread starts, so
    two clicks never both start, and the page can show the run at once.
    """
    app = current_app._get_current_object()
    job = JOBS[name]
    begun = _begin(app, name, trigger)
    if begun is None:
        return RunOutcome(False, message=_busy_message(job))

    thread = threading.Thread(
        target=_background_target,
        args=(app, begun, only),
        name=f"run-{name}",
        daemon=True,
    )
    with _threads_lock:
        _threads.add(thread)
    try:
        thread.start()
    except RuntimeError:  # interpreter shutting down: no new threads
        _forget(thread)
        _abandon(begun)
        return RunOutcome(False, message="O painel está sendo encerrado.")
    return RunOutcome(
        True,
        begun.run_id,
        RUN_RUNNING,
        f"Sincronização de {job.label.lower()} iniciada.",
    )


def _background_target(app: Flask, begun: _Begun, only) -> None:
    with app.app_context():
        try:
            _run_begun(app, begun, only, None)
        except Exception:
            logger.exception("Background run of %s failed", begun.job.name)
        finally:
            db.session.remove()
            _forget(threading.current_thread())


def _forget(thread: threading.Thread) -> None:
    with _threads_lock:
        _threads.discard(thread)


def _abandon(begun: _Begun) -> None:
    """Close a run that could not start and give its lease back."""
    db.session.execute(
        update(JobRun)
        .where(JobRun.id == begun.run_id)
        .values(
            status=RUN_INTERRUPTED, finished_at=utcnow(), message=INTERRUPTED_MESSAGE
        )
    )
    claims.release(begun.lease_key, begun.owner)
    db.session.commit()


def active_runs() -> int:
    """Return how many background runs of this process are still going."""
    with _threads_lock:
        return sum(1 for thread in _threads if thread.is_alive())


def wait_for_runs(timeout: float) -> int:
    """Wait up to ``timeout`` seconds for background runs; return those left."""
    deadline = time.monotonic() + timeout
    with _threads_lock:
        threads = list(_threads)
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return active_runs()
