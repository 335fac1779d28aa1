"""Tests of the local Plugg.to sandbox (dashboard.sandbox) and the sample catalog."""

from __future__ import annotations

import csv
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from dashboard.sandbox import DEMO_CREDENTIALS, SandboxConfig, SandboxServer, Store
from dashboard.sandbox.calllog import Call
from dashboard.sandbox.catalog import FALLBACK_LINES
from dashboard.sandbox.fakedata import is_valid_cpf

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "dashboard" / "demo" / "sample_catalog.csv"
CATALOG_HEADER = (
    "sku,sku_parent,name,description,brand,ean,price,special_price,"
    "special_price_start,special_price_end,quantity,weight,length,width,height,"
    "link_image_1,link_image_2,attribute_name_1,attribute_value_1,"
    "attribute_name_2,attribute_value_2,full_category_tree_1,"
    "full_category_tree_2,full_category_tree_3"
).split(",")
TODAY = date(2026, 12, 3)
START = 1_796_300_000.0  # 2026-12-03, UTC


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Api:
    """A thin helper over a requests.Session pointed at the sandbox."""

    def __init__(self, base: str, session: requests.Session) -> None:
        self.base = base
        self.session = session

    def sku_url(self, sku: str, suffix: str = "") -> str:
        return f"{self.base}/skus/{quote(sku, safe='')}{suffix}"

    def put_sku(self, sku: str, body: dict[str, Any]) -> requests.Response:
        return self.session.put(self.sku_url(sku), json=body, timeout=5)

    def get_sku(self, sku: str) -> requests.Response:
        return self.session.get(self.sku_url(sku), timeout=5)

    def stock(self, sku: str, body: dict[str, Any]) -> requests.Response:
        return self.session.put(self.sku_url(sku, "/stock"), json=body, timeout=5)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.base + path, params=params, timeout=5)

    def put(self, path: str, body: Any) -> requests.Response:
        return self.session.put(self.base + path, json=body, timeout=5)

    def post(self, path: str, body: Any) -> requests.Response:
        return self.session.post(self.base + path, json=body, timeout=5)

    def control(self, path: str, body: Any = None) -> Any:
        if body is None:
            response = self.session.get(f"{self.base}/_sandbox{path}", timeout=5)
        else:
            response = self.session.post(
                f"{self.base}/_sandbox{path}", json=body, timeout=5
            )
        assert response.ok, response.text
        return response.json()


def password_grant(**overrides: str) -> dict[str, str]:
    """Return the form of a password grant for the demo account."""
    return {"grant_type": "password", **DEMO_CREDENTIALS, **overrides}


def token_for(base: str, session: requests.Session) -> dict[str, Any]:
    """Run a password grant and return the token answer."""
    response = session.post(f"{base}/oauth/token", data=password_grant(), timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def seed_shirt(api: Api) -> dict[str, Any]:
    """Create a product with two variations and return it."""
    body = {
        "sku": "CAM-01",
        "name": "Camiseta",
        "price": 59.9,
        "special_price": 59.9,
        "quantity": 10,
        "variations": [
            {"sku": "CAM-01-P", "quantity": 3, "price": 59.9},
            {"sku": "CAM-01-M", "quantity": 5, "price": 59.9},
        ],
    }
    response = api.put_sku("CAM-01", body)
    assert response.status_code == 200, response.text
    return response.json()["Product"]


def make_orders(api: Api, count: int, **extra: Any) -> list[dict[str, Any]]:
    """Create orders through the control endpoint."""
    return api.control("/orders", {"count": count, **extra})["orders"]


def read_catalog() -> list[dict[str, str]]:
    """Parse the sample catalog."""
    with CATALOG.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def gtin_is_valid(code: str) -> bool:
    """Check a GTIN-13 check digit."""
    digits = [int(char) for char in code]
    total = sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits[:12]))
    return (10 - total % 10) % 10 == digits[12]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sandbox(clock: FakeClock) -> Iterator[SandboxServer]:
    server = SandboxServer(SandboxConfig(), clock=clock)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def http(sandbox: SandboxServer) -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


@pytest.fixture
def anonymous(sandbox: SandboxServer, http: requests.Session) -> Api:
    return Api(sandbox.url, http)


