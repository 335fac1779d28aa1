"""Histórico: runs filtered and paginated, run details, recent API calls."""

from datetime import timedelta

import pytest

from dashboard.extensions import db
from dashboard.logs import register_secrets
from dashboard.models.sync import ApiCall, JobRun
from dashboard.models.types import utcnow
from dashboard.web import history

HTMX = {"HX-Request": "true"}


def add_run(job="stock", status="ok", **values) -> JobRun:
    started = utcnow() - values.pop("age", timedelta(minutes=5))
    run = JobRun(
        job=job,
        trigger=values.pop("trigger", "scheduled"),
        owner="x",
        status=status,
        started_at=started,
        finished_at=started + timedelta(seconds=12),
        **values,
    )
    db.session.add(run)
    db.session.commit()
    return run


def add_call(path="/skus/CAM-01", status=200, run_id=None, **values) -> ApiCall:
    call = ApiCall(
        method=values.pop("method", "PUT"),
        path=path,
        status=status,
        duration_ms=values.pop("duration_ms", 420),
        run_id=run_id,
        **values,
    )
    db.session.add(call)
    db.session.commit()
    return call


def text(response) -> str:
    return response.get_data(as_text=True)


def runs_region(html: str) -> str:
    start = html.index('<div id="runs">')
    return html[start : html.index('id="calls"', start)]


@pytest.fixture
def some_runs(app):
    return [
        add_run("products", "ok", ok_count=30, calls=31, age=timedelta(hours=3)),
        add_run(
            "stock",
            "partial",
            ok_count=1,
            failed_count=1,
            trigger="manual",
            failures=[
                {"key": "CAM-02", "label": "Camiseta M", "message": "EAN inválido."}
            ],
            age=timedelta(hours=2),
        ),
        add_run(
            "orders",
            "failed",
            message="Plugg.to fora do ar.",
            age=timedelta(hours=1),
        ),
    ]


def test_the_runs_are_listed_newest_first_with_their_labels(client, some_runs):
    html = runs_region(text(client.get("/historico/")))
    rows = html[html.index("<tbody>") :]

    assert rows.index("Pedidos") < rows.index("Estoque") < rows.index("Produtos")
    assert "Parcial" in html and "Falhou" in html and "Concluída" in html
    assert "Manual" in html and "Automática" in html
    assert "3 execuções." in html


def test_each_run_shows_which_items_failed_and_why(client, some_runs):
    html = runs_region(text(client.get("/historico/")))

    assert "1 item falhou" in html
    assert "<strong>Camiseta M</strong>" in html and "EAN inválido." in html
    assert "Plugg.to fora do ar." in html


def test_the_runs_can_be_filtered_by_job_and_status(client, some_runs):
    by_job = runs_region(text(client.get("/historico/?tarefa=stock")))
    by_status = runs_region(text(client.get("/historico/?situacao=failed")))

    assert f'id="run-{some_runs[1].id}"' in by_job
    assert by_job.count('<tr id="run-') == 1
    assert by_status.count('<tr id="run-') == 1 and "Pedidos" in by_status


def test_the_filters_are_kept_in_the_form(client, some_runs):
    page = text(client.get("/historico/?tarefa=stock&situacao=partial"))

    assert '<option value="stock" selected>' in page
    assert '<option value="partial" selected>' in page


def test_an_unknown_filter_value_is_ignored(client, some_runs):
    html = runs_region(text(client.get("/historico/?tarefa=nada&situacao=x&pagina=y")))

    assert html.count('<tr id="run-') == 3


def test_no_run_matches_says_so(client, some_runs):
    html = runs_region(text(client.get("/historico/?situacao=interrupted")))

    assert "Nenhuma execução com estes filtros." in html


