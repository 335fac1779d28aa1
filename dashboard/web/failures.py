"""Falhas: every item whose push failed, with retry and ignore."""

from collections import defaultdict

from flask import Blueprint, abort, flash, redirect, request, url_for
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models.sync import STATE_FAILED, SyncItem
from dashboard.sync import state
from dashboard.sync.report import KIND_LABELS
from dashboard.sync.runner import job_for_kind, start_in_background
from dashboard.web.rendering import render, wants_fragment

bp = Blueprint("failures", __name__, url_prefix="/falhas")

PAGE_SIZE = 50


def _page_number() -> int:
    return max(request.args.get("pagina", 1, type=int) or 1, 1)


def _failures_context() -> dict:
    page = _page_number()
    query = select(SyncItem).where(SyncItem.state == STATE_FAILED)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    items = db.session.scalars(
        query.order_by(SyncItem.last_attempt_at.desc(), SyncItem.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return {
        "items": items,
        "total": total,
        "page": page,
        "pages": max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        "kind_labels": KIND_LABELS,
    }


@bp.get("/")
def index():
    return render("failures.html", "partials/_failures.html", **_failures_context())


def _restart(items: list[SyncItem]) -> list[str]:
    """Run the job of each kind for the given items now; return refusals."""
    keys_by_job = defaultdict(list)
    for item in items:
        job = job_for_kind(item.kind)
        if job is not None:
            keys_by_job[job.name].append(item.key)

    refused = []
    for job_name, keys in keys_by_job.items():
        outcome = start_in_background(job_name, "retry", only=keys)
        if not outcome.started:
            refused.append(outcome.message)
    return refused


def _respond(message: str, category: str = "success"):
    flash(message, category)
    if wants_fragment():
        return index()
    return redirect(url_for("failures.index"), code=303)


@bp.post("/<int:item_id>/tentar")
def retry_one(item_id: int):
    item = db.session.get(SyncItem, item_id) or abort(404)
    state.retry([item.id])
    db.session.commit()
    refused = _restart([item])
    return _respond(_retry_message(1, refused), "warning" if refused else "success")


@bp.post("/tentar-todas")
def retry_all():
    items = db.session.scalars(
        select(SyncItem).where(SyncItem.state == STATE_FAILED)
    ).all()
    state.retry([item.id for item in items])
    db.session.commit()
    refused = _restart(items)
    return _respond(
        _retry_message(len(items), refused), "warning" if refused else "success"
    )


@bp.post("/<int:item_id>/ignorar")
def ignore_one(item_id: int):
    item = db.session.get(SyncItem, item_id) or abort(404)
    state.ignore([item.id])
    db.session.commit()
    return _respond(
        "Falha ignorada: o item volta a ser enviado quando os dados mudarem.",
        "success",
    )


def _retry_message(count: int, refused: list[str]) -> str:
    if not count:
        return "Não há falhas para tentar de novo."
    if count == 1:
        text = "1 item enviado para nova tentativa."
    else:
        text = f"{count} itens enviados para nova tentativa."
    if refused:
        text += " " + " ".join(refused) + " Eles serão enviados na próxima execução."
    return text
