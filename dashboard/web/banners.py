"""Warnings shown on every page: credentials, a stopped scheduler, demo mode."""

from dataclasses import dataclass

from flask import current_app, url_for

from dashboard import settings as settings_store
from dashboard.sync import scheduler


@dataclass
class Banner:
    level: str  # "info" | "warning" | "danger"
    text: str
    link: str | None = None
    link_text: str | None = None


def banners() -> list[Banner]:
    """Return the banners that apply right now."""
    found: list[Banner] = []
    if current_app.config.get("DEMO_MODE"):
        found.append(
            Banner(
                "info",
                "Modo demonstração: o painel está ligado a um Plugg.to simulado "
                "neste computador. Nada é enviado aos marketplaces.",
            )
        )

    rejected = settings_store.credentials_rejected()
    settings = settings_store.load()
    if rejected:
        found.append(
            Banner(
                "danger",
                "Credenciais recusadas pelo Plugg.to: as sincronizações automáticas "
                "estão pausadas.",
                url_for("settings_page.index"),
                "Corrigir em Configurações",
            )
        )
    elif settings.missing():
        found.append(
            Banner(
                "warning",
                "Configuração incompleta: falta "
                + ", ".join(settings.missing())
                + ". As sincronizações automáticas estão pausadas.",
                url_for("settings_page.index"),
                "Abrir Configurações",
            )
        )
    if scheduler.status().stopped:
        found.append(
            Banner(
                "danger",
                "O agendador parou: as sincronizações automáticas não estão rodando. "
                "Feche o painel e abra de novo; se continuar, veja o arquivo de log.",
            )
        )
    return found
