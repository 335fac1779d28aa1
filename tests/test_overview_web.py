"""Visão geral: job panels, live progress, totals, the 7-day chart, banners."""

import re
import sys
import threading
import types
from datetime import UTC, date, datetime, timedelta

import pytest

from dashboard import settings as settings_store
from dashboard.extensions import db
from dashboard.models.sync import JobRun, SyncItem
from dashboard.models.types import utcnow
from dashboard.sync import claims, runner, scheduler
from dashboard.web import charts, overview

WAIT = 10
HTMX = {"HX-Request": "true"}
POLLING = 'hx-trigger="every 1s"'


@pytest.fixture
def stock_body(app, monkeypatch):
    """Point the stock job at a function the test provides."""
    module = types.ModuleType("fake_overview_job")
    monkeypatch.setitem(sys.modules, "fake_overview_job", module)
    monkeypatch.setitem(
        runner.JOBS,
        "stock",
        runner.Job("stock", "Estoque", "fake_overview_job:body", ("stock",)),
    )

    def use(function):
        module.body = function

    yield use
    assert runner.wait_for_runs(WAIT) == 0


def add_run(job="stock", status="ok", started_at=None, **values) -> JobRun:
    run = JobRun(
        job=job,
        trigger=values.pop("trigger", "scheduled"),
        owner=values.pop("owner", "somewhere:1:x"),
        status=status,
        started_at=started_at or utcnow() - timedelta(minutes=3),
    )
    for name, value in values.items():
        setattr(run, name, value)
    db.session.add(run)
    db.session.commit()
    return run


def running_run(**values) -> JobRun:
    owner = claims.new_owner()
    claims.try_claim("job:stock", owner, timedelta(minutes=2))
    return add_run(status="running", owner=owner, finished_at=None, **values)


def add_items(kind: str, **states: int) -> None:
    db.session.add_all(
        SyncItem(kind=kind, key=f"{kind}-{state}-{index}", group_key="g", state=state)
        for state, count in states.items()
        for index in range(count)
    )
    db.session.commit()


def status_region(html: str, job: str) -> str:
    start = html.index(f'id="job-{job}-status"')
    return html[start : html.index("</p>", html.index('class="next-run', start))]


def text(response) -> str:
    return response.get_data(as_text=True)


# The page --------------------------------------------------------------------


def test_the_overview_shows_one_panel_per_job(client):
    page = text(client.get("/"))

    for name, label in (
        ("products", "Produtos"),
        ("prices", "Preços"),
        ("stock", "Estoque"),
        ("orders", "Pedidos"),
    ):
        assert f'id="job-{name}"' in page
        assert f">{label}</h2>" in page
    assert page.count("Sincronizar agora") == 4
    assert page.count('name="csrf_token"') >= 4


def test_a_job_that_never_ran_says_so(client):
    page = text(client.get("/"))

    assert "Ainda não executada." in status_region(page, "stock")


def test_the_last_run_shows_result_duration_and_counts(client):
    started = utcnow() - timedelta(minutes=10)
    add_run(
        started_at=started,
        finished_at=started + timedelta(seconds=75),
        status="partial",
        ok_count=1234,
        failed_count=2,
        skipped_count=3,
        calls=1240,
    )

    region = status_region(text(client.get("/")), "stock")

    assert "Parcial" in region
    assert "1 min 15 s" in region
    assert "<strong>1.234</strong> ok" in region
    assert "<strong>2</strong> com falha" in region
    assert "<strong>1.240</strong> chamadas" in region
    assert POLLING not in region


def test_counts_of_one_are_singular(client):
    add_run(status="ok", ok_count=1, skipped_count=1, calls=1)

    region = status_region(text(client.get("/")), "stock")

    assert "<strong>1</strong> chamada<" in region
    assert "<strong>1</strong> pulado<" in region


def test_a_failed_run_shows_its_message(client):
    add_run(status="failed", message="Credenciais recusadas pelo Plugg.to.")

    region = status_region(text(client.get("/")), "stock")

    assert "Credenciais recusadas pelo Plugg.to." in region


