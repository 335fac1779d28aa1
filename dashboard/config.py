"""Configuration layers: defaults, then environment, then explicit overrides.

Merchant settings edited on the settings page (credentials, domain, job
intervals) live in the database and are read by ``dashboard.settings``; this
module only holds process configuration: where the data lives, which API base
to call, how the server is bound.
"""

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from platformdirs import user_data_dir

APP_NAME = "pluggto-dashboard"
DEFAULT_API_URL = "https://api.plugg.to"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
LOCAL_HOST_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message is in pt-BR."""


DEFAULTS: dict[str, Any] = {
    "PLUGGTO_API_URL": DEFAULT_API_URL,
    "PLUGGTO_CONNECT_TIMEOUT": 5.0,
    "PLUGGTO_READ_TIMEOUT": 30.0,
    "PLUGGTO_MAX_ATTEMPTS": 4,
    "PLUGGTO_BACKOFF_INITIAL": 0.5,
    "PLUGGTO_BACKOFF_MAX": 8.0,
    "PLUGGTO_MAX_THROTTLE_WAIT": 120.0,
    "BIND_HOST": DEFAULT_HOST,
    "BIND_PORT": DEFAULT_PORT,
    "DEMO_MODE": False,
    "JOB_LEASE_SECONDS": 120,
    # A family's lease outlives its longest push (4 attempts of 35 s plus 120 s
    # of Retry-After waits, twice with the POST fallback); a dead process's
    # lease is freed at once anyway (claims.owner_is_dead).
    "GROUP_LEASE_SECONDS": 900,
    "RETENTION_DAYS": 30,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_HTTPONLY": True,
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_CONTENT_LENGTH": 50 * 1024 * 1024,
    "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 30}},
}

# Environment variable -> (config key, parser).
ENVIRONMENT: dict[str, tuple[str, str]] = {
    "DASHBOARD_DATA_DIR": ("DATA_DIR", "path"),
    "PLUGGTO_API_URL": ("PLUGGTO_API_URL", "url"),
    "PLUGGTO_CONNECT_TIMEOUT": ("PLUGGTO_CONNECT_TIMEOUT", "seconds"),
    "PLUGGTO_READ_TIMEOUT": ("PLUGGTO_READ_TIMEOUT", "seconds"),
}


def default_data_dir() -> Path:
    """Return the per-user folder that holds the database, logs and secrets."""
    return Path(user_data_dir(APP_NAME, appauthor=False))


def parse_api_url(value: str) -> str:
    """Return a normalised API base URL, or raise ConfigError."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"URL da API inválida: {value!r} (use https://...)")
    if parts.scheme == "http" and parts.hostname not in LOCAL_HOST_NAMES:
        raise ConfigError("A URL da API deve usar https (http só para 127.0.0.1).")
    return value.strip().rstrip("/")


def _parse_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigError(f"Valor em segundos inválido: {value!r}") from None
    if not 0 < seconds <= 600:
        raise ConfigError(f"Tempo fora do intervalo (0 a 600 s): {value!r}")
    return seconds


def _parse(kind: str, value: str) -> Any:
    if kind == "path":
        return Path(value).expanduser()
    if kind == "url":
        return parse_api_url(value)
    return _parse_seconds(value)


def from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Read the process settings from the environment, strictly."""
    environ = os.environ if environ is None else environ
    found: dict[str, Any] = {}
    for name, (key, kind) in ENVIRONMENT.items():
        raw = environ.get(name, "").strip()
        if not raw:
            continue
        try:
            found[key] = _parse(kind, raw)
        except ConfigError as error:
            raise ConfigError(f"{name}: {error}") from None
    return found


def build_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Layer defaults, environment and explicit overrides into one mapping."""
    config = dict(DEFAULTS)
    config.update(from_environment())
    config.update(overrides or {})

    data_dir = Path(config.get("DATA_DIR") or default_data_dir()).expanduser()
    config["DATA_DIR"] = data_dir.resolve()
    config.setdefault(
        "SQLALCHEMY_DATABASE_URI", f"sqlite:///{config['DATA_DIR'] / 'dashboard.db'}"
    )
    config["TRUSTED_HOSTS"] = trusted_hosts(config["BIND_HOST"])
    return config


def trusted_hosts(bind_host: str) -> list[str]:
    """Return the Host header names the dashboard answers to."""
    hosts = ["localhost", "127.0.0.1", "[::1]"]
    if bind_host not in ("0.0.0.0", "::") and bind_host not in hosts:
        hosts.append(bind_host)
    return hosts
