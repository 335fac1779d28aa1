"""Command line: serve the dashboard (default), configure, status, sync.

Exit codes: 0 all good, 1 some item failed (or a run was refused),
2 configuration error.
"""

import json
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from flask import Flask

from dashboard import create_app
from dashboard import settings as settings_store
from dashboard.config import DEFAULT_HOST, DEFAULT_PORT, ConfigError, default_data_dir
from dashboard.logs import configure_logging
from dashboard.storage import open_storage

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_CONFIG = 2


@dataclass
class Runtime:
    """Options shared by every command, and the app built from them."""

    data_dir: Path | None
    demo: bool
    verbose: bool
    serving: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)
    _app: Flask | None = None

    def resolved_data_dir(self) -> Path:
        base = self.data_dir or default_data_dir()
        return base / "demo" if self.demo else base

    def app(self) -> Flask:
        """Build the app once: logging, data folder, schema."""
        if self._app is not None:
            return self._app
        data_dir = self.resolved_data_dir()
        level = logging.DEBUG if self.verbose else logging.INFO
        try:
            # Commands keep the console for their own output; serving shows INFO.
            console = level if self.serving else logging.WARNING
            configure_logging(data_dir / "logs", level, console)
            app = create_app({"DATA_DIR": data_dir, **self.overrides})
            open_storage(app)
            with app.app_context():
                settings_store.environment_overrides()
                if self.demo and not self.serving:
                    _attach_to_running_demo(app)
        except ConfigError as error:
            fail_config(str(error))
        self._app = app
        return app


def _attach_to_running_demo(app: Flask) -> None:
    """Point a command at the open demo's sandbox; never at the real Plugg.to."""
    from dashboard.demo import running_sandbox_url

    url = running_sandbox_url()
    if url is None:
        raise ConfigError(
            "o modo demonstração precisa do painel aberto: rode "
            "'python run.py --demo' e use este comando em outro terminal."
        )
    app.config["PLUGGTO_API_URL"] = url
    app.config["DEMO_MODE"] = True


def fail_config(message: str) -> None:
    """Print a configuration error in pt-BR and exit with code 2."""
    click.echo(f"Erro de configuração: {message}", err=True)
    sys.exit(EXIT_CONFIG)


def install_stop_signals(stop_event: threading.Event) -> None:
    """Make SIGINT and SIGTERM set the stop event, then stop the main loop."""

    def handler(signum, frame) -> None:
        stop_event.set()
        raise SystemExit(0)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


@click.group(invoke_without_command=True)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    envvar="DASHBOARD_DATA_DIR",
    help="Pasta de dados (padrão: pasta do usuário).",
)
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="Endereço onde o painel escuta.",
)
@click.option(
    "--port", default=DEFAULT_PORT, show_default=True, type=int, help="Porta do painel."
)
@click.option(
    "--demo", is_flag=True, help="Usa um Plugg.to simulado e um catálogo de exemplo."
)
@click.option("-v", "--verbose", is_flag=True, help="Registra detalhes (DEBUG) no log.")
@click.pass_context
def cli(ctx, data_dir, host, port, demo, verbose) -> None:
    """Painel de integração Rocky E-commerce + Plugg.to."""
    # Everything this process writes (database, logs, uploads, rotated logs)
    # is for the merchant's eyes only.
    os.umask(0o077)
    runtime = Runtime(data_dir, demo, verbose)
    runtime.overrides.update(BIND_HOST=host, BIND_PORT=port)
    ctx.obj = runtime
    if ctx.invoked_subcommand is None:
        from dashboard.server import serve

        runtime.serving = True
        sys.exit(serve(runtime))


@cli.command()
@click.option("--client-id", help="Client ID do painel Plugg.to.")
@click.option("--client-secret", help="Client Secret do painel Plugg.to.")
@click.option("--api-user", help="API User do painel Plugg.to.")
@click.option("--api-secret", help="API Secret do painel Plugg.to.")
@click.option(
    "--domain", "store_domain", help="Domínio da loja (ex.: minhaloja.com.br)."
)
@click.pass_obj
def configure(runtime: Runtime, **values) -> None:
    """Salva as credenciais do Plugg.to e o domínio da loja."""
    app = runtime.app()
    given = {name: value for name, value in values.items() if value}
    if not given:
        given = _prompt_settings()
    with app.app_context():
        if "store_domain" in given:
            try:
                given["store_domain"] = settings_store.normalize_domain(
                    given["store_domain"]
                )
            except ConfigError as error:
                fail_config(str(error))
        settings_store.save(given)
        missing = settings_store.load().missing()
    click.echo("Configurações salvas.")
    if missing:
        click.echo("Ainda falta: " + ", ".join(missing) + ".")
        sys.exit(EXIT_CONFIG)


def _prompt_settings() -> dict[str, str]:
    if not sys.stdin.isatty():
        fail_config("informe os valores com --client-id, --client-secret, etc.")
    answers = {}
    for name, label in settings_store.FIELD_LABELS.items():
        hidden = name in settings_store.SECRET_FIELDS
        answers[name] = click.prompt(
            label, hide_input=hidden, default="", show_default=False
        )
    return {name: value for name, value in answers.items() if value}


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Saída em JSON.")
@click.pass_obj
def status(runtime: Runtime, as_json: bool) -> None:
    """Mostra o estado das sincronizações e as falhas."""
    from dashboard.sync.report import status_report, status_text

    app = runtime.app()
    with app.app_context():
        report = status_report()
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(status_text(report))
    if report["configuration"]["missing"]:
        sys.exit(EXIT_CONFIG)
    sys.exit(EXIT_FAILURES if report["failed_items"] else EXIT_OK)


@cli.command()
@click.argument(
    "job", type=click.Choice(["products", "prices", "stock", "orders", "all"])
)
@click.pass_obj
def sync(runtime: Runtime, job: str) -> None:
    """Sincroniza agora: products, prices, stock, orders ou all."""
    from dashboard.sync.runner import JOBS, run_job

    app = runtime.app()
    stop_event = threading.Event()
    app.extensions["shutdown"] = stop_event
    install_stop_signals(stop_event)

    names = list(JOBS) if job == "all" else [job]
    worst = EXIT_OK
    with app.app_context():
        if settings_store.load().missing():
            fail_config("faltam " + ", ".join(settings_store.load().missing()) + ".")
        for name in names:
            worst = max(worst, _sync_one(name, run_job))
    sys.exit(worst)


def _sync_one(name: str, run_job) -> int:
    from dashboard.sync.runner import JOBS

    outcome = run_job(name, "cli")
    label = JOBS[name].label
    if not outcome.started:
        click.echo(f"{label}: {outcome.message}", err=True)
        return EXIT_FAILURES
    click.echo(f"{label}: {outcome.message}")
    if settings_store.credentials_rejected():
        return EXIT_CONFIG
    return EXIT_OK if outcome.status == "ok" else EXIT_FAILURES


def _register_area_commands() -> None:
    from dashboard.catalog.cli import commands as catalog_commands
    from dashboard.orders.cli import commands as order_commands

    for command in (*catalog_commands, *order_commands):
        cli.add_command(command)


_register_area_commands()
