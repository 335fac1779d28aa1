"""The sandbox's whole in-memory state behind one lock."""

from __future__ import annotations

import copy
import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Any

from .auth import TokenRegistry
from .calllog import Call, CallLog
from .catalog import FALLBACK_LINES
from .clock import Clock, IdGenerator, iso_utc, parse_utc
from .config import SandboxConfig
from .errors import ApiError, bad_request
from .fakedata import OrderFactory
from .faults import FaultRule, FaultRules, parse_fault_request
from .lines import LineSource
from .orders import Order, OrderBook, OrderQuery
from .products import DEFAULT_LINE_PRICE, Product, ProductCatalog

logger = logging.getLogger(__name__)

MAX_ORDERS_PER_REQUEST = 1000
DEMO_APPROVE_CHANCE = 0.75
DEMO_CANCEL_CHANCE = 1 / 8
DEMO_PENDING_CHANCE = 0.25


@dataclass
class Settings:
    """Values that start from the config and can change at runtime."""

    latency_ms: float
    token_ttl: int
    put_creates: bool

    @classmethod
    def from_config(cls, config: SandboxConfig) -> Settings:
        """Return the start-up values of a config."""
        return cls(config.latency_ms, config.token_ttl, config.put_creates)


@dataclass(frozen=True)
class CallPlan:
    """How to answer an API call: stall first, maybe fake an answer, and how
    long the whole answer takes at least (the latency, processing included)."""

    delay: float
    responder: FaultRule | None
    latency: float = 0.0


@dataclass(frozen=True)
class OrderRequest:
    """A validated POST /_sandbox/orders body."""

    count: int
    status: str
    items: tuple[dict[str, Any], ...]
    created: float | None


def _order_item(item: Any) -> dict[str, Any]:
    """Validate one requested order line."""
    if not isinstance(item, dict) or not isinstance(item.get("sku"), str):
        raise bad_request("items must be objects with a sku")
    quantity = item.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise bad_request("items: quantity must be an integer >= 1")

    return item


def parse_order_request(payload: Any) -> OrderRequest:
    """Validate the body of POST /_sandbox/orders."""
    if not isinstance(payload, dict):
        raise bad_request("The request must be a JSON object")
    count = payload.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int):
        raise bad_request("count must be an integer")
    if not 1 <= count <= MAX_ORDERS_PER_REQUEST:
        raise bad_request(f"count must be between 1 and {MAX_ORDERS_PER_REQUEST}")
    status = payload.get("status", "approved")
    if not isinstance(status, str) or not status:
        raise bad_request("status must be a non-empty string")

    items = payload.get("items") or []
    if not isinstance(items, list):
        raise bad_request("items must be a list")
    created = payload.get("created")
    try:
        stamp = parse_utc(created).timestamp() if created else None
    except (TypeError, ValueError) as error:
        raise bad_request(f"created must be an ISO date: {error}") from error
    return OrderRequest(count, status, tuple(map(_order_item, items)), stamp)


def _has_invoice(order: Order) -> bool:
    """Tell whether any shipment of an order carries an NF-e key."""
    return any(shipment.get("nfe_key") for shipment in order.get("shipments", []))


