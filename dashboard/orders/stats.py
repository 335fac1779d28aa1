"""Order totals for the overview screen, counted in São Paulo days."""

from datetime import date, datetime, timedelta

from sqlalchemy import exists, func, or_, select

from dashboard.extensions import db
from dashboard.models.orders import Order
from dashboard.models.sync import STATE_FAILED, SyncItem
from dashboard.orders import status
from dashboard.orders.dates import day_bounds, day_start, local_day
from dashboard.orders.records import ORDER_KINDS


def failed_push():
    """SQL condition: the order has a failed push or import in Falhas."""
    return exists().where(
        SyncItem.group_key == Order.pluggto_id,
        SyncItem.kind.in_(ORDER_KINDS),
        SyncItem.state == STATE_FAILED,
    )


def needs_attention():
    """SQL condition: the merchant should look at the order."""
    return or_(
        Order.hold_reason.is_not(None),
        Order.totals_mismatch.is_(True),
        Order.needs_reversal.is_(True),
        failed_push(),
    )


def awaiting_invoice():
    """SQL condition: paid, not held, and no NF-e recorded yet."""
    return (
        Order.status.in_(status.AWAITING_INVOICE)
        & Order.hold_reason.is_(None)
        & Order.nfe_key.is_(None)
    )


def awaiting_tracking():
    """SQL condition: NF-e recorded, not shipped, and no tracking code yet."""
    return (
        Order.nfe_key.is_not(None)
        & Order.track_code.is_(None)
        & Order.status.not_in(status.CLOSED_STATUSES)
        & Order.canceled_at.is_(None)
    )


def _count(condition) -> int:
    return db.session.scalar(select(func.count(Order.id)).where(condition)) or 0


def order_totals(now: datetime) -> dict:
    """Count today's orders and those waiting for the merchant."""
    start, end = day_bounds(local_day(now))
    return {
        "today": _count((Order.imported_at >= start) & (Order.imported_at < end)),
        "awaiting_invoice": _count(awaiting_invoice()),
        "awaiting_tracking": _count(awaiting_tracking()),
        "attention": _count(needs_attention()),
    }


def orders_per_day(days: int, now: datetime) -> dict[date, int]:
    """Count orders imported per São Paulo day, oldest first, today included."""
    today = local_day(now)
    first = today - timedelta(days=max(days, 1) - 1)
    counts = {first + timedelta(days=offset): 0 for offset in range(max(days, 1))}

    moments = db.session.scalars(
        select(Order.imported_at).where(
            Order.imported_at >= day_start(first),
            Order.imported_at < day_bounds(today)[1],
        )
    )
    for moment in moments:
        day = local_day(moment)
        if day in counts:
            counts[day] += 1
    return counts
