"""The data folder: private permissions, secret key, SQLite setup, migrations."""

import logging
import os
import secrets
import sqlite3
import stat
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from dashboard.extensions import db

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
SECRET_KEY_FILE = "secret_key"
DB_FILE = "dashboard.db"


def make_private_dir(path: Path) -> Path:
    """Create a folder only the current user can enter, or tighten it."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) != 0o700:
        path.chmod(0o700)
    return path


def touch_private(path: Path) -> None:
    """Create a file readable only by the current user, or tighten it."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    path.chmod(0o600)


def load_secret_key(data_dir: Path) -> str:
    """Return the app's secret key, creating it on first start."""
    path = data_dir / SECRET_KEY_FILE
    if path.exists():
        path.chmod(0o600)
        return path.read_text().strip()

    key = secrets.token_hex(32)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def open_storage(app: Flask) -> None:
    """Prepare the data folder and bring the database schema up to date."""
    data_dir = make_private_dir(Path(app.config["DATA_DIR"]))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(data_dir)

    db_path = data_dir / DB_FILE
    if app.config["SQLALCHEMY_DATABASE_URI"].endswith(str(db_path)):
        touch_private(db_path)

    with app.app_context():
        upgrade_schema()
        for suffix in ("-wal", "-shm"):
            side = db_path.with_name(db_path.name + suffix)
            if side.exists():
                side.chmod(0o600)


def upgrade_schema() -> None:
    """Apply every pending migration to the app's database."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, connection_record) -> None:
    """Use WAL, a busy timeout and foreign keys on every SQLite connection."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
