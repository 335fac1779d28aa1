"""Build Plugg.to clients from the settings and record their calls."""

import logging
import threading
import time
from typing import Any

from flask import Flask, current_app
from sqlalchemy import insert

from dashboard import settings as settings_store
from dashboard.extensions import db
from dashboard.models.sync import ApiCall
from dashboard.pluggto.client import (
    CallRecord,
    ClientConfig,
    Credentials,
    PluggtoClient,
    TokenProvider,
)
from dashboard.pluggto.errors import CredentialsRejected, PluggtoError

logger = logging.getLogger(__name__)

FLUSH_EVERY = 200
FLUSH_SECONDS = 2.0
_providers_lock = threading.Lock()


class CallRecorder:
    """Buffer call records and write them in batches to the activity table."""

    def __init__(self, run_id: int | None = None) -> None:
        self.engine = db.engine
        self.run_id = run_id
        self.count = 0
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._flushed_at = time.monotonic()

    def __call__(self, record: CallRecord) -> None:
        with self._lock:
            self.count += 1
            self._rows.append(
                {
                    "at": record.at,
                    "run_id": self.run_id,
                    "method": record.method,
                    "path": record.path,
                    "status": record.status,
                    "duration_ms": record.duration_ms,
                    "error": (record.error or None) and record.error[:300],
                }
            )
            due = len(self._rows) >= FLUSH_EVERY
            due = due or time.monotonic() - self._flushed_at > FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the buffered records."""
        with self._lock:
            rows, self._rows = self._rows, []
            self._flushed_at = time.monotonic()
        if not rows:
            return
        with self.engine.begin() as connection:
            connection.execute(insert(ApiCall), rows)


def client_config(app: Flask) -> ClientConfig:
    """Return the client configuration from the app config."""
    config = app.config
    return ClientConfig(
        base_url=config["PLUGGTO_API_URL"],
        connect_timeout=config["PLUGGTO_CONNECT_TIMEOUT"],
        read_timeout=config["PLUGGTO_READ_TIMEOUT"],
        max_attempts=config["PLUGGTO_MAX_ATTEMPTS"],
        backoff_initial=config["PLUGGTO_BACKOFF_INITIAL"],
        backoff_max=config["PLUGGTO_BACKOFF_MAX"],
        max_throttle_wait=config["PLUGGTO_MAX_THROTTLE_WAIT"],
        pool_size=max(8, 2 * settings_store.MAX_CONCURRENCY),
    )


def token_provider(app: Flask, credentials: Credentials) -> TokenProvider:
    """Return the process-wide token cache for these credentials and API."""
    key = (app.config["PLUGGTO_API_URL"], credentials)
    with _providers_lock:
        providers = app.extensions.setdefault("pluggto_tokens", {})
        if key not in providers:
            providers.clear()
            providers[key] = TokenProvider(credentials)
        return providers[key]


def make_client(
    settings: settings_store.Settings, recorder: CallRecorder | None = None
) -> PluggtoClient:
    """Return a client for the current app and settings."""
    app = current_app._get_current_object()
    return PluggtoClient(
        client_config(app),
        token_provider(app, settings.credentials()),
        on_call=recorder,
        sleep=app.config.get("PLUGGTO_SLEEP") or time.sleep,
    )


def test_connection() -> tuple[bool, str]:
    """Try the stored credentials; return success and a pt-BR message."""
    settings = settings_store.load()
    recorder = CallRecorder()
    try:
        with make_client(settings, recorder) as client:
            client.tokens.forget()
            client.test_connection()
    except CredentialsRejected as error:
        settings_store.mark_credentials_rejected(error.message)
        return False, error.message
    except PluggtoError as error:
        logger.warning("Connection test failed: %s", error)
        return False, error.message
    finally:
        recorder.flush()

    settings_store.clear_credentials_rejected()
    db.session.commit()
    return True, "Conexão com o Plugg.to funcionando: credenciais aceitas."
