"""Products and variations: merge upserts, the account-wide SKU index, stock."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

from .clock import Clock, IdGenerator, iso_utc
from .errors import bad_request, not_found, not_updated
from .lines import LineSource

Product = dict[str, Any]

PROTECTED_FIELDS = frozenset({"id", "created", "modified", "variations", "remove"})
PRICE_FIELDS = ("price", "special_price")
STOCK_ACTIONS = ("update", "increase", "decrease")
DEFAULT_LINE_PRICE = 49.9


def _is_number(value: Any) -> bool:
    """Tell whether a JSON value is a finite number (booleans excluded)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _check_sku_field(item: dict[str, Any], label: str) -> None:
    """Reject an empty or non-string sku."""
    if "sku" not in item:
        return
    if not isinstance(item["sku"], str) or not item["sku"].strip():
        raise bad_request(f"{label}: sku must be a non-empty string")


def _check_quantity(item: dict[str, Any], label: str) -> None:
    """Reject a quantity that is not an integer >= 0."""
    if "quantity" not in item:
        return
    quantity = item["quantity"]
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
        raise bad_request(f"{label}: quantity must be an integer >= 0")


def _check_prices(item: dict[str, Any], label: str) -> None:
    """Reject a price or special_price that is not a number >= 0."""
    for name in PRICE_FIELDS:
        if name in item and not (_is_number(item[name]) and item[name] >= 0):
            raise bad_request(f"{label}: {name} must be a number >= 0")


def _check_photos(item: dict[str, Any], label: str) -> None:
    """Reject photos that are not a list of objects with a url."""
    if "photos" not in item:
        return
    photos = item["photos"]
    valid = isinstance(photos, list) and all(
        isinstance(photo, dict) and isinstance(photo.get("url"), str)
        for photo in photos
    )
    if not valid:
        raise bad_request(f"{label}: photos must be a list of objects with a url")


def _check_item(item: Any, label: str) -> None:
    """Reject a product or variation whose typed fields are malformed."""
    if not isinstance(item, dict):
        raise bad_request(f"{label} must be a JSON object")

    _check_sku_field(item, label)
    _check_quantity(item, label)
    _check_prices(item, label)
    _check_photos(item, label)


def validate_product(body: Any) -> None:
    """Reject a product body the real API would refuse."""
    _check_item(body, "product")

    variations = body.get("variations", [])
    if not isinstance(variations, list):
        raise bad_request("variations must be a list")
    for index, variation in enumerate(variations):
        label = f"variations[{index}]"
        _check_item(variation, label)
        if "sku" not in variation:
            raise bad_request(f"{label}: sku is required")


def _normalized(item: dict[str, Any]) -> dict[str, Any]:
    """Deep-copy a sent item and round its prices to 3 decimals, as stored."""
    result = copy.deepcopy(item)
    for target in [result, *result.get("variations", [])]:
        for name in PRICE_FIELDS:
            if name in target:
                target[name] = round(float(target[name]), 3)

    return result


def _without_remove(item: dict[str, Any]) -> dict[str, Any]:
    """Return a sent list item without its remove flag."""
    return {key: value for key, value in item.items() if key != "remove"}


