"""Plugg.to order JSON -> plain dataclasses, and the order update payloads.

Pure functions: no HTTP, no database, no Flask. Amounts become ``Decimal``
rounded to cents (Plugg.to keeps 3 decimals), times become aware UTC
datetimes. Missing optional data is ``None``; only an order without an id or
with an unusable line raises ``OrderDataError``.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")

PENDING = "pending"
PARTIAL_PAYMENT = "partial_payment"
UNDER_REVIEW = "under_review"
PAID = "paid"
APPROVED = "approved"
WAITING_INVOICE = "waiting_invoice"
INVOICE_ERROR = "invoice_error"
INVOICED = "invoiced"
SHIPPING_ERROR = "shipping_error"
SHIPPING_INFORMED = "shipping_informed"
SHIPPED = "shipped"
DELIVERED = "delivered"
CANCELED = "canceled"

DELIVERY_FIELDS = {
    "receiver_name": "name",
    "receiver_lastname": "lastname",
    "receiver_address": "address",
    "receiver_address_number": "number",
    "receiver_address_complement": "complement",
    "receiver_neighborhood": "neighborhood",
    "receiver_city": "city",
    "receiver_state": "state",
    "receiver_zipcode": "zipcode",
    "receiver_phone": "phone",
    "receiver_email": "email",
}
DOCUMENT_FIELDS = ("payer_cpf", "payer_cnpj", "payer_document", "receiver_cpf")


class OrderDataError(ValueError):
    """An order Plugg.to sent that cannot be read; the message is pt-BR."""


@dataclass(frozen=True)
class RemoteLine:
    """One order line as Plugg.to sent it."""

    sku: str
    variation_sku: str | None
    name: str
    quantity: int
    unit_price: Decimal
    total: Decimal

    @property
    def store_sku(self) -> str:
        """Return the SKU to resolve: the variation's first, then the line's."""
        return self.variation_sku or self.sku


@dataclass(frozen=True)
class RemotePayment:
    """One payment of an order."""

    method: str
    installments: int | None
    total: Decimal | None


@dataclass(frozen=True)
class RemoteOrder:
    """The parts of a Plugg.to order the store keeps."""

    id: str
    original_id: str | None
    channel: str | None
    status: str
    created: datetime | None
    modified: datetime | None
    subtotal: Decimal | None
    shipping: Decimal
    discount: Decimal
    total: Decimal | None
    buyer_name: str | None
    buyer_email: str | None
    buyer_document: str | None
    delivery: dict[str, str]
    payments: tuple[RemotePayment, ...]
    lines: tuple[RemoteLine, ...]
    shipment_ids: tuple[str, ...]

    def lines_total(self) -> Decimal:
        """Return the sum of the line totals."""
        return sum((line.total for line in self.lines), Decimal("0.00"))


# Reading -------------------------------------------------------------------


def parse_money(value: Any) -> Decimal | None:
    """Return an amount rounded to cents, or None when absent."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise OrderDataError(f"valor inválido: {value!r}")

    text = str(value).strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise OrderDataError(f"valor inválido: {value!r}") from None
    if not amount.is_finite():
        raise OrderDataError(f"valor inválido: {value!r}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_time(value: Any) -> datetime | None:
    """Return an aware UTC datetime from an ISO text; naive means UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace(" ", "T", 1)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _quantity(value: Any) -> int:
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise OrderDataError(f"quantidade inválida: {value!r}") from None
    if not amount.is_finite() or amount != amount.to_integral() or amount < 1:
        raise OrderDataError(f"quantidade inválida: {value!r}")
    return int(amount)


def parse_line(item: Any) -> RemoteLine:
    """Read one order line; raise OrderDataError when it cannot be used."""
    if not isinstance(item, dict):
        raise OrderDataError("item do pedido em formato inesperado")
    variation = item.get("variation")
    variation_sku = _text(variation.get("sku")) if isinstance(variation, dict) else None
    sku = _text(item.get("sku")) or variation_sku
    if not sku:
        raise OrderDataError("item do pedido sem SKU")

    quantity = _quantity(item.get("quantity"))
    price = parse_money(item.get("price"))
    total = parse_money(item.get("total"))
    if price is None and total is None:
        raise OrderDataError(f"item {sku} sem preço")
    if price is None:
        price = (total / quantity).quantize(CENT, rounding=ROUND_HALF_UP)
    if total is None:
        total = price * quantity

    name = _text(item.get("name")) or sku
    return RemoteLine(sku, variation_sku, name, quantity, price, total)


def _payment(data: Any) -> RemotePayment | None:
    if not isinstance(data, dict):
        return None
    installments = _text(data.get("payment_installments"))
    method = _text(data.get("payment_method")) or _text(data.get("payment_type"))
    return RemotePayment(
        method=method or "",
        installments=int(installments)
        if installments and installments.isdigit()
        else None,
        total=parse_money(data.get("payment_total")),
    )


def _document(data: dict) -> str | None:
    for name in DOCUMENT_FIELDS:
        digits = re.sub(r"\D", "", str(data.get(name) or ""))
        if digits:
            return digits
    return None


def _buyer_name(data: dict) -> str | None:
    parts = [_text(data.get("payer_name")), _text(data.get("payer_lastname"))]
    joined = " ".join(part for part in parts if part)
    return joined or None


def _delivery(data: dict) -> dict[str, str]:
    return {
        short: text
        for field, short in DELIVERY_FIELDS.items()
        if (text := _text(data.get(field)))
    }


def unwrap_order(data: Any) -> dict:
    """Return the order inside an answer (``{"Order": {...}}`` or the order)."""
    if isinstance(data, dict) and isinstance(data.get("Order"), dict):
        return data["Order"]
    return data if isinstance(data, dict) else {}


def shipment_ids(data: Any) -> tuple[str, ...]:
    """Return the ids of the order's shipments, in Plugg.to's order."""
    shipments = data.get("shipments") if isinstance(data, dict) else None
    if not isinstance(shipments, list):
        return ()
    found = (
        _text(shipment.get("id"))
        for shipment in shipments
        if isinstance(shipment, dict)
    )
    return tuple(shipment_id for shipment_id in found if shipment_id)


def parse_order(data: Any) -> RemoteOrder:
    """Read a Plugg.to order; raise OrderDataError if it has no id or bad lines."""
    if not isinstance(data, dict) or not _text(data.get("id")):
        raise OrderDataError("pedido sem id do Plugg.to")
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise OrderDataError("pedido sem itens")

    payments = data.get("payments") if isinstance(data.get("payments"), list) else []
    return RemoteOrder(
        id=_text(data["id"]),
        original_id=_text(data.get("original_id")),
        channel=_text(data.get("channel")),
        status=_text(data.get("status")) or "",
        created=parse_time(data.get("created")),
        modified=parse_time(data.get("modified")),
        subtotal=parse_money(data.get("subtotal")),
        shipping=parse_money(data.get("shipping")) or Decimal("0.00"),
        discount=parse_money(data.get("discount")) or Decimal("0.00"),
        total=parse_money(data.get("total")),
        buyer_name=_buyer_name(data),
        buyer_email=_text(data.get("payer_email")) or _text(data.get("receiver_email")),
        buyer_document=_document(data),
        delivery=_delivery(data),
        payments=tuple(p for p in map(_payment, payments) if p is not None),
        lines=tuple(parse_line(item) for item in items),
        shipment_ids=shipment_ids(data),
    )


# Writing -------------------------------------------------------------------


def external_update(store_number: str) -> dict:
    """Return the update that records the store's own order number."""
    return {"external": str(store_number)}


def _with_shipment(shipment_id: str | None, fields: dict) -> dict:
    shipment = dict(fields)
    if shipment_id:
        shipment = {"id": shipment_id, **shipment}
    return shipment


def invoice_update(
    shipment_id: str | None,
    *,
    key: str,
    number: str,
    series: str,
    issued_at: datetime,
    link: str | None = None,
) -> dict:
    """Return the update that marks an order invoiced on its shipment."""
    fields: dict[str, Any] = {
        "nfe_key": key,
        "nfe_number": number,
        "nfe_serie": series,
        "nfe_date": issued_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if link:
        fields["nfe_link"] = link
    return {"status": INVOICED, "shipments": [_with_shipment(shipment_id, fields)]}


def tracking_update(
    shipment_id: str | None,
    *,
    carrier: str,
    code: str,
    method: str | None = None,
    url: str | None = None,
    shipped_on: date | None = None,
) -> dict:
    """Return the update that informs the shipment's carrier and tracking code."""
    fields: dict[str, Any] = {
        "shipping_company": carrier,
        "track_code": code,
        "status": SHIPPED,
    }
    if method:
        fields["shipping_method"] = method
    if url:
        fields["track_url"] = url
    if shipped_on:
        fields["date_shipped"] = shipped_on.isoformat()
    return {
        "status": SHIPPING_INFORMED,
        "shipments": [_with_shipment(shipment_id, fields)],
    }
