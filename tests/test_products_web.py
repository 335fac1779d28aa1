"""Produtos pages: list, search, product page, upload preview and apply, export."""

import io
import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models.catalog import Product
from dashboard.models.types import utcnow
from dashboard.orders import intake
from dashboard.pluggto.orders import parse_order
from dashboard.web import products as products_web
from tests.catalog_factories import HEADER, ROWS, csv_text, import_rows, with_cell
from tests.orders_factories import make_product, order_json, stock_of


@pytest.fixture
def catalog(configured, tmp_path):
    report = import_rows(tmp_path)
    assert report.ok


def product_id(sku: str) -> int:
    return db.session.scalar(select(Product.id).where(Product.sku == sku))


def products() -> int:
    return db.session.scalar(select(func.count()).select_from(Product))


def upload(post, text: str | bytes, name="catalogo.csv", htmx=False, **fields):
    content = text.encode("utf-8") if isinstance(text, str) else text
    data = {"file": (io.BytesIO(content), name), **fields}
    return post(
        "/produtos/importar",
        data=data,
        htmx=htmx,
        content_type="multipart/form-data",
    )


def token_of(response) -> str:
    match = re.search(r"/produtos/importar/([0-9a-f]{32})", response.location or "")
    assert match, response.location
    return match.group(1)


# List -------------------------------------------------------------------------------


def test_the_list_shows_products_variations_and_their_sync_state(client, catalog):
    page = client.get("/produtos/")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>Produtos</h1>" in html
    assert "Caneca Azul" in html and "CAM-01-M" in html
    assert "R$ 29,90" in html
    assert "pendente" in html
    assert "HX-Request" in page.headers["Vary"]


def test_the_search_filters_by_sku_or_name(client, catalog):
    page = client.get("/produtos/?q=caneca")

    html = page.get_data(as_text=True)
    assert "Caneca Azul" in html
    assert "CAM-01-P" not in html


def test_an_htmx_request_gets_only_the_list_fragment(client, catalog):
    page = client.get("/produtos/?q=CAM", headers={"HX-Request": "true"})

    html = page.get_data(as_text=True)
    assert 'id="product-list"' in html
    assert "<h1>Produtos</h1>" not in html
    assert "<html" not in html


def test_an_empty_catalog_still_renders(client, configured):
    page = client.get("/produtos/")

    assert page.status_code == 200
    assert "0 produtos" in page.get_data(as_text=True)


# One product ----------------------------------------------------------------------


def test_a_product_page_shows_each_variation(client, catalog):
    page = client.get(f"/produtos/{product_id('CAM-01')}")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "CAM-01-P" in html and "CAM-01-M" in html


def test_an_unknown_product_is_404(client, catalog):
    assert client.get("/produtos/999999").status_code == 404


def test_sync_now_of_an_unknown_product_is_404(post, catalog):
    assert post("/produtos/999999/sincronizar").status_code == 404


def test_sync_now_starts_the_jobs_for_that_product(post, catalog, monkeypatch):
    started = []
    monkeypatch.setattr(
        products_web, "sync_now", lambda sku: started.append(sku) or (3, [])
    )

    response = post(f"/produtos/{product_id('CAN-01')}/sincronizar")

    assert response.status_code == 303
    assert started == ["CAN-01"]


def test_a_post_without_csrf_token_is_refused(client, catalog):
    response = client.post(f"/produtos/{product_id('CAN-01')}/sincronizar")

    assert response.status_code == 400


def test_the_list_refuses_post(client, catalog):
    assert client.post("/produtos/").status_code in (400, 405)


# Upload, preview, apply -------------------------------------------------------------


def test_an_upload_shows_a_preview_then_applies(client, post, configured):
    response = upload(post, csv_text())
    token = token_of(response)

    preview = client.get(f"/produtos/importar/{token}")
    html = preview.get_data(as_text=True)
    assert response.status_code == 303
    assert "Pronto para aplicar" in html
    assert "Novos: <strong>2</strong>" in html
    assert products() == 0

    applied = post(f"/produtos/importar/{token}/aplicar")
    assert applied.status_code == 303
    assert products() == 2
    assert client.get(f"/produtos/importar/{token}").status_code == 404


def test_an_htmx_upload_returns_the_preview_fragment(post, configured):
    response = upload(post, csv_text(), htmx=True)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="import-panel"' in html
    assert "Pronto para aplicar" in html
    assert "<h1>" not in html


def test_a_bad_file_shows_every_problem_and_no_apply_button(client, post, configured):
    rows = with_cell(ROWS, 0, "ean", "7891234567890")
    rows = with_cell(rows, 3, "quantity", "-1")
    token = token_of(upload(post, csv_text(rows=rows)))

    html = client.get(f"/produtos/importar/{token}").get_data(as_text=True)

    assert "Arquivo recusado" in html
    assert "<td>2</td><td>ean</td>" in html
    assert "<td>5</td><td>quantity</td>" in html
    assert "Aplicar importação" not in html
    assert products() == 0


