"""End to end: the real CLI as separate processes against the sandbox process.

One sandbox serves the module. The sample catalog is imported and synced once;
each test then starts from a copy of that data folder, with the sandbox reset
and holding exactly what that sync sent.
"""

import signal
import threading
from collections import Counter
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dashboard.orders.nfe import check_digit
from tests.e2e_support import (
    NEVER_SENT,
    SAMPLE_CATALOG,
    SandboxProcess,
    StoreCli,
    copy_store,
    edited_catalog,
    read_catalog,
    sale_price,
    sample_stock,
    sent_skus,
    wait_until,
)

pytestmark = pytest.mark.e2e

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
SKU_COUNT = 30
PRODUCT_COUNT = 16


@pytest.fixture(scope="module")
def sandbox():
    process = SandboxProcess()
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def baseline(sandbox, tmp_path_factory):
    """Import and sync the sample catalog once; keep both data folders."""
    root = tmp_path_factory.mktemp("baseline")
    sandbox.reset()
    store = StoreCli(root / "store", sandbox.url)
    imported = store.run("import-catalog", str(SAMPLE_CATALOG))
    assert imported.returncode == 0, imported.stderr
    copy_store(store.data_dir, root / "imported")

    synced = store.run("sync", "all")

    calls = sandbox.calls()
    return {
        "synced": synced,
        "calls": calls,
        "products": sandbox.products(),
        "bodies": [call["json"] for call in calls if call["method"] == "PUT"],
        "imported_dir": root / "imported",
        "synced_dir": store.data_dir,
    }


@pytest.fixture
def synced_store(sandbox, baseline, tmp_path):
    """A store whose catalog is on the sandbox, and a clean sandbox log."""
    sandbox.reset()
    sandbox.seed_products(baseline["bodies"])
    data_dir = copy_store(baseline["synced_dir"], tmp_path / "store")
    return StoreCli(data_dir, sandbox.url)


@pytest.fixture
def imported_store(sandbox, baseline, tmp_path):
    """A store with the catalog imported and nothing sent yet; empty sandbox."""
    sandbox.reset()
    data_dir = copy_store(baseline["imported_dir"], tmp_path / "store")
    return StoreCli(data_dir, sandbox.url)


def assert_catalog_on_sandbox(sandbox, rows: list[dict]) -> None:
    """Every SKU is on the sandbox exactly once, with the file's values."""
    on_sandbox = sandbox.skus()

    assert sorted(on_sandbox) == sorted(row["sku"] for row in rows)
    for row in rows:
        (item,) = on_sandbox[row["sku"]]
        assert item["quantity"] == int(row["quantity"]), row["sku"]
        assert Decimal(str(item["price"])) == Decimal(row["price"]), row["sku"]
        sale = Decimal(str(item["special_price"]))
        assert sale == sale_price(row), row["sku"]
        assert item.get("ean", "") == row["ean"] or not row["ean"], row["sku"]
        if not row["sku_parent"]:
            assert (item["name"], item["brand"]) == (row["name"], row["brand"])


# 1. Import and first sync ----------------------------------------------------


def test_first_sync_puts_every_product_and_variation_on_the_sandbox(sandbox, baseline):
    rows = read_catalog()
    sandbox.reset()
    sandbox.seed_products(baseline["bodies"])

    assert baseline["synced"].returncode == 0, baseline["synced"].stderr
    assert len(baseline["products"]) == PRODUCT_COUNT
    assert len(rows) == SKU_COUNT
    assert_catalog_on_sandbox(sandbox, rows)


def test_first_sync_never_sends_the_fields_the_platform_does_not_have(baseline):
    bodies = [call["json"] for call in baseline["calls"] if call["json"]]

    sent_fields = set()
    for body in bodies:
        sent_fields.update(body)
        for variation in body.get("variations") or []:
            sent_fields.update(variation)

    assert bodies
    assert sent_fields.isdisjoint(NEVER_SENT)


# 2. Nothing changed -----------------------------------------------------------


def test_a_second_sync_makes_no_api_call(sandbox, synced_store):
    results = synced_store.run_all(
        ("sync", "products"), ("sync", "prices"), ("sync", "stock")
    )

    assert [result.returncode for result in results] == [0, 0, 0]
    assert sandbox.call_count() == 0


# 3. Three stock values and one price --------------------------------------------


