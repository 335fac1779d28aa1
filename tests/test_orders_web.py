"""Pedidos: list, filters, order page, NF-e and tracking forms, retry."""

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models.sync import SyncItem
from dashboard.models.types import utcnow
from dashboard.orders import intake
from dashboard.pluggto.orders import parse_order
from tests.orders_factories import (
    CREATED_BEFORE_NFE,
    make_product,
    mock_get,
    mock_put,
    nfe_key,
    order_json,
    order_of,
)
from tests.test_nfe import nfe_xml


@pytest.fixture
def orders(configured):
    make_product("CAM-01", quantity=10)
    for pid, status, channel in (
        ("p1", "approved", "MercadoLivre"),
        ("p2", "pending", "Amazon"),
        ("p3", "approved", "Amazon"),
    ):
        data = order_json(
            pid, status=status, channel=channel, created=CREATED_BEFORE_NFE
        )
        intake.ingest(parse_order(data), utcnow())
    p4 = order_json("p4", total=1.0, created=CREATED_BEFORE_NFE)
    intake.ingest(parse_order(p4), utcnow())


def body(response) -> str:
    return response.get_data(as_text=True)


def invoice_form(**overrides) -> dict:
    data = {
        "key": nfe_key(1, 1234),
        "number": "1234",
        "series": "1",
        "issued_at": "2024-05-10T15:30",  # Brasília time, the key's month
        "link": "",
    }
    data.update(overrides)
    return data


def item_state(kind: str, key: str) -> str | None:
    db.session.expire_all()
    return db.session.scalar(
        select(SyncItem.state).where(SyncItem.kind == kind, SyncItem.key == key)
    )


# List ----------------------------------------------------------------------


def test_the_list_shows_store_number_marketplace_buyer_total_and_badges(client, orders):
    page = body(client.get("/pedidos/"))

    assert "1001" in page and "p1" in page
    assert "MercadoLivre" in page
    assert "Maria" in page and "Souza" not in page
    assert "R$ 65,00" in page
    assert "aprovado" in page and "pendente" in page
    assert "envio pendente" in page


def test_the_list_filters_by_status(client, orders):
    page = body(client.get("/pedidos/?status=pending"))

    assert 'id="order-1002"' in page
    assert 'id="order-1001"' not in page


def test_the_list_filters_by_marketplace(client, orders):
    page = body(client.get("/pedidos/?marketplace=Amazon"))

    assert 'id="order-1002"' in page and 'id="order-1003"' in page
    assert 'id="order-1001"' not in page


def test_the_list_filters_orders_that_need_attention(client, orders):
    page = body(client.get("/pedidos/?atencao=1"))

    assert 'id="order-1004"' in page
    assert 'id="order-1001"' not in page
    assert "totais não conferem" in page


def test_the_list_filters_orders_awaiting_their_nfe(client, orders):
    page = body(client.get("/pedidos/?etapa=nfe"))

    assert 'id="order-1001"' in page
    assert 'id="order-1002"' not in page  # pending: no NF-e expected yet
    assert '<option value="nfe" selected>Aguardando NF-e</option>' in page


def test_an_unknown_step_filters_nothing(client, orders):
    page = body(client.get("/pedidos/?etapa=qualquer"))

    assert 'id="order-1001"' in page and 'id="order-1002"' in page


def test_the_list_has_its_own_sync_button(client, orders):
    page = body(client.get("/pedidos/"))

    assert 'action="/sincronizar/orders"' in page
    assert 'name="voltar" value="pedidos"' in page


def test_an_htmx_filter_returns_only_the_list(client, orders):
    response = client.get("/pedidos/?status=pending", headers={"HX-Request": "true"})

    assert body(response).startswith('<div id="orders-list">')
    assert "<html" not in body(response)
    assert "HX-Request" in response.headers["Vary"]


def test_the_list_is_paginated(client, orders, monkeypatch):
    from dashboard.orders import queries

    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    monkeypatch.setattr(queries.order_page, "__defaults__", (2,))

    first = body(client.get("/pedidos/"))
    second = body(client.get("/pedidos/?pagina=2"))

    assert "Página 1 de 2" in first and 'id="order-1004"' in first
    assert 'id="order-1001"' in second and 'id="order-1004"' not in second


def test_an_empty_list_says_so(client, configured):
    assert "Nenhum pedido importado ainda" in body(client.get("/pedidos/"))


# Order page ----------------------------------------------------------------


