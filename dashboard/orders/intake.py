"""Bring Plugg.to orders into the store: create once, hold, release, mirror.

Creating an order, its lines, the stock reservation and the first timeline
entry is one transaction. The Plugg.to id is UNIQUE, so when two runs or two
processes create the same order at once, the second commit fails with an
IntegrityError and is treated as "already imported": the database is the
lock, and the stock is reserved once.

Statuses only move forward (see ``status.RANK``). Approval and cancellation
have side effects that happen once: the cancellation is a conditional UPDATE
(``canceled_at IS NULL``) in the same transaction as the stock return.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import exists, func, select, update
from sqlalchemy.exc import IntegrityError

from dashboard.catalog import stock
from dashboard.extensions import db
from dashboard.models.catalog import Product, Variation
from dashboard.models.orders import Order, OrderItem
from dashboard.models.sync import STATE_FAILED, STATE_IGNORED, SyncItem
from dashboard.orders import status
from dashboard.orders.records import (
    KIND_EXTERNAL,
    KIND_IMPORT,
    add_event,
    by_pluggto_id,
    label_of,
    money,
)
from dashboard.pluggto import orders as remote_orders
from dashboard.pluggto.errors import PluggtoError
from dashboard.pluggto.orders import RemoteLine, RemoteOrder
from dashboard.sync import state

logger = logging.getLogger(__name__)

CREATED = "created"
HELD = "held"
RELEASED = "released"
UPDATED = "updated"
UNCHANGED = "unchanged"
EXISTING = "existing"
SKIPPED = "skipped"

TOLERANCE = Decimal("0.01")
REVERSAL_MESSAGE = "NF-e emitida: cancelar/estornar a nota."
HOLD_CODE = "unmapped"
FIRST_NUMBER = 1001


@dataclass(frozen=True)
class Result:
    """What ingesting one Plugg.to order did."""

    outcome: str
    label: str
    message: str = ""


def ingest(remote: RemoteOrder, now: datetime) -> Result:
    """Create the order if the store does not have it, else mirror its status."""
    order = by_pluggto_id(remote.id)
    if order is None:
        return create(remote, now)

    result = mirror(order, remote, now)
    db.session.commit()
    return result


# Creation ------------------------------------------------------------------


def create(remote: RemoteOrder, now: datetime) -> Result:
    """Create a store order once; hold it when a SKU is unknown. Commits."""
    if remote.status == remote_orders.CANCELED:
        return Result(SKIPPED, remote.id, "cancelado antes de ser importado")

    reason = unmapped_reason(
        [resolve_sku(line.variation_sku, line.sku) for line in remote.lines]
    )
    if reason is None:
        try:
            return _create(remote, now, hold=None)
        except LookupError as error:  # e.g. a parent SKU that holds no stock
            db.session.rollback()
            reason = _lookup_reason(error)
    return _create(remote, now, hold=reason)


def resolve_sku(variation_sku: str | None, sku: str) -> str:
    """Return the store SKU of a line: the variation's if known, else the line's.

    The line's SKU is a fallback only where it holds stock itself (not a
    parent with variations). When neither fits, the SKU to name in the hold
    reason is returned: the variation's, or the line's.
    """
    if variation_sku and stock.find_sku(variation_sku) is not None:
        return variation_sku
    if variation_sku and not _holds_stock(sku):
        return variation_sku
    return sku


def _holds_stock(sku: str) -> bool:
    ref = stock.find_sku(sku)
    if ref is None:
        return False
    if ref.is_variation:
        return True
    has_variations = exists().where(
        Variation.product_id == Product.id, Product.sku == sku
    )
    return not db.session.scalar(select(has_variations))


def unmapped_reason(skus: list[str]) -> str | None:
    """Name the SKUs the store does not know, or return None."""
    unknown = list(dict.fromkeys(sku for sku in skus if stock.find_sku(sku) is None))
    if not unknown:
        return None
    if len(unknown) == 1:
        return f"Aguardando mapeamento: SKU {unknown[0]} desconhecido"
    return f"Aguardando mapeamento: SKUs {', '.join(unknown)} desconhecidos"


def _lookup_reason(error: LookupError) -> str:
    # The reason is followed by a period wherever it is shown.
    return f"Aguardando mapeamento: {str(error).rstrip('.')}"


def _create(remote: RemoteOrder, now: datetime, hold: str | None) -> Result:
    try:
        order = _new_order(remote, now)
        db.session.add(order)
        db.session.flush()
        if hold:
            _hold(order, hold, now)
        else:
            _reserve(order)
            add_event(order, "imported", _imported_message(order))
            stage_external(order)
        _note_totals(order, remote)
        label = label_of(order)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if by_pluggto_id(remote.id) is None:
            raise
        logger.info("Order %s was imported by another run meanwhile", remote.id)
        return Result(EXISTING, remote.id)

    logger.info("Imported Plugg.to order %s as %s", remote.id, label)
    return Result(HELD if hold else CREATED, label, hold or "")


def _next_number():
    # Computed inside the INSERT, under SQLite's write lock, so two creators
    # can never pick the same number.
    return select(
        func.coalesce(func.max(Order.number) + 1, FIRST_NUMBER)
    ).scalar_subquery()


def _amounts(remote: RemoteOrder) -> dict:
    subtotal = remote.subtotal
    derived = subtotal is None
    if derived:
        subtotal = remote.lines_total()
    total = remote.total
    if total is None:
        total = subtotal + remote.shipping - remote.discount
    expected = subtotal + remote.shipping - remote.discount
    return {
        "subtotal": subtotal,
        "subtotal_derived": derived,
        "shipping": remote.shipping,
        "discount": remote.discount,
        "total": total,
        "totals_mismatch": abs(expected - total) > TOLERANCE,
    }


def _payments(remote: RemoteOrder) -> list[dict]:
    return [
        {
            "method": payment.method,
            "installments": payment.installments,
            "total": None if payment.total is None else str(payment.total),
        }
        for payment in remote.payments
    ]


def _new_order(remote: RemoteOrder, now: datetime) -> Order:
    initial = remote.status or remote_orders.PENDING
    paid = (status.rank(initial) or 0) >= status.PAID_RANK
    order = Order(
        pluggto_id=remote.id,
        number=_next_number(),
        original_id=remote.original_id,
        channel=remote.channel,
        status=initial,
        pluggto_status=remote.status,
        created_at=remote.created,
        pluggto_modified_at=remote.modified,
        imported_at=now,
        approved_at=now if paid else None,
        buyer_name=remote.buyer_name,
        buyer_email=remote.buyer_email,
        buyer_document=remote.buyer_document,
        delivery=dict(remote.delivery),
        payments=_payments(remote),
        shipment_id=remote.shipment_ids[0] if remote.shipment_ids else None,
        stock_reserved=False,
        needs_reversal=False,
        **_amounts(remote),
    )
    order.items = [_new_item(index, line) for index, line in enumerate(remote.lines)]
    return order


def _new_item(position: int, line: RemoteLine) -> OrderItem:
    return OrderItem(
        position=position,
        sku=line.sku,
        variation_sku=line.variation_sku,
        name=line.name,
        quantity=line.quantity,
        unit_price=line.unit_price,
        total=line.total,
        reserved=0,
        returned=0,
    )


def _imported_message(order: Order) -> str:
    return (
        f"Pedido importado do Plugg.to ({status.label(order.status)}); "
        "estoque reservado."
    )


def _note_totals(order: Order, remote: RemoteOrder) -> None:
    if remote.total is None:
        add_event(
            order,
            "totals",
            "O Plugg.to não informou o total: calculado por subtotal + frete "
            "- desconto.",
        )
    if order.totals_mismatch:
        expected = order.subtotal + order.shipping - order.discount
        add_event(
            order,
            "totals",
            f"Totais não conferem: subtotal {money(order.subtotal)} + frete "
            f"{money(order.shipping)} - desconto {money(order.discount)} = "
            f"{money(expected)}, mas o total informado é {money(order.total)}. "
            "Nada foi corrigido.",
            error=True,
        )


# Stock ---------------------------------------------------------------------


def _reserve(order: Order) -> None:
    """Take the stock of every line once; raise LookupError for a bad SKU."""
    for item in order.items:
        item.resolved_sku = resolve_sku(item.variation_sku, item.sku)
        applied = stock.adjust_stock(item.resolved_sku, -item.quantity)
        item.reserved = -applied
        if item.reserved < item.quantity:
            add_event(
                order,
                "stock",
                f"Estoque insuficiente de {item.store_sku}: reservadas "
                f"{item.reserved} de {item.quantity} unidade(s).",
                error=True,
            )
    order.stock_reserved = True


def _return_stock(order: Order) -> int:
    """Give back exactly what each line reserved and has not returned yet."""
    returned = 0
    for item in order.items:
        pending = item.reserved - item.returned
        if pending <= 0:
            continue
        try:
            stock.adjust_stock(item.store_sku, pending)
        except LookupError:
            add_event(
                order,
                "stock",
                f"Estoque de {item.store_sku} não devolvido: o SKU não existe "
                "mais no catálogo.",
                error=True,
            )
            continue
        item.returned = item.reserved
        returned += pending
    return returned


# Holding and releasing -----------------------------------------------------


def _hold_error(reason: str) -> PluggtoError:
    return PluggtoError(reason, code=HOLD_CODE, permanent=True)


def _hold(order: Order, reason: str, now: datetime) -> None:
    order.hold_reason = reason
    add_event(
        order,
        "held",
        f"{reason}. Nenhum estoque reservado: o pedido entra quando o SKU "
        "existir no catálogo.",
        error=True,
    )
    record_hold(order, reason, now)


def record_hold(order: Order, reason: str, now: datetime) -> None:
    """Show a held order in Falhas (no commit)."""
    state.stage(
        state.Desired(
            KIND_IMPORT,
            order.pluggto_id,
            {"order": order.pluggto_id},
            group_key=order.pluggto_id,
            label=label_of(order),
        )
    )
    state.mark_failed(KIND_IMPORT, order.pluggto_id, _hold_error(reason), now)


def clear_hold(order: Order, now: datetime) -> None:
    """Take a held order out of Falhas (no commit)."""
    order.hold_reason = None
    state.mark_sent(KIND_IMPORT, order.pluggto_id, {"order": order.pluggto_id}, now)


def held_order_ids() -> list[int]:
    """Return the ids of orders waiting for a SKU mapping."""
    return list(
        db.session.scalars(
            select(Order.id).where(
                Order.hold_reason.is_not(None), Order.canceled_at.is_(None)
            )
        )
    )


def try_release(order: Order, now: datetime) -> Result | None:
    """Import a held order if every SKU now exists. Commits."""
    reason = unmapped_reason(
        [resolve_sku(item.variation_sku, item.sku) for item in order.items]
    )
    if reason is not None:
        _keep_holding(order, reason, now)
        return None

    claimed = db.session.execute(
        update(Order)
        .where(
            Order.id == order.id,
            Order.hold_reason.is_not(None),
            Order.canceled_at.is_(None),
        )
        .values(hold_reason=None)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        return None
    try:
        _reserve(order)
    except LookupError as error:
        db.session.rollback()
        _keep_holding(order, _lookup_reason(error), now)
        return None

    _finish_release(order, now)
    label = label_of(order)
    db.session.commit()
    return Result(RELEASED, label)


def _finish_release(order: Order, now: datetime) -> None:
    add_event(order, "imported", "Mapeamento resolvido: " + _imported_message(order))
    state.mark_sent(KIND_IMPORT, order.pluggto_id, {"order": order.pluggto_id}, now)
    stage_external(order)


def _keep_holding(order: Order, reason: str, now: datetime) -> None:
    shown = db.session.scalar(
        select(SyncItem.state).where(
            SyncItem.kind == KIND_IMPORT, SyncItem.key == order.pluggto_id
        )
    ) in (STATE_FAILED, STATE_IGNORED)
    if reason == order.hold_reason and shown:
        return
    if reason != order.hold_reason:
        order.hold_reason = reason
        add_event(order, "held", reason + ".", error=True)
    record_hold(order, reason, now)
    db.session.commit()


def stage_external(order: Order) -> None:
    """Stage writing the store's order number back to Plugg.to (no commit)."""
    state.stage(
        state.Desired(
            KIND_EXTERNAL,
            order.pluggto_id,
            {"external": str(order.number)},
            group_key=order.pluggto_id,
            label=label_of(order),
        )
    )


