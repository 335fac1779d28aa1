"""What Plugg.to should have for each product family, staged as sync items.

Three kinds per family:

- ``product`` (key = product SKU): the whole product as sent, minus the
  values owned by the two other kinds, so a stock or price change never
  re-sends the whole product;
- ``price`` (key = each priced SKU: a simple product or a variation);
- ``stock`` (key = each stock-holding SKU: a simple product or a variation).

A product with variations keeps its own list and sale price in the product
content (it has no price item). An inactive product (or variation) shows
quantity 0. Sale prices depend on the São Paulo day, and links on the store
domain: ``refresh`` re-stages the families whose promotion opened or closed,
or every family when the domain changed.
"""

import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from sqlalchemy import and_, delete, insert, or_, select, update

from dashboard.catalog.records import (
    CHUNK,
    ItemRecord,
    ProductRecord,
    iter_families,
    load_families,
    load_families_by_id,
)
from dashboard.extensions import db
from dashboard.models.catalog import Product, Variation
from dashboard.models.settings import Setting
from dashboard.models.sync import STATE_PENDING, SyncItem
from dashboard.models.types import utcnow
from dashboard.pluggto.products import (
    PRICE_FIELDS,
    STOCK_FIELD,
    ProductData,
    SkuData,
    local_date,
    money,
    product_payload,
    promotion_active,
    sale_price,
    slug,
)
from dashboard.sync.state import Desired, fingerprint, stage_many, to_json

logger = logging.getLogger(__name__)

PRODUCT = "product"
PRICE = "price"
STOCK = "stock"
KINDS = (PRODUCT, PRICE, STOCK)
LINK_PATH = "/produto/"
STAGED_URL_KEY = "catalog.staged_store_url"


# Values -----------------------------------------------------------------------


def product_link(store_url: str, sku: str) -> str:
    """Return the product page on the store, or "" without a domain."""
    if not store_url:
        return ""
    return store_url.rstrip("/") + LINK_PATH + (slug(sku) or quote(sku, safe=""))


def shown_quantity(family: ProductRecord, item: ItemRecord) -> int:
    """Return the stock Plugg.to should show: 0 for anything inactive."""
    if not family.active or not item.active:
        return 0
    return max(int(item.quantity), 0)


def item_prices(item: ItemRecord, today: date) -> tuple[Decimal, Decimal]:
    """Return (list price, sale price to send) of an item on a São Paulo day."""
    special = sale_price(
        item.price, item.special_price, item.special_start, item.special_end, today
    )
    return money(item.price), special


def price_value(item: ItemRecord, today: date) -> dict[str, Decimal]:
    """Return the staged value of a price item."""
    price, special = item_prices(item, today)
    return {"price": price, "special_price": special}


def stock_value(family: ProductRecord, item: ItemRecord) -> dict[str, int]:
    """Return the staged value of a stock item."""
    return {"quantity": shown_quantity(family, item)}


def _kg(grams: int | None) -> Decimal | None:
    return None if grams is None else (Decimal(grams) / 1000).quantize(Decimal("0.001"))


def _cm(millimetres: int | None) -> Decimal | None:
    if millimetres is None:
        return None
    return (Decimal(millimetres) / 10).quantize(Decimal("0.1"))


def _sku_data(family: ProductRecord, item: ItemRecord, today: date) -> SkuData:
    price, special = item_prices(item, today)
    return SkuData(
        sku=item.sku,
        name=item.name,
        external=str(item.id),
        price=price,
        special_price=special,
        quantity=shown_quantity(family, item),
        ean=item.ean,
        photos=tuple(item.photos),
        attributes=tuple((name, value) for name, value in item.attributes),
    )