def test_a_running_job_shows_progress_and_polls(client):
    running_run(total=40, done=10, current_item="Camiseta Azul M", trigger="manual")

    region = status_region(text(client.get("/")), "stock")

    assert POLLING in region
    assert 'aria-valuenow="10"' in region and 'aria-valuemax="40"' in region
    assert "width: 25%" in region
    assert "<strong>10</strong> de 40 itens (25%)" in region
    assert "Camiseta Azul M" in region


def test_a_run_without_a_total_yet_is_preparing(client):
    running_run()

    region = status_region(text(client.get("/")), "stock")

    assert "Preparando…" in region


def test_a_running_record_whose_process_died_does_not_poll(client):
    add_run(status="running", owner="gone:1:x", finished_at=None)

    region = status_region(text(client.get("/")), "stock")

    assert POLLING not in region


def test_item_counts_are_grouped_by_job(client):
    add_items("stock", ok=3, pending=2, failed=1)
    add_items("price", ok=5)

    page = text(client.get("/"))

    stock = status_region(page, "stock")
    assert '<dd class="count-ok">3</dd>' in stock
    assert '<dd class="count-pending">2</dd>' in stock
    assert 'href="/falhas/">1</a>' in stock
    assert '<dd class="count-ok">5</dd>' in status_region(page, "prices")


def test_a_manual_job_says_it_waits_for_a_click(client):
    settings_store.save({"jobs": {"stock": settings_store.JobSettings(False, 5)}})

    page = text(client.get("/"))

    assert "Roda só quando você clicar" in status_region(page, "stock")
    assert "Manual" in page


def test_automatic_jobs_show_why_they_are_paused(client, configured):
    settings_store.mark_credentials_rejected("Credenciais recusadas.")

    page = text(client.get("/"))

    assert "Pausada: o Plugg.to recusou as credenciais." in status_region(page, "stock")


def test_automatic_jobs_say_they_wait_for_credentials_never_configured(client):
    page = text(client.get("/"))

    assert "Pausada: faltam as credenciais do Plugg.to" in status_region(page, "stock")
    banner = page[page.index('id="banners"') : page.index("<main>")]
    assert "Configuração incompleta: falta Client ID" in banner
    assert "sincronizações automáticas estão pausadas" in banner
    assert 'href="/configuracoes/"' in banner


def test_the_next_run_comes_from_the_scheduler(app, client, configured, monkeypatch):
    background = scheduler.BackgroundScheduler(app, threading.Event())
    monkeypatch.setattr(background, "alive", lambda: True)
    monkeypatch.setattr(scheduler.pruning, "prune", lambda now: None)
    app.extensions["scheduler"] = background
    background.tick()

    page = text(client.get("/"))

    assert "Próxima:" in status_region(page, "stock")
    assert "Agendador ativo" in page


def test_totals_show_catalog_orders_and_failures(client, monkeypatch):
    monkeypatch.setattr(
        overview,
        "catalog_totals",
        lambda: {
            "products": 1520,
            "variations": 4100,
            "active": 1500,
            "inactive": 20,
            "zero_stock": 37,
        },
    )
    monkeypatch.setattr(
        overview,
        "order_totals",
        lambda now: {
            "today": 12,
            "awaiting_invoice": 4,
            "awaiting_tracking": 3,
            "attention": 2,
        },
    )
    add_items("stock", failed=2)

    page = text(client.get("/"))

    totals = page[page.index('id="totals"') : page.index("</section>")]
    assert (
        "1.520" in totals and "4.100 variações" in totals and "37 sem estoque" in totals
    )
    assert re.search(r"tile-value\">12<.*Pedidos hoje", totals, re.S)
    assert re.search(r"tile-value\">2<.*Falhas", totals, re.S)
    assert "tile-danger" in totals and "tile-warning" in totals


# The status region and the button ---------------------------------------------