def test_applying_a_bad_file_changes_nothing(post, configured):
    token = token_of(upload(post, csv_text(rows=with_cell(ROWS, 0, "sku", ""))))

    response = post(f"/produtos/importar/{token}/aplicar")

    assert response.status_code == 422
    assert products() == 0


def test_never_sent_columns_are_noticed_in_the_preview(client, post, configured):
    header = HEADER + ["ncm"]
    rows = [row + ["61091000"] for row in ROWS]
    token = token_of(upload(post, csv_text(header, rows)))

    html = client.get(f"/produtos/importar/{token}").get_data(as_text=True)

    assert "Colunas ignoradas" in html and "ncm" in html


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_binary_file_named_csv_is_refused_in_the_preview(
    client, post, configured, htmx
):
    response = upload(post, bytes(range(256)) * 20, htmx=htmx)
    if not htmx:
        response = client.get(response.location)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Arquivo recusado" in html
    assert "não é uma planilha CSV ou XLSX válida (conteúdo binário)" in html
    assert "Aplicar importação" not in html


def test_a_csv_renamed_xlsx_is_refused_in_the_preview(client, post, configured):
    token = token_of(upload(post, csv_text(), name="catalogo.xlsx"))

    html = client.get(f"/produtos/importar/{token}").get_data(as_text=True)

    assert "Não foi possível ler a planilha .xlsx" in html
    assert "Aplicar importação" not in html


def test_applying_a_binary_file_is_refused_without_error(post, configured):
    token = token_of(upload(post, bytes(range(256)) * 20))

    response = post(f"/produtos/importar/{token}/aplicar")

    assert response.status_code == 422
    assert "conteúdo binário" in response.get_data(as_text=True)
    assert products() == 0


def test_an_unsupported_file_type_is_refused_at_upload(post, configured):
    response = upload(post, "sku\n", name="catalogo.pdf")

    assert response.status_code == 422
    assert "Formato não suportado" in response.get_data(as_text=True)


def test_an_upload_without_a_file_is_refused(post, configured):
    response = post("/produtos/importar", data={}, content_type="multipart/form-data")

    assert response.status_code == 422
    assert "Escolha um arquivo" in response.get_data(as_text=True)


def test_an_upload_without_csrf_token_is_refused(client, configured):
    data = {"file": (io.BytesIO(csv_text().encode()), "catalogo.csv")}

    response = client.post(
        "/produtos/importar", data=data, content_type="multipart/form-data"
    )

    assert response.status_code == 400
    assert products() == 0


def test_an_unknown_or_malformed_upload_token_is_404(client, post, configured):
    assert client.get("/produtos/importar/" + "0" * 32).status_code == 404
    assert client.get("/produtos/importar/../../etc").status_code == 404
    assert post("/produtos/importar/" + "f" * 32 + "/aplicar").status_code == 404


# Export -------------------------------------------------------------------------------


def test_the_csv_export_downloads_the_catalog(client, catalog):
    response = client.get("/produtos/exportar?formato=csv")

    text = response.get_data().decode("utf-8-sig")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert text.splitlines()[0].startswith("sku;sku_parent;name")  # Excel pt-BR
    assert "CAM-01-M;CAM-01" in text
    assert ";59,90;" in text  # decimal comma


def test_an_unknown_export_format_is_404(client, catalog):
    assert client.get("/produtos/exportar?formato=pdf").status_code == 404


# Editing one SKU ----------------------------------------------------------------------


def shown_form(client, pid: int, index: int = 0) -> dict:
    """Return the edit form of one SKU as the product page renders it."""
    page = client.get(f"/produtos/{pid}").get_data(as_text=True)
    form = page.split(f'id="edit-{index}"', 1)[1].split("</form>", 1)[0]
    fields = dict(re.findall(r'name="(s\d+-\w+)"[^>]*value="([^"]*)"', form))
    fields.update(re.findall(r'value="([^"]*)"[^>]*name="(s\d+-\w+)"', form)[::-1])
    return {name: value for name, value in fields.items() if name.startswith("s")}


def reserve(sku: str, quantity: int) -> None:
    """Import an order that takes stock while the merchant looks at the page."""
    intake.ingest(
        parse_order(order_json("p1", lines=[(sku, quantity, "50.00")])), utcnow()
    )


def test_the_edit_form_carries_the_stock_it_showed(client, configured):
    pid = make_product("CAM-01", quantity=10).id

    form = shown_form(client, pid)

    assert form["s0-quantity"] == "10"
    assert form["s0-shown_quantity"] == "10"


def test_saving_a_price_keeps_stock_an_order_reserved_meanwhile(
    client, post, configured
):
    pid = make_product("CAM-01", quantity=10).id
    form = shown_form(client, pid)
    reserve("CAM-01", 3)

    response = post(f"/produtos/{pid}/editar/0", {**form, "s0-price": "45,00"})

    assert response.status_code == 303
    assert stock_of("CAM-01") == 7
    assert db.session.get(Product, pid).price == Decimal("45.00")


