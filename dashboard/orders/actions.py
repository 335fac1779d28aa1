"""What the merchant does to an order, shared by the order page and the CLI."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update

from dashboard.extensions import db
from dashboard.models.orders import Order
from dashboard.models.sync import STATE_FAILED, STATE_IGNORED, SyncItem
from dashboard.models.types import utcnow
from dashboard.orders import intake, status
from dashboard.orders.dates import local_day
from dashboard.orders.jobs import send_now
from dashboard.orders.nfe import Invoice
from dashboard.orders.pushes import PushResult, record_invoice, record_tracking
from dashboard.orders.records import PUSH_KINDS, add_event
from dashboard.orders.tracking import Tracking
from dashboard.sync import state

CONFIG_KINDS = ("config", "credentials")
REVERSAL_DONE = "NF-e marcada como cancelada/estornada pelo lojista."


class ActionRefused(Exception):
    """The order cannot take this action now; the message is pt-BR."""


class FieldRefused(ActionRefused):
    """Refused because of what the merchant entered, so the form shows it.

    ``field`` names the form field the message goes next to; None means the
    form as a whole.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Outcome:
    """The result of an action: whether everything went through, and why."""

    ok: bool
    messages: list[str]
    config_problem: bool = False


def edit_problem(order: Order) -> str | None:
    """Say why NF-e and tracking cannot be entered for an order, or None."""
    if order.canceled_at is not None:
        return "Pedido cancelado: não é possível informar NF-e ou rastreio."
    if order.hold_reason:
        return (
            "Pedido aguardando mapeamento de SKU: cadastre o produto no catálogo "
            "antes de faturar."
        )
    rank = status.rank(order.status)
    if rank is not None and rank < status.PAID_RANK:
        return (
            "Pedido aguardando pagamento: NF-e e rastreio ficam disponíveis "
            "depois da aprovação."
        )
    return None


def invoiced_on_pluggto(order: Order) -> bool:
    """Tell whether Plugg.to shows the order invoiced, or further along."""
    seen = status.rank(order.pluggto_status)
    return seen is not None and seen >= status.INVOICED_RANK


def tracking_problem(order: Order) -> str | None:
    """Say why tracking cannot be entered yet although the order is open, or None.

    Marketplaces need the invoice before the shipment, and Plugg.to's flow
    is invoiced, then shipping_informed. A recorded NF-e is enough: the
    tracking push waits until Plugg.to has accepted the NF-e. So is an order
    Plugg.to already has as invoiced (the NF-e came from an ERP or the panel).
    """
    if order.nfe_key or invoiced_on_pluggto(order):
        return None
    return (
        "Informe a NF-e antes do rastreio: os marketplaces exigem a nota fiscal "
        "antes do envio."
    )


def key_in_use(order: Order, key: str) -> str | None:
    """Say which other order already has this NF-e key, in pt-BR, or None.

    One NF-e covers one sale; the same key on two orders means one of them
    was typed or pasted on the wrong order.
    """
    other = db.session.scalar(
        select(Order.number)
        .where(Order.nfe_key == key, Order.id != order.id)
        .order_by(Order.number)
        .limit(1)
    )
    if other is None:
        return None
    return f"Esta chave de NF-e já foi informada no pedido {other}."


