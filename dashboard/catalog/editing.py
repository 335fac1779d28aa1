"""Change the price, sale price or stock of one SKU from the product page."""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, update

from dashboard import settings as settings_store
from dashboard.catalog import staging
from dashboard.extensions import db
from dashboard.models.catalog import Product, Variation
from dashboard.models.types import utcnow
from dashboard.pluggto.products import local_date


class StockChanged(Exception):
    """The stock moved (an order reserved or returned units) while being edited."""

    def __init__(self, sku: str, current: int) -> None:
        super().__init__(
            f"O estoque de {sku} mudou para {current} enquanto você editava "
            "(um pedido reservou ou devolveu unidades). Confira o valor e salve "
            "de novo."
        )
        self.current = current


@dataclass(frozen=True)
class SkuChange:
    """New values for one SKU; a sale price of None ends the promotion.

    ``shown_quantity`` is the stock the merchant was looking at: when given,
    an unchanged quantity leaves the stock alone (orders may have moved it
    since) and a new one is written only if the stock is still the one shown.
    """

    price: Decimal
    special_price: Decimal | None
    quantity: int | None
    shown_quantity: int | None = None


def edit_sku(product: Product, sku: str, change: SkuChange) -> None:
    """Store the change and re-stage the family in one transaction. Commits.

    Raise LookupError when the SKU is not the product or one of its
    variations, and StockChanged (nothing stored) when the stock moved since
    the merchant saw it.
    """
    table = _table_of(product, sku)
    values = {"price": change.price, "special_price": change.special_price}
    if change.special_price is None:
        values.update(special_start=None, special_end=None)
    holds_stock = table is Variation or not product.variations
    if holds_stock and change.quantity != change.shown_quantity:
        _set_stock(table, sku, change)

    db.session.execute(
        update(table)
        .where(table.sku == sku)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    now = utcnow()
    staging.stage_skus(
        [product.sku], settings_store.load().store_url(), local_date(now)
    )
    db.session.commit()


def _set_stock(table, sku: str, change: SkuChange) -> None:
    """Write the new stock, only over the value the merchant saw, if one."""
    if change.quantity is None:
        return
    statement = update(table).where(table.sku == sku)
    if change.shown_quantity is not None:
        statement = statement.where(table.quantity == change.shown_quantity)
    result = db.session.execute(
        statement.values(quantity=change.quantity).execution_options(
            synchronize_session=False
        )
    )
    if result.rowcount == 0:
        db.session.rollback()
        current = db.session.scalar(select(table.quantity).where(table.sku == sku))
        raise StockChanged(sku, current or 0)


def _table_of(product: Product, sku: str):
    if sku == product.sku:
        return Product
    if any(variation.sku == sku for variation in product.variations):
        return Variation
    raise LookupError(f"O SKU {sku} não pertence ao produto {product.sku}.")
