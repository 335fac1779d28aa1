"""The sync status as data, for `run.py status` and the pages."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from dashboard import settings as settings_store
from dashboard.extensions import db
from dashboard.models.sync import STATE_FAILED, JobRun, SyncItem
from dashboard.sync.runner import JOBS

MAX_LISTED_FAILURES = 200


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def item_counts() -> dict[str, dict[str, int]]:
    """Count sync items per kind and state."""
    rows = db.session.execute(
        select(SyncItem.kind, SyncItem.state, func.count()).group_by(
            SyncItem.kind, SyncItem.state
        )
    )
    counts: dict[str, dict[str, int]] = {}
    for kind, state, count in rows:
        counts.setdefault(kind, {})[state] = count
    return counts


def failed_items(limit: int = MAX_LISTED_FAILURES) -> list[dict]:
    """List failed items with their reasons, most recent first."""
    rows = db.session.scalars(
        select(SyncItem)
        .where(SyncItem.state == STATE_FAILED)
        .order_by(SyncItem.last_attempt_at.desc(), SyncItem.id.desc())
        .limit(limit)
    )
    return [
        {
            "kind": row.kind,
            "key": row.key,
            "label": row.label,
            "error": row.last_error,
            "permanent": row.permanent,
            "attempts": row.attempts,
            "next_retry_at": _iso(row.next_retry_at),
        }
        for row in rows
    ]


def last_run(name: str) -> JobRun | None:
    """Return the most recent run of a job."""
    return db.session.scalar(
        select(JobRun).where(JobRun.job == name).order_by(JobRun.id.desc()).limit(1)
    )


def job_report(settings: settings_store.Settings) -> dict[str, dict]:
    """Describe each job: mode, interval, last run, expected next run."""
    jobs = {}
    for name, job in JOBS.items():
        job_settings = settings.jobs[name]
        run = last_run(name)
        next_run = None
        if job_settings.auto and run is not None:
            next_run = run.started_at + timedelta(minutes=job_settings.interval)
        jobs[name] = {
            "label": job.label,
            "auto": job_settings.auto,
            "interval_minutes": job_settings.interval,
            "last_run": None
            if run is None
            else {
                "id": run.id,
                "status": run.status,
                "trigger": run.trigger,
                "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at),
                "ok": run.ok_count,
                "failed": run.failed_count,
                "skipped": run.skipped_count,
                "calls": run.calls,
                "message": run.message,
            },
            "next_run": _iso(next_run),
        }
    return jobs


def status_report() -> dict:
    """Everything `status --json` prints."""
    settings = settings_store.load()
    return {
        "configuration": {
            "missing": settings.missing(),
            "credentials_rejected": settings_store.credentials_rejected() or None,
        },
        "items": item_counts(),
        "failed_items": failed_items(),
        "jobs": job_report(settings),
    }


STATE_LABELS = {
    "ok": "em dia",
    "pending": "pendente",
    "failed": "falhou",
    "ignored": "ignorado",
}
KIND_LABELS = {
    "product": "Produto",
    "price": "Preço",
    "stock": "Estoque",
    "order_import": "Importação de pedido",
    "order_external": "Número do pedido",
    "order_status": "Status do pedido",
    "invoice": "NF-e",
    "tracking": "Rastreio",
}
RUN_STATUS_LABELS = {
    "running": "em andamento",
    "ok": "concluída",
    "partial": "parcial",
    "failed": "falhou",
    "interrupted": "interrompida",
}
SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def _local(stamp: str) -> str:
    """Show an ISO UTC time of the report as Brasília time, ``04/12/2026 22:11``."""
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SAO_PAULO).strftime("%d/%m/%Y %H:%M")


def status_text(report: dict) -> str:
    """Render the report for a terminal, in pt-BR."""
    lines = []
    missing = report["configuration"]["missing"]
    if missing:
        lines.append("Configuração incompleta: falta " + ", ".join(missing) + ".")
    if report["configuration"]["credentials_rejected"]:
        lines.append("Credenciais recusadas pelo Plugg.to.")
    for job in report["jobs"].values():
        run = job["last_run"]
        mode = (
            f"automática a cada {job['interval_minutes']} min"
            if job["auto"]
            else "manual"
        )
        last = (
            f"última: {RUN_STATUS_LABELS.get(run['status'], run['status'])} em "
            f"{_local(run['started_at'])} (horário de Brasília)"
            if run
            else "nunca executada"
        )
        lines.append(f"{job['label']}: {mode}; {last}")
    for kind, states in sorted(report["items"].items()):
        parts = ", ".join(
            f"{count} {STATE_LABELS.get(state, state)}"
            for state, count in sorted(states.items())
        )
        lines.append(f"  {KIND_LABELS.get(kind, kind)}: {parts}")
    for item in report["failed_items"]:
        kind = KIND_LABELS.get(item["kind"], item["kind"])
        lines.append(f"  FALHA {kind} {item['key']}: {item['error']}")
    return "\n".join(lines)
