"""Histórico: every run (filtered by job and status) and the recent API calls."""

from dataclasses import dataclass

from flask import Blueprint, abort, request, url_for
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.logs import redact
from dashboard.models.sync import ApiCall, JobRun
from dashboard.sync.runner import JOBS
from dashboard.web.rendering import render
from dashboard.web.run_labels import STATUS_LABELS, template_helpers

bp = Blueprint("history", __name__, url_prefix="/historico")

PAGE_SIZE = 25
RECENT_CALLS = 50
RUN_CALLS = 200


@dataclass(frozen=True)
class RunFilters:
    """The filters of the runs list, read leniently from the query string."""

    job: str = ""
    status: str = ""
    page: int = 1

    @classmethod
    def from_request(cls) -> "RunFilters":
        job = request.args.get("tarefa", "")
        status = request.args.get("situacao", "")
        page = request.args.get("pagina", 1, type=int) or 1
        return cls(
            job=job if job in JOBS else "",
            status=status if status in STATUS_LABELS else "",
            page=max(page, 1),
        )

    def url(self, page: int) -> str:
        """Return the list's address for another page, keeping the filters."""
        args = {"tarefa": self.job, "situacao": self.status, "pagina": page}
        return url_for("history.index", **{k: v for k, v in args.items() if v})


def _runs_context(filters: RunFilters) -> dict:
    query = select(JobRun)
    if filters.job:
        query = query.where(JobRun.job == filters.job)
    if filters.status:
        query = query.where(JobRun.status == filters.status)

    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(filters.page, pages)
    runs = db.session.scalars(
        query.order_by(JobRun.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return {
        "runs": runs,
        "total": total,
        "page": page,
        "pages": pages,
        "filters": filters,
        "jobs": JOBS,
    }


def _calls_context() -> dict:
    only_errors = request.args.get("erros") == "1"
    query = select(ApiCall)
    if only_errors:
        query = query.where((ApiCall.status.is_(None)) | (ApiCall.status >= 400))
    calls = db.session.scalars(
        query.order_by(ApiCall.id.desc()).limit(RECENT_CALLS)
    ).all()
    return {"calls": calls, "only_errors": only_errors}


def _helpers() -> dict:
    return {"shown_path": shown_path, **template_helpers()}


def shown_path(path: str) -> str:
    """Return a call's path with anything secret-looking masked."""
    return redact(path)


@bp.get("/")
def index():
    context = {**_runs_context(RunFilters.from_request()), **_calls_context()}
    return render("history.html", "partials/_runs.html", **context, **_helpers())


@bp.get("/chamadas")
def calls():
    context = {**_runs_context(RunFilters()), **_calls_context()}
    return render("history.html", "partials/_calls.html", **context, **_helpers())


@bp.get("/execucoes/<int:run_id>")
def run_detail(run_id: int):
    run = db.session.get(JobRun, run_id) or abort(404)
    run_calls = db.session.scalars(
        select(ApiCall)
        .where(ApiCall.run_id == run.id)
        .order_by(ApiCall.id)
        .limit(RUN_CALLS)
    ).all()
    return render(
        "history_run.html",
        run=run,
        job=JOBS.get(run.job),
        calls=run_calls,
        more_calls=run.calls > len(run_calls),
        **_helpers(),
    )
