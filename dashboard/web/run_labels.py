"""How runs are named on screen (pt-BR), shared by Visão geral and Histórico."""

from datetime import datetime

from dashboard.models.sync import JobRun
from dashboard.models.types import utcnow

STATUS_LABELS = {
    "running": "Em andamento",
    "ok": "Concluída",
    "partial": "Parcial",
    "failed": "Falhou",
    "interrupted": "Interrompida",
}
TRIGGER_LABELS = {
    "scheduled": "Automática",
    "manual": "Manual",
    "retry": "Nova tentativa",
    "cli": "Linha de comando",
    "resume": "Retomada",
}


def run_seconds(run: JobRun, now: datetime | None = None) -> float:
    """Return how long a run took, or has been going on."""
    end = run.finished_at or now or utcnow()
    return max((end - run.started_at).total_seconds(), 0.0)


def run_percent(run: JobRun) -> int:
    """Return the share of a run's items done, 0 to 100."""
    if not run.total:
        return 0
    return min(100, round(100 * run.done / run.total))


def template_helpers() -> dict:
    """Return the names the run templates use."""
    return {
        "status_labels": STATUS_LABELS,
        "trigger_labels": TRIGGER_LABELS,
        "run_seconds": run_seconds,
        "run_percent": run_percent,
    }
