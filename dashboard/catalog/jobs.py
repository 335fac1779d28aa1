"""The three outbound jobs: products, prices and stock.

Each job refreshes what time changed (promotions, the store domain), selects
the due items, and pushes them with ``ctx.for_each`` holding the lease of the
product family, so two pushes of one family never overlap. Every item is
marked sent (with exactly what went out) or failed and committed before the
next, so an interrupted run resumes where it stopped.

A product push carries the prices and stock of its family too, so on success
those items are marked sent with the values that went out. Price and stock
pushes only touch SKUs Plugg.to already has (acknowledged at least once):
new SKUs go out with their product.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sqlalchemy import bindparam, or_, select, update

from dashboard.catalog import staging
from dashboard.catalog.records import ProductRecord, load_families
from dashboard.catalog.staging import PRICE, PRODUCT, STOCK
from dashboard.catalog.stock import find_sku
from dashboard.extensions import db
from dashboard.models.sync import STATE_FAILED, STATE_IGNORED, STATE_PENDING, SyncItem
from dashboard.pluggto import errors
from dashboard.pluggto.client import PluggtoClient, sku_path
from dashboard.pluggto.errors import CredentialsRejected, PluggtoError
from dashboard.pluggto.products import (
    local_date,
    price_payload,
    product_payload,
    variation_prices_payload,
)
from dashboard.sync import state
from dashboard.sync.runner import JobContext, start_in_background

logger = logging.getLogger(__name__)

FAMILY_JOBS = ("products", "prices", "stock")


@dataclass(frozen=True)
class Due:
    """One due item, as plain values safe to hand to another thread."""

    key: str
    group: str
    label: str


@dataclass(frozen=True)
class DueGroup:
    """The due items of one product family (prices go out per family)."""

    group: str
    label: str
    keys: tuple[str, ...] = field(default=())


# Jobs ---------------------------------------------------------------------------


def push_products(ctx: JobContext) -> None:
    """Send every product whose content changed, whole, with its variations."""
    _refresh(ctx)

    due = _due(PRODUCT, ctx)
    ctx.set_total(len(due))
    ctx.for_each(
        due,
        partial(_push_product, ctx),
        group_of=lambda item: item.group,
        label_of=lambda item: item.label,
    )


def push_prices(ctx: JobContext) -> None:
    """Send every changed price; variations through their parent's PUT."""
    _refresh(ctx)

    due = _due(PRICE, ctx, only_known=True)
    groups = _by_family(due)
    ctx.set_total(len(due))
    ctx.for_each(
        groups,
        partial(_push_prices, ctx),
        group_of=lambda item: item.group,
        label_of=lambda item: item.label,
    )


def push_stock(ctx: JobContext) -> None:
    """Send every changed stock with the absolute ``update`` action."""
    due = _due(STOCK, ctx, only_known=True)
    ctx.set_total(len(due))
    ctx.for_each(
        due,
        partial(_push_stock, ctx),
        group_of=lambda item: item.group,
        label_of=lambda item: item.label,
    )


# Selection ----------------------------------------------------------------------


def _refresh(ctx: JobContext) -> None:
    staging.refresh(ctx.settings.store_url(), ctx.now())
    db.session.commit()


def _due(kind: str, ctx: JobContext, only_known: bool = False) -> list[Due]:
    """Select the due items of a kind, limited to ``ctx.only`` families."""
    query = state.due_query(kind, ctx.now())
    if ctx.only is not None:
        query = query.where(SyncItem.group_key.in_(families_of(ctx.only)))
    if only_known:
        query = query.where(SyncItem.acked_hash.is_not(None))
    rows = db.session.execute(
        query.with_only_columns(SyncItem.key, SyncItem.group_key, SyncItem.label)
    )
    due = [Due(key, group, label or key) for key, group, label in rows]
    db.session.commit()
    return due


def families_of(skus: Iterable[str]) -> list[str]:
    """Return the product SKUs of the families these SKUs belong to."""
    families = set()
    for sku in skus:
        ref = find_sku(sku)
        families.add(ref.parent_sku if ref is not None else sku)
    return sorted(families)


