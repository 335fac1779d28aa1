"""The orders job end to end against a mocked Plugg.to."""

import email.utils
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests
from sqlalchemy import func, select, update

from dashboard.extensions import db
from dashboard.logs import configure_logging
from dashboard.models.orders import Order
from dashboard.models.sync import JobRun, SyncItem
from dashboard.models.types import utcnow
from dashboard.orders import jobs, pull
from dashboard.orders.nfe import Invoice
from dashboard.orders.pushes import record_invoice, record_tracking
from dashboard.orders.tracking import Tracking
from dashboard.sync import runner
from tests.conftest import API, TOKEN_URL
from tests.orders_factories import (
    ORDERS_URL,
    make_product,
    mock_get,
    mock_list,
    mock_put,
    nfe_key,
    order_json,
    order_of,
    stock_of,
    with_variation,
)

NOT_UPDATED = {
    "error": True,
    "type": "not_updated",
    "details": "Changes not found in the order",
}


@pytest.fixture
def catalog(configured):
    make_product("CAM-01", quantity=10)
    make_product("CAL-02", quantity=10)


def run() -> JobRun:
    outcome = runner.run_job("orders", "manual")
    assert outcome.started
    return db.session.execute(
        select(JobRun)
        .where(JobRun.id == outcome.run_id)
        .execution_options(populate_existing=True)
    ).scalar_one()


def calls(api, method=None, path=None) -> list:
    return [
        request
        for request in api.request_history
        if (method is None or request.method == method)
        and (path is None or request.path == path)
    ]


def sync_item(kind: str, key: str) -> SyncItem:
    db.session.expire_all()
    return db.session.scalar(
        select(SyncItem).where(SyncItem.kind == kind, SyncItem.key == key)
    )


def invoice(number: int = 1234) -> Invoice:
    return Invoice(nfe_key(1, number), str(number), "1", utcnow() - timedelta(hours=1))


def tracking(code: str) -> Tracking:
    return Tracking("Correios", code, "PAC", None, utcnow().date())


def save(pluggto_id: str, record, value) -> None:
    record(order_of(pluggto_id), value)
    db.session.commit()


def due_now(kind: str, key: str) -> None:
    """Let the retry time of an item pass."""
    db.session.execute(
        update(SyncItem)
        .where(SyncItem.kind == kind, SyncItem.key == key)
        .values(next_retry_at=utcnow() - timedelta(seconds=1))
    )
    db.session.commit()


# Pull ----------------------------------------------------------------------


def test_two_pages_with_a_repeated_order_import_each_order_once(
    catalog, api, monkeypatch
):
    monkeypatch.setattr(pull, "PAGE_LIMIT", 2)
    a, b, c = order_json("a"), order_json("b"), order_json("c")
    mock_list(api, [[a, b], [b, c]])
    for pid in "abc":
        mock_put(api, pid)

    job = run()

    assert db.session.scalar(select(func.count(Order.id))) == 3
    assert stock_of("CAM-01") == 7
    assert len(calls(api, "GET", "/orders")) == 3
    assert job.status == "ok"


def test_a_short_page_ends_the_listing(catalog, api, monkeypatch):
    monkeypatch.setattr(pull, "PAGE_LIMIT", 2)
    mock_list(api, [[order_json("a"), order_json("b")], [order_json("c")]])
    for pid in "abc":
        mock_put(api, pid)

    run()

    listed = calls(api, "GET", "/orders")
    assert len(listed) == 2
    assert listed[1].qs["next"] == ["b"]
    assert db.session.scalar(select(func.count(Order.id))) == 3


def test_a_listing_that_ignores_next_does_not_advance_the_watermark(
    catalog, api, monkeypatch
):
    monkeypatch.setattr(pull, "PAGE_LIMIT", 2)
    first_page = [order_json("a"), order_json("b")]
    ignoring_next = api.get(
        ORDERS_URL, json={"result": [{"Order": order} for order in first_page]}
    )
    for pid in "abcd":
        mock_put(api, pid)

    job = run()

    message = job.failures[0]["message"]
    assert job.status != "ok"
    assert "O Plugg.to repetiu a mesma página de pedidos" in message
    assert pull.watermark() is None
    assert ignoring_next.call_count == 2


def test_the_run_after_a_repeated_page_imports_every_order(catalog, api, monkeypatch):
    monkeypatch.setattr(pull, "PAGE_LIMIT", 2)
    a, b, c, d = (order_json(pid) for pid in "abcd")
    api.get(ORDERS_URL, json={"result": [{"Order": a}, {"Order": b}]})
    for pid in "abcd":
        mock_put(api, pid)
    run()

    mock_list(api, [[a, b], [c, d], []])
    job = run()

    assert db.session.scalar(select(func.count(Order.id))) == 4
    assert job.status == "ok"
    assert pull.watermark() is not None


