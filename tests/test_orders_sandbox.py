"""Orders end to end: the dashboard against the local Plugg.to sandbox."""

import pytest

from dashboard import create_app
from dashboard import settings as settings_store
from dashboard.extensions import db
from dashboard.models.sync import JobRun
from dashboard.models.types import utcnow
from dashboard.orders.dates import STORE_TIMEZONE
from dashboard.sandbox import DEMO_CREDENTIALS, SandboxConfig, SandboxServer
from dashboard.storage import open_storage
from dashboard.sync import runner
from tests.orders_factories import make_product, nfe_key, order_of, stock_of


@pytest.fixture
def sandbox():
    server = SandboxServer(SandboxConfig(missing_data_rate=0.0))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app(tmp_path, sandbox):
    """Override conftest's app: the dashboard talks to the sandbox over HTTP."""
    app = create_app(
        {
            "TESTING": True,
            "DATA_DIR": tmp_path / "data",
            "SECRET_KEY": "test-secret-key",
            "PLUGGTO_API_URL": sandbox.url,
        }
    )
    open_storage(app)
    with app.app_context():
        settings_store.save(
            {
                "client_id": DEMO_CREDENTIALS["client_id"],
                "client_secret": DEMO_CREDENTIALS["client_secret"],
                "api_user": DEMO_CREDENTIALS["username"],
                "api_secret": DEMO_CREDENTIALS["password"],
                "store_domain": "https://minhaloja.com.br",
            }
        )
        make_product("CAM-01", quantity=10)
        yield app
        db.session.remove()
        db.engine.dispose()


def new_order(sandbox, status: str = "approved", sku: str = "CAM-01") -> str:
    lines = [{"sku": sku, "quantity": 2}]
    return sandbox.store.create_orders({"count": 1, "status": status, "items": lines})[
        0
    ]["id"]


def remote(sandbox, pluggto_id: str) -> dict:
    return sandbox.store.get_order(pluggto_id)


def sync() -> runner.RunOutcome:
    outcome = runner.run_job("orders", "manual")
    assert outcome.started
    return outcome


def issued_now():
    # The sandbox creates its orders now, and an NF-e may not predate its order.
    return utcnow().astimezone(STORE_TIMEZONE).replace(second=0, microsecond=0)


def key_of(issued) -> str:
    return nfe_key(1, 1234, year_month=issued.strftime("%y%m"))


def invoice_form(issued) -> dict:
    return {
        "key": key_of(issued),
        "number": "1234",
        "series": "1",
        "issued_at": issued.strftime("%Y-%m-%dT%H:%M"),  # Brasília time
    }


def test_an_order_is_followed_from_payment_to_tracking_in_the_dashboard(
    sandbox, post, client
):
    pid = new_order(sandbox, status="pending")
    shipment_id = remote(sandbox, pid)["shipments"][0]["id"]

    sync()
    assert (order_of(pid).status, stock_of("CAM-01")) == ("pending", 8)
    assert remote(sandbox, pid)["external"] == "1001"

    sandbox.store.set_order_status(pid, "approved")
    sync()
    assert order_of(pid).status == "approved"

    issued = issued_now()
    post(f"/pedidos/{pid}/nfe", invoice_form(issued))
    for code in ("AA123456789BR", "BB123456789BR"):
        post(f"/pedidos/{pid}/rastreio", {"carrier": "Correios", "code": code})
    sync()

    shipments = remote(sandbox, pid)["shipments"]
    assert remote(sandbox, pid)["status"] == "shipping_informed"
    assert [shipment["id"] for shipment in shipments] == [shipment_id]
    assert shipments[0]["nfe_key"] == key_of(issued)
    assert shipments[0]["track_code"] == "BB123456789BR"
    assert shipments[0]["track_url"].endswith("BB123456789BR")
    assert stock_of("CAM-01") == 8
    page = client.get(f"/pedidos/{pid}").get_data(as_text=True)
    assert "NF-e enviada" in page and "rastreio enviado" in page


def test_a_cancel_after_invoice_returns_the_stock_once_and_is_flagged(
    sandbox, post, client
):
    pid = new_order(sandbox)
    sync()
    post(f"/pedidos/{pid}/nfe", invoice_form(issued_now()))

    sandbox.store.set_order_status(pid, "canceled")
    sync()
    sync()

    order = order_of(pid)
    assert (order.status, order.needs_reversal) == ("canceled", True)
    assert stock_of("CAM-01") == 10
    assert [event.kind for event in order.events].count("canceled") == 1
    page = client.get(f"/pedidos/{pid}").get_data(as_text=True)
    assert "NF-e emitida: cancelar/estornar a nota" in page


def test_an_order_held_for_an_unknown_sku_enters_after_the_catalog_changes(
    app, sandbox
):
    held = new_order(sandbox, sku="NOVO-1")
    other = new_order(sandbox)

    first = sync()
    make_product("NOVO-1", quantity=5)
    sync()

    assert first.status == "partial"
    assert order_of(other).hold_reason is None
    assert order_of(held).hold_reason is None
    assert stock_of("NOVO-1") == 3
    assert remote(sandbox, held)["external"] == str(order_of(held).number)


def test_an_unchanged_history_costs_one_list_call_per_run(app, sandbox):
    for _ in range(3):
        new_order(sandbox)
    sync()
    sync()
    before = sandbox.store.calls(0)["count"]

    outcome = sync()

    calls = sandbox.store.calls(before)["calls"]
    assert [(call["method"], call["path"]) for call in calls] == [("GET", "/orders")]
    assert db.session.get(JobRun, outcome.run_id).calls == 1