def product_data(family: ProductRecord, store_url: str, today: date) -> ProductData:
    """Return the whole product as the payload builder wants it."""
    variations = tuple(_sku_data(family, v, today) for v in family.variations)
    price, special = item_prices(family, today)
    quantity = (
        sum(v.quantity for v in variations)
        if variations
        else shown_quantity(family, family)
    )
    return ProductData(
        sku=family.sku,
        name=family.name,
        external=family.store_id or str(family.id),
        price=price,
        special_price=special,
        quantity=quantity,
        ean=family.ean,
        photos=tuple(family.photos),
        attributes=tuple((name, value) for name, value in family.attributes),
        description=family.description,
        brand=family.brand,
        link=product_link(store_url, family.sku),
        weight_kg=_kg(family.weight_g),
        length_cm=_cm(family.length_mm),
        width_cm=_cm(family.width_mm),
        height_cm=_cm(family.height_mm),
        categories=tuple(family.categories),
        variations=variations,
    )


def content_of(payload: dict) -> dict:
    """Return the product content: the payload minus price and stock values.

    Those belong to the price and stock items. A product with variations
    keeps its own prices here; its total quantity derives from the
    variations. Decimals become exact strings so no digit is lost.
    """
    content = {key: _exact(value) for key, value in payload.items()}
    variations = content.get("variations")
    owned = (STOCK_FIELD,) if variations else (*PRICE_FIELDS, STOCK_FIELD)
    for name in owned:
        content.pop(name, None)
    if variations:
        content["variations"] = [
            {
                k: v
                for k, v in variation.items()
                if k not in (*PRICE_FIELDS, STOCK_FIELD)
            }
            for variation in variations
        ]
    return content