def test_the_window_end_rounds_up_to_the_next_whole_second():
    now = datetime(2026, 12, 3, 21, 38, 59, 437000, tzinfo=UTC)

    assert pull.stamp(pull.window_end(now)) == "2026-12-03T21:39:00Z"
    assert pull.window_end(now.replace(microsecond=0)) == now.replace(microsecond=0)


def test_a_re_pull_changes_nothing_and_makes_only_the_list_call(catalog, api):
    mock_list(api, [[order_json("p1", lines=[("CAM-01", 2, "50.00")])]])
    mock_put(api, "p1")
    run()
    before = len(api.request_history)

    second = run()

    assert stock_of("CAM-01") == 8
    assert db.session.scalar(select(func.count(Order.id))) == 1
    assert len(calls(api, "PUT")) == 1
    assert [r.path for r in api.request_history[before:]] == ["/orders"]
    assert second.calls == 1


def test_the_list_asks_for_a_utc_window_that_overlaps_the_last_pull(catalog, api):
    mock_list(api, [[]])
    run()
    first_end = pull.watermark()

    run()

    query = calls(api, "GET", "/orders")[-1].qs
    start = query["modified"][0].split("to")[0].upper()
    assert start == pull.stamp(first_end - pull.OVERLAP).upper()
    assert query["limit"] == ["100"]


def test_a_fast_computer_clock_never_moves_the_watermark_past_plugg_to_clock(
    catalog, api
):
    server_now = utcnow() - timedelta(minutes=15)  # this PC runs 15 min fast
    api.get(
        f"{API}/orders",
        json={"total": 0, "showing": 0, "limit": 100, "result": []},
        headers={"Date": email.utils.format_datetime(server_now, usegmt=True)},
    )

    run()

    expected = server_now.replace(microsecond=0) - timedelta(seconds=1)
    assert pull.watermark() == expected


def test_without_a_date_header_the_watermark_is_the_window_end(catalog, api):
    mock_list(api, [[]])
    before = utcnow()

    run()

    assert before <= pull.watermark() <= utcnow() + timedelta(seconds=1)


def test_the_store_number_is_written_back_once(catalog, api):
    mock_list(api, [[order_json("p1")]])
    put = mock_put(api, "p1")

    run()
    run()

    assert put.call_count == 1
    assert put.last_request.json() == {"external": "1001"}
    assert sync_item("order_external", "p1").state == "ok"


def test_pending_then_approved_is_mirrored_within_one_run(catalog, api):
    listing = mock_list(api, [[order_json("p1", status="pending")]])
    mock_put(api, "p1")
    run()

    listing.reset()
    mock_list(api, [[order_json("p1", status="approved")]])
    run()

    order = order_of("p1")
    assert order.status == "approved"
    assert [event.kind for event in order.events].count("approved") == 1


def test_approved_then_canceled_twice_returns_stock_once(catalog, api):
    mock_list(api, [[order_json("p1", lines=[("CAM-01", 3, "50.00")])]])
    mock_put(api, "p1")
    run()
    assert stock_of("CAM-01") == 7

    mock_list(api, [[order_json("p1", status="canceled")]])
    run()
    run()

    assert stock_of("CAM-01") == 10
    assert order_of("p1").status == "canceled"


def test_a_cancel_after_invoice_is_applied_and_flagged(catalog, api):
    mock_list(api, [[order_json("p1")]])
    mock_put(api, "p1")
    run()
    save("p1", record_invoice, invoice())

    mock_list(api, [[order_json("p1", status="canceled")]])
    mock_get(api, order_json("p1", status="canceled"))
    job = run()

    order = order_of("p1")
    assert order.needs_reversal is True
    assert sync_item("invoice", "p1").last_error.startswith("Pedido cancelado")
    assert job.status in ("partial", "failed")


def test_an_unknown_sku_holds_one_order_while_the_others_import(catalog, api):
    orders = [
        order_json("p1"),
        order_json("p2", lines=[("NEW-9", 1, "20.00")]),
        order_json("p3", lines=[("CAL-02", 1, "80.00")]),
    ]
    mock_list(api, [orders])
    for pid in ("p1", "p2", "p3"):
        mock_put(api, pid)

    first = run()
    make_product("NEW-9", quantity=3)
    run()

    assert first.failed_count == 1
    assert first.failures[0]["message"] == (
        "Aguardando mapeamento: SKU NEW-9 desconhecido"
    )
    assert order_of("p2").hold_reason is None
    assert stock_of("NEW-9") == 2
    assert len(calls(api, "PUT", "/orders/p2")) == 1