# Mirroring -----------------------------------------------------------------


def mirror(order: Order, remote: RemoteOrder, now: datetime) -> Result:
    """Apply what Plugg.to says about an order, forward only (no commit)."""
    if remote.modified and remote.modified != order.pluggto_modified_at:
        order.pluggto_modified_at = remote.modified
    changed = _note_remote_status(order, remote.status)

    if remote.status == remote_orders.CANCELED:
        changed = (order.canceled_at is None and cancel(order, now)) or changed
    elif status.advances(order.status, remote.status):
        _advance(order, remote.status, now)
        changed = True
    return Result(UPDATED if changed else UNCHANGED, label_of(order))


def _note_remote_status(order: Order, new: str) -> bool:
    if not new or new == order.pluggto_status:
        return False
    previous = status.rank(order.pluggto_status) or 0
    order.pluggto_status = new
    new_rank = status.rank(new)
    if new_rank is None:
        add_event(
            order,
            "status",
            f"Status desconhecido no Plugg.to: “{new}”. Mantido, sem efeito no pedido.",
        )
    elif new_rank < previous:
        add_event(
            order,
            "status",
            f"O Plugg.to voltou o status para “{status.label(new)}”; o pedido "
            f"segue {status.label(order.status)} (o status só avança).",
        )
    return True


