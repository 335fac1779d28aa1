"""The Plugg.to API routes, plus the hooks every API call goes through."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, request

from .calllog import Call
from .clock import iso_utc
from .errors import ApiError, bad_request, oauth_error
from .faults import FaultRule
from .orders import parse_order_query, parse_paging
from .paths import raw_path, split_sku_path
from .store import Store

bp = Blueprint("sandbox_api", __name__)

CONTROL_PREFIX = "/_sandbox"
TOKEN_PATH = "/oauth/token"
SECRET_FIELDS = frozenset({"client_secret", "password", "refresh_token"})
MALFORMED_BODY = "<html><body><h1>502 Bad Gateway</h1></body></html>"
_RULE_VARIABLE = re.compile(r"<(?:\w+:)?(\w+)>")


def store() -> Store:
    """Return the store of the running sandbox app."""
    return current_app.extensions["sandbox_store"]


def json_body() -> Any:
    """Parse the request body as JSON whatever its content type; 400 if invalid."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise bad_request("A JSON body is required", "invalid_json")

    try:
        g.json_body = json.loads(raw)
    except ValueError as error:
        raise bad_request("The body is not valid JSON", "invalid_json") from error
    return g.json_body


def _is_control_call() -> bool:
    """Tell whether the request targets the sandbox's own control endpoints."""
    return request.path.startswith(CONTROL_PREFIX)


def _bearer_token() -> str:
    """Return the token from the Authorization header or the access_token query."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()

    return request.args.get("access_token", "")


def _fault_response(rule: FaultRule) -> Response:
    """Build the answer an injected fail or malformed rule asks for."""
    if rule.kind == "malformed":
        body = MALFORMED_BODY if rule.body is None else str(rule.body)
        return Response(body, 200, mimetype="text/html")

    if rule.body is None:
        payload = {
            "error": True,
            "type": "sandbox_fault",
            "details": "Injected failure",
        }
        response = Response(
            json.dumps(payload), rule.status, mimetype="application/json"
        )
    elif isinstance(rule.body, str):
        response = Response(rule.body, rule.status, mimetype="text/plain")
    else:
        response = Response(
            json.dumps(rule.body), rule.status, mimetype="application/json"
        )
    if rule.retry_after is not None:
        response.headers["Retry-After"] = rule.retry_after
    return response


@bp.before_app_request
def prepare_api_call() -> Response | None:
    """Apply latency and injected faults, then require a valid token."""
    if _is_control_call():
        return None

    plan = store().begin_call(request.method, request.path)
    arrived = request.environ.get("sandbox.arrived") or time.monotonic()
    g.answer_at = arrived + plan.delay + plan.latency
    if plan.delay > 0:
        current_app.extensions["sandbox_stop"].wait(plan.delay)
    if plan.responder is not None:
        return _fault_response(plan.responder)

    if request.path == TOKEN_PATH or store().token_is_valid(_bearer_token()):
        return None
    raise ApiError(
        401,
        {
            "error": "invalid_token",
            "error_description": "The access token is missing, invalid or expired",
        },
        {"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def _logged_body() -> Any:
    """Return the request body for the call log, with secrets masked."""
    if request.path == TOKEN_PATH:
        return {
            key: "***" if key in SECRET_FIELDS else value
            for key, value in request.form.items()
        }
    if "json_body" in g:
        return g.json_body

    return request.get_json(silent=True) if request.is_json else None


def _route_label() -> str:
    """Return the route template of the request, like /skus/{sku}."""
    if "route" in g:
        return g.route
    if request.url_rule is None:
        return "(unknown)"

    return _RULE_VARIABLE.sub(r"{\1}", request.url_rule.rule)


@bp.after_app_request
def record_api_call(response: Response) -> Response:
    """Append every API call (not control calls) to the call log."""
    if _is_control_call():
        return response

    query = request.args.to_dict()
    if "access_token" in query:
        query["access_token"] = "***"
    call = Call(
        method=request.method,
        path=raw_path(request.environ) or request.path,
        query=query,
        status=response.status_code,
        at=iso_utc(store().clock()),
        route=_route_label(),
        oauth=request.path == TOKEN_PATH,
    )
    store().record_call(call, _logged_body())
    _wait_for_latency()
    return response


def _wait_for_latency() -> None:
    """Answer no sooner than the latency after the request arrived.

    Plugg.to's latency is the whole round trip: the sandbox's own work is
    part of it, not added on top, so a benchmark measures the client alone.
    """
    remaining = g.get("answer_at", 0.0) - time.monotonic()
    if remaining > 0:
        current_app.extensions["sandbox_stop"].wait(remaining)


@bp.post(TOKEN_PATH)
def oauth_token() -> dict[str, Any]:
    """Issue a token for a form-encoded password or refresh_token grant."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise oauth_error(
            400,
            "invalid_request",
            "The token request body must be application/x-www-form-urlencoded",
        )

    return store().grant_token(request.form.to_dict())


@bp.route("/skus/<path:sku>", methods=["GET", "PUT", "DELETE"])
def sku_resource(sku: str) -> dict[str, Any]:
    """Read, upsert or delete a product by SKU, or move its stock."""
    target, subresource = split_sku_path(request.environ, sku)
    if subresource is not None:
        g.route = "/skus/{sku}/stock"
        if request.method != "PUT":
            abort(405)
        return {"Product": store().update_stock(target, json_body())}

    if request.method == "GET":
        return {"Product": store().get_sku(target)}
    if request.method == "DELETE":
        return {"Product": store().delete_sku(target)}
    return {"Product": store().put_sku(target, json_body())}


@bp.post("/products")
def create_product() -> tuple[dict[str, Any], int]:
    """Create a product whose SKUs are all new."""
    return {"Product": store().create_product(json_body())}, 201


@bp.get("/products")
def list_products() -> dict[str, Any]:
    """List products by id, ``limit`` at a time, after the ``next`` id."""
    limit, after = parse_paging(request.args)
    return store().list_products(limit, after)


@bp.get("/orders")
def list_orders() -> dict[str, Any]:
    """List orders filtered by status and dates, paged by id."""
    return store().list_orders(parse_order_query(request.args))


@bp.get("/orders/<order_id>")
def get_order(order_id: str) -> dict[str, Any]:
    """Return one order."""
    return {"Order": store().get_order(order_id)}


@bp.put("/orders/<order_id>")
def update_order(order_id: str) -> dict[str, Any]:
    """Partially update status, external and shipments of an order."""
    return {"Order": store().update_order(order_id, json_body())}
