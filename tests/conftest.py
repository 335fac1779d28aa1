"""Shared fixtures: an app on a temporary data folder, clients, a mocked API."""

import logging
import re

import pytest
import requests_mock as requests_mock_module
from click.testing import CliRunner

from dashboard import create_app
from dashboard import settings as settings_store
from dashboard.extensions import db
from dashboard.storage import open_storage

API = "https://api.test"
TOKEN_URL = f"{API}/oauth/token"
CREDENTIALS = {
    "client_id": "cid-1234567",
    "client_secret": "csecret-abcdef-9876",
    "api_user": "apiuser-55555",
    "api_secret": "apisecret-xyz-4321",
    "store_domain": "https://minhaloja.com.br",
}
ENV_VARIABLES = (
    "DASHBOARD_DATA_DIR",
    "PLUGGTO_API_URL",
    "PLUGGTO_CLIENT_ID",
    "PLUGGTO_CLIENT_SECRET",
    "PLUGGTO_API_USER",
    "PLUGGTO_API_SECRET",
    "STORE_DOMAIN",
    "PLUGGTO_CONNECT_TIMEOUT",
    "PLUGGTO_READ_TIMEOUT",
)


class Sleeps(list):
    """Records the waits the client asked for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def app(tmp_path, sleeps):
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": tmp_path / "data",
            "SECRET_KEY": "test-secret-key",
            "PLUGGTO_API_URL": API,
            "PLUGGTO_SLEEP": sleeps,
            "PLUGGTO_BACKOFF_INITIAL": 0.01,
        }
    )
    open_storage(app)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def configured(app):
    """Store complete credentials and domain."""
    settings_store.save(dict(CREDENTIALS))
    return settings_store.load()


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    if match is None:
        match = re.search(r'"X-CSRFToken": "([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def csrf(client):
    """Return a valid CSRF token for the test client's session."""
    page = client.get("/configuracoes/")
    return csrf_token_from(page.get_data(as_text=True))


@pytest.fixture
def post(client, csrf):
    """POST with a valid CSRF token; ``htmx=True`` adds the htmx headers."""

    def send(url, data=None, htmx=False, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        headers["X-CSRFToken"] = csrf
        if htmx:
            headers["HX-Request"] = "true"
        return client.post(url, data=data or {}, headers=headers, **kwargs)

    return send


@pytest.fixture
def api():
    """A requests_mock of Plugg.to with a working token endpoint."""
    with requests_mock_module.Mocker() as mock:
        mock.post(
            TOKEN_URL,
            json={
                "access_token": "token-1",
                "refresh_token": "refresh-1",
                "expires_in": 3600,
                "token_type": "Bearer",
            },
        )
        yield mock


@pytest.fixture
def cli_runner():
    """Invoke run.py commands; remove the log handlers they install."""
    runner = CliRunner()
    yield runner
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_dashboard", False):
            root.removeHandler(handler)
            handler.close()
