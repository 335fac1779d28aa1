"""Products, prices and stock pushes end to end against a mocked Plugg.to."""

import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select, update

from dashboard import settings as settings_store
from dashboard.catalog.editing import SkuChange, edit_sku
from dashboard.catalog.stock import adjust_stock
from dashboard.extensions import db
from dashboard.models.catalog import Product, Variation
from dashboard.models.sync import JobRun, SyncItem
from dashboard.models.types import utcnow
from dashboard.pluggto.products import NEVER_SENT, local_date
from dashboard.sync import claims, runner
from tests.catalog_factories import HEADER, ROWS, import_rows, with_cell
from tests.conftest import API

SKUS = re.compile(rf"^{re.escape(API)}/skus/")
NOT_UPDATED = {
    "error": True,
    "type": "not_updated",
    "details": "Changes not found in the document",
}


@pytest.fixture
def plugg(api):
    """Plugg.to accepting every SKU write."""
    api.put(SKUS, json={"Product": {"id": "a" * 24}})
    api.post(f"{API}/products", status_code=201, json={"Product": {"id": "b" * 24}})
    return api


@pytest.fixture
def catalog(configured, tmp_path):
    """The sample catalog, imported and pushed once (the mock then reset)."""
    report = import_rows(tmp_path)
    assert report.ok
    return tmp_path


@pytest.fixture
def synced(catalog, plugg):
    for name in ("products", "prices", "stock"):
        run(name)
    plugg.reset_mock()
    return catalog


def run(name: str) -> JobRun:
    outcome = runner.run_job(name, "manual")
    assert outcome.started, outcome.message
    return db.session.execute(
        select(JobRun)
        .where(JobRun.id == outcome.run_id)
        .execution_options(populate_existing=True)
    ).scalar_one()


def sent(api, method: str | None = None) -> list:
    """Return the API requests (token requests excluded)."""
    return [
        request
        for request in api.request_history
        if "/oauth/" not in request.url and (method is None or request.method == method)
    ]


def urls(api) -> list[str]:
    return sorted(request.url.removeprefix(API) for request in sent(api))


def body_for(api, url_suffix: str) -> dict:
    matches = [r for r in sent(api) if r.url == API + url_suffix]
    assert matches, f"no request to {url_suffix}"
    return matches[-1].json()


def item(kind: str, key: str) -> SyncItem:
    db.session.expire_all()
    return db.session.scalar(
        select(SyncItem).where(SyncItem.kind == kind, SyncItem.key == key)
    )


def all_keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(all_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(all_keys(v) for v in value))
    return set()


# First push -------------------------------------------------------------------------


def test_the_first_push_sends_each_product_whole_with_its_variations(catalog, plugg):
    result = run("products")

    assert result.status == "ok"
    assert urls(plugg) == ["/skus/CAM-01", "/skus/CAN-01"]
    shirt = body_for(plugg, "/skus/CAM-01")
    assert [v["sku"] for v in shirt["variations"]] == ["CAM-01-P", "CAM-01-M"]
    assert shirt["variations"][1]["quantity"] == 0
    assert shirt["variations"][0]["special_price"] == 59.9
    mug = body_for(plugg, "/skus/CAN-01")
    assert mug["link"] == "https://minhaloja.com.br/produto/can-01"
    assert mug["ean"] == "7891234567895"
    assert mug["special_price"] == mug["price"] == 29.9
    assert mug["dimension"] == {"length": 12, "width": 9, "height": 10, "weight": 0.35}


def test_no_request_body_ever_carries_a_never_sent_field(synced, plugg, tmp_path):
    header = HEADER + ["ncm", "warranty_time", "warranty_message", "cest"]
    rows = [row + ["61091000", "12", "Garantia", "1"] for row in ROWS]
    rows = with_cell(rows, 0, "price", "31.90", header)
    rows = with_cell(rows, 1, "name", "Camiseta Nova", header)
    rows = with_cell(rows, 2, "quantity", "7", header)
    import_rows(tmp_path, rows, header)

    for name in ("products", "prices", "stock"):
        run(name)

    assert urls(plugg) == ["/skus/CAM-01", "/skus/CAN-01"]
    for request in sent(plugg):
        assert not all_keys(request.json()) & NEVER_SENT


