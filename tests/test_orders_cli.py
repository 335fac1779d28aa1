"""run.py orders / invoice / ship: output, exit codes, validation, pushes."""

import json
from datetime import UTC, datetime

import pytest

from dashboard.cli import cli
from dashboard.models.types import utcnow
from dashboard.orders import intake
from dashboard.pluggto.orders import parse_order
from tests.conftest import API
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
def run(app, cli_runner, monkeypatch):
    """Invoke run.py on the same data folder as the test app."""
    monkeypatch.setenv("PLUGGTO_API_URL", API)

    def invoke(*args):
        data_dir = str(app.config["DATA_DIR"])
        return cli_runner.invoke(cli, ["--data-dir", data_dir, *args])

    return invoke


@pytest.fixture
def orders(configured):
    make_product("CAM-01", quantity=10)
    for data in (
        order_json("p1", created=CREATED_BEFORE_NFE),
        order_json("h1", lines=[("XYZ", 1, "9.00")], created=CREATED_BEFORE_NFE),
    ):
        intake.ingest(parse_order(data), utcnow())


def invoice_args(**overrides) -> list[str]:
    values = {
        "--key": nfe_key(1, 1234),
        "--number": "1234",
        "--series": "1",
        "--date": "10/05/2024",
    }
    values.update(overrides)
    return [part for pair in values.items() for part in pair]


def test_orders_json_lists_status_sync_and_totals(run, orders):
    result = run("orders", "--json")

    rows = {row["pluggto_id"]: row for row in json.loads(result.stdout)}
    assert rows["p1"]["number"] == 1001
    assert rows["p1"]["status_label"] == "aprovado"
    assert rows["p1"]["total"] == "65.00"
    assert rows["h1"]["sync"] == "held"
    assert "payer_cpf" not in result.stdout and "12345678909" not in result.stdout
    assert result.exit_code == 1


def test_orders_text_output_is_in_portuguese_and_exit_0_when_all_is_well(
    run, configured
):
    make_product("CAM-01")
    intake.ingest(parse_order(order_json("p1", created=CREATED_BEFORE_NFE)), utcnow())

    result = run("orders", "--status", "approved")

    assert result.exit_code == 0
    assert "1001  p1  MercadoLivre  aprovado  envio pendente  R$ 65,00" in result.output


def test_orders_without_any_says_so(run, configured):
    result = run("orders")

    assert (result.exit_code, result.output.strip()) == (0, "Nenhum pedido.")


def test_invoice_validates_stores_and_sends_by_store_number(run, orders, api):
    mock_get(api, order_json("p1"))
    put = mock_put(api, "p1")

    result = run("invoice", "1001", *invoice_args())

    assert result.exit_code == 0, result.output
    assert "NF-e 1234 enviada ao Plugg.to." in result.output
    assert put.last_request.json()["shipments"][0]["nfe_key"] == nfe_key(1, 1234)
    assert order_of("p1").invoice_sent_at is not None


def test_invoice_refuses_bad_fields_with_pt_br_messages_and_exit_1(run, orders):
    result = run("invoice", "p1", *invoice_args(**{"--key": "123", "--series": "x"}))

    assert result.exit_code == 1
    assert "Chave: A chave deve ter 44 dígitos; esta tem 3." in result.output
    assert "Série: Use só números" in result.output
    assert order_of("p1").nfe_key is None


def test_invoice_refuses_non_ascii_digits_with_pt_br_messages(run, orders):
    key = nfe_key(1, 1234)[:43] + "²"

    result = run("invoice", "p1", *invoice_args(**{"--key": key, "--series": "¹"}))

    assert result.exit_code == 1, result.output
    assert "Chave: A chave deve ter só números (44 dígitos)." in result.output
    assert "Série: Use só números" in result.output
    assert order_of("p1").nfe_key is None


def test_invoice_for_an_order_number_in_superscript_is_not_found(run, orders):
    result = run("invoice", "1²", *invoice_args())

    assert result.exit_code == 1, result.output
    assert "Pedido 1² não encontrado" in result.output


