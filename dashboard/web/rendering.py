"""Render a page, or only its region for a real htmx request."""

from flask import make_response, render_template, request
from werkzeug.wrappers import Response


def wants_fragment() -> bool:
    """Tell whether htmx asked for a fragment (not a history restore)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request


def render(page: str, fragment: str | None = None, /, **context) -> Response:
    """Render the full page, or just ``fragment`` for an htmx request.

    A fragment carries the pending flash messages as an out-of-band swap, so
    feedback shows up without a reload.
    """
    if fragment and wants_fragment():
        html = render_template(fragment, **context)
        html += render_template("partials/_flashes.html", oob=True)
    else:
        html = render_template(page, **context)
    response = make_response(html)
    response.vary.add("HX-Request")
    return response