def test_a_line_is_resolved_by_its_variation_sku(configured, api):
    from tests.orders_factories import make_variation

    make_variation("CAM-01", "CAM-01-G", quantity=4)
    data = with_variation(
        order_json("p1", lines=[("CAM-01", 1, "50.00")]), 0, "CAM-01-G"
    )
    mock_list(api, [[data]])
    mock_put(api, "p1")

    run()

    assert stock_of("CAM-01-G") == 3


def test_the_modified_filter_ignored_falls_back_to_the_created_list(catalog, api):
    old = order_json("old", status="delivered", modified=utcnow() - timedelta(days=90))
    listing = mock_list(api, [[old, order_json("p1")]])
    mock_put(api, "p1")
    mock_put(api, "old")

    run()
    run()

    queries = [request.qs for request in listing.request_history]
    assert "modified" in queries[0]
    assert all("created" in query for query in queries[1:])
    assert len(queries) == 3
    assert order_of("p1") is not None


def test_an_old_open_order_is_read_alone_at_most_once_a_day(catalog, api):
    pull._write(pull.MODIFIED_KEY, utcnow())
    created = utcnow() - timedelta(days=90)
    data = order_json("old", status="approved", created=created)
    mock_get(api, data)
    mock_put(api, "old")
    mock_list(api, [[]])
    db.session.commit()
    runner.run_job("orders", "retry", only=["old"])
    get_old = calls(api, "GET", "/orders/old")

    run()
    run()

    assert len(calls(api, "GET", "/orders/old")) == len(get_old) + 1


def test_a_retry_of_one_order_reads_only_that_order(catalog, api):
    mock_get(api, order_json("p1"))
    mock_put(api, "p1")

    outcome = runner.run_job("orders", "retry", only=["p1"])

    assert outcome.status == "ok"
    assert order_of("p1") is not None
    assert calls(api, "GET", "/orders") == []


def test_a_401_mid_run_renews_the_token_and_replays(catalog, api):
    mock_list(api, [[order_json("p1")]])
    mock_put(api, "p1")
    run()
    mock_list(api, [[order_json("p1", status="canceled")]])
    api.get(
        ORDERS_URL,
        [
            {"status_code": 401, "json": {"error": "expired"}},
            {"json": {"result": [{"Order": order_json("p1", status="canceled")}]}},
        ],
    )

    job = run()

    assert job.status == "ok"
    assert len(calls(api, "POST", "/oauth/token")) == 2
    assert order_of("p1").status == "canceled"


def test_a_second_401_stops_the_run_as_credentials_rejected(catalog, api):
    api.get(ORDERS_URL, status_code=401, json={"error": "invalid"})

    job = run()

    assert job.status == "failed"
    assert "Credenciais recusadas" in job.message


# Invoice and tracking -------------------------------------------------------


def imported(api, data=None) -> None:
    data = data or order_json("p1")
    mock_list(api, [[data]])
    mock_get(api, data)
    mock_put(api, "p1")
    run()


def put_bodies(api) -> list[dict]:
    return [request.json() for request in calls(api, "PUT", "/orders/p1")]


def test_the_invoice_goes_on_the_existing_shipment(catalog, api):
    imported(api)
    save("p1", record_invoice, invoice(1234))

    run()

    body = put_bodies(api)[-1]
    assert body["status"] == "invoiced"
    assert body["shipments"][0]["id"] == "ship-1"
    assert body["shipments"][0]["nfe_key"] == nfe_key(1, 1234)
    assert order_of("p1").invoice_sent_at is not None
    assert [e.kind for e in order_of("p1").events][-1] == "invoice_sent"


def test_the_invoice_uses_the_shipment_id_of_a_fresh_read(catalog, api):
    imported(api)
    save("p1", record_invoice, invoice(1234))
    mock_get(api, order_json("p1", shipment_id="ship-9"))

    run()

    assert put_bodies(api)[-1]["shipments"][0]["id"] == "ship-9"
    assert order_of("p1").shipment_id == "ship-9"


def test_tracking_not_updated_counts_as_success(catalog, api):
    imported(api)
    save("p1", record_tracking, tracking("AA123456789BR"))
    mock_put(api, "p1", status_code=400, json=NOT_UPDATED)

    job = run()

    assert sync_item("tracking", "p1").state == "ok"
    assert order_of("p1").tracking_sent_at is not None
    assert job.status == "ok"


