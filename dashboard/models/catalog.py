"""The store's catalog: products (simple or parents) and their variations.

Amounts are ``Money`` (integer cents), weight is stored in grams and the
dimensions in millimetres, so every measure is an exact integer.
``last_stock_change`` holds the change the last atomic stock update really
applied (it can be smaller than asked when the stock would go below zero).
``promo_applied`` remembers whether the sale price was in force when the item
was last staged, so the jobs find cheaply the promotions that opened or closed.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dashboard.extensions import db
from dashboard.models.types import SKU, Money, UTCDateTime, utcnow


class Product(db.Model):
    """A product of the store: simple, or the parent of its variations."""

    __tablename__ = "catalog_products"
    __table_args__ = (Index("ix_catalog_products_name", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(SKU, unique=True)
    store_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    brand: Mapped[str] = mapped_column(String(120), default="")
    ean: Mapped[str] = mapped_column(String(14), default="")
    price: Mapped[Decimal] = mapped_column(Money)
    special_price: Mapped[Decimal | None] = mapped_column(Money)
    special_start: Mapped[date | None] = mapped_column(Date)
    special_end: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    last_stock_change: Mapped[int] = mapped_column(Integer, default=0)
    weight_g: Mapped[int | None] = mapped_column(Integer)
    length_mm: Mapped[int | None] = mapped_column(Integer)
    width_mm: Mapped[int | None] = mapped_column(Integer)
    height_mm: Mapped[int | None] = mapped_column(Integer)
    categories: Mapped[Any] = mapped_column(JSON, default=list)
    attributes: Mapped[Any] = mapped_column(JSON, default=list)
    photos: Mapped[Any] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    promo_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    variations: Mapped[list["Variation"]] = relationship(
        back_populates="product",
        order_by="Variation.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Variation(db.Model):
    """One variation of a product, with its own SKU, price and stock."""

    __tablename__ = "catalog_variations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_products.id", ondelete="CASCADE"), index=True
    )
    sku: Mapped[str] = mapped_column(SKU, unique=True)
    name: Mapped[str] = mapped_column(String(255))
    ean: Mapped[str] = mapped_column(String(14), default="")
    price: Mapped[Decimal] = mapped_column(Money)
    special_price: Mapped[Decimal | None] = mapped_column(Money)
    special_start: Mapped[date | None] = mapped_column(Date)
    special_end: Mapped[date | None] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    last_stock_change: Mapped[int] = mapped_column(Integer, default=0)
    photos: Mapped[Any] = mapped_column(JSON, default=list)
    attributes: Mapped[Any] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    promo_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship(back_populates="variations")