def test_the_status_region_alone_answers_htmx(client):
    running_run(total=4, done=1)

    response = client.get("/painel/stock/estado", headers=HTMX)

    html = text(response)
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="job-stock-status"')
    assert POLLING in html
    assert 'id="totals"' not in html
    assert "HX-Request" in response.headers["Vary"]


def test_the_finished_state_stops_polling_and_refreshes_the_totals(client):
    add_run(status="ok", finished_at=utcnow())

    html = text(client.get("/painel/stock/estado", headers=HTMX))

    assert POLLING not in html
    assert 'id="totals" class="totals" aria-label="Totais" hx-swap-oob="true"' in html
    assert 'id="activity"' in html
    assert '<div id="job-stock-notice" class="panel-notice" hx-swap-oob="true">' in html


def test_the_status_address_loaded_directly_is_the_whole_page(client):
    for headers in ({}, {**HTMX, "HX-History-Restore-Request": "true"}):
        html = text(client.get("/painel/stock/estado", headers=headers))

        assert "<html" in html and 'id="job-products"' in html


def test_unknown_jobs_are_not_found(client, post):
    assert client.get("/painel/nada/estado").status_code == 404
    assert post("/sincronizar/nada").status_code == 404


def test_running_a_job_needs_a_post_with_csrf(client):
    assert client.get("/sincronizar/stock").status_code == 405
    assert client.post("/sincronizar/stock").status_code == 400


def test_sincronizar_agora_returns_the_running_panel(client, post, stock_body):
    release = threading.Event()
    stock_body(lambda ctx: release.wait(WAIT))

    response = post("/sincronizar/stock", htmx=True)

    html = text(response)
    release.set()
    assert html.lstrip().startswith(
        '<section class="card panel job-panel" id="job-stock"'
    )
    assert POLLING in html
    assert "Sincronização de estoque iniciada." in html


def test_a_plain_sync_form_from_pedidos_comes_back_to_pedidos(post, stock_body):
    stock_body(lambda ctx: None)

    response = post("/sincronizar/stock", {"voltar": "pedidos"})

    assert response.status_code == 303
    assert response.location.endswith("/pedidos/")


def test_the_order_tiles_open_the_list_filtered_by_what_they_count(client):
    html = text(client.get("/"))

    assert 'href="/pedidos/?etapa=nfe"' in html
    assert 'href="/pedidos/?etapa=rastreio"' in html
    assert 'href="/pedidos/?atencao=1"' in html


def test_a_click_while_the_job_runs_shows_the_refusal_in_the_panel(
    client, post, stock_body
):
    release = threading.Event()
    stock_body(lambda ctx: release.wait(WAIT))
    post("/sincronizar/stock", htmx=True)

    html = text(post("/sincronizar/stock", htmx=True))

    release.set()
    notice = html[html.index('id="job-stock-notice"') :]
    assert "já está em andamento; aguarde ela terminar." in notice
    assert "flash-warning" in notice
    assert POLLING in html


def test_without_htmx_the_button_redirects_with_a_message(client, post, stock_body):
    stock_body(lambda ctx: ctx.ok("X"))

    response = post("/sincronizar/stock")

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert runner.wait_for_runs(WAIT) == 0
    assert "Sincronização de estoque iniciada." in text(client.get("/"))


# The watcher -----------------------------------------------------------------


def test_the_watcher_hears_nothing_new(client):
    add_run()
    page = text(client.get("/"))
    url = re.search(r'id="overview-watch" hidden\s+hx-get="([^"]+)"', page).group(1)

    response = client.get(url.replace("&amp;", "&"), headers=HTMX)

    assert response.status_code == 204


def test_the_watcher_brings_runs_started_elsewhere(client):
    page = text(client.get("/"))
    url = re.search(r'id="overview-watch" hidden\s+hx-get="([^"]+)"', page).group(1)
    running_run(total=10, done=2)

    html = text(client.get(url.replace("&amp;", "&"), headers=HTMX))

    assert 'id="job-stock-status"' in html and POLLING in html
    for region in ("job-products-status", "totals", "activity", "overview-watch"):
        assert re.search(f'id="{region}"[^>]*hx-swap-oob="true"', html)
    assert "<html" not in html