def test_tracking_changed_twice_updates_the_same_shipment(catalog, api):
    imported(api)

    for code in ("AA123456789BR", "BB123456789BR"):
        save("p1", record_tracking, tracking(code))
        run()
    save("p1", record_tracking, tracking("BB123456789BR"))
    run()

    bodies = [b for b in put_bodies(api) if b.get("status") == "shipping_informed"]
    assert [b["shipments"][0]["track_code"] for b in bodies] == [
        "AA123456789BR",
        "BB123456789BR",
    ]
    assert {b["shipments"][0]["id"] for b in bodies} == {"ship-1"}
    assert bodies[0]["shipments"][0]["status"] == "shipped"


def test_not_updated_counts_as_success(catalog, api):
    imported(api)
    save("p1", record_invoice, invoice())
    mock_put(api, "p1", status_code=400, json=NOT_UPDATED)

    job = run()

    assert sync_item("invoice", "p1").state == "ok"
    assert order_of("p1").invoice_sent_at is not None
    assert job.status == "ok"


def test_the_invoice_is_marked_sent_only_after_plugg_accepts_it(catalog, api):
    imported(api)
    save("p1", record_invoice, invoice())
    mock_put(api, "p1", status_code=500, json={"error": "boom"})

    failed = run()

    item = sync_item("invoice", "p1")
    assert (item.state, failed.status) == ("failed", "failed")
    assert order_of("p1").invoice_sent_at is None
    assert order_of("p1").events[-1].error is True

    mock_put(api, "p1")
    due_now("invoice", "p1")
    run()

    assert sync_item("invoice", "p1").state == "ok"
    assert order_of("p1").invoice_sent_at is not None


def test_an_order_without_shipment_gets_one_once_and_keeps_its_id(catalog, api):
    imported(api, order_json("p1", shipment_id=None))
    save("p1", record_invoice, invoice())
    mock_put(api, "p1", json={"Order": {"id": "p1", "shipments": [{"id": "new-1"}]}})

    run()
    mock_get(api, order_json("p1", shipment_id="new-1"))
    save("p1", record_tracking, tracking("AA123456789BR"))
    run()

    bodies = [b for b in put_bodies(api) if "shipments" in b]
    assert "id" not in bodies[0]["shipments"][0]
    assert bodies[1]["shipments"][0]["id"] == "new-1"
    assert order_of("p1").shipment_id == "new-1"


def test_an_accepted_invoice_stays_sent_when_reading_the_new_shipment_fails(
    catalog, api
):
    data = order_json("p1", shipment_id=None)
    imported(api, data)
    save("p1", record_invoice, invoice())
    fresh_then_failing = [{"json": {"Order": data}}, {"status_code": 500, "json": {}}]
    api.get(f"{ORDERS_URL}/p1", fresh_then_failing)
    mock_put(api, "p1")

    job = run()

    assert sync_item("invoice", "p1").state == "ok"
    assert order_of("p1").invoice_sent_at is not None
    assert [e.kind for e in order_of("p1").events][-1] == "invoice_sent"
    assert len([b for b in put_bodies(api) if "shipments" in b]) == 1
    assert job.status == "ok"


def test_tracking_after_a_failed_shipment_read_waits_for_the_new_shipment_id(
    catalog, api
):
    data = order_json("p1", shipment_id=None)
    imported(api, data)
    save("p1", record_invoice, invoice())
    save("p1", record_tracking, tracking("AA123456789BR"))
    api.get(f"{ORDERS_URL}/p1", [{"json": {"Order": data}}, {"status_code": 500}])
    mock_put(api, "p1")
    run()

    mock_get(api, order_json("p1", shipment_id="new-1"))
    due_now("tracking", "p1")
    run()

    bodies = [b for b in put_bodies(api) if "shipments" in b]
    assert [b["status"] for b in bodies] == ["invoiced", "shipping_informed"]
    assert "id" not in bodies[0]["shipments"][0]
    assert bodies[1]["shipments"][0]["id"] == "new-1"
    assert sync_item("tracking", "p1").state == "ok"


def test_a_lost_answer_on_a_new_shipment_is_not_replayed(catalog, api):
    imported(api, order_json("p1", shipment_id=None))
    save("p1", record_invoice, invoice())
    api.put(f"{ORDERS_URL}/p1", exc=requests.ReadTimeout)

    run()
    mock_get(api, order_json("p1", shipment_id="created-by-lost-put"))
    mock_put(api, "p1")
    due_now("invoice", "p1")
    run()

    bodies = [b for b in put_bodies(api) if "shipments" in b]
    assert len(calls(api, "PUT", "/orders/p1")) == 3  # external, lost, retry
    assert bodies[-1]["shipments"][0]["id"] == "created-by-lost-put"


