"""Demo mode: sandbox started, app pointed at it, demo store prepared."""

import json

import pytest
import requests
from sqlalchemy import func, select

from dashboard import settings as settings_store
from dashboard.demo import (
    DEMO_STORE_DOMAIN,
    FIRST_ORDERS,
    prepare_store,
    reset_store,
    running_sandbox_url,
    start_demo,
)
from dashboard.extensions import db
from dashboard.models.catalog import Product
from dashboard.models.sync import STATE_OK, STATE_PENDING, SyncItem
from dashboard.sandbox import DEMO_CREDENTIALS
from dashboard.sync import runner
from tests.browser_support import Dashboard, clean_env, free_port

RUN_WAIT_SECONDS = 15


@pytest.fixture
def demo(app):
    running = start_demo(app)
    yield running
    runner.wait_for_runs(RUN_WAIT_SECONDS)
    running.stop()


def sandbox_products(demo) -> list[dict]:
    return requests.get(f"{demo.url}/_sandbox/products", timeout=5).json()["products"]


def test_start_demo_points_the_app_at_a_running_local_sandbox(app, demo):
    health = requests.get(f"{demo.url}/_sandbox/health", timeout=5)

    assert health.json() == {"status": "ok"}
    assert demo.url.startswith("http://127.0.0.1:")
    assert app.config["PLUGGTO_API_URL"] == demo.url
    assert app.config["DEMO_MODE"] is True


def test_start_demo_stores_the_demo_credentials_and_domain(demo):
    settings = settings_store.load()

    assert settings.missing() == []
    assert settings.client_id == DEMO_CREDENTIALS["client_id"]
    assert settings.api_secret == DEMO_CREDENTIALS["password"]
    assert settings.store_domain == DEMO_STORE_DOMAIN


def test_start_demo_keeps_settings_the_merchant_already_saved(app):
    settings_store.save({"store_domain": "https://minhaloja.com.br"})

    running = start_demo(app)
    runner.wait_for_runs(RUN_WAIT_SECONDS)
    running.stop()

    settings = settings_store.load()
    assert settings.store_domain == "https://minhaloja.com.br"
    assert settings.api_user == DEMO_CREDENTIALS["username"]


def test_start_demo_imports_the_sample_catalog_and_sends_it_at_once(demo):
    runner.wait_for_runs(RUN_WAIT_SECONDS)

    stored = db.session.scalar(select(func.count()).select_from(Product))
    skus = {product["sku"] for product in sandbox_products(demo)}
    assert stored == 16
    assert len(skus) == 16
    assert {"CAM-BAS", "KIT 2/3 COPOS", "00123"} <= skus


def test_start_demo_puts_first_orders_on_the_sandbox(demo):
    orders = requests.get(f"{demo.url}/_sandbox/orders", timeout=5).json()["orders"]

    assert len(orders) == FIRST_ORDERS
    assert {order["status"] for order in orders} == {"pending"}


def test_the_demo_sandbox_keeps_orders_coming_every_few_minutes(demo):
    config = demo.sandbox.config

    assert config.demo_orders is True
    assert 60 <= config.demo_interval_s <= 600


def test_a_second_launch_does_not_import_the_catalog_again(app, demo):
    runner.wait_for_runs(RUN_WAIT_SECONDS)
    db.session.execute(
        Product.__table__.update()
        .where(Product.sku == "CAN-GEL-10")
        .values(name="Canetas renomeadas")
    )
    db.session.commit()

    prepare_store()

    renamed = db.session.scalar(select(Product.name).where(Product.sku == "CAN-GEL-10"))
    assert renamed == "Canetas renomeadas"
    assert db.session.scalar(select(func.count()).select_from(Product)) == 16


def test_a_second_launch_sends_the_catalog_again_to_the_empty_sandbox(demo):
    runner.wait_for_runs(RUN_WAIT_SECONDS)
    sent = db.session.scalar(
        select(func.count()).select_from(SyncItem).where(SyncItem.state == STATE_OK)
    )

    resent = prepare_store()

    pending = db.session.scalars(
        select(SyncItem.kind).where(SyncItem.state == STATE_PENDING)
    ).all()
    assert sent > 0
    assert resent == sent
    assert set(pending) == {"product", "price", "stock"}


def test_stop_closes_the_sandbox(app):
    running = start_demo(app)
    runner.wait_for_runs(RUN_WAIT_SECONDS)
    url = running.url

    running.stop()

    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/_sandbox/health", timeout=2)


def test_every_page_shows_the_demo_banner(demo, client):
    page = client.get("/")

    assert page.status_code == 200
    assert "Modo demonstração" in page.get_data(as_text=True)


def test_commands_find_the_sandbox_of_the_open_demo_only_while_it_runs(demo):
    assert running_sandbox_url() == demo.url

    demo.stop()

    assert running_sandbox_url() is None


def test_a_fresh_demo_store_drops_the_database_and_uploads_but_keeps_logs(tmp_path):
    for name in ("dashboard.db", "dashboard.db-wal", "secret_key"):
        (tmp_path / name).write_text("x")
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads" / "a.json").write_text("{}")
    (tmp_path / "logs").mkdir()

    reset_store(tmp_path)

    assert sorted(path.name for path in tmp_path.iterdir()) == ["logs", "secret_key"]


@pytest.mark.e2e
@pytest.mark.parametrize("same_port", [True, False])
def test_a_second_demo_is_refused_and_leaves_the_open_one_working(tmp_path, same_port):
    dashboard = Dashboard(
        tmp_path / "data", clean_env(), tmp_path / "dashboard.log", options=("--demo",)
    )
    dashboard.start()
    try:
        port = dashboard.port if same_port else free_port()
        second = dashboard.cli("--demo", "--port", str(port))
        status = dashboard.cli("--demo", "status", "--json")
    finally:
        dashboard.stop()

    assert second.returncode == 2
    assert "O modo demonstração já está aberto em outra janela" in second.stderr
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["items"]  # the open demo's store is intact
