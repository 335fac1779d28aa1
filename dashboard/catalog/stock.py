"""Stock of one SKU: look it up, and change it atomically (orders use this).

The change is one SQL UPDATE that never goes below zero and records, in the
same statement, how much it really applied; the stock sync item of the SKU is
re-staged in the same transaction, which the caller commits.
"""

from dataclasses import dataclass

from sqlalchemy import func, select, update

from dashboard.extensions import db
from dashboard.models.catalog import Product, Variation
from dashboard.sync import state

STOCK_KIND = "stock"


@dataclass(frozen=True)
class SkuRef:
    """A SKU of the store, resolved to what it is."""

    sku: str
    name: str
    parent_sku: str
    is_variation: bool
    active: bool


def find_sku(sku: str) -> SkuRef | None:
    """Resolve a store SKU (simple product, parent or variation), exact match."""
    row = db.session.execute(
        select(Variation.sku, Variation.name, Product.sku, Variation.active)
        .join(Product, Variation.product_id == Product.id)
        .add_columns(Product.active)
        .where(Variation.sku == sku)
    ).first()
    if row is not None:
        own_sku, name, parent_sku, own_active, parent_active = row
        return SkuRef(own_sku, name, parent_sku, True, own_active and parent_active)

    row = db.session.execute(
        select(Product.sku, Product.name, Product.active).where(Product.sku == sku)
    ).first()
    if row is None:
        return None
    return SkuRef(row.sku, row.name, row.sku, False, row.active)


def adjust_stock(sku: str, delta: int) -> int:
    """Change the stock of a SKU by delta (never below 0); return what applied.

    The stock sync item is re-staged in the same transaction; no commit.
    Raise LookupError for a SKU that holds no stock in the store.
    """
    ref = find_sku(sku)
    if ref is None:
        raise LookupError(f"SKU {sku} não existe no catálogo da loja.")
    if not ref.is_variation and _has_variations(sku):
        raise LookupError(
            f"O SKU {sku} é um produto com variações: o estoque fica nas variações."
        )

    table = Variation if ref.is_variation else Product
    new_quantity = func.max(table.quantity + delta, 0)
    # Every right-hand side reads the row as it was before the update, so
    # last_stock_change is exactly the change this statement applied.
    applied, quantity = db.session.execute(
        update(table)
        .where(table.sku == sku)
        .values(last_stock_change=new_quantity - table.quantity, quantity=new_quantity)
        .returning(table.last_stock_change, table.quantity)
        .execution_options(synchronize_session=False)
    ).one()

    stage_stock(ref, quantity)
    return applied


def stage_stock(ref: SkuRef, quantity: int) -> None:
    """Stage the quantity Plugg.to should show for a stock-holding SKU."""
    shown = quantity if ref.active else 0
    state.stage(
        state.Desired(
            STOCK_KIND,
            ref.sku,
            {"quantity": shown},
            group_key=ref.parent_sku,
            label=ref.name,
        )
    )


def _has_variations(parent_sku: str) -> bool:
    return (
        db.session.scalar(
            select(Variation.id)
            .join(Product, Variation.product_id == Product.id)
            .where(Product.sku == parent_sku)
            .limit(1)
        )
        is not None
    )