def test_the_order_page_shows_items_totals_delivery_and_timeline(client, orders):
    page = body(client.get("/pedidos/p1"))

    assert "Pedido 1001" in page
    assert "CAM-01" in page and "R$ 50,00" in page
    assert "Rua das Flores" in page and "CEP 01001-000" in page
    assert "Cartão de crédito em 3x" in page
    assert "Pedido importado do Plugg.to" in page


def test_payment_codes_are_shown_with_their_pt_br_names(client, configured):
    make_product("CAM-01")
    payments = [
        {
            "payment_method": "credit_card",
            "payment_installments": "10",
            "payment_total": 178.8,
        },
        {"payment_method": "bank_slip", "payment_installments": "1"},
        {"payment_type": "debit_card"},
        {"payment_method": "crypto_wallet", "payment_total": 5},
    ]
    data = order_json("p1", payments=payments)
    intake.ingest(parse_order(data), utcnow())

    page = body(client.get("/pedidos/p1"))

    assert "<li>Cartão de crédito em 10x: R$ 178,80</li>" in page
    assert "<li>Boleto em 1x</li>" in page
    assert "<li>Cartão de débito</li>" in page
    assert "<li>crypto_wallet: R$ 5,00</li>" in page
    assert "credit_card" not in page and "bank_slip" not in page


def test_the_order_page_never_shows_the_full_cpf_or_email(client, orders):
    page = body(client.get("/pedidos/p1"))

    assert "123.456.789-09" not in page and "12345678909" not in page
    assert "***.456.789-**" in page
    assert "maria@example.com" not in page and "m***@example.com" in page


def test_the_order_page_warns_of_a_totals_mismatch(client, orders):
    page = body(client.get("/pedidos/p4"))

    assert "Os totais não conferem" in page


def test_the_order_page_is_found_by_store_number(client, orders):
    assert "Pedido 1002" in body(client.get("/pedidos/1002"))


def test_an_unknown_order_is_404(client, orders):
    assert client.get("/pedidos/nao-existe").status_code == 404


def test_an_order_number_with_a_superscript_digit_is_404(client, orders):
    assert client.get("/pedidos/1²").status_code == 404


def test_an_order_that_failed_to_import_has_a_page_with_its_reason(client, configured):
    from dashboard.orders.jobs import _record_bad_data

    class Quiet:
        def failed(self, *args):
            pass

    _record_bad_data(
        Quiet(), {"id": "bad1", "channel": "Shopee"}, ValueError("x"), utcnow()
    )

    page = body(client.get("/pedidos/bad1"))

    assert "ainda não foi importado" in page
    assert "Pedido com dados inválidos" in page


def test_a_held_order_shows_its_reason_and_no_forms(client, configured):
    intake.ingest(parse_order(order_json("h1", lines=[("XYZ", 1, "10.00")])), utcnow())

    page = body(client.get("/pedidos/h1"))

    assert "Aguardando mapeamento: SKU XYZ desconhecido" in page
    assert "Salvar e enviar NF-e" not in page
    assert "Tentar novamente" in page


# Invoice -------------------------------------------------------------------


def test_a_bad_invoice_shows_pt_br_errors_next_to_the_fields(post, orders):
    response = post("/pedidos/p1/nfe", invoice_form(key="123", number="99"))

    page = body(response)
    assert response.status_code == 422
    assert 'id="key-error"' in page and "44 dígitos" in page
    assert order_of("p1").nfe_key is None


def test_non_ascii_digits_in_the_invoice_are_field_errors_not_a_500(post, orders):
    key = nfe_key(1, 1234)[:43] + "²"

    response = post("/pedidos/p1/nfe", invoice_form(key=key, number="١٢٣٤"))

    page = body(response)
    assert response.status_code == 422
    assert 'id="key-error">A chave deve ter só números (44 dígitos).' in page
    assert 'id="number-error">Use só números, até 9 dígitos.' in page
    assert order_of("p1").nfe_key is None


def test_a_series_mismatch_is_shown_next_to_the_series(post, orders):
    page = body(post("/pedidos/p1/nfe", invoice_form(series="2")))

    assert 'id="series-error">Não confere com a chave, que indica a série 1.' in page


def test_an_invoice_is_saved_sent_and_redirected(post, orders, api):
    mock_get(api, order_json("p1"))
    put = mock_put(api, "p1")

    response = post(
        "/pedidos/p1/nfe", invoice_form(key=" 3524." + nfe_key(1, 1234)[4:])
    )

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/pedidos/p1")
    assert put.last_request.json()["shipments"][0]["id"] == "ship-1"
    assert order_of("p1").invoice_sent_at is not None
    assert item_state("invoice", "p1") == "ok"


