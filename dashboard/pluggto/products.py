"""Product, price and stock payloads for Plugg.to, from plain data.

Knows the Plugg.to JSON shapes and the sale price rules only: no models, no
Flask. Money is ``Decimal`` (the client turns it into JSON numbers), the EAN
is always a string, weight goes in kg and dimensions in cm. Fields the store
does not have (see ``NEVER_SENT``) never appear, because sending them would
wipe what the merchant typed in the Plugg.to panel.
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
NEVER_SENT = frozenset(
    {
        "handling_time",
        "manufacture_time",
        "warranty_time",
        "warranty_message",
        "ncm",
        "isbn",
        "nbm",
        "cest",
    }
)
PRICE_FIELDS = ("price", "special_price")
STOCK_FIELD = "quantity"
CENT = Decimal("0.01")


@dataclass(frozen=True, kw_only=True)
class SkuData:
    """What Plugg.to gets for one SKU (a simple product or a variation)."""

    sku: str
    name: str
    external: str
    price: Decimal
    special_price: Decimal
    quantity: int
    ean: str = ""
    photos: tuple[str, ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, kw_only=True)
class ProductData(SkuData):
    """A whole product: its own fields and each of its variations."""

    description: str = ""
    brand: str = ""
    link: str = ""
    weight_kg: Decimal | None = None
    length_cm: Decimal | None = None
    width_cm: Decimal | None = None
    height_cm: Decimal | None = None
    categories: tuple[str, ...] = ()
    variations: tuple[SkuData, ...] = ()


# Sale price rules -----------------------------------------------------------


def local_date(now: datetime) -> date:
    """Return the calendar day in São Paulo at a given instant."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(SAO_PAULO).date()


def promotion_active(
    price: Decimal,
    special: Decimal | None,
    start: date | None,
    end: date | None,
    today: date,
) -> bool:
    """Tell whether a sale price is in force on a São Paulo day (inclusive)."""
    if special is None or special <= 0 or special > price:
        return False
    if start is not None and today < start:
        return False
    return end is None or today <= end


def sale_price(
    price: Decimal,
    special: Decimal | None,
    start: date | None,
    end: date | None,
    today: date,
) -> Decimal:
    """Return the ``special_price`` to send: the sale price or the list price.

    Never zero, never empty and never above the list price.
    """
    if promotion_active(price, special, start, end, today):
        return money(special)
    return money(price)


def money(value: Decimal) -> Decimal:
    """Round an amount to cents."""
    return Decimal(value).quantize(CENT)


# Payloads ---------------------------------------------------------------------


def product_payload(
    product: ProductData,
    *,
    removed_variations: Iterable[str] = (),
    removed_photos: dict[str, Sequence[str]] | None = None,
    zero_instead_of_remove: bool = False,
) -> dict:
    """Return the body of ``PUT /skus/{sku}`` for a whole product.

    ``removed_variations`` are SKUs Plugg.to still has but the store no longer
    does: each goes as ``{sku, remove: true}``, or with quantity 0 when
    ``zero_instead_of_remove`` (the fallback when a removal is refused).
    ``removed_photos`` maps a SKU to photo URLs to delete from it.
    """
    removed_photos = removed_photos or {}
    body = _sku_fields(product, removed_photos.get(product.sku, ()))
    body.update(
        description=product.description,
        brand=product.brand,
        categories=[{"name": name} for name in product.categories],
    )
    if product.link:
        body["link"] = product.link
    dimension = _dimension(product)
    if dimension:
        body["dimension"] = dimension
    if product.variations or removed_variations:
        body["variations"] = [
            _sku_fields(variation, removed_photos.get(variation.sku, ()))
            for variation in product.variations
        ] + [
            _removal(sku, zero_instead_of_remove) for sku in sorted(removed_variations)
        ]
    return body


def price_payload(sku: str, price: Decimal, special_price: Decimal) -> dict:
    """Return the small ``PUT /skus/{sku}`` body that changes only prices."""
    return {"sku": sku, "price": money(price), "special_price": money(special_price)}


def variation_prices_payload(
    parent_sku: str, prices: Iterable[tuple[str, Decimal, Decimal]]
) -> dict:
    """Return the parent's ``PUT`` body that changes prices of variations."""
    return {
        "sku": parent_sku,
        "variations": [
            price_payload(sku, price, special) for sku, price, special in prices
        ],
    }


def _sku_fields(item: SkuData, removed_photos: Sequence[str]) -> dict:
    photos = [
        {"url": url, "external": url, "order": index, "title": item.name}
        for index, url in enumerate(item.photos, start=1)
    ]
    photos += [{"url": url, "remove": True} for url in removed_photos]
    return {
        "sku": item.sku,
        "name": item.name,
        "external": item.external,
        "ean": str(item.ean or ""),
        "price": money(item.price),
        "special_price": sale_price_or_price(item),
        "quantity": max(int(item.quantity), 0),
        "photos": photos,
        "attributes": [_attribute(name, value) for name, value in item.attributes],
    }


def sale_price_or_price(item: SkuData) -> Decimal:
    """Return the item's sale price, falling back to the list price if invalid."""
    special = item.special_price
    if special is None or special <= 0 or special > item.price:
        return money(item.price)
    return money(special)


def _removal(sku: str, zero_instead: bool) -> dict:
    if zero_instead:
        return {"sku": sku, "quantity": 0}
    return {"sku": sku, "remove": True}


def _dimension(product: ProductData) -> dict:
    measures = {
        "length": product.length_cm,
        "width": product.width_cm,
        "height": product.height_cm,
        "weight": product.weight_kg,
    }
    return {name: value for name, value in measures.items() if value is not None}


def _attribute(name: str, value: str) -> dict:
    return {
        "code": slug(name),
        "label": name,
        "value": {"code": slug(value), "label": value},
    }


def slug(text: str) -> str:
    """Return a lowercase ASCII code for a label (``Único`` -> ``unico``)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
