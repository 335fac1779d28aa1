"""Warn before a spreadsheet overwrites stock that orders moved since it was made.

A spreadsheet's quantity is absolute: a file exported at 10:00 and imported at
11:00 would undo the units that orders reserved (or returned) in between. The
moment of the last export or import is kept; the import preview names the SKUs
whose stock the file changes and that orders moved after that moment.
"""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.dialects.sqlite import insert

from dashboard.catalog.records import CHUNK
from dashboard.extensions import db
from dashboard.models.orders import Order, OrderEvent, OrderItem
from dashboard.models.settings import Setting
from dashboard.models.types import utcnow

FILE_AT_KEY = "catalog_file_at"
SHOWN = 10


def remember_file_moment(moment: datetime | None = None) -> None:
    """Note that the catalog and a spreadsheet agree as of now (no commit)."""
    value = (moment or utcnow()).isoformat()
    db.session.execute(
        insert(Setting)
        .values(key=FILE_AT_KEY, value=value)
        .on_conflict_do_update(index_elements=[Setting.key], set_={"value": value})
    )


def file_moment() -> datetime | None:
    """Return when the catalog last went to or came from a spreadsheet."""
    row = db.session.get(Setting, FILE_AT_KEY)
    return datetime.fromisoformat(row.value) if row and row.value else None


def moved_by_orders(skus: Iterable[str], since: datetime) -> set[str]:
    """Return which of these SKUs orders reserved or returned stock of since then."""
    wanted = list(skus)
    moved: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        moved.update(
            db.session.scalars(
                select(OrderItem.resolved_sku)
                .join(Order, OrderItem.order_id == Order.id)
                .where(
                    OrderItem.resolved_sku.in_(chunk),
                    or_(
                        and_(OrderItem.reserved > 0, _reserved_since(since)),
                        and_(OrderItem.returned > 0, Order.canceled_at >= since),
                    ),
                )
                .distinct()
            )
        )
    return moved


def _reserved_since(since: datetime):
    """An order took its stock since then: imported, or released from a hold.

    Both moments are "imported" events of its timeline; ``imported_at`` alone
    would miss a held order released later.
    """
    return exists().where(
        OrderEvent.order_id == Order.id,
        OrderEvent.kind == "imported",
        OrderEvent.at >= since,
    )


def overwrite_notice(changes: dict[str, tuple[int, int]]) -> str | None:
    """Name the SKUs whose order-moved stock the file would overwrite.

    ``changes`` maps a SKU to (store stock, file stock) where they differ.
    """
    since = file_moment()
    if since is None or not changes:
        return None
    moved = sorted(moved_by_orders(changes, since))
    if not moved:
        return None
    listed = ", ".join(
        f"{sku} (loja {changes[sku][0]}, planilha {changes[sku][1]})"
        for sku in moved[:SHOWN]
    )
    if len(moved) > SHOWN:
        listed += f" e mais {len(moved) - SHOWN}"
    return (
        f"Atenção: pedidos mudaram o estoque de {len(moved)} SKU(s) depois da "
        f"última exportação ou importação da planilha: {listed}. Ao aplicar, o "
        "estoque da planilha substitui o da loja; confira antes de aplicar."
    )
