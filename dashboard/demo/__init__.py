"""Demo mode: a local Plugg.to sandbox, demo credentials and a sample catalog.

``run.py --demo`` uses its own data folder (``<data-dir>/demo``), so nothing
here touches a merchant's real data. The sandbox lives in memory and starts
empty on every launch, so the demo store starts afresh too (``reset_store``):
otherwise the new sandbox's orders would sit beside the old launch's ones.
While the demo runs, its sandbox URL is kept in the demo database so that
``run.py --demo sync ...`` in another terminal talks to the same sandbox,
never to the real Plugg.to.
"""

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import requests
from flask import Flask
from sqlalchemy import func, select, update

from dashboard import settings as settings_store
from dashboard.catalog.importer import apply_import
from dashboard.extensions import db
from dashboard.models.catalog import Product
from dashboard.models.settings import Setting
from dashboard.models.sync import STATE_OK, STATE_PENDING, SyncItem
from dashboard.sandbox import DEMO_CREDENTIALS, SandboxConfig, SandboxServer
from dashboard.sync import runner

logger = logging.getLogger(__name__)

SAMPLE_CATALOG = Path(__file__).with_name("sample_catalog.csv")
DEMO_STORE_DOMAIN = "https://loja-demonstracao.com.br"
# New orders arrive, and older ones get approved or canceled, this often.
ORDER_INTERVAL_SECONDS = 180
FIRST_ORDERS = 3
CATALOG_KINDS = ("product", "price", "stock")
SANDBOX_URL_KEY = "demo_sandbox_url"


@dataclass
class Demo:
    """The running demo: the sandbox the dashboard talks to."""

    sandbox: SandboxServer

    @property
    def url(self) -> str:
        """Return the sandbox base URL."""
        return self.sandbox.url

    def stop(self) -> None:
        """Stop the sandbox (safe to call twice)."""
        self.sandbox.stop()


def reset_store(data_dir: Path) -> None:
    """Delete the demo database and uploads; logs and secret key stay."""
    for name in ("dashboard.db", "dashboard.db-wal", "dashboard.db-shm"):
        (data_dir / name).unlink(missing_ok=True)
    shutil.rmtree(data_dir / "uploads", ignore_errors=True)


def running_sandbox_url() -> str | None:
    """Return the URL of the sandbox of a demo running now, if one answers."""
    row = db.session.get(Setting, SANDBOX_URL_KEY)
    if row is None or not row.value:
        return None
    try:
        answer = requests.get(f"{row.value}/_sandbox/health", timeout=2)
    except requests.RequestException:
        return None
    return row.value if answer.ok else None


def remember_sandbox_url(url: str) -> None:
    """Let commands of this demo folder find the sandbox. Commits."""
    db.session.merge(Setting(key=SANDBOX_URL_KEY, value=url))
    db.session.commit()


def start_demo(app: Flask, order_interval: float = ORDER_INTERVAL_SECONDS) -> Demo:
    """Start the sandbox, point the app at it and prepare the demo store."""
    config = SandboxConfig(port=0, demo_orders=True, demo_interval_s=order_interval)
    sandbox = SandboxServer(config)
    sandbox.start()
    app.config["PLUGGTO_API_URL"] = sandbox.url
    app.config["DEMO_MODE"] = True

    try:
        with app.app_context():
            prepare_store()
            remember_sandbox_url(sandbox.url)
            # The products go out at once, not at the first scheduled run.
            runner.start_in_background("products", "scheduled")
        sandbox.store.create_orders({"count": FIRST_ORDERS, "status": "pending"})
    except Exception:
        sandbox.stop()
        raise
    logger.info("Modo demonstração: Plugg.to simulado em %s", sandbox.url)
    return Demo(sandbox)


def prepare_store() -> int:
    """Fill settings, import the sample catalog; return items to send again."""
    _store_demo_settings()
    if _catalog_is_empty():
        apply_import(SAMPLE_CATALOG)
    return _forget_acknowledgements()


def _store_demo_settings() -> None:
    """Save the sandbox credentials and a demo domain where nothing is set."""
    current = settings_store.load()
    wanted = {
        "client_id": DEMO_CREDENTIALS["client_id"],
        "client_secret": DEMO_CREDENTIALS["client_secret"],
        "api_user": DEMO_CREDENTIALS["username"],
        "api_secret": DEMO_CREDENTIALS["password"],
        "store_domain": DEMO_STORE_DOMAIN,
    }
    missing = {
        name: value for name, value in wanted.items() if not getattr(current, name)
    }
    if missing:
        settings_store.save(missing)


def _catalog_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Product))


def _forget_acknowledgements() -> int:
    """Mark every sent catalog item unsent: the sandbox starts empty. Commits."""
    result = db.session.execute(
        update(SyncItem)
        .where(SyncItem.kind.in_(CATALOG_KINDS), SyncItem.state == STATE_OK)
        .values(acked_hash=None, acked_value=None, acked_at=None, state=STATE_PENDING)
    )
    db.session.commit()
    return result.rowcount
