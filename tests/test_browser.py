"""The real server in headless Chromium, against the local Plugg.to sandbox.

One server, sandbox and browser serve the whole module; the tests run in file
order and build on each other (sync, then Falhas, then Histórico), and the
last one stops the server in the middle of a run.
"""

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser_support import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    Dashboard,
    Sandbox,
    clean_env,
)

pytestmark = pytest.mark.browser

if not Path(CHROMIUM).exists():  # pragma: no cover - CI installs it
    if os.environ.get("CI"):
        # In CI a missing browser is a broken install step, not a reason to skip.
        pytest.fail("Debian's chromium is not installed", pytrace=False)
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

SAMPLE_CATALOG = ROOT / "dashboard" / "demo" / "sample_catalog.csv"
DEMO = {
    "--client-id": "demo-client-id",
    "--client-secret": "demo-client-secret",
    "--api-user": "demo-api-user",
    "--api-secret": "demo-api-secret",
    "--domain": "loja-teste.com.br",
}
FAILING_SKU = "CAN-TER-500"
WIDTHS = (1366, 400)
PAGES = {
    "visao-geral": "/",
    "produtos": "/produtos/",
    "produto": ("/produtos/", r"^/produtos/\d+$"),
    "pedidos": "/pedidos/",
    "pedido": ("/pedidos/", r"^/pedidos/[^/?]+$"),
    "falhas": "/falhas/",
    "historico": "/historico/",
    "historico-execucao": ("/historico/", r"^/historico/execucoes/\d+$"),
    "configuracoes": "/configuracoes/",
}
ORDERS = 3
SLOW = 30_000  # ms: upper bound for a run against the sandbox


@dataclass
class Stack:
    sandbox: Sandbox
    dashboard: Dashboard


def make_jobs_manual(data_dir: Path) -> None:
    """Turn the automatic jobs off so only the test's clicks start runs."""
    from dashboard import create_app
    from dashboard import settings as settings_store
    from dashboard.extensions import db
    from dashboard.storage import open_storage

    app = create_app({"DATA_DIR": data_dir})
    open_storage(app)
    with app.app_context():
        settings_store.save(
            {
                "jobs": {
                    name: settings_store.JobSettings(False, 60)
                    for name in settings_store.JOB_NAMES
                }
            }
        )
        db.session.remove()
        db.engine.dispose()


def prepare_data(dashboard: Dashboard) -> None:
    """Configure the credentials and import the sample catalog with the CLI."""
    configured = dashboard.cli(
        "configure", *(part for pair in DEMO.items() for part in pair)
    )
    assert configured.returncode == 0, configured.stdout + configured.stderr
    make_jobs_manual(dashboard.data_dir)
    imported = dashboard.cli("import-catalog", str(SAMPLE_CATALOG))
    assert imported.returncode == 0, imported.stdout + imported.stderr


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    base = tmp_path_factory.mktemp("browser")
    dashboard = Dashboard(base / "data", clean_env(), base / "dashboard.log")
    sandbox = Sandbox.launch(base / "sandbox.log")  # starts while the CLI works
    try:
        prepare_data(dashboard)
        sandbox.wait_for_url()
        dashboard.env["PLUGGTO_API_URL"] = sandbox.url
        dashboard.start()
        yield Stack(sandbox, dashboard)
    finally:
        dashboard.stop()
        sandbox.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, stack):
    context = browser.new_context(
        viewport={"width": WIDTHS[0], "height": 900}, locale="pt-BR"
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def url(stack: Stack, path: str) -> str:
    return stack.dashboard.url + path


def first_link(page, stack: Stack, listing: str, pattern: str) -> str:
    """Open a listing page and return the first link whose path matches."""
    page.goto(url(stack, listing))
    for href in page.locator("main a[href]").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    ):
        if re.match(pattern, href):
            return href
    raise AssertionError(f"no link like {pattern} on {listing}")


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)


# Scenarios ---------------------------------------------------------------------


def test_the_overview_renders_its_panels(page, stack):
    page.goto(url(stack, "/"))

    expect(page).to_have_title("Visão geral · Rocky + Plugg.to")
    expect(page.locator(".job-panel")).to_have_count(4)
    for label in ("Produtos", "Preços", "Estoque", "Pedidos"):
        expect(page.get_by_role("heading", name=label, exact=True)).to_be_visible()
    expect(page.locator("#totals .tile")).to_have_count(6)
    expect(page.locator("#chart-runs")).to_be_visible()


def test_sincronizar_agora_shows_progress_then_counts_without_reload(page, stack):
    stack.sandbox.control(
        "faults",
        {
            "latency_ms": 250,
            "fail": [
                {"method": "PUT", "path": f"^/skus/{FAILING_SKU}$", "status": 400}
            ],
        },
    )
    page.goto(url(stack, "/"))
    page.evaluate("window.notReloaded = true")
    panel = page.locator("#job-products")

    panel.get_by_role("button", name="Sincronizar agora").click()

    expect(panel.locator(".progress")).to_be_visible()
    expect(panel.locator(".panel-notice")).to_contain_text("iniciada")
    shoot(page, "visao-geral-em-andamento")
    expect(panel.locator(".status-partial")).to_be_visible(timeout=SLOW)
    stack.sandbox.control("faults", {"latency_ms": 0})
    expect(panel.locator(".progress")).to_have_count(0)
    assert not page.locator("#job-products-status").evaluate(
        "region => region.hasAttribute('hx-trigger')"
    )
    expect(panel.locator(".count-ok")).not_to_have_text("0")
    expect(panel.locator(".count-failed")).to_have_text("1")
    expect(page.locator("#totals .tile-danger")).to_contain_text("1")
    assert page.evaluate("window.notReloaded") is True


