"""Order statuses: their forward-only rank, pt-BR names and badge tones."""

from dashboard.pluggto import orders as remote

# The order a status can be reached in; a status never moves to a lower rank.
# ``canceled`` is last: it can follow any status, and nothing follows it.
RANK: dict[str, int] = {
    remote.PENDING: 10,
    remote.PARTIAL_PAYMENT: 20,
    remote.UNDER_REVIEW: 25,
    remote.PAID: 30,
    remote.APPROVED: 40,
    remote.WAITING_INVOICE: 50,
    remote.INVOICE_ERROR: 55,
    remote.INVOICED: 60,
    remote.SHIPPING_ERROR: 65,
    remote.SHIPPING_INFORMED: 70,
    remote.SHIPPED: 80,
    remote.DELIVERED: 90,
    remote.CANCELED: 100,
}

LABELS: dict[str, str] = {
    remote.PENDING: "pendente",
    remote.PARTIAL_PAYMENT: "pagamento parcial",
    remote.UNDER_REVIEW: "em análise",
    remote.PAID: "pago",
    remote.APPROVED: "aprovado",
    remote.WAITING_INVOICE: "aguardando NF-e",
    remote.INVOICE_ERROR: "erro na NF-e",
    remote.INVOICED: "faturado",
    remote.SHIPPING_ERROR: "erro no envio",
    remote.SHIPPING_INFORMED: "envio informado",
    remote.SHIPPED: "enviado",
    remote.DELIVERED: "entregue",
    remote.CANCELED: "cancelado",
}

TONES: dict[str, str] = {
    remote.PENDING: "warning",
    remote.PARTIAL_PAYMENT: "warning",
    remote.UNDER_REVIEW: "warning",
    remote.INVOICE_ERROR: "danger",
    remote.SHIPPING_ERROR: "danger",
    remote.SHIPPED: "ok",
    remote.DELIVERED: "ok",
    remote.CANCELED: "danger",
}

PAID_RANK = RANK[remote.PAID]
INVOICED_RANK = RANK[remote.INVOICED]
SHIPPED_RANK = RANK[remote.SHIPPED]
# Shipped, delivered or canceled orders wait for nothing; any other status,
# unknown ones included, is still open.
CLOSED_STATUSES = tuple(name for name, rank in RANK.items() if rank >= SHIPPED_RANK)
AWAITING_INVOICE = tuple(
    name for name, rank in RANK.items() if PAID_RANK <= rank < INVOICED_RANK
)


def rank(status: str | None) -> int | None:
    """Return a status's rank, or None for a status we do not know."""
    return RANK.get(status or "")


def label(status: str | None) -> str:
    """Return the pt-BR name of a status; unknown ones are shown as they are."""
    if not status:
        return "desconhecido"
    return LABELS.get(status, status)


def tone(status: str | None) -> str:
    """Return the badge tone of a status."""
    if rank(status) is None:
        return "muted"
    return TONES.get(status, "info")


def advances(current: str, new: str) -> bool:
    """Tell whether moving from ``current`` to ``new`` goes forward."""
    new_rank = rank(new)
    current_rank = rank(current) or 0
    return new_rank is not None and new_rank > current_rank