def _day_text(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def created_day(order: Order) -> date | None:
    """Return the Brasília day an order was created (imported, if unknown)."""
    moment = order.created_at or order.imported_at
    return local_day(moment) if moment else None


def issue_date_problem(order: Order, invoice: Invoice) -> str | None:
    """Say why an NF-e cannot be dated this way for this order, or None.

    Days are compared, not instants: an order created at 23:50 and
    invoiced at 00:10 the next day, or within the same day, is fine.
    """
    created = created_day(order)
    if created is None or local_day(invoice.issued_at) >= created:
        return None
    return (
        "A data de emissão não pode ser anterior à criação do pedido "
        f"({_day_text(created)})."
    )


def ship_date_problem(order: Order, tracking: Tracking) -> str | None:
    """Say why a shipment cannot be dated this way for this order, or None."""
    if order.nfe_date and tracking.shipped_on < local_day(order.nfe_date):
        return (
            "A data de envio não pode ser anterior à emissão da NF-e "
            f"({_day_text(local_day(order.nfe_date))})."
        )

    created = created_day(order)
    if created is None or tracking.shipped_on >= created:
        return None
    return (
        "A data de envio não pode ser anterior à criação do pedido "
        f"({_day_text(created)})."
    )


def save_invoice(order: Order, invoice: Invoice) -> Outcome:
    """Store a validated NF-e and send it to Plugg.to right away."""
    _check(order)
    in_use = key_in_use(order, invoice.key)
    if in_use:
        raise FieldRefused(in_use, "key")
    too_early = issue_date_problem(order, invoice)
    if too_early:
        raise FieldRefused(too_early, "issued_at")

    record_invoice(order, invoice)
    _make_due(order.pluggto_id, ("invoice",))
    db.session.commit()
    return _pushed(order.pluggto_id, "NF-e salva.")


def save_tracking(order: Order, tracking: Tracking) -> Outcome:
    """Store validated tracking data and send it to Plugg.to right away."""
    _check(order)
    problem = tracking_problem(order)
    if problem:
        raise FieldRefused(problem)
    too_early = ship_date_problem(order, tracking)
    if too_early:
        raise FieldRefused(too_early, "shipped_on")

    record_tracking(order, tracking)
    _make_due(order.pluggto_id, ("tracking",))
    db.session.commit()
    return _pushed(order.pluggto_id, "Rastreio salvo.")


def mark_reversed(order: Order) -> Outcome:
    """Record that the merchant canceled or reversed the order's NF-e.

    The flag is cleared with a conditional UPDATE so two clicks at once
    write the timeline entry only once.
    """
    cleared = db.session.execute(
        update(Order)
        .where(Order.id == order.id, Order.needs_reversal.is_(True))
        .values(needs_reversal=False)
    ).rowcount
    if cleared != 1:
        db.session.rollback()
        return Outcome(True, ["A NF-e deste pedido já estava marcada como estornada."])

    add_event(order, "reversal_done", REVERSAL_DONE)
    db.session.commit()
    return Outcome(True, ["NF-e marcada como cancelada/estornada."])


def retry_order(order: Order) -> Outcome:
    """Try again every failed step of an order now."""
    _make_due(order.pluggto_id, PUSH_KINDS)
    db.session.commit()
    messages = []
    if order.hold_reason:
        released = intake.try_release(order, utcnow())
        if released is None:
            return Outcome(
                False, [f"{order.hold_reason}. Cadastre o SKU e tente de novo."]
            )
        messages.append("Mapeamento resolvido: pedido importado e estoque reservado.")
    outcome = _pushed(order.pluggto_id, "")
    return Outcome(outcome.ok, messages + outcome.messages)


def _check(order: Order) -> None:
    problem = edit_problem(order)
    if problem:
        raise ActionRefused(problem)


def _make_due(pluggto_id: str, kinds: Iterable[str]) -> None:
    """Turn failed or ignored items of an order back to pending (no commit)."""
    ids = db.session.scalars(
        select(SyncItem.id).where(
            SyncItem.group_key == pluggto_id,
            SyncItem.kind.in_(kinds),
            SyncItem.state.in_((STATE_FAILED, STATE_IGNORED)),
        )
    ).all()
    if ids:
        state.retry(ids)


def _pushed(pluggto_id: str, saved: str) -> Outcome:
    results = send_now(pluggto_id)
    if not results and saved:
        return Outcome(True, ["Sem mudanças: o Plugg.to já tem estes dados."])
    if not results:
        return Outcome(True, ["Nada pendente de envio para este pedido."])
    messages = [saved] if saved else []
    messages.extend(_describe(result) for result in results)
    config = any(result.kind in CONFIG_KINDS for result in results)
    ok = all(result.ok or result.waiting for result in results)
    return Outcome(ok, messages, config)


def _describe(result: PushResult) -> str:
    if result.ok or result.waiting or result.kind not in PUSH_KINDS:
        return result.message
    return f"{result.message} Fica na lista de Falhas e será tentado de novo."
