"""Visão geral: one panel per job and a button to run it now."""

from flask import Blueprint, abort, flash, redirect, url_for
from sqlalchemy import select

from dashboard import settings as settings_store
from dashboard.extensions import db
from dashboard.models.sync import JobRun
from dashboard.sync.runner import JOBS, start_in_background
from dashboard.web.rendering import render

bp = Blueprint("overview", __name__)

STATUS_LABELS = {
    "running": "Em andamento",
    "ok": "Concluída",
    "partial": "Parcial",
    "failed": "Falhou",
    "interrupted": "Interrompida",
}


def _panels() -> list[dict]:
    settings = settings_store.load()
    panels = []
    for name, job in JOBS.items():
        last = db.session.scalar(
            select(JobRun).where(JobRun.job == name).order_by(JobRun.id.desc()).limit(1)
        )
        panels.append(
            {
                "name": name,
                "label": job.label,
                "auto": settings.jobs[name].auto,
                "last": last,
            }
        )
    return panels


@bp.get("/")
def index():
    return render("overview.html", panels=_panels(), status_labels=STATUS_LABELS)


@bp.post("/sincronizar/<job>")
def run_now(job: str):
    if job not in JOBS:
        abort(404)
    outcome = start_in_background(job, "manual")
    flash(outcome.message, "success" if outcome.started else "warning")
    return redirect(url_for("overview.index"), code=303)