def merge_photos(
    existing: list[dict[str, Any]], sent: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Merge photos by url; an item with remove: true deletes that url."""
    result = [dict(photo) for photo in existing]
    for item in sent:
        url = item["url"]
        current = next((photo for photo in result if photo.get("url") == url), None)
        if item.get("remove"):
            result = [photo for photo in result if photo.get("url") != url]
        elif current is not None:
            current.update(_without_remove(item))
        else:
            result.append(_without_remove(item))

    return result


def merge_fields(target: dict[str, Any], changes: dict[str, Any]) -> None:
    """Apply sent fields onto a stored product or variation, in place."""
    for key, value in changes.items():
        if key in PROTECTED_FIELDS:
            continue
        if key == "photos":
            target["photos"] = merge_photos(target.get("photos", []), value)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            target[key] = {**target[key], **value}
        else:
            target[key] = value


def merge_variations(
    existing: list[dict[str, Any]],
    sent: list[dict[str, Any]],
    new_id: Callable[[], str],
) -> list[dict[str, Any]]:
    """Merge variations by sku; {sku, remove: true} deletes one."""
    result = list(existing)
    for item in sent:
        sku = item["sku"]
        current = next(
            (variation for variation in result if variation["sku"] == sku), None
        )
        if item.get("remove"):
            result = [variation for variation in result if variation["sku"] != sku]
        elif current is not None:
            merge_fields(current, item)
        else:
            fresh: dict[str, Any] = {"id": new_id(), "sku": sku}
            merge_fields(fresh, item)
            result.append(fresh)

    return result


def _sale_price(item: dict[str, Any]) -> float | None:
    """Return what a buyer pays for an item: special_price, else price."""
    for name in ("special_price", "price"):
        value = item.get(name)
        if _is_number(value) and value > 0:
            return float(value)

    return None


def _moved_quantity(current: int, action: str, quantity: int) -> int:
    """Apply a stock action; a decrease never goes below zero."""
    if action == "increase":
        return current + quantity
    if action == "decrease":
        return max(0, current - quantity)

    return quantity


class ProductCatalog:
    """Every product of the account, indexed by each of its SKUs (not locked)."""

    def __init__(self, ids: IdGenerator, clock: Clock) -> None:
        self._ids = ids
        self._clock = clock
        self._products: dict[str, Product] = {}
        self._owners: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._products)

    def get(self, sku: str) -> Product:
        """Return the product owning a SKU (a variation SKU gives its parent)."""
        product, _ = self._locate(sku)
        return copy.deepcopy(product)

    def put(self, sku: str, body: Any, put_creates: bool) -> Product:
        """Merge-upsert the product addressed by a SKU."""
        validate_product(body)
        if body.get("sku", sku) != sku:
            raise bad_request("The sku in the body differs from the sku in the URL")

        changes = _normalized(body)
        owner = self._owners.get(sku)
        if owner is None and not put_creates:
            raise not_found(f"Product {sku} not found")
        if owner is None:
            return self._insert({**changes, "sku": sku})

        product = self._products[owner]
        if product["sku"] != sku:
            return self._update_variation(product, sku, changes)
        return self._update_product(product, changes)

    def create(self, body: Any) -> Product:
        """Create a new product; every one of its SKUs must be new."""
        validate_product(body)
        if "sku" not in body:
            raise bad_request("product: sku is required")

        return self._insert(_normalized(body))

    def delete(self, sku: str) -> Product:
        """Delete a product, or only the variation when the SKU is one."""
        product, variation = self._locate(sku)
        if variation is None:
            self._unindex(product)
            del self._products[product["id"]]
            return copy.deepcopy(product)

        product["variations"].remove(variation)
        del self._owners[sku]
        product["modified"] = iso_utc(self._clock())
        return copy.deepcopy(product)

    def update_stock(self, sku: str, body: Any) -> Product:
        """Apply an update/increase/decrease stock action to a product or variation."""
        if not isinstance(body, dict) or body.get("action") not in STOCK_ACTIONS:
            raise bad_request("action must be one of: update, increase, decrease")
        if "quantity" not in body:
            raise bad_request("stock: quantity is required")
        _check_quantity(body, "stock")

        product, target = self._stock_target(sku, body.get("sku"))
        current = target.get("quantity") or 0
        target["quantity"] = _moved_quantity(current, body["action"], body["quantity"])
        product["modified"] = iso_utc(self._clock())
        return copy.deepcopy(product)

    def page(self, limit: int, after: str | None) -> tuple[int, list[Product]]:
        """Return the total and up to ``limit`` products with an id above ``after``."""
        chosen = [
            product
            for product_id, product in self._products.items()
            if after is None or product_id > after
        ]
        return len(self._products), copy.deepcopy(chosen[:limit])

    def all(self) -> list[Product]:
        """Return a copy of every product."""
        return copy.deepcopy(list(self._products.values()))

    def line_source(self, sku: str) -> LineSource | None:
        """Describe a known SKU as an order line source, or None."""
        owner = self._owners.get(sku)
        if owner is None:
            return None

        product = self._products[owner]
        if product["sku"] == sku:
            return self._simple_line(product)
        variation = next(v for v in product["variations"] if v["sku"] == sku)
        return self._variation_line(product, variation)

    def sellable(self) -> list[LineSource]:
        """List every SKU a buyer can order: variations, or the product itself."""
        lines: list[LineSource] = []
        for product in self._products.values():
            if not product["variations"]:
                lines.append(self._simple_line(product))
            for variation in product["variations"]:
                lines.append(self._variation_line(product, variation))

        return lines

    def _simple_line(self, product: Product) -> LineSource:
        """Describe a product without variations as a line source."""
        price = _sale_price(product) or DEFAULT_LINE_PRICE
        name = product.get("name") or product["sku"]
        return LineSource(product["sku"], None, str(name), price)

    def _variation_line(self, product: Product, variation: Product) -> LineSource:
        """Describe a variation as a line source."""
        price = _sale_price(variation) or _sale_price(product) or DEFAULT_LINE_PRICE
        name = variation.get("name") or product.get("name") or variation["sku"]
        return LineSource(variation["sku"], product["sku"], str(name), price)

    def _locate(self, sku: str) -> tuple[Product, Product | None]:
        """Find the product owning a SKU and the matching variation, if any."""
        owner = self._owners.get(sku)
        if owner is None:
            raise not_found(f"Product {sku} not found")

        product = self._products[owner]
        if product["sku"] == sku:
            return product, None
        variation = next(v for v in product["variations"] if v["sku"] == sku)
        return product, variation

    def _stock_target(self, sku: str, body_sku: Any) -> tuple[Product, dict[str, Any]]:
        """Pick what a stock call moves: the URL SKU, or a variation in the body."""
        product, variation = self._locate(sku)
        if body_sku is None or body_sku == sku:
            return product, variation or product

        inner = next((v for v in product["variations"] if v["sku"] == body_sku), None)
        if variation is not None or inner is None:
            raise bad_request(f"SKU {body_sku} does not belong to {sku}")
        return product, inner

    def _insert(self, changes: dict[str, Any]) -> Product:
        """Store a brand-new product built from sent fields."""
        now = iso_utc(self._clock())
        product: Product = {"id": self._ids.next_id(), "sku": changes["sku"]}
        merge_fields(product, changes)
        product.setdefault("photos", [])
        product["variations"] = merge_variations(
            [], changes.get("variations", []), self._ids.next_id
        )
        product["created"] = now
        product["modified"] = now

        self._check_unique(product)
        self._index(product)
        return copy.deepcopy(product)

    def _update_product(self, product: Product, changes: dict[str, Any]) -> Product:
        """Merge sent fields and variations into a stored product."""
        merged = copy.deepcopy(product)
        merge_fields(merged, changes)
        if "variations" in changes:
            merged["variations"] = merge_variations(
                merged["variations"], changes["variations"], self._ids.next_id
            )

        return self._commit(product, merged)

    def _update_variation(
        self, product: Product, sku: str, changes: dict[str, Any]
    ) -> Product:
        """Merge sent fields into one variation addressed by its own SKU."""
        if "variations" in changes:
            raise bad_request(f"{sku} is a variation: send variations on its parent")

        merged = copy.deepcopy(product)
        variation = next(v for v in merged["variations"] if v["sku"] == sku)
        merge_fields(variation, changes)
        return self._commit(product, merged)

    def _commit(self, product: Product, merged: Product) -> Product:
        """Replace a product unless nothing changed or a SKU clashes."""
        if merged == product:
            raise not_updated("Changes not found in the document")
        self._check_unique(merged)

        merged["modified"] = iso_utc(self._clock())
        self._unindex(product)
        self._index(merged)
        return copy.deepcopy(merged)

    def _check_unique(self, product: Product) -> None:
        """Reject a product reusing a SKU of another product, or twice itself."""
        seen: set[str] = set()
        for sku in [product["sku"], *(v["sku"] for v in product["variations"])]:
            owner = self._owners.get(sku)
            if sku in seen or (owner is not None and owner != product["id"]):
                raise bad_request(
                    f"SKU {sku} already exists in this account", "duplicated_sku"
                )
            seen.add(sku)

    def _index(self, product: Product) -> None:
        """Store a product and point each of its SKUs at it."""
        self._products[product["id"]] = product
        self._owners[product["sku"]] = product["id"]
        for variation in product["variations"]:
            self._owners[variation["sku"]] = product["id"]

    def _unindex(self, product: Product) -> None:
        """Forget the SKUs of a product (the record itself stays until replaced)."""
        self._owners.pop(product["sku"], None)
        for variation in product["variations"]:
            self._owners.pop(variation["sku"], None)