class Store:
    """Products, orders, tokens, faults and the call log, guarded by one lock."""

    def __init__(self, config: SandboxConfig | None = None, clock: Clock = time.time):
        self.config = config or SandboxConfig()
        self.clock = clock
        self.lock = threading.Lock()
        with self.lock:
            self._reset_state()

    def _now(self) -> float:
        """Return the current time from the (replaceable) clock."""
        return self.clock()

    def _reset_state(self) -> None:
        """Rebuild every piece of state from the config."""
        config = self.config
        self._rng = random.Random(config.seed)
        self._ids = IdGenerator(self._rng, self._now)
        self.settings = Settings.from_config(config)
        self._tokens = TokenRegistry(config.credentials)
        self._products = ProductCatalog(self._ids, self._now)
        self._orders = OrderBook()
        self._factory = OrderFactory(self._rng, config.missing_data_rate)
        self._faults = FaultRules()
        self._calls = CallLog(config.call_log_entries, config.call_log_bodies)
        self._demo_checked: set[str] = set()

    def reset(self) -> None:
        """Clear products, orders, tokens, faults and the call log."""
        with self.lock:
            self._reset_state()
        logger.info("Sandbox state reset")

    # Calls, tokens and faults

    def begin_call(self, method: str, path: str) -> CallPlan:
        """Return the delay and the injected answer, if any, for an API call."""
        with self.lock:
            stall, responder = self._faults.take(method, path)
            return CallPlan(stall, responder, self.settings.latency_ms / 1000)

    def grant_token(self, form: dict[str, str]) -> dict[str, Any]:
        """Answer POST /oauth/token."""
        with self.lock:
            return self._tokens.grant(form, self._now(), self.settings.token_ttl)

    def token_is_valid(self, token: str) -> bool:
        """Tell whether an access token is known, unexpired and unrevoked."""
        with self.lock:
            return self._tokens.is_valid(token, self._now())

    def record_call(self, call: Call, body: Any) -> None:
        """Append an API call to the call log."""
        with self.lock:
            self._calls.record(call, body)

    def calls(self, since: int = 0) -> dict[str, Any]:
        """Return the call count and the calls from index ``since`` on."""
        with self.lock:
            return self._calls.since(since)

    def clear_calls(self) -> None:
        """Empty the call log."""
        with self.lock:
            self._calls.clear()

    def apply_faults(self, payload: Any) -> dict[str, Any]:
        """Apply a POST /_sandbox/faults request and return the active faults."""
        plan = parse_fault_request(payload)
        with self.lock:
            if plan.clear:
                self._faults.clear()
                self.settings = Settings.from_config(self.config)
            self._apply_settings(plan.latency_ms, plan.token_ttl, plan.put_creates)
            self._faults.add(plan.rules)
            if plan.revoke_tokens:
                revoked = self._tokens.revoke_all()
                logger.info("Revoked %s access token(s)", revoked)

            return self._describe_faults()

    def faults(self) -> dict[str, Any]:
        """Return the runtime settings and the active fault rules."""
        with self.lock:
            return self._describe_faults()

    def _apply_settings(
        self, latency_ms: float | None, token_ttl: int | None, put_creates: bool | None
    ) -> None:
        """Change the runtime settings that were given."""
        if latency_ms is not None:
            self.settings.latency_ms = latency_ms
        if token_ttl is not None:
            self.settings.token_ttl = token_ttl
        if put_creates is not None:
            self.settings.put_creates = put_creates

    def _describe_faults(self) -> dict[str, Any]:
        """Return settings and rules as JSON."""
        return {
            "latency_ms": self.settings.latency_ms,
            "token_ttl": self.settings.token_ttl,
            "put_creates": self.settings.put_creates,
            **self._faults.describe(),
        }

    # Products

    def put_sku(self, sku: str, body: Any) -> Product:
        """Answer PUT /skus/{sku}."""
        with self.lock:
            return self._products.put(sku, body, self.settings.put_creates)

    def get_sku(self, sku: str) -> Product:
        """Answer GET /skus/{sku}."""
        with self.lock:
            return self._products.get(sku)

    def delete_sku(self, sku: str) -> Product:
        """Answer DELETE /skus/{sku}."""
        with self.lock:
            return self._products.delete(sku)

    def create_product(self, body: Any) -> Product:
        """Answer POST /products."""
        with self.lock:
            return self._products.create(body)

    def update_stock(self, sku: str, body: Any) -> Product:
        """Answer PUT /skus/{sku}/stock."""
        with self.lock:
            return self._products.update_stock(sku, body)

    def list_products(self, limit: int, after: str | None) -> dict[str, Any]:
        """Answer GET /products."""
        with self.lock:
            total, page = self._products.page(limit, after)

        return {
            "total": total,
            "showing": len(page),
            "limit": limit,
            "result": [{"Product": product} for product in page],
        }

    def products(self) -> list[Product]:
        """Return every stored product."""
        with self.lock:
            return self._products.all()

    def seed_products(self, products: Any) -> list[Product]:
        """Store products directly (control endpoint); identical ones are kept."""
        if not isinstance(products, list):
            raise bad_request("products must be a list")

        with self.lock:
            for body in products:
                sku = body.get("sku") if isinstance(body, dict) else None
                if not isinstance(sku, str):
                    raise bad_request("Each product needs a sku")
                self._seed_one(sku, body)
            return self._products.all()

    def _seed_one(self, sku: str, body: dict[str, Any]) -> None:
        """Upsert one seeded product, ignoring a not_updated answer."""
        try:
            self._products.put(sku, body, put_creates=True)
        except ApiError as error:
            if error.payload.get("type") != "not_updated":
                raise

    # Orders

    def list_orders(self, query: OrderQuery) -> dict[str, Any]:
        """Answer GET /orders."""
        with self.lock:
            return self._orders.query(query)

    def get_order(self, order_id: str) -> Order:
        """Answer GET /orders/{id}."""
        with self.lock:
            return self._orders.get(order_id)

    def update_order(self, order_id: str, body: Any) -> Order:
        """Answer PUT /orders/{id}."""
        with self.lock:
            now = iso_utc(self._now())
            return self._orders.update(order_id, body, now, self._ids.next_id)

    def orders(self) -> list[Order]:
        """Return every stored order."""
        with self.lock:
            return self._orders.all()

    def create_orders(self, payload: Any) -> list[Order]:
        """Create realistic orders as POST /_sandbox/orders asks."""
        request = parse_order_request(payload)
        with self.lock:
            created = [self._new_order(request) for _ in range(request.count)]

        logger.info("Created %s sandbox order(s)", len(created))
        return created

    def set_order_status(self, order_id: str, status: Any) -> Order:
        """Change an order's status as the marketplace would."""
        if not isinstance(status, str) or not status:
            raise bad_request("status must be a non-empty string")

        with self.lock:
            return self._orders.set_status(order_id, status, iso_utc(self._now()))

    def _new_order(self, request: OrderRequest) -> Order:
        """Build, store and return one order."""
        if request.items:
            lines = [self._requested_line(item) for item in request.items]
        else:
            lines = self._random_lines(
                self._products.sellable() or list(FALLBACK_LINES)
            )

        return self._add_order(lines, request.status, request.created)

    def _add_order(
        self, lines: list[tuple[LineSource, int]], status: str, created: float | None
    ) -> Order:
        """Store a generated order; ids follow insertion, ``created`` may be older."""
        now = self._now()
        ids = (self._ids.next_id(), self._ids.next_id())
        stamps = (iso_utc(now if created is None else created), iso_utc(now))
        order = self._factory.build(ids, lines, status, stamps)
        self._orders.add(order)
        return copy.deepcopy(order)

    def _requested_line(self, item: dict[str, Any]) -> tuple[LineSource, int]:
        """Resolve a requested line against the products, then the sample SKUs."""
        sku = item["sku"]
        fallback = next((line for line in FALLBACK_LINES if line.sku == sku), None)
        source = self._products.line_source(sku) or fallback
        if source is None:
            source = LineSource(sku, None, f"Produto {sku}", DEFAULT_LINE_PRICE)

        name = item.get("name", source.name)
        price = float(item.get("price", source.price))
        return LineSource(source.sku, source.parent_sku, name, price), item.get(
            "quantity", 1
        )

    def _random_lines(self, pool: list[LineSource]) -> list[tuple[LineSource, int]]:
        """Pick one to three distinct SKUs with small quantities."""
        count = min(len(pool), self._rng.choice((1, 1, 1, 2, 2, 3)))
        chosen = self._rng.sample(pool, count)
        return [(source, self._rng.choice((1, 1, 1, 2))) for source in chosen]

    # Demo order flow

    def demo_tick(self) -> dict[str, list[str]]:
        """Advance the demo: approve, cancel, then create orders; return their ids."""
        with self.lock:
            now = self._now()
            approved = self._approve_due(now)
            canceled = self._cancel_some(now, skip=set(approved))
            created = self._create_demo_orders()

        logger.info(
            "Demo tick: %s created, %s approved, %s canceled",
            len(created),
            len(approved),
            len(canceled),
        )
        return {"created": created, "approved": approved, "canceled": canceled}

    def _is_older_than_a_tick(self, order: Order, now: float) -> bool:
        """Tell whether an order was created at least one demo interval ago."""
        age = now - parse_utc(order["created"]).timestamp()
        return age >= self.config.demo_interval_s

    def _approve_due(self, now: float) -> list[str]:
        """Approve most pending orders older than one tick (payment confirmed)."""
        approved: list[str] = []
        for order in self._orders.records():
            if order["status"] != "pending" or not self._is_older_than_a_tick(
                order, now
            ):
                continue
            if self._rng.random() < DEMO_APPROVE_CHANCE:
                self._orders.set_status(order["id"], "approved", iso_utc(now))
                approved.append(order["id"])

        return approved

    def _cancel_some(self, now: float, skip: set[str]) -> list[str]:
        """Cancel about one in eight approved, uninvoiced orders, each judged once."""
        canceled: list[str] = []
        for order in self._orders.records():
            if not self._may_cancel(order, now, skip):
                continue

            self._demo_checked.add(order["id"])
            if self._rng.random() < DEMO_CANCEL_CHANCE:
                self._orders.set_status(order["id"], "canceled", iso_utc(now))
                canceled.append(order["id"])

        return canceled

    def _may_cancel(self, order: Order, now: float, skip: set[str]) -> bool:
        """Tell whether the demo should judge an order for cancellation now."""
        if order["status"] != "approved" or _has_invoice(order):
            return False
        if order["id"] in skip or order["id"] in self._demo_checked:
            return False

        return self._is_older_than_a_tick(order, now)

    def _create_demo_orders(self) -> list[str]:
        """Create one or two orders for SKUs the connector pushed, if any."""
        pool = self._products.sellable()
        if not pool:
            return []

        created: list[str] = []
        for _ in range(self._rng.choice((1, 2))):
            pending = self._rng.random() < DEMO_PENDING_CHANCE
            status = "pending" if pending else "approved"
            order = self._add_order(self._random_lines(pool), status, None)
            created.append(order["id"])

        return created