def test_the_product_push_also_acknowledges_prices_and_stock(catalog, plugg):
    run("products")
    plugg.reset_mock()

    run("prices")
    run("stock")

    assert sent(plugg) == []
    assert item("stock", "CAM-01-M").state == "ok"
    assert item("stock", "CAM-01-M").acked_value == {"quantity": 0}


def test_an_unchanged_catalog_makes_zero_calls(synced, plugg):
    results = [run(name) for name in ("products", "prices", "stock")]

    assert sent(plugg) == []
    assert [result.calls for result in results] == [0, 0, 0]


def test_a_404_on_the_put_falls_back_to_post_products(catalog, api):
    api.put(SKUS, status_code=404, json={"error": "not found"})
    api.post(f"{API}/products", status_code=201, json={"Product": {"id": "c" * 24}})

    run("products")

    posts = sent(api, "POST")
    assert sorted(request.json()["sku"] for request in posts) == ["CAM-01", "CAN-01"]
    assert item("product", "CAN-01").state == "ok"


def test_a_sku_is_percent_encoded_once_and_sent_unchanged_in_the_body(
    configured, plugg, tmp_path
):
    rows = with_cell(ROWS[:1], 0, "sku", "CAN 01/Á%")
    import_rows(tmp_path, rows)

    run("products")

    (request,) = sent(plugg)
    assert request.url == f"{API}/skus/CAN%2001%2F%C3%81%25"
    assert request.json()["sku"] == "CAN 01/Á%"


def test_not_updated_counts_as_success(catalog, api):
    api.put(SKUS, status_code=400, json=NOT_UPDATED)

    result = run("products")

    assert result.status == "ok"
    assert item("product", "CAN-01").state == "ok"


# Failures -------------------------------------------------------------------------


def test_one_rejected_sku_does_not_stop_the_others(catalog, plugg):
    plugg.put(
        f"{API}/skus/CAN-01",
        status_code=422,
        json={"error": True, "message": "EAN already in use"},
    )

    result = run("products")

    assert result.status == "partial"
    failed = item("product", "CAN-01")
    assert failed.state == "failed"
    assert failed.permanent is True
    assert failed.next_retry_at is None
    assert "recusou os dados" in failed.last_error
    assert item("product", "CAM-01").state == "ok"


def test_a_permanent_failure_waits_until_the_data_changes(catalog, plugg, tmp_path):
    plugg.put(f"{API}/skus/CAN-01", status_code=422, json={"message": "bad"})
    run("products")
    plugg.reset_mock()

    run("products")
    assert sent(plugg) == []

    plugg.put(f"{API}/skus/CAN-01", json={"Product": {}})
    import_rows(tmp_path, with_cell(ROWS, 0, "name", "Caneca Corrigida"))
    run("products")
    assert urls(plugg) == ["/skus/CAN-01"]
    assert item("product", "CAN-01").state == "ok"