@pytest.fixture
def api(anonymous: Api) -> Api:
    token = token_for(anonymous.base, anonymous.session)["access_token"]
    anonymous.session.headers["Authorization"] = f"Bearer {token}"
    return anonymous


# Authentication


def test_it_issues_a_token_for_a_form_encoded_password_grant(anonymous: Api) -> None:
    response = anonymous.session.post(
        f"{anonymous.base}/oauth/token", data=password_grant(), timeout=5
    )

    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"] and body["refresh_token"]


def test_it_rejects_a_json_token_request(anonymous: Api) -> None:
    response = anonymous.post("/oauth/token", password_grant())

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("field", "error"),
    [("client_secret", "invalid_client"), ("password", "invalid_grant")],
)
def test_it_rejects_wrong_credentials(anonymous: Api, field: str, error: str) -> None:
    form = password_grant(**{field: "wrong"})

    response = anonymous.session.post(
        f"{anonymous.base}/oauth/token", data=form, timeout=5
    )

    assert response.status_code == 401
    assert response.json()["error"] == error


def test_it_rejects_a_call_without_a_token(anonymous: Api) -> None:
    response = anonymous.get("/orders")

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"


def test_it_accepts_the_token_as_a_query_parameter(anonymous: Api) -> None:
    token = token_for(anonymous.base, anonymous.session)["access_token"]

    response = anonymous.get("/orders", access_token=token)

    assert response.status_code == 200


def test_it_rejects_a_token_once_it_has_expired(api: Api, clock: FakeClock) -> None:
    assert api.get("/orders").status_code == 200

    clock.advance(3600)
    response = api.get("/orders")

    assert response.status_code == 401


def test_it_rejects_every_token_after_a_revoke(api: Api) -> None:
    api.control("/faults", {"revoke_tokens": True})

    response = api.get("/orders")

    assert response.status_code == 401


