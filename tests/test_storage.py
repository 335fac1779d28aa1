"""The data folder: private files, SQLite settings, schema migrations."""

import stat

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from dashboard import create_app
from dashboard.extensions import db
from dashboard.storage import open_storage


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_folder_and_files_are_private(app):
    data_dir = app.config["DATA_DIR"]

    assert mode(data_dir) == 0o700
    assert mode(data_dir / "dashboard.db") == 0o600


def test_a_loose_data_folder_is_tightened(tmp_path):
    data_dir = tmp_path / "loose"
    data_dir.mkdir(mode=0o755)
    app = create_app({"DATA_DIR": data_dir})

    open_storage(app)

    assert mode(data_dir) == 0o700
    assert mode(data_dir / "secret_key") == 0o600
    with app.app_context():
        db.engine.dispose()


def test_the_secret_key_survives_restarts(tmp_path):
    first = create_app({"DATA_DIR": tmp_path})
    open_storage(first)
    second = create_app({"DATA_DIR": tmp_path})
    open_storage(second)

    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) == 64
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(app):
    with db.engine.connect() as connection:
        journal = connection.execute(text("PRAGMA journal_mode")).scalar()
        timeout = connection.execute(text("PRAGMA busy_timeout")).scalar()

    assert journal == "wal"
    assert timeout == 30000


def test_the_migrations_build_exactly_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, db.metadata)

    assert differences == []


def test_opening_the_storage_twice_keeps_the_data(app):
    db.session.execute(text("INSERT INTO settings (key, value) VALUES ('k', 'v')"))
    db.session.commit()

    open_storage(app)

    assert db.session.execute(text("SELECT value FROM settings")).scalar() == "v"
    assert "alembic_version" in inspect(db.engine).get_table_names()
