"""Orders: filtered listing with id paging, and partial updates with shipments."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .clock import parse_utc
from .config import ORDER_STATUSES
from .errors import bad_request, not_found, not_updated

Order = dict[str, Any]

MAX_LIMIT = 100
UPDATABLE_FIELDS = frozenset({"status", "external", "shipments"})
SHIPMENT_FIELDS = (
    "shipping_company",
    "shipping_method",
    "track_code",
    "track_url",
    "status",
    "date_shipped",
    "date_delivered",
    "nfe_key",
    "nfe_number",
    "nfe_serie",
    "nfe_date",
    "nfe_link",
)


@dataclass(frozen=True)
class Window:
    """An inclusive time range; either end may be open."""

    start: datetime | None
    end: datetime | None

    def contains(self, moment: datetime) -> bool:
        """Tell whether a moment falls inside the range."""
        if self.start is not None and moment < self.start:
            return False
        return self.end is None or moment <= self.end


@dataclass(frozen=True)
class OrderQuery:
    """The filters and paging of GET /orders."""

    status: str | None = None
    created: Window | None = None
    modified: Window | None = None
    limit: int = MAX_LIMIT
    after: str | None = None
    page: int = 1


def parse_window(value: str, name: str) -> Window:
    """Parse ``<from>to<to>`` where each end is a date or an ISO UTC timestamp."""
    start_text, separator, end_text = value.partition("to")
    if not separator:
        raise bad_request(f"{name} must look like <from>to<to>")

    try:
        start = parse_utc(start_text) if start_text.strip() else None
        end = parse_utc(end_text, end_of_day=True) if end_text.strip() else None
    except ValueError as error:
        raise bad_request(f"{name}: invalid date ({error})") from error
    return Window(start, end)


def _positive_int(args: Mapping[str, str], name: str, default: int) -> int:
    """Read a query parameter that must be a positive integer."""
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise bad_request(f"{name} must be a positive integer")

    return int(raw)


def parse_paging(args: Mapping[str, str]) -> tuple[int, str | None]:
    """Read ``limit`` (capped at 100) and ``next`` (the last id already seen)."""
    limit = min(_positive_int(args, "limit", MAX_LIMIT), MAX_LIMIT)
    return limit, args.get("next") or None


def parse_order_query(args: Mapping[str, str]) -> OrderQuery:
    """Build an OrderQuery from request arguments; limits above 100 are capped."""
    created = args.get("created")
    modified = args.get("modified")
    limit, after = parse_paging(args)
    return OrderQuery(
        status=args.get("status") or None,
        created=parse_window(created, "created") if created else None,
        modified=parse_window(modified, "modified") if modified else None,
        limit=limit,
        after=after,
        page=_positive_int(args, "page", 1),
    )


def _matches(order: Order, query: OrderQuery) -> bool:
    """Tell whether an order passes the status and date filters."""
    if query.status is not None and order.get("status") != query.status:
        return False
    if query.created and not query.created.contains(parse_utc(order["created"])):
        return False
    if query.modified and not query.modified.contains(parse_utc(order["modified"])):
        return False

    return True


def blank_shipment(shipment_id: str) -> dict[str, Any]:
    """Return a shipment with an id and no tracking or invoice data yet."""
    shipment: dict[str, Any] = {"id": shipment_id}
    shipment.update(dict.fromkeys(SHIPMENT_FIELDS))
    shipment["shipping_items"] = []
    return shipment


def _check_update(body: Any) -> None:
    """Reject an order update the sandbox cannot apply."""
    if not isinstance(body, dict):
        raise bad_request("The order update must be a JSON object")

    unknown = sorted(set(body) - UPDATABLE_FIELDS)
    if unknown:
        raise bad_request(f"Fields not updatable here: {', '.join(unknown)}")
    if "status" in body and body["status"] not in ORDER_STATUSES:
        raise bad_request(f"Invalid order status: {body['status']}")

    shipments = body.get("shipments", [])
    if not isinstance(shipments, list) or not all(
        isinstance(shipment, dict) for shipment in shipments
    ):
        raise bad_request("shipments must be a list of objects")


def _merge_shipment(
    shipments: list[dict[str, Any]], sent: dict[str, Any], new_id: Callable[[], str]
) -> None:
    """Update the shipment with the sent id, or append a new one when none is sent."""
    shipment_id = sent.get("id")
    if not shipment_id:
        fresh = blank_shipment(new_id())
        fresh.update({key: value for key, value in sent.items() if key != "id"})
        shipments.append(fresh)
        return

    current = next((item for item in shipments if item.get("id") == shipment_id), None)
    if current is None:
        raise bad_request(f"Shipment {shipment_id} not found in this order")
    current.update(sent)


class OrderBook:
    """Every order of the account, kept in id order (not locked)."""

    def __init__(self) -> None:
        self._orders: dict[str, Order] = {}

    def __len__(self) -> int:
        return len(self._orders)

    def add(self, order: Order) -> None:
        """Store a new order; ids are issued increasing, so order is kept."""
        self._orders[order["id"]] = order

    def get(self, order_id: str) -> Order:
        """Return a copy of one order."""
        return copy.deepcopy(self._find(order_id))

    def all(self) -> list[Order]:
        """Return a copy of every order."""
        return copy.deepcopy(list(self._orders.values()))

    def records(self) -> list[Order]:
        """Return the stored orders themselves, for in-place changes."""
        return list(self._orders.values())

    def query(self, query: OrderQuery) -> dict[str, Any]:
        """Answer GET /orders: total, showing, limit and the page of orders."""
        matching = [order for order in self._orders.values() if _matches(order, query)]
        after = [
            order
            for order in matching
            if query.after is None or order["id"] > query.after
        ]
        offset = (query.page - 1) * query.limit
        page = after[offset : offset + query.limit]

        return {
            "total": len(matching),
            "showing": len(page),
            "limit": query.limit,
            "result": [{"Order": copy.deepcopy(order)} for order in page],
        }

    def update(
        self, order_id: str, body: Any, now: str, new_id: Callable[[], str]
    ) -> Order:
        """Apply a partial update of status, external and shipments."""
        _check_update(body)
        order = self._find(order_id)

        merged = copy.deepcopy(order)
        for name in ("status", "external"):
            if name in body:
                merged[name] = copy.deepcopy(body[name])
        for sent in copy.deepcopy(body.get("shipments", [])):
            _merge_shipment(merged["shipments"], sent, new_id)
        if merged == order:
            raise not_updated("Changes not found in the order")

        merged["modified"] = now
        self._orders[order_id] = merged
        return copy.deepcopy(merged)

    def set_status(self, order_id: str, status: str, now: str) -> Order:
        """Change the status as the marketplace would (no not_updated check)."""
        order = self._find(order_id)
        order["status"] = status
        order["modified"] = now
        return copy.deepcopy(order)

    def _find(self, order_id: str) -> Order:
        """Return the stored order or raise a 404."""
        order = self._orders.get(order_id)
        if order is None:
            raise not_found(f"Order {order_id} not found")

        return order