def test_invoice_reads_the_xml(run, orders, api, tmp_path):
    mock_get(api, order_json("p1"))
    mock_put(api, "p1")
    xml = tmp_path / "nota.xml"
    xml.write_bytes(nfe_xml(nfe_key(1, 1234)))

    result = run("invoice", "p1", "--xml", str(xml))

    assert result.exit_code == 0, result.output
    assert order_of("p1").nfe_number == "1234"


def test_invoice_refuses_a_date_outside_the_keys_month(run, orders):
    result = run("invoice", "p1", *invoice_args(**{"--date": "10/06/2024"}))

    assert result.exit_code == 1
    assert (
        "Data: A chave indica emissão em 05/2024, mas a data informada é 06/2024."
        in result.output
    )
    assert order_of("p1").nfe_key is None


def test_invoice_refuses_an_xml_whose_date_disagrees_with_its_key(
    run, orders, tmp_path
):
    xml = tmp_path / "nota.xml"
    xml.write_bytes(nfe_xml(nfe_key(1, 1234), issued="2024-06-10T15:30:00-03:00"))

    result = run("invoice", "p1", "--xml", str(xml))

    assert result.exit_code == 1
    assert "Data: A chave indica emissão em 05/2024" in result.output
    assert order_of("p1").nfe_key is None


def test_invoice_refuses_a_key_already_given_to_another_order(run, orders, api):
    mock_get(api, order_json("p1"))
    mock_put(api, "p1")
    intake.ingest(parse_order(order_json("p2", created=CREATED_BEFORE_NFE)), utcnow())
    run("invoice", "p1", *invoice_args())

    result = run("invoice", "1003", *invoice_args())

    assert result.exit_code == 1
    assert "Chave: Esta chave de NF-e já foi informada no pedido 1001." in result.output
    assert order_of("p2").nfe_key is None


def test_invoice_given_twice_to_the_same_order_succeeds_both_times(run, orders, api):
    mock_get(api, order_json("p1"))
    mock_put(api, "p1")

    first = run("invoice", "p1", *invoice_args())
    second = run("invoice", "1001", *invoice_args())

    assert (first.exit_code, second.exit_code) == (0, 0), second.output
    assert "Sem mudanças" in second.output


def test_invoice_with_an_unreadable_xml_exits_1(run, orders, tmp_path):
    xml = tmp_path / "nota.xml"
    xml.write_bytes(b"<nope")

    result = run("invoice", "p1", "--xml", str(xml))

    assert result.exit_code == 1
    assert "XML:" in result.output


def test_invoice_not_accepted_by_plugg_exits_1_and_stays_for_retry(run, orders, api):
    mock_get(api, order_json("p1"))
    mock_put(api, "p1", status_code=422, json={"details": "Nota inválida"})

    result = run("invoice", "p1", *invoice_args())

    assert result.exit_code == 1
    assert "Nota inválida" in result.output
    assert "Falhas" in result.output
    assert order_of("p1").nfe_key == nfe_key(1, 1234)


def test_invoice_for_an_unknown_order_exits_1(run, orders):
    result = run("invoice", "9999", *invoice_args())

    assert result.exit_code == 1
    assert "Pedido 9999 não encontrado" in result.output


def test_invoice_for_a_held_order_is_refused(run, orders):
    result = run("invoice", "h1", *invoice_args())

    assert result.exit_code == 1
    assert "aguardando mapeamento" in result.output


def test_invoice_without_credentials_is_saved_and_exits_2(run, app):
    make_product("CAM-01")
    intake.ingest(parse_order(order_json("p1", created=CREATED_BEFORE_NFE)), utcnow())

    result = run("invoice", "p1", *invoice_args())

    assert result.exit_code == 2
    assert "Credenciais do Plugg.to incompletas" in result.output
    assert order_of("p1").nfe_key == nfe_key(1, 1234)


