"""Order updates sent to Plugg.to: the store number, the NF-e and tracking.

The merchant's data is stored and staged as a sync item in one transaction
(``record_invoice``, ``record_tracking``); ``push_order`` sends what is due for
one order. NF-e and tracking always go on the shipment whose id a fresh
``GET /orders/{id}`` returns, because a shipment sent without id is appended
as a new one. Only when the order has no shipment at all is one sent without
id; the fresh GET before every try means that happens once.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models.orders import Order
from dashboard.models.sync import STATE_OK, SyncItem
from dashboard.orders import status
from dashboard.orders.nfe import Invoice
from dashboard.orders.records import (
    KIND_EXTERNAL,
    KIND_INVOICE,
    KIND_TRACKING,
    PUSH_KINDS,
    add_event,
    by_pluggto_id,
    label_of,
)
from dashboard.orders.tracking import Tracking
from dashboard.pluggto import orders as payloads
from dashboard.pluggto.client import ApiResult, PluggtoClient
from dashboard.pluggto.errors import CredentialsRejected, PluggtoError
from dashboard.sync import state

logger = logging.getLogger(__name__)

CANCELED_CODE = "order_canceled"
SHIPMENT_KINDS = (KIND_INVOICE, KIND_TRACKING)
WHAT = {
    KIND_EXTERNAL: "o número do pedido",
    KIND_INVOICE: "a NF-e",
    KIND_TRACKING: "o rastreio",
}
# The order status each accepted update sets on Plugg.to (see
# ``invoice_update`` and ``tracking_update``).
PUSHED_STATUS = {
    KIND_INVOICE: payloads.INVOICED,
    KIND_TRACKING: payloads.SHIPPING_INFORMED,
}


@dataclass(frozen=True)
class PushResult:
    """What one push did, with a pt-BR message."""

    kind: str
    ok: bool
    message: str
    waiting: bool = False


WAITING_FOR_INVOICE = PushResult(
    KIND_TRACKING,
    False,
    "O rastreio será enviado depois que o Plugg.to aceitar a NF-e.",
    waiting=True,
)


# Recording the merchant's data ----------------------------------------------


def record_invoice(order: Order, invoice: Invoice) -> None:
    """Store an NF-e on the order and stage it for Plugg.to (no commit)."""
    unchanged = invoice.desired() == _invoice_value(order)
    order.nfe_key = invoice.key
    order.nfe_number = invoice.number
    order.nfe_series = invoice.series
    order.nfe_date = invoice.issued_at
    order.nfe_link = invoice.link
    if status.advances(order.status, payloads.INVOICED):
        order.status = payloads.INVOICED
    if not unchanged:
        order.invoice_sent_at = None
        add_event(
            order,
            "invoice_saved",
            f"NF-e {invoice.number} série {invoice.series} registrada na loja.",
        )
    _stage(order, KIND_INVOICE, invoice.desired())


def record_tracking(order: Order, tracking: Tracking) -> None:
    """Store tracking data on the order and stage it for Plugg.to (no commit)."""
    unchanged = tracking.desired() == _tracking_value(order)
    order.shipping_company = tracking.carrier
    order.shipping_method = tracking.method
    order.track_code = tracking.code
    order.track_url = tracking.url
    order.date_shipped = tracking.shipped_on
    if status.advances(order.status, payloads.SHIPPED):
        order.status = payloads.SHIPPED
    if not unchanged:
        order.tracking_sent_at = None
        add_event(
            order,
            "tracking_saved",
            f"Rastreio registrado: {tracking.carrier} {tracking.code}.",
        )
    _stage(order, KIND_TRACKING, tracking.desired())


def _invoice_value(order: Order) -> dict | None:
    if not order.nfe_key or not order.nfe_date:
        return None
    return Invoice(
        order.nfe_key,
        order.nfe_number or "",
        order.nfe_series or "",
        order.nfe_date,
        order.nfe_link,
    ).desired()


def _tracking_value(order: Order) -> dict | None:
    if not order.track_code or not order.date_shipped:
        return None
    return Tracking(
        order.shipping_company or "",
        order.track_code,
        order.shipping_method,
        order.track_url,
        order.date_shipped,
    ).desired()


def _stage(order: Order, kind: str, value: dict) -> None:
    state.stage(
        state.Desired(
            kind,
            order.pluggto_id,
            value,
            group_key=order.pluggto_id,
            label=label_of(order),
        )
    )


# Pushing -------------------------------------------------------------------


def due_order_ids(now: datetime, keys: list[str] | None = None) -> list[str]:
    """Return the Plugg.to ids of orders with an update due now."""
    ids: dict[str, None] = {}
    for kind in PUSH_KINDS:
        for item in db.session.scalars(state.due_query(kind, now, keys)):
            ids.setdefault(item.group_key, None)
    return list(ids)


def push_order(
    client: PluggtoClient, pluggto_id: str, now: datetime
) -> list[PushResult]:
    """Send every update due for one order; tracking waits for the NF-e."""
    results: list[PushResult] = []
    for kind in PUSH_KINDS:
        item = _due_item(kind, pluggto_id, now)
        if item is None:
            continue
        if kind == KIND_TRACKING and _invoice_unsent(pluggto_id):
            results.append(WAITING_FOR_INVOICE)
            continue
        results.append(push_one(client, kind, pluggto_id, item.desired_value, now))
    return results


def _due_item(kind: str, pluggto_id: str, now: datetime) -> SyncItem | None:
    return db.session.scalar(state.due_query(kind, now, [pluggto_id]))


def _invoice_unsent(pluggto_id: str) -> bool:
    """Tell whether an NF-e is recorded but not yet accepted by Plugg.to."""
    invoice_state = db.session.scalar(
        select(SyncItem.state).where(
            SyncItem.kind == KIND_INVOICE, SyncItem.key == pluggto_id
        )
    )
    return invoice_state is not None and invoice_state != STATE_OK


def push_one(
    client: PluggtoClient, kind: str, pluggto_id: str, value: dict, now: datetime
) -> PushResult:
    """Send one staged value; record success or failure. Commits."""
    order = by_pluggto_id(pluggto_id)
    if order is None:
        return PushResult(kind, False, "Pedido não encontrado na loja.")
    try:
        message = _send(client, kind, order, value, now)
    except CredentialsRejected:
        db.session.rollback()
        raise
    except PluggtoError as error:
        db.session.rollback()
        _record_failure(order, kind, error, now)
        return PushResult(kind, False, error.message)

    state.mark_sent(kind, pluggto_id, value, now)
    _note_pushed_status(order, kind)
    add_event(order, f"{kind}_sent", message)
    db.session.commit()

    if kind in SHIPMENT_KINDS and order.shipment_id is None:
        _learn_shipment_id(client, order)
    return PushResult(kind, True, message)


def _note_pushed_status(order: Order, kind: str) -> None:
    """Keep the Plugg.to status an accepted update set, forward only (no commit).

    Without it the order page shows the status of the last read until the
    next pull, although Plugg.to already moved on. A later status (say, the
    marketplace's "shipped") is never moved back by a re-sent NF-e.
    """
    pushed = PUSHED_STATUS.get(kind)
    if pushed and status.advances(order.pluggto_status, pushed):
        order.pluggto_status = pushed


def _record_failure(
    order: Order, kind: str, error: PluggtoError, now: datetime
) -> None:
    logger.warning("Sending %s of order %s failed: %s", kind, order.pluggto_id, error)
    state.mark_failed(kind, order.pluggto_id, error, now)
    add_event(
        order,
        f"{kind}_error",
        f"Falha ao enviar {WHAT[kind]}: {error.message}",
        error=True,
    )
    db.session.commit()


def _send(
    client: PluggtoClient, kind: str, order: Order, value: dict, now: datetime
) -> str:
    if kind == KIND_EXTERNAL:
        result = client.update_order(
            order.pluggto_id, payloads.external_update(value["external"])
        )
        return _accepted(result, f"Número {value['external']} gravado no Plugg.to.")
    if order.canceled_at is not None:
        raise PluggtoError(
            f"Pedido cancelado: {WHAT[kind]} não foi enviado(a) ao Plugg.to.",
            code=CANCELED_CODE,
            permanent=True,
        )
    if kind == KIND_INVOICE:
        message = _send_invoice(client, order, Invoice.from_desired(value))
        order.invoice_sent_at = now
        return message
    message = _send_tracking(client, order, Tracking.from_desired(value))
    order.tracking_sent_at = now
    return message


def _accepted(result: ApiResult, message: str) -> str:
    if result.not_updated:
        return message + " (o Plugg.to já tinha esses dados)"
    return message


def _send_invoice(client: PluggtoClient, order: Order, invoice: Invoice) -> str:
    shipment_id = current_shipment(client, order.pluggto_id)
    changes = payloads.invoice_update(
        shipment_id,
        key=invoice.key,
        number=invoice.number,
        series=invoice.series,
        issued_at=invoice.issued_at,
        link=invoice.link,
    )
    result = _update_shipment(client, order.pluggto_id, shipment_id, changes)
    order.shipment_id = shipment_id or _answered_shipment_id(result)
    return _accepted(result, f"NF-e {invoice.number} enviada ao Plugg.to.")


def _send_tracking(client: PluggtoClient, order: Order, tracking: Tracking) -> str:
    shipment_id = current_shipment(client, order.pluggto_id)
    changes = payloads.tracking_update(
        shipment_id,
        carrier=tracking.carrier,
        code=tracking.code,
        method=tracking.method,
        url=tracking.url,
        shipped_on=tracking.shipped_on,
    )
    result = _update_shipment(client, order.pluggto_id, shipment_id, changes)
    order.shipment_id = shipment_id or _answered_shipment_id(result)
    return _accepted(result, f"Rastreio {tracking.code} enviado ao Plugg.to.")


def _update_shipment(
    client: PluggtoClient, pluggto_id: str, shipment_id: str | None, changes: dict
) -> ApiResult:
    # A shipment sent without id is appended, so that request must never be
    # replayed blindly: after a lost answer the next try reads the order again.
    return client.update_order(pluggto_id, changes, idempotent=shipment_id is not None)


def current_shipment(client: PluggtoClient, pluggto_id: str) -> str | None:
    """Read the order afresh and return its first shipment's id, if any."""
    ids = payloads.shipment_ids(client.get_order(pluggto_id))
    return ids[0] if ids else None


def _answered_shipment_id(result: ApiResult) -> str | None:
    """Return the shipment id Plugg.to put in its answer to an update, if any."""
    ids = payloads.shipment_ids(payloads.unwrap_order(result.data))
    return ids[0] if ids else None


def _learn_shipment_id(client: PluggtoClient, order: Order) -> None:
    """Read the id Plugg.to gave the shipment we sent without one. Commits.

    Best effort: the update is already accepted and recorded, and every later
    push reads the shipment id afresh anyway, so a failed read only warrants
    a warning.
    """
    try:
        order.shipment_id = current_shipment(client, order.pluggto_id)
    except PluggtoError as error:
        logger.warning(
            "Could not read the new shipment id of order %s: %s",
            order.pluggto_id,
            error,
        )
        return

    logger.info(
        "Order %s had no shipment; Plugg.to created %s",
        order.pluggto_id,
        order.shipment_id,
    )
    db.session.commit()
