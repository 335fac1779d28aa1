"""Catalog totals for the overview screen."""

from sqlalchemy import and_, case, func, or_, select

from dashboard.extensions import db
from dashboard.models.catalog import Product, Variation


def catalog_totals() -> dict[str, int]:
    """Count products (parents and simple), variations, active/inactive, no stock.

    ``active``, ``inactive`` and ``zero_stock`` count the products; a product
    with variations has zero stock when none of its active variations has any.
    """
    variations = db.session.scalar(select(func.count(Variation.id))) or 0
    stocked_parents = (
        select(Variation.product_id)
        .where(Variation.active.is_(True), Variation.quantity > 0)
        .distinct()
    )
    has_variations = select(Variation.product_id).distinct()
    zero_stock = or_(
        and_(Product.id.in_(has_variations), Product.id.not_in(stocked_parents)),
        and_(Product.id.not_in(has_variations), Product.quantity <= 0),
    )
    row = db.session.execute(
        select(
            func.count(Product.id),
            func.sum(case((Product.active.is_(True), 1), else_=0)),
            func.sum(case((zero_stock, 1), else_=0)),
        )
    ).one()
    products, active, zero = (value or 0 for value in row)
    return {
        "products": products,
        "variations": variations,
        "active": active,
        "inactive": products - active,
        "zero_stock": zero,
    }