def _exact(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {key: _exact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_exact(item) for item in value]
    return value


def priced_items(family: ProductRecord) -> list[ItemRecord]:
    """Return the SKUs of a family that have their own price and stock items."""
    return list(family.variations) if family.variations else [family]


def desired_for(family: ProductRecord, store_url: str, today: date) -> list[Desired]:
    """Return every sync item value of a family."""
    content = content_of(product_payload(product_data(family, store_url, today)))
    items = [Desired(PRODUCT, family.sku, content, family.sku, family.name)]
    for item in priced_items(family):
        items.append(
            Desired(PRICE, item.sku, price_value(item, today), family.sku, item.name)
        )
        items.append(
            Desired(STOCK, item.sku, stock_value(family, item), family.sku, item.name)
        )
    return items


# Staging ----------------------------------------------------------------------


def stage_families(
    families: Iterable[ProductRecord], store_url: str, today: date
) -> int:
    """Stage every item of the families (no commit); return how many changed."""
    changed = 0
    batch: list[ProductRecord] = []
    for family in families:
        batch.append(family)
        if len(batch) >= CHUNK:
            changed += _stage_batch(batch, store_url, today)
            batch = []
    if batch:
        changed += _stage_batch(batch, store_url, today)
    return changed


def _stage_batch(families: Sequence[ProductRecord], store_url: str, today) -> int:
    desired = [
        item for family in families for item in desired_for(family, store_url, today)
    ]
    _drop_stale_items(families)
    fresh = _insert_new_items(desired)
    changed = len(fresh) + stage_many(
        item for item in desired if (item.kind, item.key) not in fresh
    )
    _store_promo_flags(families, today)
    return changed


def _insert_new_items(desired: Sequence[Desired]) -> set[tuple[str, str]]:
    """Insert the items never staged before in one statement; return their keys.

    Equivalent to staging them one by one (pending, nothing acknowledged),
    without loading ORM objects: a first import of 50,000 SKUs stages fast.
    """
    keys = {item.key for item in desired}
    known = set(
        db.session.execute(
            select(SyncItem.kind, SyncItem.key).where(SyncItem.key.in_(keys))
        ).all()
    )
    now = utcnow()
    rows = {}
    for item in desired:
        if (item.kind, item.key) in known:
            continue
        rows[(item.kind, item.key)] = {
            "kind": item.kind,
            "key": item.key,
            "group_key": item.group_key or item.key,
            "label": item.label or item.key,
            "desired_hash": fingerprint(item.value),
            "desired_value": to_json(item.value),
            "state": STATE_PENDING,
            "attempts": 0,
            "permanent": False,
            "updated_at": now,
        }
    if rows:
        # Core, not ORM: the ORM bulk path costs more than the rows themselves.
        db.session.connection().execute(insert(SyncItem.__table__), list(rows.values()))
    return set(rows)


def _drop_stale_items(families: Sequence[ProductRecord]) -> None:
    """Forget price and stock items of SKUs a family no longer sells.

    A removed variation leaves Plugg.to through the product push (its
    removal is derived from the last acknowledged content), and a product
    that gained variations no longer has a price or stock of its own.
    """
    groups = [family.sku for family in families]
    keep = [item.sku for family in families for item in priced_items(family)]
    db.session.execute(
        delete(SyncItem)
        .where(
            SyncItem.kind.in_((PRICE, STOCK)),
            SyncItem.group_key.in_(groups),
            SyncItem.key.not_in(keep),
        )
        .execution_options(synchronize_session=False)
    )


def _store_promo_flags(families: Sequence[ProductRecord], today: date) -> None:
    """Remember whether each sale price was in force when staged."""
    flips = {Product: {True: [], False: []}, Variation: {True: [], False: []}}
    for family in families:
        for table, item in [(Product, family)] + [
            (Variation, v) for v in family.variations
        ]:
            active = _promo_active(item, today)
            if active != item.promo_applied:
                flips[table][active].append(item.id)
                item.promo_applied = active
    for table, by_state in flips.items():
        for active, ids in by_state.items():
            if ids:
                db.session.execute(
                    update(table)
                    .where(table.id.in_(ids))
                    .values(promo_applied=active)
                    .execution_options(synchronize_session=False)
                )


def _promo_active(item: ItemRecord, today: date) -> bool:
    return promotion_active(
        item.price, item.special_price, item.special_start, item.special_end, today
    )


def stage_skus(product_skus: Iterable[str], store_url: str, today: date) -> int:
    """Re-stage the families of these product SKUs (no commit)."""
    return stage_families(load_families(product_skus).values(), store_url, today)


# Refresh before a run ---------------------------------------------------------


def refresh(store_url: str, now: datetime) -> int:
    """Re-stage what time or the domain changed; return items changed (no commit).

    A changed store domain changes every link, so every family is re-staged;
    otherwise only the families whose promotion opened or closed.
    """
    today = local_date(now)
    if staged_store_url() not in (None, store_url):
        logger.info("Store domain changed, re-staging every product")
        changed = stage_families(iter_families(), store_url, today)
        remember_store_url(store_url, force=True)
        return changed

    ids = promotion_changed(today)
    if not ids:
        return 0
    logger.info("%d product(s) entered or left a promotion", len(ids))
    return stage_families(load_families_by_id(ids).values(), store_url, today)


def promotion_changed(today: date) -> list[int]:
    """Return ids of products whose sale price started or stopped applying."""
    product_ids = db.session.scalars(
        select(Product.id).where(_flag_is_stale(Product, today))
    ).all()
    parent_ids = db.session.scalars(
        select(Variation.product_id).where(_flag_is_stale(Variation, today)).distinct()
    ).all()
    return sorted(set(product_ids) | set(parent_ids))


def _flag_is_stale(table, today: date):
    active_now = and_(
        table.special_price.is_not(None),
        table.special_price > 0,
        table.special_price <= table.price,
        or_(table.special_start.is_(None), table.special_start <= today),
        or_(table.special_end.is_(None), table.special_end >= today),
    )
    return or_(
        and_(table.promo_applied.is_(True), ~active_now),
        and_(table.promo_applied.is_(False), active_now),
    )


def staged_store_url() -> str | None:
    """Return the store address the staged links were built with."""
    row = db.session.get(Setting, STAGED_URL_KEY)
    return None if row is None else row.value


def remember_store_url(store_url: str, force: bool = False) -> None:
    """Record the store address used for staging (no commit)."""
    row = db.session.get(Setting, STAGED_URL_KEY)
    if row is None:
        db.session.add(Setting(key=STAGED_URL_KEY, value=store_url))
    elif force:
        row.value = store_url
