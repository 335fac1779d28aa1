"""Control endpoints for tests and the demo, under /_sandbox (no auth)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, request

from .api import store
from .errors import bad_request

bp = Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")


def _body() -> Any:
    """Parse an optional JSON body; an empty body means {}."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}

    try:
        return json.loads(raw)
    except ValueError as error:
        raise bad_request("The body is not valid JSON", "invalid_json") from error


@bp.get("/health")
def health() -> dict[str, Any]:
    """Tell that the sandbox is up."""
    return {"status": "ok"}


@bp.post("/reset")
def reset() -> dict[str, Any]:
    """Clear products, orders, tokens, faults and the call log."""
    store().reset()
    return {"reset": True}


@bp.get("/calls")
def list_calls() -> dict[str, Any]:
    """Return the API call log from index ``since`` on."""
    since = request.args.get("since", "0")
    if not since.isdigit():
        raise bad_request("since must be an integer >= 0")

    return store().calls(int(since))


@bp.delete("/calls")
def clear_calls() -> dict[str, Any]:
    """Empty the API call log."""
    store().clear_calls()
    return {"count": 0, "calls": []}


@bp.get("/products")
def all_products() -> dict[str, Any]:
    """Return every stored product."""
    return {"products": store().products()}


@bp.post("/products")
def seed_products() -> dict[str, Any]:
    """Store products directly, bypassing the API and the call log."""
    return {"products": store().seed_products(_body().get("products"))}


@bp.get("/orders")
def all_orders() -> dict[str, Any]:
    """Return every stored order."""
    return {"orders": store().orders()}


@bp.post("/orders")
def create_orders() -> tuple[dict[str, Any], int]:
    """Create realistic orders from the given or random SKUs."""
    return {"orders": store().create_orders(_body())}, 201


@bp.post("/orders/<order_id>/status")
def set_order_status(order_id: str) -> dict[str, Any]:
    """Change an order's status as the marketplace would."""
    return {"Order": store().set_order_status(order_id, _body().get("status"))}


@bp.get("/faults")
def show_faults() -> dict[str, Any]:
    """Return the runtime settings and the active fault rules."""
    return store().faults()


@bp.post("/faults")
def set_faults() -> dict[str, Any]:
    """Add fault rules, change settings, revoke tokens or clear."""
    return store().apply_faults(_body())


@bp.post("/demo/tick")
def demo_tick() -> dict[str, Any]:
    """Run one step of the demo order flow now."""
    return store().demo_tick()