def test_the_runs_are_paginated_keeping_the_filters(client, monkeypatch):
    monkeypatch.setattr(history, "PAGE_SIZE", 2)
    runs = [add_run("stock", age=timedelta(minutes=10 - i)) for i in range(5)]
    add_run("orders")

    first = runs_region(text(client.get("/historico/?tarefa=stock")))
    last = runs_region(text(client.get("/historico/?tarefa=stock&pagina=3")))
    beyond = runs_region(text(client.get("/historico/?tarefa=stock&pagina=99")))

    assert "Página 1 de 3" in first
    assert 'href="/historico/?tarefa=stock&amp;pagina=2"' in first
    assert f'id="run-{runs[0].id}"' in last and last.count('<tr id="run-') == 1
    assert "Página 3 de 3" in beyond


def test_htmx_gets_only_the_runs_region(client, some_runs):
    response = client.get("/historico/?tarefa=stock", headers=HTMX)

    html = text(response)
    assert html.lstrip().startswith('<div id="runs">')
    assert "<html" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_a_history_restore_gets_the_whole_page(client, some_runs):
    headers = {**HTMX, "HX-History-Restore-Request": "true"}

    html = text(client.get("/historico/?tarefa=stock", headers=headers))

    assert "<html" in html and '<option value="stock" selected>' in html


def test_the_history_page_takes_no_posts(client, csrf):
    response = client.post("/historico/", headers={"X-CSRFToken": csrf})

    assert response.status_code == 405


# Run details ------------------------------------------------------------------


def test_a_run_detail_lists_its_failures_and_calls(client, some_runs):
    run = some_runs[1]
    add_call("/skus/CAM-02", 400, run.id, error="EAN inválido.")
    add_call("/skus/OTHER", 200, None)

    html = text(client.get(f"/historico/execucoes/{run.id}"))

    assert f"Estoque: execução {run.id}" in html
    assert "Camiseta M" in html and "EAN inválido." in html
    assert "/skus/CAM-02" in html and "/skus/OTHER" not in html


def test_a_run_summary_is_plain_text_and_a_failure_message_an_error(client):
    done = add_run("stock", "ok", message="3 ok, 0 com falha, 0 pulados.")
    failed = add_run("orders", "failed", message="Plugg.to fora do ar.")

    done_html = text(client.get(f"/historico/execucoes/{done.id}"))
    failed_html = text(client.get(f"/historico/execucoes/{failed.id}"))

    assert '<p class="muted">3 ok, 0 com falha, 0 pulados.</p>' in done_html
    assert '<p class="run-message">Plugg.to fora do ar.</p>' in failed_html


def test_an_unknown_run_is_not_found(client):
    assert client.get("/historico/execucoes/999").status_code == 404


# API calls --------------------------------------------------------------------


def test_recent_calls_show_method_path_status_and_duration(client):
    add_call("/skus/CAM%2F01", 200, method="PUT", duration_ms=1234)
    add_call("/orders?limit=100", None, method="GET", error="Tempo esgotado.")

    page = text(client.get("/historico/"))

    calls = page[page.index('id="calls"') :]
    assert "<code>PUT</code>" in calls and "/skus/CAM%2F01" in calls
    assert "1.234 ms" in calls
    assert "sem resposta" in calls and "Tempo esgotado." in calls


def test_no_secret_is_ever_shown_in_a_call(client):
    register_secrets(["s3cr3t-token-value"])
    add_call("/orders?access_token=s3cr3t-token-value&limit=1", 200)

    page = text(client.get("/historico/"))

    assert "s3cr3t-token-value" not in page
    assert "access_token=***" in page


def test_the_calls_can_be_narrowed_to_errors(client):
    add_call("/skus/OK", 200)
    add_call("/skus/BAD", 400)

    response = client.get("/historico/chamadas?erros=1", headers=HTMX)

    html = text(response)
    assert html.lstrip().startswith('<section id="calls"')
    assert "/skus/BAD" in html and "/skus/OK" not in html


def test_the_calls_address_loaded_directly_is_the_page(client):
    assert "<html" in text(client.get("/historico/chamadas"))
