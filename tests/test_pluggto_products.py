"""Product, price and stock payloads: field by field, and the sale price rules."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from dashboard.pluggto.client import encode_json
from dashboard.pluggto.products import (
    NEVER_SENT,
    ProductData,
    SkuData,
    local_date,
    price_payload,
    product_payload,
    promotion_active,
    sale_price,
    slug,
    variation_prices_payload,
)

TODAY = date(2026, 12, 3)


def variation(sku: str = "CAM-01-M", **overrides) -> SkuData:
    values = {
        "sku": sku,
        "name": "Camiseta M",
        "external": "7",
        "price": Decimal("59.90"),
        "special_price": Decimal("59.90"),
        "quantity": 0,
        "ean": "0012345678905",
        "photos": ("https://img.loja.com.br/m.jpg",),
        "attributes": (("Tamanho", "M"),),
    }
    values.update(overrides)
    return SkuData(**values)


def product(**overrides) -> ProductData:
    values = {
        "sku": "CAM-01",
        "name": "Camiseta",
        "external": "3",
        "price": Decimal("59.90"),
        "special_price": Decimal("49.90"),
        "quantity": 0,
        "ean": "",
        "description": "<p>Algodão</p>",
        "brand": "Rocky",
        "link": "https://minhaloja.com.br/produto/cam-01",
        "weight_kg": Decimal("0.200"),
        "length_cm": Decimal("30.0"),
        "width_cm": Decimal("20.0"),
        "height_cm": Decimal("2.0"),
        "categories": ("Moda > Camisetas",),
        "photos": ("https://img.loja.com.br/cam.jpg",),
        "variations": (variation(),),
    }
    values.update(overrides)
    return ProductData(**values)


def all_keys(value) -> set[str]:
    """Return every dictionary key at any depth of a JSON value."""
    if isinstance(value, dict):
        keys = set(value)
        for item in value.values():
            keys |= all_keys(item)
        return keys
    if isinstance(value, list):
        return set().union(*(all_keys(item) for item in value)) if value else set()
    return set()


# Product payload -----------------------------------------------------------------


def test_the_product_payload_has_every_field_plugg_to_expects():
    body = product_payload(product())

    assert body["sku"] == "CAM-01"
    assert body["name"] == "Camiseta"
    assert body["external"] == "3"
    assert body["description"] == "<p>Algodão</p>"
    assert body["brand"] == "Rocky"
    assert body["price"] == Decimal("59.90")
    assert body["special_price"] == Decimal("49.90")
    assert body["link"] == "https://minhaloja.com.br/produto/cam-01"
    assert body["dimension"] == {
        "length": Decimal("30.0"),
        "width": Decimal("20.0"),
        "height": Decimal("2.0"),
        "weight": Decimal("0.200"),
    }
    assert body["categories"] == [{"name": "Moda > Camisetas"}]
    assert body["photos"] == [
        {
            "url": "https://img.loja.com.br/cam.jpg",
            "external": "https://img.loja.com.br/cam.jpg",
            "order": 1,
            "title": "Camiseta",
        }
    ]


def test_each_variation_is_sent_complete():
    body = product_payload(product())

    assert body["variations"] == [
        {
            "sku": "CAM-01-M",
            "name": "Camiseta M",
            "external": "7",
            "ean": "0012345678905",
            "price": Decimal("59.90"),
            "special_price": Decimal("59.90"),
            "quantity": 0,
            "photos": [
                {
                    "url": "https://img.loja.com.br/m.jpg",
                    "external": "https://img.loja.com.br/m.jpg",
                    "order": 1,
                    "title": "Camiseta M",
                }
            ],
            "attributes": [
                {
                    "code": "tamanho",
                    "label": "Tamanho",
                    "value": {"code": "m", "label": "M"},
                }
            ],
        }
    ]


def test_zero_stock_is_sent_as_zero_and_never_left_out():
    simple = json.loads(encode_json(product_payload(product(variations=()))))
    family = json.loads(encode_json(product_payload(product())))

    assert simple["quantity"] == 0
    assert family["variations"][0]["quantity"] == 0


def test_the_ean_stays_a_string_with_its_leading_zeros():
    body = json.loads(encode_json(product_payload(product())))

    assert body["variations"][0]["ean"] == "0012345678905"


def test_money_goes_out_as_json_numbers_not_strings():
    body = json.loads(encode_json(product_payload(product())))

    assert body["price"] == 59.9
    assert body["special_price"] == 49.9


def test_a_product_without_domain_or_measures_sends_no_link_or_dimension():
    body = product_payload(
        product(
            link="",
            weight_kg=None,
            length_cm=None,
            width_cm=None,
            height_cm=None,
        )
    )

    assert "link" not in body
    assert "dimension" not in body


def test_a_simple_product_has_no_variations_key():
    body = product_payload(product(variations=(), quantity=5))

    assert "variations" not in body
    assert body["quantity"] == 5


@pytest.mark.parametrize(
    "body",
    [
        product_payload(product()),
        product_payload(product(), removed_variations=["CAM-01-G"]),
        product_payload(
            product(), removed_variations=["X"], zero_instead_of_remove=True
        ),
        price_payload("CAM-01", Decimal("10"), Decimal("9")),
        variation_prices_payload("CAM-01", [("CAM-01-M", Decimal("10"), Decimal("9"))]),
    ],
)
def test_no_payload_ever_contains_a_never_sent_field(body):
    assert not all_keys(body) & NEVER_SENT
    assert NEVER_SENT == {
        "handling_time",
        "manufacture_time",
        "warranty_time",
        "warranty_message",
        "ncm",
        "isbn",
        "nbm",
        "cest",
    }


def test_a_removed_variation_is_sent_with_remove_true():
    body = product_payload(product(), removed_variations=["CAM-01-G"])

    assert body["variations"][-1] == {"sku": "CAM-01-G", "remove": True}


def test_a_refused_removal_falls_back_to_quantity_zero():
    body = product_payload(
        product(), removed_variations=["CAM-01-G"], zero_instead_of_remove=True
    )

    assert body["variations"][-1] == {"sku": "CAM-01-G", "quantity": 0}


def test_a_removed_photo_is_sent_with_remove_true():
    body = product_payload(
        product(), removed_photos={"CAM-01-M": ["https://img.loja.com.br/old.jpg"]}
    )

    assert body["variations"][0]["photos"][-1] == {
        "url": "https://img.loja.com.br/old.jpg",
        "remove": True,
    }


@pytest.mark.parametrize("special", [None, Decimal("0"), Decimal("69.90")])
def test_an_invalid_sale_price_in_the_data_goes_out_as_the_list_price(special):
    body = product_payload(product(special_price=special, variations=()))

    assert body["special_price"] == Decimal("59.90")


def test_a_negative_quantity_is_never_sent():
    body = product_payload(product(variations=(), quantity=-3))

    assert body["quantity"] == 0


# Price payloads ------------------------------------------------------------------


def test_the_price_payload_is_the_small_put():
    assert price_payload("CAN-01", Decimal("29.9"), Decimal("25")) == {
        "sku": "CAN-01",
        "price": Decimal("29.90"),
        "special_price": Decimal("25.00"),
    }


def test_variation_prices_go_through_the_parent():
    body = variation_prices_payload(
        "CAM-01", [("CAM-01-M", Decimal("59.90"), Decimal("49.90"))]
    )

    assert body == {
        "sku": "CAM-01",
        "variations": [
            {
                "sku": "CAM-01-M",
                "price": Decimal("59.90"),
                "special_price": Decimal("49.90"),
            }
        ],
    }


# Sale price rules ------------------------------------------------------------------


def test_without_a_promotion_the_sale_price_is_the_list_price():
    assert sale_price(Decimal("59.90"), None, None, None, TODAY) == Decimal("59.90")


@pytest.mark.parametrize("special", [Decimal("0"), Decimal("-1"), Decimal("60.00")])
def test_a_sale_price_that_is_zero_or_above_the_list_price_is_never_sent(special):
    assert sale_price(Decimal("59.90"), special, None, None, TODAY) == Decimal("59.90")


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, "49.90"),
        (TODAY, TODAY, "49.90"),
        (date(2026, 12, 4), None, "59.90"),
        (None, date(2026, 12, 2), "59.90"),
        (date(2026, 12, 1), date(2026, 12, 31), "49.90"),
    ],
)
def test_a_promotion_window_is_inclusive(start, end, expected):
    price = sale_price(Decimal("59.90"), Decimal("49.90"), start, end, TODAY)

    assert price == Decimal(expected)


def test_promotion_days_are_counted_in_sao_paulo():
    late_evening = datetime(2026, 12, 4, 2, 30, tzinfo=UTC)  # 23:30 on the 3rd

    today = local_date(late_evening)

    assert today == date(2026, 12, 3)
    assert not promotion_active(
        Decimal("59.90"), Decimal("49.90"), date(2026, 12, 4), None, today
    )


def test_a_naive_instant_is_taken_as_utc():
    assert local_date(datetime(2026, 12, 4, 2, 30)) == date(2026, 12, 3)


def test_slug_makes_ascii_codes():
    assert slug("Único Tamanho / Cor") == "unico-tamanho-cor"
