"""Build the sandbox's Flask application."""

from __future__ import annotations

import logging
import threading

from flask import Flask, Response, json
from werkzeug.exceptions import HTTPException

from . import api, control
from .errors import ApiError
from .store import Store

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024 * 1024


def _api_error(error: ApiError) -> Response:
    """Answer an ApiError with its JSON payload."""
    response = Response(
        json.dumps(error.payload), error.status, mimetype="application/json"
    )
    response.headers.update(error.headers)
    return response


def _http_error(error: HTTPException) -> Response:
    """Answer routing and method errors with JSON instead of HTML."""
    response = error.get_response()
    response.data = json.dumps(
        {
            "error": True,
            "type": (error.name or "error").lower().replace(" ", "_"),
            "details": error.description,
        }
    )
    response.content_type = "application/json"
    return response


def _unexpected_error(error: Exception) -> Response:
    """Log a bug in the sandbox and answer 500."""
    logger.exception("Sandbox failed on a request", exc_info=error)
    payload = {"error": True, "type": "internal_error", "details": str(error)}
    return Response(json.dumps(payload), 500, mimetype="application/json")


def create_app(store: Store, stop_event: threading.Event | None = None) -> Flask:
    """Build the app serving the Plugg.to API and the control endpoints."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["sandbox_store"] = store
    app.extensions["sandbox_stop"] = stop_event or threading.Event()

    app.register_blueprint(api.bp)
    app.register_blueprint(control.bp)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    return app