def test_it_accepts_a_refresh_token_only_once(anonymous: Api) -> None:
    refresh = token_for(anonymous.base, anonymous.session)["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh}
    form |= {key: DEMO_CREDENTIALS[key] for key in ("client_id", "client_secret")}
    url = f"{anonymous.base}/oauth/token"

    first = anonymous.session.post(url, data=form, timeout=5)
    second = anonymous.session.post(url, data=form, timeout=5)

    assert first.status_code == 200
    assert first.json()["refresh_token"] != refresh
    assert second.status_code == 401
    assert second.json()["error"] == "invalid_grant"


def test_it_applies_a_new_token_ttl_to_new_tokens(api: Api) -> None:
    api.control("/faults", {"token_ttl": 0})
    token = token_for(api.base, api.session)

    headers = {"Authorization": f"Bearer {token['access_token']}"}
    response = api.session.get(f"{api.base}/orders", headers=headers, timeout=5)

    assert token["expires_in"] == 0
    assert response.status_code == 401


# Products


def test_it_creates_a_product_on_put_and_keeps_unsent_fields(api: Api) -> None:
    created = seed_shirt(api)

    response = api.put_sku("CAM-01", {"sku": "CAM-01", "price": 49.9})

    product = response.json()["Product"]
    assert response.status_code == 200
    assert len(product["id"]) == 24 and int(product["id"], 16) >= 0
    assert product["id"] == created["id"]
    assert product["price"] == 49.9
    assert product["name"] == "Camiseta"
    assert product["quantity"] == 10
    assert all(len(variation["id"]) == 24 for variation in product["variations"])


def test_it_merges_variations_by_sku(api: Api) -> None:
    seed_shirt(api)
    body = {"variations": [{"sku": "CAM-01-M", "price": 54.9}, {"sku": "CAM-01-G"}]}

    product = api.put_sku("CAM-01", body).json()["Product"]

    by_sku = {variation["sku"]: variation for variation in product["variations"]}
    assert list(by_sku) == ["CAM-01-P", "CAM-01-M", "CAM-01-G"]
    assert by_sku["CAM-01-M"]["price"] == 54.9
    assert by_sku["CAM-01-M"]["quantity"] == 5


def test_it_removes_a_variation_marked_remove(api: Api) -> None:
    seed_shirt(api)

    response = api.put_sku(
        "CAM-01", {"variations": [{"sku": "CAM-01-P", "remove": True}]}
    )

    skus = [variation["sku"] for variation in response.json()["Product"]["variations"]]
    assert skus == ["CAM-01-M"]
    assert api.get_sku("CAM-01-P").status_code == 404


def test_it_removes_a_photo_marked_remove(api: Api) -> None:
    photos = [{"url": "https://img/a.jpg", "order": 1}, {"url": "https://img/b.jpg"}]
    api.put_sku("LIV-1", {"sku": "LIV-1", "photos": photos})

    response = api.put_sku(
        "LIV-1", {"photos": [{"url": "https://img/a.jpg", "remove": True}]}
    )

    assert response.json()["Product"]["photos"] == [{"url": "https://img/b.jpg"}]


def test_it_answers_not_updated_for_identical_data(api: Api) -> None:
    seed_shirt(api)

    response = api.put_sku("CAM-01", {"sku": "CAM-01", "price": 59.9, "quantity": 10})

    assert response.status_code == 400
    assert response.json() == {
        "error": True,
        "type": "not_updated",
        "details": "Changes not found in the document",
    }


def test_it_answers_404_on_put_when_put_creates_is_off_so_post_creates(
    api: Api,
) -> None:
    api.control("/faults", {"put_creates": False})

    put = api.put_sku("NEW-1", {"sku": "NEW-1", "price": 10.0})
    post = api.post("/products", {"sku": "NEW-1", "price": 10.0})

    assert put.status_code == 404
    assert post.status_code == 201
    assert api.get_sku("NEW-1").json()["Product"]["price"] == 10.0


def test_it_rejects_a_post_for_an_sku_that_exists(api: Api) -> None:
    seed_shirt(api)

    response = api.post("/products", {"sku": "CAM-01-M", "name": "Outro"})

    assert response.status_code == 400
    assert "CAM-01-M" in response.json()["details"]


def test_it_rejects_a_variation_sku_owned_by_another_product(api: Api) -> None:
    seed_shirt(api)

    response = api.put_sku("CAL-01", {"variations": [{"sku": "CAM-01-P"}]})

    assert response.status_code == 400
    assert "already exists" in response.json()["details"]
    assert api.get_sku("CAL-01").status_code == 404


@pytest.mark.parametrize(
    "sku", ["KIT 2/3 COPOS", "A/B", "100%", "Camisa Ação Ñ", "00123", "X/stock"]
)
def test_it_round_trips_skus_that_need_encoding(api: Api, sku: str) -> None:
    put = api.put_sku(sku, {"sku": sku, "quantity": 1})

    got = api.get_sku(sku)

    assert put.status_code == 200
    assert got.json()["Product"]["sku"] == sku
    assert [product["sku"] for product in api.control("/products")["products"]] == [sku]


def test_it_reads_a_slash_encoded_as_2f_as_part_of_the_sku(api: Api) -> None:
    api.put_sku("A/B", {"quantity": 1})

    encoded = api.session.get(f"{api.base}/skus/A%2FB", timeout=5)
    unencoded = api.session.get(f"{api.base}/skus/A/B", timeout=5)

    assert encoded.json()["Product"]["sku"] == "A/B"
    assert unencoded.status_code == 404


def test_it_finds_the_parent_by_a_variation_sku(api: Api) -> None:
    seed_shirt(api)

    response = api.get_sku("CAM-01-M")

    assert response.json()["Product"]["sku"] == "CAM-01"


def test_it_deletes_a_product(api: Api) -> None:
    seed_shirt(api)

    deleted = api.session.delete(api.sku_url("CAM-01"), timeout=5)

    assert deleted.status_code == 200
    assert api.get_sku("CAM-01").status_code == 404
    assert api.get_sku("CAM-01-P").status_code == 404


def test_it_lists_products_by_id_with_next(api: Api) -> None:
    for index in range(5):
        api.put_sku(f"P-{index}", {"quantity": index})

    first = api.get("/products", limit=3).json()
    last_id = first["result"][-1]["Product"]["id"]
    second = api.get("/products", limit=3, next=last_id).json()

    assert [item["Product"]["sku"] for item in first["result"]] == ["P-0", "P-1", "P-2"]
    assert [item["Product"]["sku"] for item in second["result"]] == ["P-3", "P-4"]
    assert second["total"] == 5 and second["showing"] == 2


def test_it_stores_prices_rounded_to_three_decimals(api: Api) -> None:
    response = api.put_sku("R-1", {"price": 10.12345, "special_price": 9})

    product = response.json()["Product"]
    assert product["price"] == 10.123
    assert product["special_price"] == 9.0


@pytest.mark.parametrize(
    "body",
    [
        {"quantity": -1},
        {"quantity": 2.5},
        {"quantity": "3"},
        {"price": "12,90"},
        {"special_price": None},
        {"variations": [{"sku": "V-1", "quantity": -2}]},
        {"variations": [{"name": "no sku"}]},
    ],
)
def test_it_rejects_invalid_product_data(api: Api, body: dict[str, Any]) -> None:
    response = api.put_sku("BAD-1", body)

    assert response.status_code == 400
    assert response.json()["error"] is True


def test_it_rejects_a_body_sku_different_from_the_url(api: Api) -> None:
    response = api.put_sku("URL-SKU", {"sku": "BODY-SKU"})

    assert response.status_code == 400


@pytest.mark.parametrize(
    ("sku", "action", "quantity", "expected"),
    [
        ("CAM-01", "update", 7, 7),
        ("CAM-01", "increase", 2, 12),
        ("CAM-01", "decrease", 4, 6),
        ("CAM-01", "decrease", 40, 0),
        ("CAM-01-M", "update", 9, 9),
        ("CAM-01-M", "increase", 2, 7),
        ("CAM-01-M", "decrease", 9, 0),
    ],
)
def test_it_moves_stock_of_a_parent_or_a_variation(
    api: Api, sku: str, action: str, quantity: int, expected: int
) -> None:
    seed_shirt(api)
    body = {"action": action, "quantity": quantity, "sku": sku}

    response = api.stock(sku, body)

    product = response.json()["Product"]
    items = {product["sku"]: product} | {v["sku"]: v for v in product["variations"]}
    assert response.status_code == 200
    assert items[sku]["quantity"] == expected


def test_it_moves_a_variation_named_in_the_body_of_a_parent_stock_call(
    api: Api,
) -> None:
    seed_shirt(api)

    response = api.stock(
        "CAM-01", {"action": "update", "quantity": 1, "sku": "CAM-01-P"}
    )

    variations = response.json()["Product"]["variations"]
    assert variations[0]["quantity"] == 1
    assert response.json()["Product"]["quantity"] == 10


def test_it_rejects_an_unknown_stock_action(api: Api) -> None:
    seed_shirt(api)

    response = api.stock("CAM-01", {"action": "set", "quantity": 1})

    assert response.status_code == 400


# Orders


def test_it_pages_orders_with_next_and_limit(api: Api, clock: FakeClock) -> None:
    for _ in range(5):
        make_orders(api, 1)
        clock.advance(1)

    first = api.get("/orders", limit=2).json()
    second = api.get("/orders", limit=2, next=first["result"][-1]["Order"]["id"]).json()
    third = api.get("/orders", limit=2, next=second["result"][-1]["Order"]["id"]).json()

    ids = [o["Order"]["id"] for page in (first, second, third) for o in page["result"]]
    assert len(set(ids)) == 5 and ids == sorted(ids)
    assert [page["showing"] for page in (first, second, third)] == [2, 2, 1]
    assert first["total"] == 5 and first["limit"] == 2


def test_it_pages_orders_with_page_numbers(api: Api) -> None:
    make_orders(api, 3)

    second_page = api.get("/orders", limit=2, page=2).json()

    assert second_page["showing"] == 1


def test_it_caps_the_order_limit_at_100(api: Api) -> None:
    response = api.get("/orders", limit=500)

    assert response.json()["limit"] == 100


def test_it_filters_orders_by_status(api: Api) -> None:
    make_orders(api, 2, status="pending")
    make_orders(api, 3, status="approved")

    response = api.get("/orders", status="approved").json()

    assert response["total"] == 3
    assert {item["Order"]["status"] for item in response["result"]} == {"approved"}


def test_it_filters_orders_by_an_inclusive_created_range(api: Api) -> None:
    for day in ("2026-11-30T23:59:59Z", "2026-12-01T08:00:00Z", "2026-12-02T22:00:00Z"):
        make_orders(api, 1, created=day)

    by_dates = api.get("/orders", created="2026-12-01to2026-12-02").json()
    by_times = api.get(
        "/orders", created="2026-11-30T23:59:59Zto2026-12-01T08:00:00Z"
    ).json()

    assert by_dates["total"] == 2
    assert by_times["total"] == 2


def test_it_rejects_a_malformed_created_filter(api: Api) -> None:
    response = api.get("/orders", created="yesterday")

    assert response.status_code == 400


def test_it_returns_one_order_or_404(api: Api) -> None:
    order = make_orders(api, 1)[0]

    found = api.get(f"/orders/{order['id']}")
    missing = api.get("/orders/ffffffffffffffffffffffff")

    assert found.json()["Order"] == order
    assert missing.status_code == 404


def test_it_appends_a_shipment_when_no_id_is_given(api: Api) -> None:
    order = make_orders(api, 1)[0]
    body = {"status": "invoiced", "shipments": [{"nfe_key": "1" * 44}]}

    response = api.put(f"/orders/{order['id']}", body)

    shipments = response.json()["Order"]["shipments"]
    assert response.status_code == 200
    assert len(shipments) == 2
    assert shipments[1]["id"] and shipments[1]["id"] != shipments[0]["id"]


def test_it_updates_the_shipment_whose_id_is_given(api: Api, clock: FakeClock) -> None:
    order = make_orders(api, 1)[0]
    shipment_id = order["shipments"][0]["id"]
    body = {"shipments": [{"id": shipment_id, "track_code": "AA123456789BR"}]}
    clock.advance(5)

    updated = api.put(f"/orders/{order['id']}", body).json()["Order"]

    assert len(updated["shipments"]) == 1
    assert updated["shipments"][0]["track_code"] == "AA123456789BR"
    assert (
        updated["shipments"][0]["shipping_method"]
        == order["shipments"][0]["shipping_method"]
    )
    assert updated["modified"] > order["modified"]


def test_it_answers_not_updated_for_an_identical_order_update(api: Api) -> None:
    order = make_orders(api, 1, status="approved")[0]

    response = api.put(f"/orders/{order['id']}", {"status": "approved"})

    assert response.status_code == 400
    assert response.json() == {
        "error": True,
        "type": "not_updated",
        "details": "Changes not found in the order",
    }


def test_it_writes_back_the_external_order_number(api: Api) -> None:
    order = make_orders(api, 1)[0]

    response = api.put(f"/orders/{order['id']}", {"external": "100045"})

    assert response.json()["Order"]["external"] == "100045"


def test_it_rejects_an_unknown_order_status(api: Api) -> None:
    order = make_orders(api, 1)[0]

    response = api.put(f"/orders/{order['id']}", {"status": "cancelled"})

    assert response.status_code == 400


def test_the_marketplace_can_set_any_status(api: Api) -> None:
    order = make_orders(api, 1, status="pending")[0]

    changed = api.control(f"/orders/{order['id']}/status", {"status": "canceled"})

    assert changed["Order"]["status"] == "canceled"


def test_generated_orders_have_consistent_totals(api: Api) -> None:
    orders = make_orders(api, 60)

    for order in orders:
        items_total = round(sum(item["total"] for item in order["items"]), 2)
        assert order["payments"][0]["payment_total"] == order["total"]
        assert isinstance(order["payments"][0]["payment_installments"], str)
        assert (
            round(items_total + order["shipping"] - order["discount"], 2)
            == (order["total"])
        )
        if order["subtotal"] is not None:
            assert order["subtotal"] == items_total


def test_generated_orders_look_like_marketplace_orders(api: Api) -> None:
    orders = make_orders(api, 60)

    for order in orders:
        assert len(order["id"]) == 24
        assert order["created"].endswith("Z")
        assert len(order["receiver_zipcode"]) == 8
        assert order["receiver_zipcode"].isdigit()
        assert len(order["receiver_state"]) == 2
        assert len(order["shipments"]) == 1 and order["shipments"][0]["nfe_key"] is None
        assert order["external"] is None
    assert any(
        order["subtotal"] is None or not order["payer_email"] for order in orders
    )


def test_generated_cpfs_have_valid_check_digits(api: Api) -> None:
    orders = make_orders(api, 50)

    assert all(is_valid_cpf(order["payer_cpf"]) for order in orders)
    assert is_valid_cpf("52998224725")
    assert not is_valid_cpf("52998224724")


def test_generated_orders_sell_pushed_variations(api: Api) -> None:
    seed_shirt(api)

    orders = make_orders(api, 20)

    items = [item for order in orders for item in order["items"]]
    assert {item["sku"] for item in items} == {"CAM-01"}
    assert {item["variation"]["sku"] for item in items} <= {"CAM-01-P", "CAM-01-M"}


def test_generated_orders_fall_back_to_sample_skus(api: Api) -> None:
    orders = make_orders(api, 10)

    skus = {
        (item.get("variation") or item)["sku"] for o in orders for item in o["items"]
    }
    assert skus <= {line.sku for line in FALLBACK_LINES}


def test_generated_orders_use_the_requested_items(api: Api) -> None:
    items = [{"sku": "UNKNOWN-9", "quantity": 2, "price": 10.5}]

    order = make_orders(api, 1, items=items)[0]

    assert order["items"][0]["sku"] == "UNKNOWN-9"
    assert order["items"][0]["total"] == 21.0


# Faults and latency


def test_a_fail_fault_answers_with_retry_after_the_given_number_of_times(
    api: Api,
) -> None:
    rule = {"method": "GET", "path": "^/orders", "status": 429, "times": 2}
    api.control("/faults", {"fail": [rule | {"retry_after": "2.0"}]})

    statuses = [api.get("/orders") for _ in range(3)]

    assert [response.status_code for response in statuses] == [429, 429, 200]
    assert statuses[0].headers["Retry-After"] == "2.0"
    assert api.control("/faults")["fail"] == []


def test_a_fail_fault_can_carry_a_custom_body(api: Api) -> None:
    rule = {"path": "^/skus/", "status": 503, "body": "upstream down"}
    api.control("/faults", {"fail": rule})

    response = api.get_sku("ANY")

    assert response.status_code == 503
    assert response.text == "upstream down"


def test_a_malformed_fault_answers_200_with_a_non_json_body(api: Api) -> None:
    api.control("/faults", {"malformed": [{"path": "^/orders$", "times": 1}]})

    response = api.get("/orders")

    assert response.status_code == 200
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_latency_delays_every_api_answer(api: Api) -> None:
    api.control("/faults", {"latency_ms": 150})

    started = time.perf_counter()
    api.get("/orders")
    elapsed = time.perf_counter() - started

    assert elapsed >= 0.15


def test_the_latency_includes_the_sandbox_own_work(
    api: Api, sandbox: SandboxServer, monkeypatch
) -> None:
    api.control("/faults", {"latency_ms": 400})
    listing = sandbox.store.list_orders

    def slow_listing(*args, **kwargs):
        time.sleep(0.3)
        return listing(*args, **kwargs)

    monkeypatch.setattr(sandbox.store, "list_orders", slow_listing)

    started = time.perf_counter()
    api.get("/orders")
    elapsed = time.perf_counter() - started

    assert 0.4 <= elapsed < 0.6  # 0.7 if the work were added to the latency


def test_a_timeout_fault_stalls_the_answer(api: Api) -> None:
    api.control("/faults", {"timeout": [{"path": "^/orders", "seconds": 0.5}]})

    with pytest.raises(requests.exceptions.ReadTimeout):
        api.session.get(f"{api.base}/orders", timeout=0.1)

    assert api.control("/faults")["timeout"] == []


def test_clearing_faults_restores_the_startup_settings(api: Api) -> None:
    api.control("/faults", {"latency_ms": 5, "fail": [{"times": -1}]})

    faults = api.control("/faults", {"clear": True})

    assert faults == {
        "latency_ms": 0,
        "token_ttl": 3600,
        "put_creates": True,
        "fail": [],
        "timeout": [],
        "malformed": [],
    }


def test_it_rejects_an_invalid_fault_rule(anonymous: Api) -> None:
    response = anonymous.post("/_sandbox/faults", {"fail": [{"path": "("}]})

    assert response.status_code == 400


# Call log, reset and connections


def test_the_call_log_counts_api_calls_but_not_control_calls(api: Api) -> None:
    api.put_sku("A/B", {"quantity": 1})
    api.control("/health")

    log = api.control("/calls")

    assert log["count"] == 2
    assert [call["oauth"] for call in log["calls"]] == [True, False]
    assert log["calls"][0]["json"]["password"] == "***"
    assert log["calls"][1]["path"] == "/skus/A%2FB"
    assert log["calls"][1]["json"] == {"quantity": 1}
    assert log["routes"] == {"POST /oauth/token": 1, "PUT /skus/{sku}": 1}


def test_the_call_log_returns_calls_since_an_index(api: Api) -> None:
    api.get("/orders", status="approved")

    log = api.control("/calls?since=1")

    assert log["count"] == 2
    assert [call["query"] for call in log["calls"]] == [{"status": "approved"}]


def test_the_call_log_can_be_cleared(api: Api) -> None:
    api.get("/orders")

    response = api.session.delete(f"{api.base}/_sandbox/calls", timeout=5)

    assert response.status_code == 200
    assert api.control("/calls")["count"] == 0


def test_the_call_log_keeps_bodies_only_for_the_latest_calls() -> None:
    store = Store(SandboxConfig(call_log_bodies=3))
    call = Call("PUT", "/skus/A", {}, 200, "2026-12-03T00:00:00.000Z", "/skus/{sku}")

    for index in range(10):
        store.record_call(call, {"n": index})

    log = store.calls()
    assert log["count"] == 10
    assert [entry["json"] for entry in log["calls"]][-4:] == [
        None,
        {"n": 7},
        {"n": 8},
        {"n": 9},
    ]


def test_reset_clears_products_orders_tokens_and_calls(api: Api) -> None:
    seed_shirt(api)
    make_orders(api, 2)

    api.control("/reset", {})

    assert api.control("/products")["products"] == []
    assert api.control("/orders")["orders"] == []
    assert api.get("/orders").status_code == 401
    assert api.control("/calls")["count"] == 1


def test_the_server_keeps_connections_alive(api: Api) -> None:
    first = api.put_sku("K-1", {"quantity": 1})

    second = api.get_sku("K-1")

    assert first.headers["Connection"] == "keep-alive"
    assert second.status_code == 200


def test_an_unknown_path_answers_json_404(api: Api) -> None:
    response = api.get("/nothing-here")

    assert response.status_code == 404
    assert response.json()["error"] is True


# Demo order flow


def demo_store(clock: FakeClock) -> Store:
    """Return a store with one pushed product with variations."""
    store = Store(SandboxConfig(demo_interval_s=60), clock=clock)
    variations = [{"sku": f"D-1-{size}", "price": 50.0} for size in "PMG"]
    store.put_sku("D-1", {"name": "Demo", "variations": variations})
    return store


def test_demo_tick_does_nothing_before_products_are_pushed(clock: FakeClock) -> None:
    store = Store(SandboxConfig(), clock=clock)

    summary = store.demo_tick()

    assert summary == {"created": [], "approved": [], "canceled": []}


def test_demo_tick_creates_orders_for_pushed_skus(clock: FakeClock) -> None:
    store = demo_store(clock)

    summary = store.demo_tick()

    orders = store.orders()
    assert 1 <= len(summary["created"]) <= 2
    assert [order["id"] for order in orders] == summary["created"]
    assert all(item["sku"] == "D-1" for order in orders for item in order["items"])


def test_demo_tick_approves_old_pending_and_cancels_some_approved(
    clock: FakeClock,
) -> None:
    store = demo_store(clock)
    store.create_orders({"count": 40, "status": "pending"})
    store.create_orders({"count": 40, "status": "approved"})
    store.demo_tick()

    clock.advance(61)
    summary = store.demo_tick()

    statuses = {order["id"]: order["status"] for order in store.orders()}
    assert 0 < len(summary["approved"]) < 40
    assert 0 < len(summary["canceled"]) < 20
    assert all(statuses[order_id] == "canceled" for order_id in summary["canceled"])
    assert not set(summary["canceled"]) & set(summary["approved"])


def test_demo_tick_never_cancels_an_invoiced_order(clock: FakeClock) -> None:
    store = demo_store(clock)
    orders = store.create_orders({"count": 40, "status": "approved"})
    for order in orders:
        shipment = {"id": order["shipments"][0]["id"], "nfe_key": "3" * 44}
        store.update_order(order["id"], {"shipments": [shipment]})

    clock.advance(61)
    summary = store.demo_tick()

    assert summary["canceled"] == []


def test_the_demo_tick_endpoint_runs_one_step(api: Api) -> None:
    seed_shirt(api)

    summary = api.control("/demo/tick", {})

    assert len(summary["created"]) >= 1


def test_the_store_is_deterministic_for_a_seed() -> None:
    first = Store(SandboxConfig(seed=7), clock=FakeClock())
    second = Store(SandboxConfig(seed=7), clock=FakeClock())

    orders = [s.create_orders({"count": 3}) for s in (first, second)]

    assert orders[0] == orders[1]


# Sample catalog


def test_the_sample_catalog_has_the_spreadsheet_header() -> None:
    with CATALOG.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))

    assert header == CATALOG_HEADER


