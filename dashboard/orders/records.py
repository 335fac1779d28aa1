"""Small shared pieces of the order area: sync kinds, labels, timeline, lookup."""

from decimal import Decimal

from babel.numbers import format_currency
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models.orders import Order, OrderEvent
from dashboard.models.types import utcnow

KIND_IMPORT = "order_import"
KIND_EXTERNAL = "order_external"
KIND_INVOICE = "invoice"
KIND_TRACKING = "tracking"
PUSH_KINDS = (KIND_EXTERNAL, KIND_INVOICE, KIND_TRACKING)
ORDER_KINDS = (KIND_IMPORT, *PUSH_KINDS)


def order_label(number: int | None, channel: str | None) -> str:
    """Return how an order is named in lists: store number and marketplace."""
    marketplace = channel or "sem marketplace"
    if number is None:
        return f"Pedido (não importado) · {marketplace}"
    return f"Pedido {number} · {marketplace}"


def label_of(order: Order) -> str:
    """Return the list label of a stored order."""
    return order_label(order.number, order.channel)


def money(amount: Decimal | None) -> str:
    """Format an amount for a stored pt-BR message: ``R$ 1.299,90``."""
    if amount is None:
        return "—"
    return format_currency(amount, "BRL", locale="pt_BR").replace("\xa0", " ")


def add_event(order: Order, kind: str, message: str, *, error: bool = False) -> None:
    """Append one timeline entry to an order (no commit).

    An error identical to the order's last entry is not repeated, so retries
    of the same failure do not flood the timeline.
    """
    if error:
        last = db.session.scalar(
            select(OrderEvent)
            .where(OrderEvent.order_id == order.id)
            .order_by(OrderEvent.id.desc())
            .limit(1)
        )
        if last is not None and last.kind == kind and last.message == message:
            return
    db.session.add(
        OrderEvent(order=order, kind=kind, message=message, error=error, at=utcnow())
    )


def by_pluggto_id(pluggto_id: str) -> Order | None:
    """Return the store order of a Plugg.to id."""
    return db.session.scalar(select(Order).where(Order.pluggto_id == pluggto_id))


def find_order(reference: str) -> Order | None:
    """Return an order by Plugg.to id, or by store order number."""
    reference = (reference or "").strip()
    if not reference:
        return None
    order = by_pluggto_id(reference)
    # isdigit alone lets superscripts through, which int() then refuses.
    if order is None and reference.isascii() and reference.isdigit():
        order = db.session.scalar(select(Order).where(Order.number == int(reference)))
    return order