def test_a_transient_failure_retries_later_with_growing_delay(catalog, plugg):
    plugg.put(f"{API}/skus/CAN-01", status_code=503, text="down")

    run("products")

    failed = item("product", "CAN-01")
    assert failed.state == "failed"
    assert failed.permanent is False
    assert failed.attempts == 1
    assert failed.next_retry_at > utcnow()
    assert urls(plugg).count("/skus/CAN-01") == 4  # retried within the call
    plugg.reset_mock()
    run("products")
    assert sent(plugg) == []

    db.session.execute(
        update(SyncItem)
        .where(SyncItem.key == "CAN-01", SyncItem.kind == "product")
        .values(next_retry_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()
    run("products")
    again = item("product", "CAN-01")
    assert again.attempts == 2
    assert again.next_retry_at - again.last_attempt_at > timedelta(minutes=1)


def test_a_timeout_is_a_transient_failure(catalog, plugg):
    plugg.put(f"{API}/skus/CAN-01", exc=requests.ReadTimeout)

    run("products")

    assert item("product", "CAN-01").permanent is False
    assert item("product", "CAM-01").state == "ok"


# Prices -------------------------------------------------------------------------------


def test_a_simple_products_price_goes_in_the_small_put(synced, plugg, tmp_path):
    import_rows(tmp_path, with_cell(ROWS, 0, "special_price", "25.00"))

    run("products")
    run("prices")

    assert urls(plugg) == ["/skus/CAN-01"]
    assert body_for(plugg, "/skus/CAN-01") == {
        "sku": "CAN-01",
        "price": 29.9,
        "special_price": 25.0,
    }
    assert item("price", "CAN-01").state == "ok"


def test_variation_prices_go_through_the_parents_put(synced, plugg):
    shirt = db.session.scalar(select(Product).where(Product.sku == "CAM-01"))
    edit_sku(shirt, "CAM-01-M", SkuChange(Decimal("69.90"), Decimal("59.90"), None))

    run("prices")

    assert body_for(plugg, "/skus/CAM-01") == {
        "sku": "CAM-01",
        "variations": [
            {"sku": "CAM-01-M", "price": 69.9, "special_price": 59.9},
        ],
    }


def test_a_promotion_that_opens_is_sent_on_its_sao_paulo_day(synced, plugg):
    today = local_date(utcnow())
    db.session.execute(
        update(Product)
        .where(Product.sku == "CAN-01")
        .values(special_price=Decimal("19.90"), special_start=today)
    )
    db.session.commit()

    run("prices")

    assert body_for(plugg, "/skus/CAN-01")["special_price"] == 19.9


def test_a_promotion_that_ended_goes_back_to_the_list_price(
    configured, plugg, tmp_path
):
    header = HEADER + ["special_price_start", "special_price_end"]
    rows = [row + ["", ""] for row in ROWS[:1]]
    rows = with_cell(rows, 0, "special_price", "19.90", header)
    today = local_date(utcnow())
    rows = with_cell(rows, 0, "special_price_end", today.isoformat(), header)
    import_rows(tmp_path, rows, header)
    run("products")
    assert body_for(plugg, "/skus/CAN-01")["special_price"] == 19.9
    plugg.reset_mock()

    db.session.execute(
        update(Product)
        .where(Product.sku == "CAN-01")
        .values(special_end=today - timedelta(days=1))
    )
    db.session.commit()
    run("prices")

    assert body_for(plugg, "/skus/CAN-01")["special_price"] == 29.9


# Stock -------------------------------------------------------------------------------


def test_three_stock_changes_make_exactly_three_stock_calls(synced, plugg):
    for sku in ("CAN-01", "CAM-01-P", "CAM-01-M"):
        adjust_stock(sku, -1 if sku == "CAM-01-P" else 2)
    db.session.commit()

    run("products")
    run("prices")
    run("stock")

    assert urls(plugg) == [
        "/skus/CAM-01-M/stock",
        "/skus/CAM-01-P/stock",
        "/skus/CAN-01/stock",
    ]
    assert body_for(plugg, "/skus/CAM-01-P/stock") == {
        "action": "update",
        "quantity": 3,
        "sku": "CAM-01-P",
    }


def test_stock_zero_is_sent_as_zero(synced, plugg):
    adjust_stock("CAN-01", -10)
    db.session.commit()

    run("stock")

    assert body_for(plugg, "/skus/CAN-01/stock")["quantity"] == 0


def test_a_deactivated_product_goes_to_quantity_zero(synced, plugg, tmp_path):
    import_rows(tmp_path, ROWS[:1], replace=True)

    run("products")
    run("stock")

    assert urls(plugg) == ["/skus/CAM-01-P/stock"]
    assert body_for(plugg, "/skus/CAM-01-P/stock")["quantity"] == 0
    assert item("stock", "CAM-01-M").state == "ok"


def test_a_value_changed_while_in_flight_is_sent_on_the_next_run(app, synced, plugg):
    adjust_stock("CAN-01", 1)
    db.session.commit()

    def change_during_call(request, context):
        with app.app_context():
            adjust_stock("CAN-01", 5)
            db.session.commit()
            db.session.remove()
        return {}

    plugg.put(f"{API}/skus/CAN-01/stock", json=change_during_call)
    run("stock")
    assert item("stock", "CAN-01").state == "pending"

    plugg.put(f"{API}/skus/CAN-01/stock", json={})
    plugg.reset_mock()
    run("stock")

    assert body_for(plugg, "/skus/CAN-01/stock")["quantity"] == 16
    assert item("stock", "CAN-01").state == "ok"


# Removed variations ------------------------------------------------------------------


def test_a_removed_variation_is_sent_with_remove_true_once(synced, plugg, tmp_path):
    import_rows(tmp_path, ROWS[:3])

    run("products")
    run("products")

    (request,) = sent(plugg)
    assert request.json()["variations"][-1] == {"sku": "CAM-01-M", "remove": True}
    assert item("stock", "CAM-01-M") is None


def test_a_refused_removal_sends_quantity_zero_instead(synced, plugg, tmp_path):
    import_rows(tmp_path, ROWS[:3])
    answers = iter(
        [
            {"status_code": 400, "json": {"message": "cannot remove"}},
            {"status_code": 200, "json": {"Product": {}}},
        ]
    )
    plugg.put(f"{API}/skus/CAM-01", [next(answers), next(answers)])

    run("products")

    first, second = sent(plugg)
    assert first.json()["variations"][-1] == {"sku": "CAM-01-M", "remove": True}
    assert second.json()["variations"][-1] == {"sku": "CAM-01-M", "quantity": 0}
    assert item("product", "CAM-01").state == "ok"


# Runs -----------------------------------------------------------------------------


def test_an_interrupted_run_resumes_without_resending_what_was_acknowledged(
    configured, plugg, tmp_path
):
    settings_store.save({"concurrency": 1})
    rows = [with_cell(ROWS[:1], 0, "sku", f"CAN-{n:02d}")[0] for n in range(1, 6)]
    import_rows(tmp_path, rows)
    stop = threading.Event()
    seen = []

    def stop_after_two(request, context):
        seen.append(request.url)
        if len(seen) == 2:
            stop.set()
        return {"Product": {}}

    plugg.put(SKUS, json=stop_after_two)
    outcome = runner.run_job("products", "manual", stop_event=stop)
    assert outcome.status == "interrupted"
    first_two = {url.removeprefix(API) for url in seen}
    plugg.reset_mock()

    run("products")

    rest = set(urls(plugg))
    assert len(first_two) == 2 and len(rest) == 3
    assert not first_two & rest


def test_a_manual_run_while_the_same_job_runs_is_refused(catalog, plugg):
    assert claims.try_claim("job:stock", "scheduler-1", timedelta(minutes=5))
    db.session.commit()

    outcome = runner.run_job("stock", "manual")

    assert not outcome.started
    assert "já está em andamento" in outcome.message
    assert sent(plugg) == []


def test_the_same_family_is_never_pushed_twice_at_once(catalog, plugg):
    assert claims.try_claim("group:CAM-01", "other-run", timedelta(minutes=5))
    db.session.commit()

    run("products")

    assert urls(plugg) == ["/skus/CAN-01"]
    assert item("product", "CAM-01").state == "pending"


def test_a_product_variation_edit_changes_only_what_differs(synced, plugg):
    shirt = db.session.scalar(select(Product).where(Product.sku == "CAM-01"))
    variation = db.session.scalar(select(Variation).where(Variation.sku == "CAM-01-P"))
    edit_sku(shirt, "CAM-01-P", SkuChange(variation.price, None, 9))

    run("products")
    run("prices")
    run("stock")

    assert urls(plugg) == ["/skus/CAM-01-P/stock"]