def test_the_sample_catalog_eans_have_valid_check_digits() -> None:
    rows = read_catalog()

    eans = [row["ean"] for row in rows if row["ean"]]

    assert all(len(ean) == 13 and ean.isdigit() for ean in eans)
    assert all(gtin_is_valid(ean) for ean in eans)
    assert any(ean.startswith("0") for ean in eans)


def test_the_sample_catalog_variations_follow_an_existing_parent() -> None:
    rows = read_catalog()

    parents = {row["sku"] for row in rows if not row["sku_parent"]}
    variations = [row for row in rows if row["sku_parent"]]

    assert len({row["sku"] for row in rows}) == len(rows)
    assert {row["sku_parent"] for row in variations} == {
        "CAM-BAS",
        "VES-MID",
        "TEN-CAS",
    }
    assert all(row["sku_parent"] in parents for row in variations)
    assert all(row["attribute_name_1"] == "Cor" for row in variations)
    assert all(row["attribute_name_2"] == "Tamanho" for row in variations)


def test_the_sample_catalog_prices_and_promotion_are_consistent() -> None:
    rows = read_catalog()

    promotions = [row for row in rows if row["special_price_start"]]

    assert all(float(row["special_price"]) <= float(row["price"]) for row in rows)
    assert len(promotions) == 1
    promo = promotions[0]
    assert float(promo["special_price"]) < float(promo["price"])
    start = date.fromisoformat(promo["special_price_start"])
    assert start <= TODAY <= date.fromisoformat(promo["special_price_end"])