def test_an_invoice_sent_through_htmx_returns_the_order_fragment(post, orders, api):
    mock_get(api, order_json("p1"))
    mock_put(api, "p1")

    response = post("/pedidos/p1/nfe", invoice_form(), htmx=True)

    page = body(response)
    assert response.status_code == 200
    assert page.startswith('<div id="order-detail">')
    assert "NF-e enviada" in page
    assert 'hx-swap-oob="true"' in page


def test_a_failed_invoice_push_is_saved_and_shown_with_retry(post, client, orders, api):
    mock_get(api, order_json("p1"))
    mock_put(api, "p1", status_code=422, json={"details": "NF-e recusada"})

    post("/pedidos/p1/nfe", invoice_form())
    page = body(client.get("/pedidos/p1"))

    assert order_of("p1").nfe_key == nfe_key(1, 1234)
    assert item_state("invoice", "p1") == "failed"
    assert "NF-e recusada" in page
    assert "Tentar novamente" in page


def test_retry_sends_a_failed_invoice_again(post, orders, api):
    mock_get(api, order_json("p1"))
    mock_put(api, "p1", status_code=500, json={})
    post("/pedidos/p1/nfe", invoice_form())
    mock_put(api, "p1")

    response = post("/pedidos/p1/tentar", htmx=True)

    assert response.status_code == 200
    assert item_state("invoice", "p1") == "ok"
    assert "NF-e 1234 enviada ao Plugg.to." in body(response)


def give_key(pluggto_id: str, key: str) -> None:
    order = order_of(pluggto_id)
    order.nfe_key = key
    db.session.commit()


def test_a_key_already_on_another_order_is_refused_next_to_the_key(post, orders):
    give_key("p4", nfe_key(1, 1234))

    response = post("/pedidos/p3/nfe", invoice_form(), htmx=True)

    page = body(response)
    assert response.status_code == 409
    assert page.startswith('<div id="order-detail">')
    assert 'id="key-error">Esta chave de NF-e já foi informada no pedido 1004.' in page
    assert 'value="1234"' in page  # what was typed is kept
    assert order_of("p3").nfe_key is None


def test_saving_the_same_key_again_on_the_same_order_still_works(post, orders, api):
    mock_get(api, order_json("p1"))
    put = mock_put(api, "p1")
    post("/pedidos/p1/nfe", invoice_form())
    puts = put.call_count

    response = post("/pedidos/p1/nfe", invoice_form(), htmx=True)

    assert response.status_code == 200
    assert "Sem mudanças" in body(response)
    assert put.call_count == puts
    assert order_of("p1").nfe_key == nfe_key(1, 1234)