def _by_family(due: list[Due]) -> list[DueGroup]:
    groups: dict[str, list[Due]] = {}
    for item in due:
        groups.setdefault(item.group, []).append(item)
    return [
        DueGroup(group, items[0].label, tuple(item.key for item in items))
        for group, items in groups.items()
    ]


def _current_values(kind: str, keys: Iterable[str]) -> dict[str, Any]:
    """Return the desired values of the items that are still due."""
    rows = db.session.execute(_STILL_DUE, {"kind": kind, "keys": list(keys)})
    return {key: value for key, value in rows}


# Built once: these queries run for every pushed item.
_ACKED = select(SyncItem.acked_value).where(
    SyncItem.kind == bindparam("kind"), SyncItem.key == bindparam("key")
)
_STILL_DUE = select(SyncItem.key, SyncItem.desired_value).where(
    SyncItem.kind == bindparam("kind"),
    SyncItem.key.in_(bindparam("keys", expanding=True)),
    SyncItem.state.in_((STATE_PENDING, STATE_FAILED)),
    SyncItem.desired_hash.is_not(None),
    or_(SyncItem.acked_hash.is_(None), SyncItem.acked_hash != SyncItem.desired_hash),
)


# Products -----------------------------------------------------------------------


@dataclass(frozen=True)
class Removed:
    """What Plugg.to still has that the store no longer does."""

    variations: tuple[str, ...] = ()
    photos: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _push_product(ctx: JobContext, item: Due) -> None:
    now = ctx.now()
    family = load_families([item.key]).get(item.key)
    acked = db.session.scalar(_ACKED, {"kind": PRODUCT, "key": item.key})
    if family is None:
        ctx.skipped(item.label)
        return

    today = local_date(now)
    data = staging.product_data(family, ctx.settings.store_url(), today)
    content = staging.content_of(product_payload(data))
    removed = removed_since(acked, content)
    try:
        _send_product(ctx.client, data, removed)
    except CredentialsRejected:
        raise
    except PluggtoError as error:
        _record_failure(ctx, PRODUCT, [item.key], error, item.label)
        return

    state.mark_sent(PRODUCT, item.key, content, now)
    _mark_family_sent(family, today, now)
    db.session.commit()
    ctx.ok(item.label)


def removed_since(acked: Any, content: dict) -> Removed:
    """Compare the last acknowledged content with the current one."""
    if not isinstance(acked, dict):
        return Removed()
    current = {v["sku"]: v for v in content.get("variations") or []}
    gone = tuple(
        sorted(
            v["sku"] for v in acked.get("variations") or [] if v["sku"] not in current
        )
    )
    photos = {}
    old_items = [acked, *(acked.get("variations") or [])]
    new_items = {content["sku"]: content, **current}
    for old in old_items:
        new = new_items.get(old.get("sku"))
        if new is None:
            continue
        urls = _urls(new)
        dropped = tuple(url for url in _urls(old) if url not in urls)
        if dropped:
            photos[old["sku"]] = dropped
    return Removed(gone, photos)


def _urls(item: dict) -> list[str]:
    return [photo["url"] for photo in item.get("photos") or [] if "url" in photo]


def _send_product(client: PluggtoClient, data, removed: Removed) -> None:
    """PUT the whole product; if a removal is refused, send quantity 0 instead."""
    payload = product_payload(
        data, removed_variations=removed.variations, removed_photos=removed.photos
    )
    try:
        client.upsert_product(data.sku, payload)
        return
    except PluggtoError as error:
        if not removed.variations or error.code != errors.REJECTED:
            raise
        logger.warning(
            "Plugg.to refused removing variations %s of %s; sending stock 0",
            ", ".join(removed.variations),
            data.sku,
        )
    fallback = product_payload(
        data,
        removed_variations=removed.variations,
        removed_photos=removed.photos,
        zero_instead_of_remove=True,
    )
    client.upsert_product(data.sku, fallback)


