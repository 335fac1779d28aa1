"""The Plugg.to connector dashboard for a Rocky E-commerce store."""

from pathlib import Path
from typing import Any

from flask import Flask

from dashboard import web
from dashboard.config import build_config
from dashboard.extensions import csrf, db, htmx

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app. No threads, no network, no files written."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(build_config(overrides))
    app.config["WTF_I18N_ENABLED"] = False

    db.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    web.init_app(app)
    return app