def _advance(order: Order, new: str, now: datetime) -> None:
    was_paid = (status.rank(order.status) or 0) >= status.PAID_RANK
    order.status = new
    if not was_paid and status.rank(new) >= status.PAID_RANK and not order.approved_at:
        order.approved_at = now
        add_event(order, "approved", "Pagamento aprovado no Plugg.to: pedido aprovado.")
        return
    add_event(order, "status", f"Status atualizado pelo Plugg.to: {status.label(new)}.")


def cancel(order: Order, now: datetime) -> bool:
    """Cancel once: return the reserved stock and flag an issued NF-e (no commit)."""
    previous = order.status
    canceled = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.canceled_at.is_(None))
        .values(status=remote_orders.CANCELED, canceled_at=now)
    ).rowcount
    if canceled != 1:
        return False

    returned = _return_stock(order)
    if order.stock_reserved:
        add_event(
            order, "canceled", f"Pedido cancelado; estoque devolvido: {returned} un."
        )
    else:
        add_event(
            order, "canceled", "Pedido cancelado; nenhum estoque estava reservado."
        )
    if order.hold_reason:
        clear_hold(order, now)
    if _already_invoiced(order, previous):
        order.needs_reversal = True
        add_event(order, "reversal", REVERSAL_MESSAGE, error=True)
    logger.info("Order %s canceled, %d unit(s) returned", order.pluggto_id, returned)
    return True


def _already_invoiced(order: Order, previous: str) -> bool:
    rank = status.rank(previous) or 0
    return bool(order.nfe_key or order.track_code) or rank >= status.INVOICED_RANK