def test_a_click_while_the_job_runs_is_refused_in_the_panel(page, stack):
    stack.sandbox.control("orders", {"count": ORDERS})
    stack.sandbox.control(
        "faults", {"timeout": [{"method": "GET", "path": "^/orders", "seconds": 3}]}
    )
    page.goto(url(stack, "/"))
    panel = page.locator("#job-orders")
    button = panel.get_by_role("button", name="Sincronizar agora")

    button.click()
    expect(panel.locator(".progress")).to_be_visible()
    button.click()

    expect(panel.locator(".panel-notice")).to_contain_text(
        "A sincronização de pedidos já está em andamento; aguarde ela terminar."
    )
    expect(panel.locator(".progress")).to_have_count(0, timeout=SLOW)
    today = page.locator("#totals .tile", has_text="Pedidos hoje")
    expect(today.locator(".tile-value")).to_have_text(str(ORDERS))
    expect(page.locator("#chart-orders")).to_have_attribute(
        "aria-label", re.compile(rf"\b{ORDERS}\b")
    )


def test_a_failed_item_is_in_falhas_and_tentar_novamente_clears_it(page, stack):
    page.goto(url(stack, "/falhas/"))
    row = page.locator("#failures tr", has_text=FAILING_SKU)
    expect(row).to_have_count(1)
    shoot(page, "falhas-com-item")
    page.set_viewport_size({"width": WIDTHS[1], "height": 900})
    shoot(page, "falhas-com-item")

    row.get_by_role("button", name="Tentar novamente").click()

    expect(page.locator("#failures tr", has_text=FAILING_SKU)).to_have_count(0)
    expect(page.locator("#flashes")).to_contain_text("nova tentativa")
    page.goto(url(stack, "/"))
    products = page.locator("#job-products")
    expect(products.locator(".count-failed")).to_have_text("0", timeout=SLOW)


def test_the_settings_form_shows_errors_next_to_the_fields(page, stack):
    page.goto(url(stack, "/configuracoes/"))
    page.fill("#store_domain", "isto não é um domínio")
    page.fill("#stock_interval", "0")
    page.fill("#concurrency", "99")

    page.get_by_role("button", name="Salvar configurações").click()

    domain = page.locator(".field.has-error", has=page.locator("#store_domain"))
    expect(domain.locator(".error")).to_contain_text("Domínio inválido")
    interval = page.locator("td.has-error", has=page.locator("#stock_interval"))
    expect(interval.locator(".error")).to_contain_text("de 1 a")
    concurrency = page.locator(".field.has-error", has=page.locator("#concurrency"))
    expect(concurrency.locator(".error")).to_contain_text("de 1 a 16")
    expect(page.locator("#store_domain")).to_have_attribute("aria-invalid", "true")
    shoot(page, "configuracoes-com-erros")
    page.set_viewport_size({"width": WIDTHS[1], "height": 900})
    shoot(page, "configuracoes-com-erros")


def test_the_history_filters_without_reload_and_back_restores(page, stack):
    page.goto(url(stack, "/historico/"))
    page.evaluate("window.notReloaded = true")

    page.select_option("select[name=tarefa]", "products")

    expect(page).to_have_url(url(stack, "/historico/?tarefa=products&situacao="))
    expect(page.locator("#runs tr[id^=run-]", has_text="Pedidos")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
    page.go_back()
    expect(page).to_have_url(url(stack, "/historico/"))
    expect(page.locator("select[name=tarefa]")).to_have_value("")
    page.go_forward()
    expect(page.locator("select[name=tarefa]")).to_have_value("products")


def test_the_order_filters_and_the_list_agree_after_back(page, stack):
    page.goto(url(stack, "/pedidos/"))
    page.select_option("#filter-status", "approved")
    expect(page).to_have_url(re.compile(r"status=approved"))
    page.check("input[name=atencao]")
    expect(page).to_have_url(re.compile(r"atencao=1"))

    page.go_back()

    expect(page).to_have_url(re.compile(r"status=approved&marketplace=&etapa=$"))
    expect(page.locator("#filter-status")).to_have_value("approved")
    expect(page.locator("input[name=atencao]")).not_to_be_checked()


def test_a_bad_price_on_the_product_page_shows_its_error_in_place(page, stack):
    page.goto(url(stack, first_link(page, stack, "/produtos/", r"^/produtos/\d+$")))
    page.evaluate("window.notReloaded = true")
    form = page.locator("#edit-0")

    form.locator("input[name=s0-price]").fill("abc")
    form.locator("button[type=submit]").click()

    expect(page.locator("#s0-price-error")).to_be_visible()
    assert page.evaluate("window.notReloaded") is True


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_holds_its_layout(page, stack, width):
    page.set_viewport_size({"width": width, "height": 900})
    overflowing = []

    for name, path in PAGES.items():
        if not isinstance(path, str):
            path = first_link(page, stack, *path)
        page.goto(url(stack, path))
        shoot(page, name)
        scroll_width = page.evaluate("document.scrollingElement.scrollWidth")
        if scroll_width > width:
            overflowing.append((name, scroll_width))

    assert overflowing == []


def test_the_server_stops_cleanly_during_a_run(page, stack):
    stack.sandbox.control(
        "faults", {"timeout": [{"method": "GET", "path": "^/orders", "seconds": 2}]}
    )
    page.goto(url(stack, "/"))
    panel = page.locator("#job-orders")
    panel.get_by_role("button", name="Sincronizar agora").click()
    expect(panel.locator(".progress")).to_be_visible()

    code, seconds = stack.dashboard.stop()

    assert code == 0
    assert seconds < 8