def test_a_new_stock_over_a_moved_one_is_refused_and_nothing_is_saved(
    client, post, configured
):
    pid = make_product("CAM-01", quantity=10).id
    form = shown_form(client, pid)
    reserve("CAM-01", 3)

    response = post(
        f"/produtos/{pid}/editar/0",
        {**form, "s0-price": "45,00", "s0-quantity": "12"},
        htmx=True,
    )

    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "O estoque de CAM-01 mudou para 7 enquanto você editava" in text
    assert 'value="7"' in text  # the form now starts from the current stock
    assert stock_of("CAM-01") == 7
    assert db.session.get(Product, pid).price == Decimal("50.00")


def test_a_new_stock_over_an_unmoved_one_is_saved(client, post, configured):
    pid = make_product("CAM-01", quantity=10).id
    form = shown_form(client, pid)

    response = post(f"/produtos/{pid}/editar/0", {**form, "s0-quantity": "4"})

    assert response.status_code == 303
    assert stock_of("CAM-01") == 4


def test_a_bad_price_comes_back_next_to_the_field_for_htmx(client, post, configured):
    pid = make_product("CAM-01").id
    form = shown_form(client, pid)

    response = post(f"/produtos/{pid}/editar/0", {**form, "s0-price": "abc"}, htmx=True)

    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert text.lstrip().startswith('<form id="edit-0"')
    assert 'id="s0-price-error"' in text
    assert db.session.get(Product, pid).price == Decimal("50.00")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("price", "99999999999999999999", "Valor acima do máximo de 99.999.999,99."),
        ("price", "100.000.000,00", "Valor acima do máximo de 99.999.999,99."),
        ("special_price", "1" + "0" * 30, "Valor acima do máximo de 99.999.999,99."),
        (
            "quantity",
            "99999999999999999999",
            "Estoque acima do máximo de 1.000.000.000.",
        ),
    ],
)
def test_a_huge_number_comes_back_next_to_its_field(
    client, post, configured, field, value, expected
):
    pid = make_product("CAM-01", quantity=10).id
    form = shown_form(client, pid)

    response = post(f"/produtos/{pid}/editar/0", {**form, f"s0-{field}": value})

    assert response.status_code == 422
    assert expected in response.get_data(as_text=True)
    assert db.session.get(Product, pid).price == Decimal("50.00")
    assert stock_of("CAM-01") == 10


def test_a_file_with_a_huge_price_is_refused_in_the_preview(client, post, configured):
    rows = with_cell(ROWS, 0, "price", "99999999999999999999999.99")
    rows = with_cell(rows, 1, "quantity", "99999999999999999999")
    token = token_of(upload(post, csv_text(rows=rows)))

    html = client.get(f"/produtos/importar/{token}").get_data(as_text=True)
    applied = post(f"/produtos/importar/{token}/aplicar")

    assert "Pronto para aplicar" not in html
    assert "valor acima do máximo de 99.999.999,99" in html
    assert "estoque acima do máximo de 1.000.000.000" in html
    assert applied.status_code == 422
    assert products() == 0


def test_a_bad_number_on_the_product_page_speaks_of_no_file(client, post, configured):
    pid = make_product("CAM-01", quantity=10).id
    form = shown_form(client, pid)

    response = post(f"/produtos/{pid}/editar/0", {**form, "s0-quantity": "muitos"})

    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Número inválido: &#39;muitos&#39;." in text
    assert "arquivo" not in text.split('id="s0-quantity-error"', 1)[1][:200]


def test_editing_an_unknown_sku_index_is_404(post, configured):
    pid = make_product("CAM-01").id

    assert post(f"/produtos/{pid}/editar/5", {"s5-price": "1,00"}).status_code == 404


def test_an_edit_without_csrf_token_is_refused(client, configured):
    pid = make_product("CAM-01").id

    response = client.post(f"/produtos/{pid}/editar/0", data={"s0-price": "1,00"})

    assert response.status_code == 400


def test_pages_let_htmx_swap_409_and_422_answers(client, configured):
    page = client.get("/produtos/").get_data(as_text=True)

    config = re.search(r'name="htmx-config" content=\'([^\']+)\'', page).group(1)
    rules = json.loads(config)["responseHandling"]

    def swaps(status: int) -> bool:
        rule = next(r for r in rules if re.search(r["code"], str(status)))
        return rule["swap"]

    assert swaps(422) and swaps(409) and swaps(200)
    assert not swaps(400) and not swaps(500) and not swaps(204)


def test_a_fractional_stock_says_it_must_be_whole(client, post, configured):
    pid = make_product("CAM-01").id
    form = shown_form(client, pid)

    response = post(f"/produtos/{pid}/editar/0", {**form, "s0-quantity": "1,5"})

    assert response.status_code == 422
    assert "O estoque deve ser um número inteiro." in response.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["1.000", "1,000"])
def test_a_stock_of_a_thousand_with_a_separator_is_a_thousand(
    client, post, configured, typed
):
    pid = make_product("CAM-01", quantity=10).id
    form = shown_form(client, pid)

    response = post(f"/produtos/{pid}/editar/0", {**form, "s0-quantity": typed})

    assert response.status_code == 303
    assert stock_of("CAM-01") == 1000