def test_changed_stock_and_price_send_exactly_those_calls(
    sandbox, synced_store, tmp_path
):
    edited = edited_catalog(
        tmp_path / "edited.csv",
        {
            "CAN-TER-500": {"quantity": "37"},
            "CX-SOM-MINI": {"quantity": "4"},
            "SHA-HID-400": {"quantity": "0"},
            "FON-BT-X2": {"price": "119.90", "special_price": "109.90"},
        },
    )
    assert synced_store.run("import-catalog", str(edited)).returncode == 0

    results = synced_store.run_all(
        ("sync", "products"), ("sync", "prices"), ("sync", "stock")
    )

    calls = sandbox.calls()
    assert [result.returncode for result in results] == [0, 0, 0]
    stock = {
        call["json"]["sku"]: call["json"]
        for call in calls
        if call["path"].endswith("/stock")
    }
    prices = [call for call in calls if not call["path"].endswith("/stock")]
    assert len(calls) == 4
    assert stock == {
        "CAN-TER-500": {"action": "update", "quantity": 37, "sku": "CAN-TER-500"},
        "CX-SOM-MINI": {"action": "update", "quantity": 4, "sku": "CX-SOM-MINI"},
        "SHA-HID-400": {"action": "update", "quantity": 0, "sku": "SHA-HID-400"},
    }
    (price,) = prices
    assert price["method"] == "PUT"
    assert price["json"]["sku"] == "FON-BT-X2"
    assert Decimal(str(price["json"]["price"])) == Decimal("119.90")
    assert Decimal(str(price["json"]["special_price"])) == Decimal("109.90")
    assert {call["status"] for call in calls} == {200}


# 4. Orders over two pages -----------------------------------------------------

ORDER_BATCHES = (
    (30, "approved", "00123", 1),
    (30, "pending", "SHA-HID-400", 1),
    (30, "approved", "CAN-GEL-10", 1),
    (10, "approved", "CAN-TER-500", 2),
    (5, "pending", "TEN-CAS-BR-40", 1),
)


def test_orders_over_two_pages_are_imported_once_with_stock_and_external(
    sandbox, synced_store
):
    for count, status, sku, quantity in ORDER_BATCHES:
        sandbox.create_orders(count, status, sku, quantity)

    first = synced_store.run("sync", "orders")
    listed = [call for call in sandbox.calls() if call["path"] == "/orders"]
    mark = sandbox.call_count()
    second = synced_store.run("sync", "orders")
    orders, stock = synced_store.orders_and_stock()

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert len(listed) >= 2
    assert [call for call in sandbox.calls(mark) if call["method"] != "GET"] == []
    remote = {order["id"]: order for order in sandbox.orders()}
    assert len(remote) == 105
    assert sorted(order["pluggto_id"] for order in orders) == sorted(remote)
    for order in orders:
        assert remote[order["pluggto_id"]]["external"] == str(order["number"])
    before = sample_stock()
    for sku in {batch[2] for batch in ORDER_BATCHES}:
        taken = sum(c * q for c, _, s, q in ORDER_BATCHES if s == sku)
        assert stock[sku] == before[sku] - taken, sku


# 5. Approve one pending, cancel one approved -----------------------------------


def test_approval_and_cancellation_are_mirrored_and_stock_returns_once(
    sandbox, synced_store
):
    (pending,) = sandbox.create_orders(1, "pending", "LUM-LED-MES", 2)
    (approved,) = sandbox.create_orders(1, "approved", "TOA-BAN-AL", 3)
    assert synced_store.run("sync", "orders").returncode == 0

    sandbox.set_status(pending["id"], "approved")
    sandbox.set_status(approved["id"], "canceled")
    mirrored = synced_store.run("sync", "orders")
    again = synced_store.run("sync", "orders")
    orders, stock = synced_store.orders_and_stock()

    assert mirrored.returncode == 0, mirrored.stderr
    assert again.returncode == 0, again.stderr
    statuses = {order["pluggto_id"]: order["status"] for order in orders}
    assert statuses == {pending["id"]: "approved", approved["id"]: "canceled"}
    before = sample_stock()
    assert stock["LUM-LED-MES"] == before["LUM-LED-MES"] - 2
    assert stock["TOA-BAN-AL"] == before["TOA-BAN-AL"]


# 6. Invoice and tracking --------------------------------------------------------


def nfe_key(series: int, number: int, issued: datetime) -> str:
    """Build a valid 44-digit NF-e key (SP, model 55) for the issue month."""
    month = issued.strftime("%y%m")
    first = f"35{month}11222333000181{55:02d}{series:03d}{number:09d}1{12345678:08d}"
    return first + str(check_digit(first))


