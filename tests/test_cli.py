"""run.py commands: configure, status, sync, and their exit codes."""

import json
import os
import stat

import pytest
import requests

from dashboard import create_app
from dashboard.cli import cli
from dashboard.demo import prepare_store, remember_sandbox_url
from dashboard.extensions import db
from dashboard.sandbox import SandboxConfig, SandboxServer
from dashboard.storage import open_storage
from dashboard.sync.report import status_text
from tests.conftest import CREDENTIALS

CONFIGURE = [
    "configure",
    "--client-id",
    CREDENTIALS["client_id"],
    "--client-secret",
    CREDENTIALS["client_secret"],
    "--api-user",
    CREDENTIALS["api_user"],
    "--api-secret",
    CREDENTIALS["api_secret"],
    "--domain",
    "minhaloja.com.br",
]


@pytest.fixture
def run(cli_runner, tmp_path):
    def invoke(*args):
        return cli_runner.invoke(cli, ["--data-dir", str(tmp_path), *args])

    return invoke


def test_configure_saves_the_credentials_and_domain(run):
    result = run(*CONFIGURE)

    assert result.exit_code == 0, result.output
    assert "Configurações salvas." in result.output
    report = json.loads(run("status", "--json").stdout)
    assert report["configuration"]["missing"] == []


def test_configure_rejects_a_bad_domain_with_exit_code_2(run):
    result = run("configure", "--domain", "http://loja")

    assert result.exit_code == 2
    assert "Erro de configuração" in result.output


def test_configure_without_values_and_no_terminal_is_a_config_error(run):
    result = run("configure")

    assert result.exit_code == 2


def test_status_without_credentials_exits_with_2(run):
    result = run("status", "--json")

    report = json.loads(result.stdout)
    assert result.exit_code == 2
    assert "Client ID" in report["configuration"]["missing"]
    assert set(report["jobs"]) == {"products", "prices", "stock", "orders"}
    assert report["jobs"]["stock"]["interval_minutes"] == 5


def test_status_as_text_is_in_portuguese(run):
    run(*CONFIGURE)

    result = run("status")

    assert result.exit_code == 0
    assert "Estoque: automática a cada 5 min; nunca executada" in result.output


def test_sync_without_configuration_exits_with_2(run):
    result = run("sync", "stock")

    assert result.exit_code == 2
    assert "faltam" in result.output


def test_sync_rejects_an_unknown_job(run):
    result = run("sync", "everything")

    assert result.exit_code == 2
    assert "everything" in result.output


def test_a_bad_api_url_in_the_environment_is_a_config_error(run, monkeypatch):
    monkeypatch.setenv("PLUGGTO_API_URL", "ftp://api.plugg.to")

    result = run("status")

    assert result.exit_code == 2
    assert "PLUGGTO_API_URL" in result.output


def test_a_bad_store_domain_in_the_environment_is_a_config_error(run, monkeypatch):
    monkeypatch.setenv("STORE_DOMAIN", "not a domain")

    result = run("status")

    assert result.exit_code == 2
    assert "STORE_DOMAIN" in result.output


# Demo mode ------------------------------------------------------------------------


def test_a_demo_command_without_the_demo_open_exits_2(run):
    result = run("--demo", "sync", "all")

    assert result.exit_code == 2
    assert "o modo demonstração precisa do painel aberto" in result.output


def test_a_demo_command_talks_to_the_open_demo_sandbox(cli_runner, tmp_path):
    sandbox = SandboxServer(SandboxConfig())
    sandbox.start()
    try:
        app = create_app({"DATA_DIR": tmp_path / "demo"})
        open_storage(app)
        with app.app_context():
            prepare_store()
            remember_sandbox_url(sandbox.url)
            db.engine.dispose()

        result = cli_runner.invoke(
            cli, ["--data-dir", str(tmp_path), "--demo", "sync", "products"]
        )

        assert result.exit_code == 0, result.output
        listed = requests.get(f"{sandbox.url}/_sandbox/products", timeout=5).json()
        assert "CAM-BAS" in {product["sku"] for product in listed["products"]}
    finally:
        sandbox.stop()


def test_every_file_and_folder_a_command_creates_is_private(run, tmp_path):
    previous = os.umask(0o022)
    try:
        result = run("--demo", "status")  # refused, but the demo folder exists now
        run("status")
    finally:
        os.umask(previous)

    assert result.exit_code == 2
    for path in [tmp_path, *tmp_path.rglob("*")]:
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == expected, path


def test_status_text_shows_brasilia_times_and_pt_br_kinds():
    report = {
        "configuration": {"missing": [], "credentials_rejected": ""},
        "jobs": {
            "stock": {
                "label": "Estoque",
                "auto": True,
                "interval_minutes": 5,
                "last_run": {
                    "status": "partial",
                    "started_at": "2026-12-04T01:11:33.598714+00:00",
                },
            }
        },
        "items": {"stock": {"ok": 24, "pending": 3}},
        "failed_items": [{"kind": "invoice", "key": "p1", "error": "Recusada."}],
    }

    text = status_text(report)

    assert (
        "Estoque: automática a cada 5 min; última: parcial em 03/12/2026 22:11 "
        "(horário de Brasília)"
    ) in text
    assert "  Estoque: 24 em dia, 3 pendente" in text
    assert "  FALHA NF-e p1: Recusada." in text