def _mark_family_sent(family: ProductRecord, today, now) -> None:
    """Record that the product push also carried prices and stock."""
    items = staging.priced_items(family)
    prices = [(item.sku, staging.price_value(item, today)) for item in items]
    stocks = [(item.sku, staging.stock_value(family, item)) for item in items]
    state.mark_sent_many(PRICE, prices, now)
    state.mark_sent_many(STOCK, stocks, now)


# Prices ---------------------------------------------------------------------------


def _push_prices(ctx: JobContext, group: DueGroup) -> None:
    now = ctx.now()
    values = _current_values(PRICE, group.keys)
    if not values:
        ctx.skipped(group.label)
        return

    path = f"/skus/{sku_path(group.group)}"
    try:
        ctx.client.request("PUT", path, json_body=_prices_body(group.group, values))
    except CredentialsRejected:
        raise
    except PluggtoError as error:
        _record_failure(ctx, PRICE, list(values), error, group.label)
        return

    state.mark_sent_many(PRICE, values.items(), now)
    db.session.commit()
    for _ in values:
        ctx.ok(group.label)


def _prices_body(group: str, values: dict[str, Any]) -> dict:
    if list(values) == [group]:
        value = values[group]
        return price_payload(group, value["price"], value["special_price"])
    return variation_prices_payload(
        group,
        [
            (key, value["price"], value["special_price"])
            for key, value in values.items()
        ],
    )


# Stock --------------------------------------------------------------------------


def _push_stock(ctx: JobContext, item: Due) -> None:
    now = ctx.now()
    value = _current_values(STOCK, [item.key]).get(item.key)
    if value is None:
        ctx.skipped(item.label)
        return

    try:
        ctx.client.update_stock(item.key, int(value["quantity"]))
    except CredentialsRejected:
        raise
    except PluggtoError as error:
        _record_failure(ctx, STOCK, [item.key], error, item.label)
        return

    state.mark_sent(STOCK, item.key, value, now)
    db.session.commit()
    ctx.ok(item.label)


# Failures -------------------------------------------------------------------------


def _record_failure(
    ctx: JobContext, kind: str, keys: list[str], error: PluggtoError, label: str
) -> None:
    """Store the failure on each item; a missing product is sent again whole."""
    db.session.rollback()
    now = ctx.now()
    if error.code == errors.NOT_FOUND and kind != PRODUCT:
        _resend_product_of(kind, keys)
        db.session.commit()
        for _ in keys:
            ctx.skipped(label)
        return

    for key in keys:
        state.mark_failed(kind, key, error, now)
    db.session.commit()
    for key in keys:
        ctx.failed(key, error.message, label)


def _resend_product_of(kind: str, keys: list[str]) -> None:
    """Plugg.to lost the product (deleted in its panel): push it whole again."""
    groups = db.session.scalars(
        select(SyncItem.group_key)
        .where(SyncItem.kind == kind, SyncItem.key.in_(keys))
        .distinct()
    ).all()
    logger.warning("Plugg.to does not know %s; the product will be sent again", groups)
    db.session.execute(
        update(SyncItem)
        .where(SyncItem.kind == PRODUCT, SyncItem.key.in_(groups))
        .values(acked_hash=None, state=STATE_PENDING, next_retry_at=None)
        .execution_options(synchronize_session=False)
    )


# "Sincronizar agora" ------------------------------------------------------------


def sync_now(product_sku: str) -> tuple[int, list[str]]:
    """Retry the family's failed items and start the three jobs for it.

    Return how many jobs started and the pt-BR reason of each refusal (a run
    of that job is already going on). Commits.
    """
    failed = db.session.scalars(
        select(SyncItem.id).where(
            SyncItem.group_key == product_sku,
            SyncItem.state.in_((STATE_FAILED, STATE_IGNORED)),
        )
    ).all()
    state.retry(failed)
    db.session.commit()

    started, refused = 0, []
    for name in FAMILY_JOBS:
        outcome = start_in_background(name, "manual", only=[product_sku])
        if outcome.started:
            started += 1
        else:
            refused.append(outcome.message)
    return started, refused