def test_the_watcher_brings_the_banner_of_a_scheduler_that_stopped(
    app, client, monkeypatch
):
    background = scheduler.BackgroundScheduler(app, threading.Event())
    monkeypatch.setattr(background, "alive", lambda: True)
    app.extensions["scheduler"] = background
    page = text(client.get("/"))
    url = re.search(r'id="overview-watch" hidden\s+hx-get="([^"]+)"', page).group(1)
    background.started_at = utcnow() - timedelta(minutes=5)

    html = text(client.get(url.replace("&amp;", "&"), headers=HTMX))

    assert "O agendador parou" not in page
    banners = html[html.index('id="banners"') :]
    assert 'hx-swap-oob="true"' in banners[:40]
    assert "O agendador parou" in banners


def test_the_watcher_address_loaded_directly_is_the_page(client):
    assert "<html" in text(client.get("/novidades"))


# Chart -----------------------------------------------------------------------


def test_days_are_counted_in_sao_paulo():
    late_evening = datetime(2026, 12, 3, 2, 30, tzinfo=UTC)  # 23:30 on the 2nd there

    days = charts.last_days(late_evening)

    assert days[-1] == date(2026, 12, 2)
    assert days[0] == date(2026, 11, 26)


def test_runs_and_failures_are_counted_per_local_day(app):
    now = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
    add_run(started_at=datetime(2026, 12, 3, 2, 30, tzinfo=UTC), status="failed")
    add_run(started_at=datetime(2026, 12, 3, 3, 30, tzinfo=UTC), status="ok")
    add_run(started_at=datetime(2026, 12, 3, 4, 0, tzinfo=UTC), status="partial")
    add_run(started_at=datetime(2026, 11, 1, 12, 0, tzinfo=UTC), status="ok")

    runs, failed = charts.runs_per_day(charts.last_days(now))

    assert runs[date(2026, 12, 2)] == 1 and failed[date(2026, 12, 2)] == 1
    assert runs[date(2026, 12, 3)] == 2 and failed[date(2026, 12, 3)] == 1
    assert sum(runs.values()) == 3


def test_the_chart_is_inline_svg_with_labelled_bars(app):
    now = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
    add_run(started_at=now - timedelta(hours=1), status="failed")
    add_run(started_at=now - timedelta(hours=2), status="ok")

    runs_chart, orders_chart = charts.activity_charts(now, {date(2026, 12, 1): 8})

    today = runs_chart.bars[-1]
    assert today.value_label == "2"
    assert today.title == "03/12: 2 execuções, 1 com falha"
    assert [segment.css for segment in today.segments] == ["bar-ok", "bar-failed"]
    assert today.segments[0].height == today.segments[1].height
    assert runs_chart.summary == "Execuções por dia: 2 nos últimos 7 dias."
    tallest = max(orders_chart.bars, key=lambda bar: bar.value_label == "8")
    assert tallest.segments[0].height == charts.HEIGHT - charts.TOP - charts.BOTTOM


def test_the_overview_draws_the_chart_without_scripts(client):
    add_run(status="failed")

    page = text(client.get("/"))

    chart = page[page.index('id="activity"') :]
    assert '<svg id="chart-runs"' in chart and '<svg id="chart-orders"' in chart
    assert "<script" not in chart[: chart.index("</section>")]


# Banners ---------------------------------------------------------------------


def test_a_silent_scheduler_raises_a_banner(app, client, monkeypatch):
    background = scheduler.BackgroundScheduler(app, threading.Event())
    background.started_at = utcnow() - timedelta(minutes=5)
    monkeypatch.setattr(background, "alive", lambda: True)
    app.extensions["scheduler"] = background

    page = text(client.get("/"))

    assert "O agendador parou" in page


def test_no_scheduler_banner_when_the_server_runs_none(client):
    assert "O agendador parou" not in text(client.get("/"))