def test_tracking_waits_for_an_unsent_invoice(catalog, api):
    imported(api)
    save("p1", record_invoice, invoice())
    save("p1", record_tracking, tracking("AA123456789BR"))
    mock_put(api, "p1", status_code=500, json={})

    run()

    statuses = [b.get("status") for b in put_bodies(api)]
    assert "shipping_informed" not in statuses
    assert sync_item("tracking", "p1").state == "pending"


def test_an_accepted_invoice_records_invoiced_as_the_plugg_to_status(catalog, api):
    imported(api)
    save("p1", record_invoice, invoice())

    run()

    assert order_of("p1").pluggto_status == "invoiced"


def test_accepted_tracking_records_shipping_informed_as_the_plugg_to_status(
    catalog, api
):
    imported(api)
    save("p1", record_invoice, invoice())
    save("p1", record_tracking, tracking("AA123456789BR"))

    run()

    assert order_of("p1").pluggto_status == "shipping_informed"


def test_a_failed_push_leaves_the_plugg_to_status_as_it_was(catalog, api):
    imported(api)
    save("p1", record_invoice, invoice())
    mock_put(api, "p1", status_code=500, json={})

    run()

    assert order_of("p1").pluggto_status == "approved"


def test_a_re_sent_invoice_never_moves_the_plugg_to_status_back(catalog, api):
    imported(api, order_json("p1", status="delivered"))
    save("p1", record_invoice, invoice())

    run()

    assert sync_item("invoice", "p1").state == "ok"
    assert order_of("p1").pluggto_status == "delivered"


def test_pushes_report_their_calls_in_the_run(catalog, api):
    imported(api)
    save("p1", record_invoice, invoice())

    job = run()

    assert job.calls == 3  # list, GET the order, PUT the invoice
    assert job.ok_count == 1


def test_api_calls_are_recorded_without_personal_data(catalog, api):
    imported(api)

    paths = [request.path for request in calls(api)]

    assert all("123.456" not in path for path in paths)
    assert f"{API}/orders" in api.request_history[1].url
    assert api.request_history[0].url == TOKEN_URL


# Concurrency and logs --------------------------------------------------------


def test_two_runs_at_once_create_each_order_once_and_write_back_once(app, catalog, api):
    mock_list(
        api, [[order_json("p1", lines=[("CAM-01", 2, "50.00")]), order_json("p2")]]
    )
    puts = [mock_put(api, "p1"), mock_put(api, "p2")]
    barrier = threading.Barrier(2)
    errors = []

    def one_run(owner: str) -> None:
        with app.app_context():
            record = JobRun(job="orders", trigger="test", owner=owner)
            db.session.add(record)
            db.session.commit()
            context = runner.JobContext(app, record, owner, None, None)
            barrier.wait()
            try:
                jobs.sync_orders(context)
            except Exception as error:  # surfaced by the assertion below
                errors.append(error)
            finally:
                context.close()
                db.session.remove()

    threads = [threading.Thread(target=one_run, args=(f"run-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert db.session.scalar(select(func.count(Order.id))) == 2
    assert stock_of("CAM-01") == 10 - 2 - 1
    assert [put.call_count for put in puts] == [1, 1]


@pytest.fixture
def log_file(app, tmp_path):
    configure_logging(tmp_path / "logs", logging.DEBUG)
    yield tmp_path / "logs" / "dashboard.log"
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_dashboard", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.WARNING)


def test_no_cpf_reaches_the_log_even_in_debug(catalog, api, log_file):
    mock_list(api, [[order_json("p1", payer_cnpj="12.345.678/0001-95")]])
    mock_put(api, "p1")

    run()

    text = log_file.read_text()
    assert "p1" in text
    assert "123.456.789-09" not in text and "12345678909" not in text
    assert "12.345.678/0001-95" not in text


def test_a_failing_list_still_sends_the_pending_invoice(catalog, api):
    imported(api)
    mark = pull.watermark()
    save("p1", record_invoice, invoice())
    api.get(ORDERS_URL, status_code=503, json={})

    job = run()

    assert sync_item("invoice", "p1").state == "ok"
    assert job.status == "partial"
    assert "Não foi possível ler os pedidos" in job.failures[0]["message"]
    assert pull.watermark() == mark
