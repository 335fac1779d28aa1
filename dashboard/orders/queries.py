"""Reading orders for the screens and the CLI: filters, pages, sync state."""

from dataclasses import dataclass

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models.orders import Order
from dashboard.models.sync import STATE_FAILED, STATE_PENDING, SyncItem
from dashboard.orders import status
from dashboard.orders.records import ORDER_KINDS
from dashboard.orders.stats import awaiting_invoice, awaiting_tracking, needs_attention

PAGE_SIZE = 25

SYNC_HELD = "held"
SYNC_FAILED = "failed"
SYNC_PENDING = "pending"
SYNC_OK = "ok"
SYNC_LABELS = {
    SYNC_HELD: ("aguardando mapeamento", "warning"),
    SYNC_FAILED: ("falhou", "danger"),
    SYNC_PENDING: ("envio pendente", "warning"),
    SYNC_OK: ("em dia", "ok"),
}
KIND_STATE_LABELS = {
    "ok": "enviado",
    "pending": "pendente",
    "failed": "falhou",
    "ignored": "ignorado",
}
# Payment method codes seen from Plugg.to and the marketplaces behind it.
PAYMENT_LABELS = {
    "credit_card": "Cartão de crédito",
    "debit_card": "Cartão de débito",
    "bank_slip": "Boleto",
    "boleto": "Boleto",
    "ticket": "Boleto",
    "pix": "Pix",
    "account_money": "Saldo em conta",
    "voucher": "Vale-presente",
    "gift_card": "Vale-presente",
}


# The steps the overview tiles count, as Pedidos filters: (label, condition).
STEPS = {
    "nfe": ("Aguardando NF-e", awaiting_invoice),
    "rastreio": ("Aguardando rastreio", awaiting_tracking),
}


@dataclass(frozen=True)
class Filters:
    """What the Pedidos list is narrowed to."""

    status: str = ""
    channel: str = ""
    attention: bool = False
    step: str = ""  # one of STEPS: what the merchant has to do next
    page: int = 1

    def query_args(self, **changes) -> dict:
        """Return the URL arguments of these filters, with some changed."""
        values = {
            "status": self.status,
            "marketplace": self.channel,
            "atencao": "1" if self.attention else "",
            "etapa": self.step,
            "pagina": self.page,
        }
        values.update(changes)
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class OrderPage:
    """One page of the Pedidos list."""

    orders: list[Order]
    sync: dict[str, str]
    total: int
    page: int
    pages: int


def _filtered(filters: Filters):
    query = select(Order)
    if filters.status:
        query = query.where(Order.status == filters.status)
    if filters.channel:
        query = query.where(Order.channel == filters.channel)
    if filters.attention:
        query = query.where(needs_attention())
    if filters.step in STEPS:
        query = query.where(STEPS[filters.step][1]())
    return query


def order_page(filters: Filters, page_size: int = PAGE_SIZE) -> OrderPage:
    """Return the orders of one page, newest first, with their sync state."""
    query = _filtered(filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max((total + page_size - 1) // page_size, 1)
    page = min(max(filters.page, 1), pages)
    orders = db.session.scalars(
        query.order_by(Order.number.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return OrderPage(orders, sync_states(orders), total, page, pages)


def sync_states(orders: list[Order]) -> dict[str, str]:
    """Summarise each order's pushes: held, failed, pending or ok."""
    ids = [order.pluggto_id for order in orders]
    found: dict[str, set[str]] = {pid: set() for pid in ids}
    rows = db.session.execute(
        select(SyncItem.group_key, SyncItem.state).where(
            SyncItem.group_key.in_(ids), SyncItem.kind.in_(ORDER_KINDS)
        )
    )
    for pluggto_id, item_state in rows:
        found.setdefault(pluggto_id, set()).add(item_state)
    return {
        order.pluggto_id: _summary(order, found.get(order.pluggto_id, set()))
        for order in orders
    }


def _summary(order: Order, states: set[str]) -> str:
    if order.hold_reason:
        return SYNC_HELD
    if STATE_FAILED in states:
        return SYNC_FAILED
    if STATE_PENDING in states:
        return SYNC_PENDING
    return SYNC_OK


def channels() -> list[str]:
    """Return the marketplaces seen in the store's orders."""
    return list(
        db.session.scalars(
            select(Order.channel)
            .where(Order.channel.is_not(None))
            .distinct()
            .order_by(Order.channel)
        )
    )


def statuses() -> list[tuple[str, str]]:
    """Return the statuses to filter by: known ones, then any unknown in use."""
    used = set(db.session.scalars(select(Order.status).distinct()))
    known = [(name, status.label(name)) for name in status.RANK]
    return known + [(name, name) for name in sorted(used - set(status.RANK))]


def sync_items(pluggto_id: str) -> dict[str, SyncItem]:
    """Return an order's sync items by kind."""
    rows = db.session.scalars(
        select(SyncItem).where(
            SyncItem.group_key == pluggto_id, SyncItem.kind.in_(ORDER_KINDS)
        )
    )
    return {row.kind: row for row in rows}


def import_failure(pluggto_id: str) -> SyncItem | None:
    """Return the failed import of an order the store could not create."""
    return db.session.scalar(
        select(SyncItem).where(
            SyncItem.kind == "order_import",
            SyncItem.key == pluggto_id,
            SyncItem.state == STATE_FAILED,
        )
    )


def first_name(order: Order) -> str:
    """Return only the buyer's first name, for lists."""
    name = (order.buyer_name or (order.delivery or {}).get("name") or "").strip()
    return name.split()[0] if name else "—"


def payment_label(method: str | None) -> str:
    """Return the pt-BR name of a payment method; unknown ones are shown as they are."""
    code = (method or "").strip()
    if not code:
        return "Pagamento"
    return PAYMENT_LABELS.get(code.lower(), code)


def masked_document(document: str | None) -> str:
    """Show a CPF or CNPJ with only its middle digits."""
    if not document:
        return "—"
    if len(document) == 11:
        return f"***.{document[3:6]}.{document[6:9]}-**"
    return f"**.{document[2:5]}.{document[5:8]}/****-**"


def masked_email(email: str | None) -> str:
    """Show an e-mail with only the first letter of its user part."""
    if not email or "@" not in email:
        return "—"
    user, _, domain = email.partition("@")
    return f"{user[:1]}***@{domain}"
