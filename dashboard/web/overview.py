"""Visão geral: one panel per job with live progress, totals and a 7-day chart.

A job's status region polls itself every second only while its run is going
and stops when the server answers with the finished state. A slow watcher
notices runs the scheduler starts, and new banners (a scheduler that stopped),
while the page stays open.
"""

import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, flash, redirect, request, url_for
from sqlalchemy import func, select

from dashboard import settings as settings_store
from dashboard.catalog.stats import catalog_totals
from dashboard.extensions import db
from dashboard.models.sync import RUN_RUNNING, STATE_FAILED, JobRun, SyncItem
from dashboard.models.types import utcnow
from dashboard.orders.stats import order_totals, orders_per_day
from dashboard.sync import claims, scheduler
from dashboard.sync.report import item_counts
from dashboard.sync.runner import JOBS, RunOutcome, job_for_kind, start_in_background
from dashboard.web.banners import banners
from dashboard.web.charts import DAYS, activity_charts
from dashboard.web.rendering import render, wants_fragment
from dashboard.web.run_labels import template_helpers

bp = Blueprint("overview", __name__)

PAUSE_TEXTS = {
    scheduler.PAUSED_CREDENTIALS_MISSING: (
        "Pausada: faltam as credenciais do Plugg.to (Configurações)."
    ),
    scheduler.PAUSED_CREDENTIALS_REJECTED: (
        "Pausada: o Plugg.to recusou as credenciais."
    ),
    scheduler.PAUSED_SETTINGS_INCOMPLETE: "Pausada: a configuração está incompleta.",
}


@dataclass
class JobPanel:
    """What one job's panel shows."""

    name: str
    label: str
    auto: bool
    interval: int
    last: JobRun | None
    running: bool
    next_run: datetime | None
    scheduler_known: bool
    paused: str
    items: Counter


@dataclass
class Notice:
    """A message shown inside a panel after a click."""

    level: str
    text: str


def _last_runs() -> dict[str, JobRun]:
    latest = select(func.max(JobRun.id)).group_by(JobRun.job)
    runs = db.session.scalars(select(JobRun).where(JobRun.id.in_(latest)))
    return {run.job: run for run in runs}


def _items_by_job() -> dict[str, Counter]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for kind, states in item_counts().items():
        job = job_for_kind(kind)
        if job is not None:
            counts[job.name].update(states)
    return counts


def _is_running(run: JobRun | None) -> bool:
    """Tell whether a run is really going: its process still holds the lease."""
    if run is None or run.status != RUN_RUNNING:
        return False
    return claims.holder(f"job:{run.job}") == run.owner


def job_panels(names: list[str] | None = None) -> list[JobPanel]:
    """Build the panels of the given jobs (all by default)."""
    settings = settings_store.load()
    paused = scheduler.pause_reason(settings)
    status = scheduler.status()
    next_runs = status.heartbeat.next_runs if not status.stopped else {}
    last_runs = _last_runs()
    items = _items_by_job()

    panels = []
    for name in names or list(JOBS):
        job_settings = settings.jobs[name]
        last = last_runs.get(name)
        panels.append(
            JobPanel(
                name=name,
                label=JOBS[name].label,
                auto=job_settings.auto,
                interval=job_settings.interval,
                last=last,
                running=_is_running(last),
                next_run=next_runs.get(name) if job_settings.auto else None,
                scheduler_known=status.expected and not status.stopped,
                paused=PAUSE_TEXTS.get(paused, "") if job_settings.auto else "",
                items=items.get(name, Counter()),
            )
        )
    return panels


def totals(now: datetime) -> dict:
    """Return the counts shown at a glance."""
    failures = db.session.scalar(
        select(func.count()).where(SyncItem.state == STATE_FAILED)
    )
    return {
        "catalog": catalog_totals(),
        "orders": order_totals(now),
        "failures": failures or 0,
    }


def charts(now: datetime) -> list:
    return activity_charts(now, orders_per_day(DAYS, now))


def signature(panels: list[JobPanel]) -> str:
    """Summarise the latest runs and the banners, to notice what changed."""
    runs = ".".join(
        f"{panel.last.id}-{panel.last.status}" if panel.last else "0"
        for panel in panels
    )
    shown = "|".join(f"{banner.level}:{banner.text}" for banner in banners())
    return f"{runs}.{zlib.crc32(shown.encode()):08x}"


def _page_context(now: datetime) -> dict:
    panels = job_panels()
    return {
        "panels": panels,
        "totals": totals(now),
        "charts": charts(now),
        "signature": signature(panels),
        "now": now,
        "scheduler_status": scheduler.status(now),
        **template_helpers(),
    }


def _panel_or_404(job: str) -> JobPanel:
    if job not in JOBS:
        abort(404)
    return job_panels([job])[0]


@bp.get("/")
def index():
    return render("overview.html", **_page_context(utcnow()))


@bp.get("/painel/<job>/estado")
def job_status(job: str):
    """Return a job's status region; the finished state refreshes the rest."""
    panel = _panel_or_404(job)
    if not wants_fragment():
        return index()

    now = utcnow()
    context = {"panel": panel, "now": now, **template_helpers()}
    if not panel.running:
        context.update(refresh=True, totals=totals(now), charts=charts(now))
    return render("overview.html", "partials/_job_status.html", **context)


@bp.post("/sincronizar/<job>")
def run_now(job: str):
    """Start a job now; an htmx click gets its panel back with the outcome."""
    if job not in JOBS:
        abort(404)
    outcome = start_in_background(job, "manual")

    if not wants_fragment():
        flash(outcome.message, "success" if outcome.started else "warning")
        back = BACK_TO.get(request.form.get("voltar", ""), "overview.index")
        return redirect(url_for(back), code=303)
    return _panel_response(job, outcome)


# Pages with their own "Sincronizar agora" form, which come back to themselves.
BACK_TO = {"pedidos": "orders.index"}


def _panel_response(job: str, outcome: RunOutcome):
    notice = Notice("info" if outcome.started else "warning", outcome.message)
    return render(
        "overview.html",
        "partials/_job_panel.html",
        panel=job_panels([job])[0],
        notice=notice,
        now=utcnow(),
        **template_helpers(),
    )


@bp.get("/novidades")
def updates():
    """Refresh the panels when a run started or ended since the page was drawn."""
    if not wants_fragment():
        return index()

    panels = job_panels()
    current = signature(panels)
    if request.args.get("estado") == current:
        return "", 204

    now = utcnow()
    return render(
        "overview.html",
        "partials/_overview_updates.html",
        panels=panels,
        signature=current,
        totals=totals(now),
        charts=charts(now),
        now=now,
        **template_helpers(),
    )
