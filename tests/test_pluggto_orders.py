"""Plugg.to order JSON -> dataclasses, and the order update payloads."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from dashboard.pluggto.orders import (
    OrderDataError,
    external_update,
    invoice_update,
    parse_money,
    parse_order,
    parse_time,
    shipment_ids,
    tracking_update,
    unwrap_order,
)


def sample(**overrides) -> dict:
    data = {
        "id": "65a1",
        "original_id": "2000123",
        "channel": "MercadoLivre",
        "status": "approved",
        "created": "2024-05-10T18:30:00.000Z",
        "modified": "2024-05-10T19:00:00Z",
        "subtotal": 100.0,
        "shipping": "15.5",
        "discount": 5,
        "total": 110.5,
        "payer_name": "Ana",
        "payer_lastname": "Lima",
        "payer_cpf": "123.456.789-09",
        "payer_email": "",
        "receiver_email": "ana@example.com",
        "receiver_name": "Ana",
        "receiver_city": "Recife",
        "receiver_state": "PE",
        "payments": [
            {
                "payment_method": "pix",
                "payment_installments": "1",
                "payment_total": 110.5,
            }
        ],
        "items": [
            {
                "id": None,
                "sku": "CAM-01",
                "name": "Camiseta",
                "quantity": "2",
                "price": 50,
                "total": 100,
                "variation": {"sku": "CAM-01-M"},
            }
        ],
        "shipments": [{"id": "s-1"}, {"id": None}],
    }
    data.update(overrides)
    return data


def test_it_reads_the_fields_the_store_keeps():
    order = parse_order(sample())

    assert order.id == "65a1"
    assert order.original_id == "2000123"
    assert order.channel == "MercadoLivre"
    assert order.created == datetime(2024, 5, 10, 18, 30, tzinfo=UTC)
    assert order.shipping == Decimal("15.50")
    assert order.total == Decimal("110.50")
    assert order.buyer_name == "Ana Lima"
    assert order.buyer_document == "12345678909"
    assert order.delivery["city"] == "Recife"
    assert order.payments[0].installments == 1
    assert order.shipment_ids == ("s-1",)


def test_it_resolves_a_line_by_its_variation_sku_first():
    line = parse_order(sample()).lines[0]

    assert line.store_sku == "CAM-01-M"
    assert line.quantity == 2


def test_it_falls_back_to_the_receiver_email_when_the_payer_has_none():
    assert parse_order(sample()).buyer_email == "ana@example.com"


def test_it_keeps_a_missing_subtotal_as_none():
    order = parse_order(sample(subtotal=None))

    assert order.subtotal is None
    assert order.lines_total() == Decimal("100.00")


def test_it_keeps_an_unknown_status_verbatim():
    assert parse_order(sample(status="awaiting_pickup")).status == "awaiting_pickup"


def test_it_rounds_three_decimal_prices_to_cents():
    assert parse_money("10.005") == Decimal("10.01")
    assert parse_money("12,50") == Decimal("12.50")
    assert parse_money("") is None


def test_it_refuses_an_order_without_id():
    with pytest.raises(OrderDataError):
        parse_order(sample(id=None))


@pytest.mark.parametrize("quantity", ["0", "1.5", "abc", None])
def test_it_refuses_a_line_with_a_bad_quantity(quantity):
    items = sample()["items"]
    items[0]["quantity"] = quantity

    with pytest.raises(OrderDataError, match="quantidade"):
        parse_order(sample(items=items))


def test_it_reads_naive_times_as_utc():
    assert parse_time("2024-05-10 18:30:00") == datetime(
        2024, 5, 10, 18, 30, tzinfo=UTC
    )
    assert parse_time("garbage") is None


def test_the_invoice_update_goes_on_the_given_shipment():
    issued = datetime(2024, 5, 10, 18, 30, tzinfo=UTC)

    body = invoice_update(
        "s-1", key="1" * 44, number="12", series="1", issued_at=issued
    )

    assert body == {
        "status": "invoiced",
        "shipments": [
            {
                "id": "s-1",
                "nfe_key": "1" * 44,
                "nfe_number": "12",
                "nfe_serie": "1",
                "nfe_date": "2024-05-10T18:30:00Z",
            }
        ],
    }


def test_the_tracking_update_marks_the_shipment_shipped():
    body = tracking_update(
        "s-1",
        carrier="Correios",
        code="AA123456789BR",
        method="PAC",
        url="https://x.test/AA",
        shipped_on=date(2024, 5, 11),
    )

    assert body["status"] == "shipping_informed"
    assert body["shipments"][0] == {
        "id": "s-1",
        "shipping_company": "Correios",
        "track_code": "AA123456789BR",
        "status": "shipped",
        "shipping_method": "PAC",
        "track_url": "https://x.test/AA",
        "date_shipped": "2024-05-11",
    }


def test_a_shipment_without_id_is_sent_without_id():
    body = tracking_update(None, carrier="Jadlog", code="X1")

    assert "id" not in body["shipments"][0]


def test_the_external_update_sends_the_store_number_as_text():
    assert external_update(1001) == {"external": "1001"}


def test_it_unwraps_an_order_answer_and_reads_its_shipments():
    assert shipment_ids(unwrap_order({"Order": {"shipments": [{"id": "x"}]}})) == ("x",)
    assert shipment_ids(unwrap_order(None)) == ()