def test_an_xml_with_a_key_already_on_another_order_is_flagged_on_upload(post, orders):
    give_key("p4", nfe_key(1, 1234))

    response = post(
        "/pedidos/p3/nfe/xml",
        {"xml": (io.BytesIO(nfe_xml(nfe_key(1, 1234))), "nota.xml")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    assert "já foi informada no pedido 1004" in body(response)
    assert order_of("p3").nfe_key is None


def test_the_xml_upload_fills_the_invoice_form(post, orders):
    xml = nfe_xml(nfe_key(1, 1234))

    response = post(
        "/pedidos/p1/nfe/xml",
        {"xml": (io.BytesIO(xml), "nota.xml")},
        content_type="multipart/form-data",
    )

    page = body(response)
    assert response.status_code == 200
    assert f'value="{nfe_key(1, 1234)}"' in page
    assert 'value="2024-05-10T15:30"' in page
    assert order_of("p1").nfe_key is None


def test_a_date_outside_the_keys_month_is_shown_next_to_the_date(post, orders):
    response = post("/pedidos/p1/nfe", invoice_form(issued_at="2024-06-10T15:30"))

    page = body(response)
    assert response.status_code == 422
    assert (
        'id="issued_at-error">A chave indica emissão em 05/2024, mas a data '
        "informada é 06/2024." in page
    )
    assert order_of("p1").nfe_key is None


def test_an_xml_whose_date_disagrees_with_its_key_is_flagged_on_upload(post, orders):
    xml = nfe_xml(nfe_key(1, 1234), issued="2024-06-10T15:30:00-03:00")

    response = post(
        "/pedidos/p1/nfe/xml",
        {"xml": (io.BytesIO(xml), "nota.xml")},
        content_type="multipart/form-data",
        htmx=True,
    )

    page = body(response)
    assert response.status_code == 422
    assert f'value="{nfe_key(1, 1234)}"' in page
    assert 'id="issued_at-error">A chave indica emissão em 05/2024' in page
    assert order_of("p1").nfe_key is None


def test_a_bad_xml_upload_shows_the_error_next_to_the_file_field(post, orders):
    response = post(
        "/pedidos/p1/nfe/xml",
        {"xml": (io.BytesIO(b"<oops"), "nota.xml")},
        content_type="multipart/form-data",
        htmx=True,
    )

    assert response.status_code == 422
    assert body(response).startswith('<div id="order-detail">')
    assert 'id="xml-error"' in body(response)


def test_an_xml_upload_without_file_asks_for_one(post, orders):
    response = post("/pedidos/p1/nfe/xml", content_type="multipart/form-data")

    assert response.status_code == 422
    assert "Escolha o arquivo XML" in body(response)


# Tracking ------------------------------------------------------------------


def test_tracking_errors_are_shown_next_to_the_fields(post, orders):
    response = post("/pedidos/p1/rastreio", {"carrier": "", "code": "", "url": "x"})

    page = body(response)
    assert response.status_code == 422
    assert "Informe a transportadora." in page
    assert "Informe o código de rastreio." in page
    assert 'id="url-error"' in page


def test_a_correios_code_is_sent_with_the_correios_url(post, orders, api):
    mock_get(api, order_json("p1"))
    put = mock_put(api, "p1")
    post("/pedidos/p1/nfe", invoice_form())

    response = post(
        "/pedidos/p1/rastreio",
        {"carrier": "Correios", "method": "PAC", "code": "aa123456789br"},
    )

    shipment = put.last_request.json()["shipments"][0]
    assert response.status_code == 303
    assert shipment["track_code"] == "AA123456789BR"
    assert shipment["track_url"].endswith("AA123456789BR")
    assert order_of("p1").status == "shipped"


def plugg_to_status(page: str) -> str:
    return page.split("<dt>Status no Plugg.to</dt><dd>")[1].split("</dd>")[0]


def test_the_plugg_to_status_follows_the_accepted_nfe_and_tracking(
    post, client, orders, api
):
    mock_get(api, order_json("p1"))
    mock_put(api, "p1")
    before = body(client.get("/pedidos/p1"))

    post("/pedidos/p1/nfe", invoice_form())
    invoiced = body(client.get("/pedidos/p1"))
    post("/pedidos/p1/rastreio", {"carrier": "Jadlog", "code": "JD1"})
    shipped = body(client.get("/pedidos/p1"))

    assert plugg_to_status(before) == "aprovado"
    assert plugg_to_status(invoiced) == "faturado"
    assert plugg_to_status(shipped) == "envio informado"


def test_tracking_before_any_nfe_is_refused_in_the_tracking_form(post, orders):
    response = post(
        "/pedidos/p1/rastreio", {"carrier": "Jadlog", "code": "JD1"}, htmx=True
    )

    page = body(response)
    assert response.status_code == 409
    assert page.startswith('<div id="order-detail">')
    assert (
        'id="tracking-form-error">Informe a NF-e antes do rastreio: os marketplaces '
        "exigem a nota fiscal antes do envio." in page
    )
    assert 'value="JD1"' in page  # what was typed is kept
    assert order_of("p1").track_code is None
    assert item_state("tracking", "p1") is None


def test_tracking_before_any_nfe_without_htmx_shows_the_page_with_the_error(
    post, orders
):
    response = post("/pedidos/p1/rastreio", {"carrier": "Jadlog", "code": "JD1"})

    assert response.status_code == 409
    assert "<html" in body(response)
    assert 'id="tracking-form-error"' in body(response)


def test_the_tracking_form_says_the_nfe_comes_first(client, orders):
    page = body(client.get("/pedidos/p1"))

    assert "Informe a NF-e antes do rastreio" in page
    assert 'id="tracking-form-error"' not in page


def test_a_canceled_order_refuses_invoice_and_tracking(post, orders):
    intake.ingest(parse_order(order_json("p1", status="canceled")), utcnow())

    response = post("/pedidos/p1/nfe", invoice_form(), htmx=True)

    assert response.status_code == 409
    assert "Pedido cancelado" in body(response)
    assert order_of("p1").nfe_key is None


def test_an_nfe_dated_before_the_order_is_refused_next_to_the_date(post, orders):
    created = datetime(2024, 5, 12, 12, 0, tzinfo=UTC)
    intake.ingest(parse_order(order_json("p9", created=created)), utcnow())

    response = post("/pedidos/p9/nfe", invoice_form(), htmx=True)

    assert response.status_code == 409
    assert (
        'id="issued_at-error">A data de emissão não pode ser anterior à criação '
        "do pedido (12/05/2024)." in body(response)
    )
    assert order_of("p9").nfe_key is None


def test_an_xml_dated_before_the_order_is_flagged_on_upload(post, orders):
    created = datetime(2024, 5, 12, 12, 0, tzinfo=UTC)
    intake.ingest(parse_order(order_json("p9", created=created)), utcnow())
    xml = nfe_xml(nfe_key(1, 1234))

    response = post(
        "/pedidos/p9/nfe/xml",
        {"xml": (io.BytesIO(xml), "nota.xml")},
        content_type="multipart/form-data",
    )

    assert response.status_code == 422
    assert "anterior à criação do pedido (12/05/2024)" in body(response)


def test_a_ship_date_before_the_nfe_is_refused_next_to_the_date(post, orders, api):
    mock_get(api, order_json("p1"))
    mock_put(api, "p1")
    post("/pedidos/p1/nfe", invoice_form())

    response = post(
        "/pedidos/p1/rastreio",
        {"carrier": "Jadlog", "code": "JD1", "shipped_on": "2024-05-09"},
    )

    assert response.status_code == 409
    assert (
        'id="shipped_on-error">A data de envio não pode ser anterior à emissão '
        "da NF-e (10/05/2024)." in body(response)
    )
    assert order_of("p1").track_code is None


def test_a_correios_code_out_of_format_is_refused_next_to_the_code(post, orders):
    response = post("/pedidos/p1/rastreio", {"carrier": " correios ", "code": "AB1BR"})

    assert response.status_code == 422
    assert (
        'id="code-error">Código dos Correios inválido: use 2 letras, 9 números e '
        "2 letras, como AA123456789BR." in body(response)
    )


# NF-e reversal -------------------------------------------------------------


REVERSED = "NF-e marcada como cancelada/estornada pelo lojista."


@pytest.fixture
def reversal(post, orders, api):
    """p1 invoiced, then canceled on Plugg.to: its NF-e must be reversed."""
    mock_get(api, order_json("p1"))
    mock_put(api, "p1")
    post("/pedidos/p1/nfe", invoice_form())
    canceled = order_json("p1", status="canceled", created=CREATED_BEFORE_NFE)
    intake.ingest(parse_order(canceled), utcnow())


def test_the_reversal_alert_offers_to_mark_the_nfe_reversed(client, reversal):
    page = body(client.get("/pedidos/p1"))

    assert 'id="order-reversal"' in page
    assert 'action="/pedidos/p1/nfe/estornada"' in page
    assert "Já cancelei/estornei a NF-e" in page


def test_marking_the_nfe_reversed_clears_the_alert_and_redirects(
    post, client, reversal
):
    response = post("/pedidos/p1/nfe/estornada")

    page = body(client.get("/pedidos/p1"))
    assert response.status_code == 303
    assert 'id="order-reversal"' not in page
    assert REVERSED in page
    assert order_of("p1").needs_reversal is False


def test_marking_the_nfe_reversed_through_htmx_returns_the_order(post, reversal):
    response = post("/pedidos/p1/nfe/estornada", htmx=True)

    page = body(response)
    assert response.status_code == 200
    assert page.startswith('<div id="order-detail">')
    assert "Já cancelei/estornei a NF-e" not in page
    assert REVERSED in page


def test_marking_the_nfe_reversed_twice_adds_one_timeline_entry(post, reversal):
    post("/pedidos/p1/nfe/estornada")

    response = post("/pedidos/p1/nfe/estornada")

    messages = [event.message for event in order_of("p1").events]
    assert response.status_code == 303
    assert messages.count(REVERSED) == 1


def test_an_order_with_its_nfe_reversed_no_longer_needs_attention(
    post, client, reversal
):
    before = body(client.get("/pedidos/?atencao=1"))

    post("/pedidos/p1/nfe/estornada")

    after = body(client.get("/pedidos/?atencao=1"))
    assert 'href="/pedidos/p1"' in before
    assert 'href="/pedidos/p1"' not in after


# Negatives -----------------------------------------------------------------


ACTIONS = ["nfe", "nfe/xml", "nfe/estornada", "rastreio", "tentar"]


@pytest.mark.parametrize("action", ACTIONS)
def test_a_post_without_csrf_is_refused(client, orders, action):
    response = client.post(f"/pedidos/p1/{action}", data=invoice_form())

    assert response.status_code == 400
    assert order_of("p1").nfe_key is None


@pytest.mark.parametrize("action", ACTIONS)
def test_the_action_urls_refuse_get(client, orders, action):
    assert client.get(f"/pedidos/p1/{action}").status_code == 405


@pytest.mark.parametrize("path", ["/pedidos/", "/pedidos/p1"])
def test_the_list_and_the_order_page_refuse_post(post, orders, path):
    assert post(path).status_code == 405


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_on_an_unknown_order_are_404(post, orders, action):
    assert post(f"/pedidos/zz/{action}", invoice_form()).status_code == 404


def test_an_htmx_request_for_the_order_page_gets_only_the_order(client, orders):
    response = client.get("/pedidos/p1", headers={"HX-Request": "true"})

    assert body(response).startswith('<div id="order-detail">')
    assert "<html" not in body(response)
    assert "HX-Request" in response.headers["Vary"]


def test_an_htmx_history_restore_gets_the_full_page(client, orders):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}

    response = client.get("/pedidos/p1", headers=headers)

    assert "<html" in body(response)


def test_htmx_field_errors_come_back_as_a_fragment_htmx_will_swap(post, orders):
    response = post("/pedidos/p1/nfe", invoice_form(key="123"), htmx=True)

    assert response.status_code == 422  # base.html tells htmx to swap it
    assert body(response).startswith('<div id="order-detail">')
    assert 'id="key-error"' in body(response)


def test_retry_without_htmx_redirects_with_303(post, orders, api):
    mock_put(api, "p1")

    response = post("/pedidos/p1/tentar")

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/pedidos/p1")


def test_tracking_through_htmx_returns_the_order_fragment(post, orders, api):
    mock_get(api, order_json("p1"))
    mock_put(api, "p1")
    post("/pedidos/p1/nfe", invoice_form())

    response = post(
        "/pedidos/p1/rastreio", {"carrier": "Jadlog", "code": "JD1"}, htmx=True
    )

    assert body(response).startswith('<div id="order-detail">')
    assert "rastreio enviado" in body(response)


def test_an_unknown_status_is_shown_as_it_came(client, orders):
    intake.ingest(parse_order(order_json("p5", status="em_disputa")), utcnow())

    listing = body(client.get("/pedidos/?status=em_disputa"))
    page = body(client.get("/pedidos/p5"))

    assert 'id="order-1005"' in listing and 'id="order-1001"' not in listing
    assert "em_disputa" in page


def test_a_pending_order_waits_for_payment_before_invoice(post, client, orders):
    page = body(client.get("/pedidos/p2"))

    response = post("/pedidos/p2/nfe", invoice_form())

    assert "Pedido aguardando pagamento" in page
    assert "Salvar e enviar NF-e" not in page
    assert response.status_code == 303
    assert order_of("p2").nfe_key is None


def test_tracking_saved_after_a_failed_invoice_says_it_waits(post, orders, api):
    mock_get(api, order_json("p1"))
    mock_put(api, "p1", status_code=422, json={"details": "NF-e recusada"})
    post("/pedidos/p1/nfe", invoice_form())

    response = post(
        "/pedidos/p1/rastreio", {"carrier": "Jadlog", "code": "JD1"}, htmx=True
    )

    assert "depois que o Plugg.to aceitar a NF-e" in body(response)
    assert item_state("tracking", "p1") == "pending"


def test_held_orders_and_failed_pushes_are_listed_in_falhas(post, client, orders, api):
    intake.ingest(parse_order(order_json("h1", lines=[("XYZ", 1, "10.00")])), utcnow())
    mock_get(api, order_json("p1"))
    mock_put(api, "p1", status_code=422, json={"details": "NF-e recusada"})
    post("/pedidos/p1/nfe", invoice_form())

    page = body(client.get("/falhas/"))

    assert "Importação de pedido" in page
    assert "Aguardando mapeamento: SKU XYZ desconhecido" in page
    assert "NF-e recusada" in page and "Pedido 1001 · MercadoLivre" in page
