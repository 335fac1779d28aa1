"""Which orders to read from Plugg.to on a run, in as few calls as possible.

Preferred: one paged list of the orders *modified* since the last successful
pull (minus a few minutes of overlap). That returns the new orders in any
status and every status change, so the calls follow what changed.

Plugg.to documents ``modified`` for products only, so the answer is checked:
an order whose ``modified`` lies well outside the asked window (or is absent)
means the filter was ignored. Then the run falls back, and remembers to for a
week, to one paged list of the orders *created* since the oldest open store
order (or the last pull, whichever is earlier, at most ``OPEN_LOOKBACK``
back), which also shows the current status of every recent open order. Open
orders older than that are read one by one, at most once a day each.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from dashboard.extensions import db
from dashboard.models.orders import Order
from dashboard.models.settings import Setting
from dashboard.orders import status
from dashboard.pluggto import errors
from dashboard.pluggto.client import PluggtoClient
from dashboard.pluggto.errors import PluggtoError
from dashboard.pluggto.orders import parse_time

logger = logging.getLogger(__name__)

PAGE_LIMIT = 100
FIRST_LOOKBACK = timedelta(days=30)
OVERLAP = timedelta(minutes=10)
OPEN_LOOKBACK = timedelta(days=60)
STALE_REFRESH = timedelta(days=1)
MAX_STALE_PER_RUN = 20
WINDOW_SLACK = timedelta(days=1)
MODIFIED_RECHECK = timedelta(days=7)

WATERMARK_KEY = "state.orders.pulled_until"
MODIFIED_KEY = "state.orders.modified_ignored_at"

MODE_MODIFIED = "modified"
MODE_CREATED = "created"


@dataclass
class Pull:
    """The orders read on one run and how they were read."""

    mode: str
    start: datetime
    end: datetime
    orders: list[dict] = field(default_factory=list)
    stale_ids: list[str] = field(default_factory=list)


def stamp(moment: datetime) -> str:
    """Format a moment the way the Plugg.to filters take it (ISO UTC)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def window_end(now: datetime) -> datetime:
    """Round the end of a window up to a whole second.

    The filters take whole seconds; cutting the fraction off would leave out
    an order modified earlier in the same second.
    """
    if not now.microsecond:
        return now
    return now.replace(microsecond=0) + timedelta(seconds=1)


# Stored state ----------------------------------------------------------------


def _read(key: str) -> datetime | None:
    row = db.session.get(Setting, key)
    return parse_time(row.value) if row and row.value else None


def _write(key: str, moment: datetime | None) -> None:
    # An upsert: two processes pulling at once must not both try to insert.
    value = moment.isoformat() if moment else ""
    db.session.execute(
        sqlite_insert(Setting)
        .values(key=key, value=value)
        .on_conflict_do_update(index_elements=[Setting.key], set_={"value": value})
    )


def watermark() -> datetime | None:
    """Return the end of the last complete pull."""
    return _read(WATERMARK_KEY)


def advance_watermark(end: datetime) -> None:
    """Remember that every order up to ``end`` was read. Commits."""
    _write(WATERMARK_KEY, end)
    db.session.commit()


def modified_filter_usable(now: datetime) -> bool:
    """Tell whether to try the ``modified`` filter on this run."""
    ignored_at = _read(MODIFIED_KEY)
    return ignored_at is None or now - ignored_at > MODIFIED_RECHECK


def _remember_modified_ignored(now: datetime) -> None:
    _write(MODIFIED_KEY, now)
    db.session.commit()


# Reading ---------------------------------------------------------------------


def fetch(client: PluggtoClient, now: datetime) -> Pull:
    """Read the orders that may have changed since the last complete pull."""
    client.forget_server_times()
    pulled = _fetch(client, now)
    pulled.end = _server_bound(pulled.end, client.earliest_server_time())
    return pulled


def _server_bound(end: datetime, server_now: datetime | None) -> datetime:
    """Keep the watermark at or before Plugg.to's own clock.

    A computer whose clock runs fast would otherwise move the watermark past
    orders that Plugg.to creates later but stamps earlier; a slow one is
    harmless (the next window starts where this one ended). ``Date`` has whole
    seconds, so one more is taken off.
    """
    if server_now is None:
        return end
    return min(end, server_now - timedelta(seconds=1))


def _fetch(client: PluggtoClient, now: datetime) -> Pull:
    last = watermark()
    start = last - OVERLAP if last else now - FIRST_LOOKBACK
    end = window_end(now)

    if modified_filter_usable(now):
        orders = _by_modified(client, start, end)
        if orders is not None:
            return Pull(MODE_MODIFIED, start, end, orders)
        _remember_modified_ignored(now)

    start = _created_start(start, now)
    window = (stamp(start), stamp(end))
    orders = list(client.list_orders(created=window, limit=PAGE_LIMIT))
    listed = {order.get("id") for order in orders}
    stale = [pid for pid in _stale_open_ids(start, now) if pid not in listed]
    return Pull(MODE_CREATED, start, end, orders, stale)


def _by_modified(
    client: PluggtoClient, start: datetime, end: datetime
) -> list[dict] | None:
    """List by ``modified``; None when Plugg.to refused or ignored the filter."""
    pages = client.list_orders(modified=(stamp(start), stamp(end)), limit=PAGE_LIMIT)
    try:
        return _checked(pages, start, end)
    except PluggtoError as error:
        if error.code != errors.REJECTED:
            raise
        logger.warning("Plugg.to refused the modified filter on orders: %s", error)
        return None


def _checked(pages: Iterator[dict], start: datetime, end: datetime) -> list | None:
    orders = []
    for order in pages:
        modified = parse_time(order.get("modified"))
        inside = modified is not None and (
            start - WINDOW_SLACK <= modified <= end + WINDOW_SLACK
        )
        if not inside:
            logger.warning(
                "Plugg.to ignored the modified filter (order %s modified %s); "
                "falling back to the created filter",
                order.get("id"),
                order.get("modified"),
            )
            return None
        orders.append(order)
    return orders


def _created_start(start: datetime, now: datetime) -> datetime:
    """Reach back to the oldest open order, but never past OPEN_LOOKBACK."""
    oldest = db.session.scalar(
        select(func.min(Order.created_at)).where(
            Order.status.not_in(status.CLOSED_STATUSES),
            Order.canceled_at.is_(None),
            Order.created_at >= now - OPEN_LOOKBACK,
        )
    )
    if oldest is not None:
        start = min(start, oldest - OVERLAP)
    return max(start, now - OPEN_LOOKBACK)


def _stale_open_ids(start: datetime, now: datetime) -> list[str]:
    """Open orders too old for the list, not read in the last day."""
    return list(
        db.session.scalars(
            select(Order.pluggto_id)
            .where(
                Order.status.not_in(status.CLOSED_STATUSES),
                Order.canceled_at.is_(None),
                or_(Order.created_at.is_(None), Order.created_at < start),
                or_(
                    Order.refreshed_at.is_(None),
                    Order.refreshed_at < now - STALE_REFRESH,
                ),
            )
            .order_by(Order.refreshed_at.is_not(None), Order.refreshed_at)
            .limit(MAX_STALE_PER_RUN)
        )
    )
