"""Change the price, sale price or stock of one SKU from the product page."""

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import update

from dashboard import settings as settings_store
from dashboard.catalog import staging
from dashboard.extensions import db
from dashboard.models.catalog import Product, Variation
from dashboard.models.types import utcnow
from dashboard.pluggto.products import local_date


@dataclass(frozen=True)
class SkuChange:
    """New values for one SKU; a sale price of None ends the promotion."""

    price: Decimal
    special_price: Decimal | None
    quantity: int | None


def edit_sku(product: Product, sku: str, change: SkuChange) -> None:
    """Store the change and re-stage the family in one transaction. Commits.

    Raise LookupError when the SKU is not the product or one of its variations.
    """
    table = _table_of(product, sku)
    values = {"price": change.price, "special_price": change.special_price}
    if change.special_price is None:
        values.update(special_start=None, special_end=None)
    holds_stock = table is Variation or not product.variations
    if change.quantity is not None and holds_stock:
        values["quantity"] = change.quantity

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


def _table_of(product: Product, sku: str):
    if sku == product.sku:
        return Product
    if any(variation.sku == sku for variation in product.variations):
        return Variation
    raise LookupError(f"O SKU {sku} não pertence ao produto {product.sku}.")
