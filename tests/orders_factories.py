"""Builders shared by the order tests: catalog rows, Plugg.to orders, mocks."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models.catalog import Product, Variation
from dashboard.models.orders import Order
from dashboard.models.types import utcnow
from dashboard.orders.nfe import check_digit
from tests.conftest import API

ORDERS_URL = f"{API}/orders"
# Before the May 2024 NF-e the tests type, which may not predate the order.
CREATED_BEFORE_NFE = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def make_product(sku: str, quantity: int = 10, price: str = "50.00") -> Product:
    """Create a simple product in the store catalog (committed)."""
    product = Product(sku=sku, name=f"Produto {sku}", price=Decimal(price))
    product.quantity = quantity
    db.session.add(product)
    db.session.commit()
    return product


def make_variation(parent_sku: str, sku: str, quantity: int = 10) -> Variation:
    """Create a variation under a (new or existing) parent product (committed)."""
    parent = db.session.scalar(select(Product).where(Product.sku == parent_sku))
    if parent is None:
        parent = Product(sku=parent_sku, name=f"Produto {parent_sku}", price=50)
        parent.quantity = 0
        db.session.add(parent)
    variation = Variation(
        product=parent, sku=sku, name=f"Variação {sku}", price=Decimal("50.00")
    )
    variation.quantity = quantity
    db.session.add(variation)
    db.session.commit()
    return variation


def stock_of(sku: str) -> int:
    """Return the store stock of a SKU, read afresh."""
    db.session.expire_all()
    for model in (Variation, Product):
        quantity = db.session.scalar(select(model.quantity).where(model.sku == sku))
        if quantity is not None:
            return quantity
    raise LookupError(sku)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def order_json(
    pluggto_id: str,
    status: str = "approved",
    lines=(("CAM-01", 1, "50.00"),),
    *,
    modified: datetime | None = None,
    created: datetime | None = None,
    shipment_id: str | None = "ship-1",
    **overrides,
) -> dict:
    """Return a Plugg.to order whose totals add up."""
    now = utcnow()
    items = []
    for sku, quantity, price in lines:
        item = {"id": None, "sku": sku, "name": f"Item {sku}", "quantity": quantity}
        item.update(price=float(price), total=float(Decimal(price) * quantity))
        items.append(item)
    subtotal = sum(Decimal(price) * quantity for _, quantity, price in lines)
    data = {
        "id": pluggto_id,
        "original_id": f"MKT-{pluggto_id}",
        "channel": "MercadoLivre",
        "status": status,
        "created": stamp(created or now - timedelta(minutes=5)),
        "modified": stamp(modified or now),
        "subtotal": float(subtotal),
        "shipping": 15.0,
        "discount": 0.0,
        "total": float(subtotal + 15),
        "receiver_name": "Maria",
        "receiver_lastname": "Souza Lima",
        "receiver_address": "Rua das Flores",
        "receiver_address_number": "100",
        "receiver_city": "São Paulo",
        "receiver_state": "SP",
        "receiver_zipcode": "01001000",
        "receiver_email": "maria@example.com",
        "payer_name": "Maria",
        "payer_lastname": "Souza Lima",
        "payer_cpf": "123.456.789-09",
        "payer_email": "maria@example.com",
        "payments": [
            {
                "payment_type": "credit",
                "payment_method": "Cartão de crédito",
                "payment_installments": "3",
                "payment_total": float(subtotal + 15),
            }
        ],
        "items": items,
        "shipments": [{"id": shipment_id}] if shipment_id else [],
    }
    data.update(overrides)
    return data


def with_variation(data: dict, line: int, variation_sku: str) -> dict:
    """Make one line of an order name a variation SKU."""
    data["items"][line]["variation"] = {"sku": variation_sku}
    return data


def mock_list(api, pages: list[list[dict]], limit: int = 100):
    """Serve GET /orders page by page, following ``next`` = last id served."""
    served = {"calls": 0}

    def answer(request, context):
        served["calls"] += 1
        query = parse_qs(urlsplit(request.url).query)
        after = query.get("next", [None])[0]
        index = 0
        if after is not None:
            index = next(
                position + 1
                for position, page in enumerate(pages)
                if page and page[-1]["id"] == after
            )
        page = pages[index] if index < len(pages) else []
        return {
            "total": 0,
            "showing": len(page),
            "limit": limit,
            "result": [{"Order": order} for order in page],
        }

    return api.get(ORDERS_URL, json=answer)


def mock_get(api, data: dict):
    """Serve GET /orders/{id} with the given order."""
    return api.get(f"{ORDERS_URL}/{data['id']}", json={"Order": data})


def mock_put(api, pluggto_id: str, **kwargs):
    """Accept PUT /orders/{id}."""
    kwargs.setdefault("json", {"Order": {"id": pluggto_id}})
    return api.put(f"{ORDERS_URL}/{pluggto_id}", **kwargs)


def order_of(pluggto_id: str) -> Order | None:
    """Return the store order of a Plugg.to id, read afresh."""
    db.session.expire_all()
    return db.session.scalar(select(Order).where(Order.pluggto_id == pluggto_id))


def nfe_key(series: int = 1, number: int = 1234, *, year_month: str = "2405") -> str:
    """Build a valid 44-digit access key for a series and number."""
    body = (
        "35"
        + year_month
        + "12345678000195"
        + "55"
        + f"{series:03d}"
        + f"{number:09d}"
        + "1"
        + "12345678"
    )
    return body + str(check_digit(body))