def test_the_sample_catalog_exercises_sku_encoding_and_zero_stock() -> None:
    rows = {row["sku"]: row for row in read_catalog()}

    simple = [row for row in rows.values() if not row["sku_parent"]]

    assert "KIT 2/3 COPOS" in rows and "00123" in rows
    assert any(row["quantity"] == "0" for row in simple)


def test_the_fallback_skus_match_the_sample_catalog() -> None:
    rows = {row["sku"]: row for row in read_catalog()}

    for line in FALLBACK_LINES:
        row = rows[line.sku]
        assert row["name"] == line.name
        assert (row["sku_parent"] or None) == line.parent_sku
        assert float(row["special_price"]) == line.price


# Command line


def read_line_with_prefix(process: subprocess.Popen[str], prefix: str) -> str:
    """Read the process's stdout until a line starts with prefix (10 s at most)."""
    assert process.stdout is not None
    deadline = time.monotonic() + 10
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=deadline - time.monotonic()):
                break
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith(prefix):
                return line.strip()[len(prefix) :]

    raise AssertionError(f"No {prefix} line within 10 s")


def test_the_module_runs_as_a_process_and_stops_on_sigterm() -> None:
    command = [sys.executable, "-m", "dashboard.sandbox", "--port", "0"]
    env = os.environ | {"PYTHONUNBUFFERED": "1"}

    with subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as process:
        try:
            url = read_line_with_prefix(process, "SANDBOX_URL=")
            health = requests.get(f"{url}/_sandbox/health", timeout=5)
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    assert url.startswith("http://127.0.0.1:")
    assert health.json() == {"status": "ok"}
    assert code == 0
