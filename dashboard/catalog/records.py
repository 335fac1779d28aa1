"""Plain records of products and variations, and their bulk loading.

Imports, staging and pushes work on these records (not on ORM objects) so
50,000 SKUs can be compared and staged in chunks with little memory, and so
records can cross threads safely.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select

from dashboard.extensions import db
from dashboard.models.catalog import Product, Variation

CHUNK = 500

# Columns compared by the import to tell a changed item from an unchanged one.
ITEM_FIELDS = (
    "name",
    "ean",
    "price",
    "special_price",
    "special_start",
    "special_end",
    "quantity",
    "photos",
    "attributes",
    "active",
)
PRODUCT_FIELDS = ITEM_FIELDS + (
    "description",
    "brand",
    "weight_g",
    "length_mm",
    "width_mm",
    "height_mm",
    "categories",
)


@dataclass(slots=True, kw_only=True)
class ItemRecord:
    """A variation (or the sellable part of a product)."""

    sku: str
    name: str
    price: Decimal
    quantity: int = 0
    ean: str = ""
    special_price: Decimal | None = None
    special_start: date | None = None
    special_end: date | None = None
    photos: list[str] = field(default_factory=list)
    attributes: list[list[str]] = field(default_factory=list)
    active: bool = True
    id: int | None = None
    promo_applied: bool = False

    def values(self, names: Iterable[str] = ITEM_FIELDS) -> dict[str, Any]:
        """Return the stored columns of this record."""
        return {name: getattr(self, name) for name in names}


@dataclass(slots=True, kw_only=True)
class ProductRecord(ItemRecord):
    """A product with its variations (none for a simple product)."""

    store_id: str | None = None
    description: str = ""
    brand: str = ""
    weight_g: int | None = None
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    categories: list[str] = field(default_factory=list)
    variations: list[ItemRecord] = field(default_factory=list)

    def values(self, names: Iterable[str] = PRODUCT_FIELDS) -> dict[str, Any]:
        return {name: getattr(self, name) for name in names}

    @property
    def has_variations(self) -> bool:
        return bool(self.variations)

    def skus(self) -> list[str]:
        """Return the product SKU and every variation SKU."""
        return [self.sku, *(variation.sku for variation in self.variations)]


_PRODUCT_COLUMNS = [
    Product.id,
    Product.store_id,
    Product.sku,
    Product.promo_applied,
    *(getattr(Product, name) for name in PRODUCT_FIELDS),
]
_VARIATION_COLUMNS = [
    Variation.id,
    Variation.product_id,
    Variation.sku,
    Variation.promo_applied,
    *(getattr(Variation, name) for name in ITEM_FIELDS),
]


def load_families(skus: Iterable[str]) -> dict[str, ProductRecord]:
    """Load products (by product SKU) with their variations, in chunks."""
    return _load_chunked(_BY_SKU, list(dict.fromkeys(skus)))


def load_families_by_id(ids: Iterable[int]) -> dict[str, ProductRecord]:
    """Load products (by id) with their variations, in chunks."""
    return _load_chunked(_BY_ID, list(dict.fromkeys(ids)))


def iter_families(chunk: int = CHUNK) -> Iterator[ProductRecord]:
    """Yield every product with its variations, ordered by id, in chunks."""
    last_id = 0
    while True:
        families = list(_with_variations(_PAGE, {"after": last_id, "limit": chunk}))
        if not families:
            return
        yield from families
        last_id = families[-1].id


# Statements built once: pushes load one family per item, in many threads.
_PRODUCTS = select(*_PRODUCT_COLUMNS)
_BY_SKU = _PRODUCTS.where(Product.sku.in_(bindparam("wanted", expanding=True)))
_BY_ID = _PRODUCTS.where(Product.id.in_(bindparam("wanted", expanding=True)))
_PAGE = (
    _PRODUCTS.where(Product.id > bindparam("after"))
    .order_by(Product.id)
    .limit(bindparam("limit"))
)
_VARIATIONS = (
    select(*_VARIATION_COLUMNS)
    .where(Variation.product_id.in_(bindparam("parents", expanding=True)))
    .order_by(Variation.product_id, Variation.position, Variation.id)
)


def _load_chunked(statement, wanted: list) -> dict[str, ProductRecord]:
    found: dict[str, ProductRecord] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        for record in _with_variations(statement, {"wanted": chunk}):
            found[record.sku] = record
    return found


def _with_variations(statement, params: dict) -> list[ProductRecord]:
    products = []
    by_id = {}
    for row in db.session.execute(statement, params).mappings():
        record = ProductRecord(**_product_values(row))
        products.append(record)
        by_id[record.id] = record
    if not by_id:
        return products

    rows = db.session.execute(_VARIATIONS, {"parents": list(by_id)}).mappings()
    for row in rows:
        values = dict(row)
        parent = by_id[values.pop("product_id")]
        parent.variations.append(ItemRecord(**_item_values(values)))
    return products


def _product_values(row) -> dict[str, Any]:
    values = _item_values(dict(row))
    values["categories"] = list(values["categories"] or [])
    return values


def _item_values(values: dict[str, Any]) -> dict[str, Any]:
    values["photos"] = list(values["photos"] or [])
    values["attributes"] = [list(pair) for pair in values["attributes"] or []]
    return values