def test_invoice_and_tracking_leave_one_shipment_with_both(sandbox, synced_store):
    (order,) = sandbox.create_orders(1, "approved", "CAF-EXP-20", 1)
    assert synced_store.run("sync", "orders").returncode == 0
    issued = datetime.now(SAO_PAULO)  # today: never before the order, never future
    key = nfe_key(1, 4321, issued)

    invoiced = synced_store.run(
        "invoice",
        order["id"],
        "--key",
        key,
        "--number",
        "4321",
        "--series",
        "1",
        "--date",
        issued.strftime("%d/%m/%Y %H:%M"),
    )
    shipped = synced_store.run(
        "ship", order["id"], "--carrier", "Correios", "--code", "AA123456789BR"
    )

    assert invoiced.returncode == 0, invoiced.stderr
    assert shipped.returncode == 0, shipped.stderr
    remote = sandbox.order(order["id"])
    assert remote["status"] == "shipping_informed"
    (shipment,) = remote["shipments"]
    assert shipment["nfe_key"] == key
    assert shipment["nfe_number"] == "4321"
    assert shipment["track_code"] == "AA123456789BR"
    assert shipment["shipping_company"] == "Correios"


# 7. Faults ------------------------------------------------------------------------


def revoke_after(sandbox, calls: int) -> threading.Thread:
    """Revoke every token once the run has made some calls (mid-run)."""

    def revoke() -> None:
        wait_until(lambda: sandbox.call_count() >= calls)
        sandbox.faults(revoke_tokens=True)

    thread = threading.Thread(target=revoke, daemon=True)
    thread.start()
    return thread


def test_faults_leave_the_rest_done_and_the_next_run_finishes(sandbox, imported_store):
    imported_store.env_extra["PLUGGTO_READ_TIMEOUT"] = "1"
    sandbox.faults(
        latency_ms=20,
        fail=[
            {"method": "PUT", "path": "^/skus/CAF-EXP-20$", "times": -1},
            {
                "method": "PUT",
                "path": "^/skus/FON-BT-X2$",
                "status": 429,
                "retry_after": "2",
            },
        ],
        timeout={"method": "PUT", "path": "^/skus/LUM-LED-MES$", "seconds": 1.6},
    )
    revoker = revoke_after(sandbox, 6)

    first = imported_store.run("sync", "products")
    revoker.join(1)
    report = imported_store.status()
    sandbox.faults(clear=True)
    imported_store.sql("UPDATE sync_items SET next_retry_at = NULL")
    mark = sandbox.call_count()
    second = imported_store.run("sync", "products")

    assert first.returncode == 1, first.stderr
    assert [item["key"] for item in report["failed_items"]] == ["CAF-EXP-20"]
    assert second.returncode == 0, second.stderr
    assert list(sent_skus(sandbox.calls(mark))) == ["CAF-EXP-20"]
    statuses = Counter(call["status"] for call in sandbox.calls())
    assert statuses[401] >= 1
    assert statuses[429] == 1
    timed_out = [c for c in sandbox.calls() if c["path"] == "/skus/LUM-LED-MES"]
    assert len(timed_out) >= 2
    assert Counter(sent_skus(sandbox.calls())) == Counter(
        product["sku"] for product in sandbox.products()
    )
    assert_catalog_on_sandbox(sandbox, read_catalog())


# 8. kill -9 in the middle of a product sync -------------------------------------


def test_a_killed_product_sync_is_finished_by_the_next_run(
    sandbox, imported_store, tmp_path
):
    sandbox.faults(latency_ms=250)
    running = imported_store.start("sync", "products")
    wait_until(lambda: len(sandbox.calls()) >= 3)
    running.send_signal(signal.SIGKILL)
    running.communicate(timeout=10)
    sent_before_kill = len(sandbox.products())
    sandbox.faults(clear=True)
    changes = {"SER-VIT-C30": {"quantity": "7"}, "00123": {"price": "34.90"}}
    changes["00123"]["special_price"] = "34.90"
    edited = edited_catalog(tmp_path / "edited.csv", changes)
    assert imported_store.run("import-catalog", str(edited)).returncode == 0

    rerun = imported_store.run("sync", "all")

    assert running.returncode == -signal.SIGKILL
    assert 0 < sent_before_kill < PRODUCT_COUNT
    assert rerun.returncode == 0, rerun.stderr
    rows = read_catalog(edited)
    assert_catalog_on_sandbox(sandbox, rows)
    assert len(sandbox.products()) == PRODUCT_COUNT


# 9. Two order syncs at once -------------------------------------------------------


def test_two_order_syncs_at_once_import_each_order_once(sandbox, synced_store):
    created = sandbox.create_orders(8, "approved", "CAN-GEL-10", 1)
    created += sandbox.create_orders(4, "pending", "VES-MID-FL-M", 1)
    sandbox.faults(latency_ms=60)

    results = synced_store.run_all(("sync", "orders"), ("sync", "orders"))

    orders = synced_store.orders()
    assert 0 in [result.returncode for result in results]
    assert sorted(o["pluggto_id"] for o in orders) == sorted(o["id"] for o in created)
    numbers = [str(order["number"]) for order in orders]
    assert len(set(numbers)) == len(numbers)
    externals = [order["external"] for order in sandbox.orders()]
    assert sorted(externals) == sorted(numbers)
