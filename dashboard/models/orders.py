"""Tables of the order area: store orders, their lines and their timeline."""

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


class Order(db.Model):
    """A Plugg.to order as the store keeps it, created once per Plugg.to id.

    ``status`` is the store's own status and only moves forward;
    ``pluggto_status`` is the last status read from Plugg.to, kept verbatim
    (unknown values included), or the one an accepted push of ours set. An
    order held for mapping (``hold_reason``) has no stock reserved yet.
    """

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_status", "status"),
        Index("ix_orders_channel", "channel"),
        Index("ix_orders_imported_at", "imported_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pluggto_id: Mapped[str] = mapped_column(String(64), unique=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    original_id: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(30))
    pluggto_status: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pluggto_modified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    hold_reason: Mapped[str | None] = mapped_column(String(500))
    stock_reserved: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_reversal: Mapped[bool] = mapped_column(Boolean, default=False)

    subtotal: Mapped[Decimal] = mapped_column(Money)
    subtotal_derived: Mapped[bool] = mapped_column(Boolean, default=False)
    shipping: Mapped[Decimal] = mapped_column(Money)
    discount: Mapped[Decimal] = mapped_column(Money)
    total: Mapped[Decimal] = mapped_column(Money)
    totals_mismatch: Mapped[bool] = mapped_column(Boolean, default=False)

    buyer_name: Mapped[str | None] = mapped_column(String(200))
    buyer_email: Mapped[str | None] = mapped_column(String(200))
    buyer_document: Mapped[str | None] = mapped_column(String(20))
    delivery: Mapped[Any] = mapped_column(JSON, nullable=True)
    payments: Mapped[Any] = mapped_column(JSON, nullable=True)

    shipment_id: Mapped[str | None] = mapped_column(String(64))
    nfe_key: Mapped[str | None] = mapped_column(String(44))
    nfe_number: Mapped[str | None] = mapped_column(String(9))
    nfe_series: Mapped[str | None] = mapped_column(String(3))
    nfe_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    nfe_link: Mapped[str | None] = mapped_column(String(500))
    invoice_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    shipping_company: Mapped[str | None] = mapped_column(String(100))
    shipping_method: Mapped[str | None] = mapped_column(String(100))
    track_code: Mapped[str | None] = mapped_column(String(100))
    track_url: Mapped[str | None] = mapped_column(String(500))
    date_shipped: Mapped[date | None] = mapped_column(Date)
    tracking_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    items: Mapped[list["OrderItem"]] = relationship(
        back_populates="order",
        order_by="OrderItem.position",
        cascade="all, delete-orphan",
    )
    events: Mapped[list["OrderEvent"]] = relationship(
        back_populates="order",
        order_by="OrderEvent.id",
        cascade="all, delete-orphan",
    )


class OrderItem(db.Model):
    """One order line; ``reserved`` is the stock actually taken for it.

    ``resolved_sku`` is the store SKU the stock was taken from (the
    variation's SKU if the store knows it, else the line's), kept so the stock
    goes back to the same SKU even if the catalog changes later.
    """

    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(SKU)
    variation_sku: Mapped[str | None] = mapped_column(SKU)
    resolved_sku: Mapped[str | None] = mapped_column(SKU)
    name: Mapped[str] = mapped_column(String(300), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    total: Mapped[Decimal] = mapped_column(Money)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[Order] = relationship(back_populates="items")

    @property
    def store_sku(self) -> str:
        """Return the store SKU of this line: the resolved one once reserved."""
        return self.resolved_sku or self.variation_sku or self.sku


class OrderEvent(db.Model):
    """One entry of an order's timeline, with a pt-BR message."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("orders.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[bool] = mapped_column(Boolean, default=False)

    order: Mapped[Order] = relationship(back_populates="events")