def test_ship_sends_tracking_with_the_correios_url(run, orders, api):
    mock_get(api, order_json("p1"))
    put = mock_put(api, "p1")
    run("invoice", "p1", *invoice_args())

    result = run("ship", "p1", "--carrier", "Correios", "--code", "AA123456789BR")

    shipment = put.last_request.json()["shipments"][0]
    assert result.exit_code == 0, result.output
    assert shipment["id"] == "ship-1"
    assert "rastreamento.correios.com.br" in shipment["track_url"]


def test_ship_before_any_nfe_is_refused_with_exit_1(run, orders):
    result = run("ship", "p1", "--carrier", "Correios", "--code", "AA123456789BR")

    assert result.exit_code == 1
    assert (
        "Informe a NF-e antes do rastreio: os marketplaces exigem a nota fiscal "
        "antes do envio." in result.output
    )
    assert order_of("p1").track_code is None


def test_ship_refuses_a_future_date(run, orders):
    result = run(
        "ship", "p1", "--carrier", "Jadlog", "--code", "X1", "--date", "01/01/2999"
    )

    assert result.exit_code == 1
    assert "Data: A data de envio não pode estar no futuro." in result.output


def test_invoice_takes_a_key_typed_with_spaces_and_dots_and_a_link(run, orders, api):
    mock_get(api, order_json("p1"))
    put = mock_put(api, "p1")
    key = nfe_key(1, 1234)
    typed = " ".join(key[i : i + 4] for i in range(0, 44, 4)).replace(" ", ".", 2)

    result = run(
        "invoice", "p1", *invoice_args(**{"--key": typed}), "--link", "https://d.br/1"
    )

    shipment = put.last_request.json()["shipments"][0]
    assert result.exit_code == 0, result.output
    assert (shipment["nfe_key"], shipment["nfe_link"]) == (key, "https://d.br/1")


def test_ship_by_store_number_sends_every_field_and_never_resends_the_same(
    run, orders, api
):
    mock_get(api, order_json("p1"))
    put = mock_put(api, "p1")
    args = ["--carrier", "Jadlog", "--code", "JD123", "--method", "Expresso"]
    args += ["--url", "https://jadlog.com.br/JD123", "--date", "02/01/2025"]
    run("invoice", "1001", *invoice_args())

    first = run("ship", "1001", *args)
    puts = put.call_count
    second = run("ship", "1001", *args)

    shipment = put.last_request.json()["shipments"][0]
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert shipment["shipping_method"] == "Expresso"
    assert shipment["track_url"] == "https://jadlog.com.br/JD123"
    assert shipment["date_shipped"] == "2025-01-02"
    assert put.call_count == puts
    assert "Sem mudanças" in second.output


def test_invoice_dated_before_the_order_exits_1_with_the_reason(run, orders):
    created = datetime(2024, 5, 12, 12, 0, tzinfo=UTC)
    intake.ingest(parse_order(order_json("p9", created=created)), utcnow())

    result = run("invoice", "p9", *invoice_args())

    assert result.exit_code == 1
    assert (
        "Data: A data de emissão não pode ser anterior à criação do pedido "
        "(12/05/2024)." in result.output
    )
    assert order_of("p9").nfe_key is None


def test_ship_dated_before_the_nfe_exits_1_with_the_reason(run, orders, api):
    mock_get(api, order_json("p1"))
    mock_put(api, "p1")
    run("invoice", "p1", *invoice_args())

    result = run(
        "ship", "p1", "--carrier", "Jadlog", "--code", "JD1", "--date", "09/05/2024"
    )

    assert result.exit_code == 1
    assert (
        "Data: A data de envio não pode ser anterior à emissão da NF-e "
        "(10/05/2024)." in result.output
    )
    assert order_of("p1").track_code is None


def test_ship_refuses_a_correios_code_out_of_format(run, orders):
    result = run("ship", "p1", "--carrier", "correios", "--code", "AA12345BR")

    assert result.exit_code == 1
    assert "Código: Código dos Correios inválido" in result.output
