"""The merchant's settings: stored in the database, overridable by environment."""

import os
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy import select

from dashboard.config import ConfigError
from dashboard.extensions import db
from dashboard.logs import register_secrets
from dashboard.models import Setting
from dashboard.models.types import utcnow
from dashboard.pluggto.client import Credentials

JOB_NAMES = ("products", "prices", "stock", "orders")
JOB_LABELS = {
    "products": "Produtos",
    "prices": "Preços",
    "stock": "Estoque",
    "orders": "Pedidos",
}
DEFAULT_INTERVALS = {"products": 10, "prices": 10, "stock": 5, "orders": 5}
DEFAULT_CONCURRENCY = 4
MAX_INTERVAL = 24 * 60
MAX_CONCURRENCY = 16

CREDENTIAL_FIELDS = ("client_id", "client_secret", "api_user", "api_secret")
# Every credential is masked on screen and kept when its field is left empty.
SECRET_FIELDS = CREDENTIAL_FIELDS
ENV_NAMES = {
    "client_id": "PLUGGTO_CLIENT_ID",
    "client_secret": "PLUGGTO_CLIENT_SECRET",
    "api_user": "PLUGGTO_API_USER",
    "api_secret": "PLUGGTO_API_SECRET",
    "store_domain": "STORE_DOMAIN",
}
FIELD_LABELS = {
    "client_id": "Client ID",
    "client_secret": "Client Secret",
    "api_user": "API User",
    "api_secret": "API Secret",
    "store_domain": "Domínio da loja",
}

VERSION_KEY = "state.version"
REJECTED_KEY = "state.credentials_rejected"
REJECTED_AT_KEY = "state.credentials_rejected_at"

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


@dataclass
class JobSettings:
    """Whether a job runs by itself, and how often (minutes)."""

    auto: bool = True
    interval: int = 10


@dataclass
class Settings:
    """The effective settings: stored values with environment overrides."""

    client_id: str = ""
    client_secret: str = ""
    api_user: str = ""
    api_secret: str = ""
    store_domain: str = ""
    concurrency: int = DEFAULT_CONCURRENCY
    jobs: dict[str, JobSettings] = field(default_factory=dict)
    from_env: set[str] = field(default_factory=set)
    version: int = 0

    def credentials(self) -> Credentials:
        """Return the credentials in the shape the client wants."""
        return Credentials(
            client_id=self.client_id,
            client_secret=self.client_secret,
            username=self.api_user,
            password=self.api_secret,
        )

    def missing(self) -> list[str]:
        """Return the labels of required settings that are empty."""
        names = (*CREDENTIAL_FIELDS, "store_domain")
        return [FIELD_LABELS[name] for name in names if not getattr(self, name)]

    def store_url(self) -> str:
        """Return the store's base URL for product links (no trailing slash)."""
        return self.store_domain


def normalize_domain(value: str) -> str:
    """Return ``https://host[/path]`` for a domain or https URL, or raise."""
    raw = value.strip()
    if not raw:
        raise ConfigError("Informe o domínio da loja, por exemplo minhaloja.com.br.")
    if "://" not in raw:
        raw = "https://" + raw

    parts = urlsplit(raw)
    if parts.scheme != "https":
        raise ConfigError("Use um endereço https:// ou apenas o domínio.")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError("Informe só o domínio, sem parâmetros nem usuário.")
    host = _valid_host(parts.hostname or "")
    port = f":{parts.port}" if parts.port else ""
    return f"https://{host}{port}{parts.path.rstrip('/')}"


def _valid_host(host: str) -> str:
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ConfigError(f"Domínio inválido: {host!r}.") from None
    labels = ascii_host.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ConfigError(
            f"Domínio inválido: {host!r}. Exemplo válido: minhaloja.com.br."
        )
    if labels[-1].isdigit():
        raise ConfigError("Use o domínio da loja, não um endereço IP.")
    return ascii_host


def environment_overrides(environ: dict[str, str] | None = None) -> dict[str, str]:
    """Return the settings set by environment variables, validated."""
    environ = os.environ if environ is None else environ
    found = {}
    for name, variable in ENV_NAMES.items():
        value = environ.get(variable, "").strip()
        if not value:
            continue
        if name == "store_domain":
            try:
                value = normalize_domain(value)
            except ConfigError as error:
                raise ConfigError(f"{variable}: {error}") from None
        found[name] = value
    return found


def _stored() -> dict[str, str]:
    rows = db.session.execute(select(Setting.key, Setting.value)).all()
    return {key: value for key, value in rows}


def load() -> Settings:
    """Read the effective settings."""
    stored = _stored()
    env = environment_overrides()
    settings = Settings(
        concurrency=_int(stored.get("concurrency"), DEFAULT_CONCURRENCY),
        version=_int(stored.get(VERSION_KEY), 0),
    )
    for name in ENV_NAMES:
        setattr(settings, name, env.get(name, stored.get(name, "")))
    settings.from_env = set(env)
    for job in JOB_NAMES:
        settings.jobs[job] = JobSettings(
            auto=stored.get(f"jobs.{job}.auto", "1") == "1",
            interval=_int(stored.get(f"jobs.{job}.interval"), DEFAULT_INTERVALS[job]),
        )

    register_secrets(getattr(settings, name) for name in CREDENTIAL_FIELDS)
    return settings


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def save(values: dict[str, object]) -> None:
    """Store settings; empty secrets keep their value. Commits."""
    changes: dict[str, str] = {}
    for name, value in values.items():
        if name in SECRET_FIELDS and not value:
            continue
        changes[name] = _encode(value)
    for job, job_settings in (values.get("jobs") or {}).items():
        changes[f"jobs.{job}.auto"] = "1" if job_settings.auto else "0"
        changes[f"jobs.{job}.interval"] = str(job_settings.interval)
    changes.pop("jobs", None)

    _write(changes)
    bump_version()
    if any(name in changes for name in CREDENTIAL_FIELDS):
        clear_credentials_rejected()
    db.session.commit()


def _encode(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value).strip()


def _write(changes: dict[str, str]) -> None:
    for key, value in changes.items():
        row = db.session.get(Setting, key)
        if row is None:
            db.session.add(Setting(key=key, value=value))
        else:
            row.value = value


def bump_version() -> None:
    """Mark the settings as changed so the scheduler reschedules."""
    current = _int(_stored().get(VERSION_KEY), 0)
    _write({VERSION_KEY: str(current + 1)})


def mark_credentials_rejected(message: str) -> None:
    """Remember that Plugg.to refused the credentials. Commits."""
    _write({REJECTED_KEY: message, REJECTED_AT_KEY: utcnow().isoformat()})
    db.session.commit()


def clear_credentials_rejected() -> None:
    """Forget a previous rejection (new credentials, or a test succeeded)."""
    _write({REJECTED_KEY: "", REJECTED_AT_KEY: ""})


def credentials_rejected() -> str:
    """Return the stored rejection message, or an empty string."""
    row = db.session.get(Setting, REJECTED_KEY)
    return row.value if row else ""


def mask(secret: str) -> str:
    """Show only the end of a secret."""
    if not secret:
        return ""
    if len(secret) <= 6:
        return "•" * len(secret)
    return "•" * 8 + secret[-4:]
