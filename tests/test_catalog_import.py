"""Catalog import: file dialects, all-or-nothing validation, counts, export."""

import gzip
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from dashboard.catalog import spreadsheet
from dashboard.catalog.exporter import export_catalog
from dashboard.catalog.importer import apply_import, preview_import
from dashboard.extensions import db
from dashboard.models.catalog import Product, Variation
from dashboard.models.orders import Order
from dashboard.models.sync import SyncItem
from dashboard.models.types import utcnow
from dashboard.orders import intake
from dashboard.pluggto.orders import parse_order
from tests.catalog_factories import (
    HEADER,
    ROWS,
    csv_text,
    import_rows,
    with_cell,
    write_csv,
    write_xlsx,
)
from tests.orders_factories import order_json


@pytest.fixture
def store(configured):
    return configured


def product(sku: str) -> Product:
    db.session.expire_all()
    return db.session.scalar(select(Product).where(Product.sku == sku))


def variation(sku: str) -> Variation:
    db.session.expire_all()
    return db.session.scalar(select(Variation).where(Variation.sku == sku))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def problems(report) -> list[str]:
    return [str(problem) for problem in report.problems]


# Dialects -------------------------------------------------------------------------


def test_a_comma_separated_utf8_file_imports_every_field(store, tmp_path):
    report = import_rows(tmp_path)

    assert report.ok, problems(report)
    assert (report.products, report.skus, report.new) == (2, 4, 2)
    mug = product("CAN-01")
    assert mug.name == "Caneca Azul"
    assert mug.price == Decimal("29.90")
    assert mug.ean == "7891234567895"
    assert mug.quantity == 10
    assert (mug.weight_g, mug.length_mm, mug.width_mm, mug.height_mm) == (
        350,
        120,
        90,
        100,
    )
    assert mug.categories == ["Casa > Cozinha"]
    assert mug.photos == ["https://img.loja.com.br/can-01.jpg"]
    shirt = product("CAM-01")
    assert [v.sku for v in shirt.variations] == ["CAM-01-P", "CAM-01-M"]
    assert shirt.variations[0].attributes == [["Tamanho", "P"]]
    assert shirt.variations[1].quantity == 0


def brazilian(rows) -> list[list]:
    """Return rows with every decimal point written as a comma."""
    return [[str(cell).replace(".", ",") for cell in row] for row in rows]


def test_a_brazilian_excel_file_with_semicolons_and_latin1_is_read(store, tmp_path):
    rows = with_cell(brazilian(ROWS), 0, "name", "Caneca Coração")
    rows = with_cell(rows, 0, "price", "1.299,90")
    rows = with_cell(rows, 1, "special_price", "49,9")
    path = write_csv(tmp_path, rows=rows, delimiter=";", encoding="cp1252")

    report = apply_import(path)

    assert report.ok, problems(report)
    assert product("CAN-01").name == "Caneca Coração"
    assert product("CAN-01").price == Decimal("1299.90")
    assert product("CAN-01").weight_g == 350
    assert product("CAM-01").special_price == Decimal("49.90")


def test_a_utf8_file_with_bom_keeps_the_first_column_name(store, tmp_path):
    rows = with_cell(ROWS, 0, "name", "Caneca Coração")
    path = write_csv(tmp_path, rows=rows, delimiter=";", encoding="utf-8-sig")

    report = apply_import(path)

    assert report.ok, problems(report)
    assert product("CAN-01").name == "Caneca Coração"


def test_a_plain_file_reads_thousands_commas_and_decimal_points(store, tmp_path):
    rows = with_cell(ROWS, 0, "price", '"1,299.90"')

    report = import_rows(tmp_path, rows)

    assert report.ok, problems(report)
    assert product("CAN-01").price == Decimal("1299.90")


def test_a_brazilian_weight_decides_the_format_when_prices_are_whole(store, tmp_path):
    rows = [with_cell([row], 0, "price", "30")[0] for row in ROWS]
    rows = with_cell(rows, 0, "weight", "0,350")
    rows = with_cell(rows, 1, "weight", "1.200")
    rows = with_cell(rows, 1, "special_price", "")

    report = apply_import(write_csv(tmp_path, rows=rows, delimiter=";"))

    assert report.ok, problems(report)
    assert product("CAN-01").weight_g == 350
    assert product("CAM-01").weight_g == 1_200_000


PLAIN_FILE = "o arquivo usa o formato com ponto decimal, como 1299.90"
BRAZILIAN_FILE = "o arquivo usa o formato brasileiro, como 1.299,90"


def test_the_number_format_is_chosen_per_file_not_per_cell(store, tmp_path):
    rows = with_cell(ROWS, 0, "price", "29,90")
    rows = with_cell(rows, 1, "price", "59.90")
    path = write_csv(tmp_path, rows=rows, delimiter=";")

    report = apply_import(path)

    assert problems(report) == [
        "Linha 2, coluna price: número em formato diferente do restante do "
        f"arquivo: '29,90' ({PLAIN_FILE})"
    ]
    assert product("CAN-01") is None


def test_one_brazilian_price_in_a_plain_file_is_the_only_problem(store, tmp_path):
    rows = with_cell(ROWS, 2, "price", '"R$ 32,90"')

    report = import_rows(tmp_path, rows)

    assert problems(report) == [
        "Linha 4, coluna price: número em formato diferente do restante do "
        f"arquivo: 'R$ 32,90' ({PLAIN_FILE})"
    ]


def test_one_plain_price_in_a_brazilian_file_is_the_only_problem(store, tmp_path):
    rows = with_cell(brazilian(ROWS), 3, "price", "59.90")

    report = apply_import(write_csv(tmp_path, rows=rows, delimiter=";"))

    assert problems(report) == [
        "Linha 5, coluna price: número em formato diferente do restante do "
        f"arquivo: '59.90' ({BRAZILIAN_FILE})"
    ]


def test_a_tie_between_the_formats_goes_to_the_brazilian_one(store, tmp_path):
    rows = [with_cell([row], 0, "price", "30")[0] for row in ROWS]
    rows = with_cell(rows, 1, "special_price", "")
    rows = with_cell(rows, 0, "weight", "0,350")
    rows = with_cell(rows, 1, "weight", "0.2")

    report = apply_import(write_csv(tmp_path, rows=rows, delimiter=";"))

    assert problems(report) == [
        "Linha 3, coluna weight: número em formato diferente do restante do "
        f"arquivo: '0.2' ({BRAZILIAN_FILE})"
    ]


@pytest.mark.parametrize(
    ("rows", "delimiter", "uses"),
    [(ROWS, ",", PLAIN_FILE), (brazilian(ROWS), ";", BRAZILIAN_FILE)],
    ids=["plain", "brazilian"],
)
def test_a_cell_that_is_no_number_says_which_format_the_file_uses(
    store, tmp_path, rows, delimiter, uses
):
    rows = with_cell(rows, 0, "price", "abc")

    report = apply_import(write_csv(tmp_path, rows=rows, delimiter=delimiter))

    assert problems(report) == [
        f"Linha 2, coluna price: número inválido: 'abc' ({uses})"
    ]


def test_an_xlsx_workbook_with_numeric_cells_is_read(store, tmp_path):
    rows = with_cell(ROWS, 0, "price", 29.9)
    rows = with_cell(rows, 0, "quantity", 10)
    rows = with_cell(rows, 0, "ean", 7891234567895)
    rows = with_cell(rows, 2, "quantity", 4.0)
    path = write_xlsx(tmp_path, rows=rows)

    report = apply_import(path)

    assert report.ok, problems(report)
    assert product("CAN-01").price == Decimal("29.90")
    assert product("CAN-01").ean == "7891234567895"
    assert variation("CAM-01-P").quantity == 4


def test_an_xlsx_with_text_cells_in_brazilian_format_is_read(store, tmp_path):
    rows = with_cell(brazilian(ROWS), 0, "price", "1.299,90")

    report = apply_import(write_xlsx(tmp_path, rows=rows))

    assert report.ok, problems(report)
    assert product("CAN-01").price == Decimal("1299.90")


def test_a_corrupt_xlsx_is_rejected_with_a_message(store, tmp_path):
    path = tmp_path / "quebrado.xlsx"
    path.write_bytes(b"not a zip file")

    report = apply_import(path)

    assert not report.ok
    assert "xlsx" in problems(report)[0]


BINARY = "O arquivo não é uma planilha CSV ou XLSX válida (conteúdo binário)."


@pytest.mark.parametrize(
    "content",
    [
        lambda folder: bytes(range(256)) * 20,
        # No NUL, but control bytes and the bytes cp1252 leaves undefined.
        lambda folder: bytes(range(1, 256)) * 20,
        lambda folder: gzip.compress(csv_text().encode()),
        lambda folder: write_xlsx(folder).read_bytes(),
    ],
    ids=["random", "no-nul", "gzip", "xlsx"],
)
def test_a_binary_file_named_csv_is_refused_as_binary(store, tmp_path, content):
    path = tmp_path / "catalogo.csv"
    path.write_bytes(content(tmp_path))

    report = preview_import(path)

    assert problems(report) == [BINARY]


def test_a_few_control_characters_pasted_into_a_description_are_still_text(
    store, tmp_path
):
    header = HEADER + ["description"]
    rows = [row + ["Linha um\x0blinha dois\x07"] for row in ROWS]

    report = apply_import(write_csv(tmp_path, header, rows))

    assert report.ok, problems(report)
    assert product("CAN-01").description == "Linha um\x0blinha dois\x07"


def test_a_utf16_file_is_refused_with_how_to_save_it(store, tmp_path):
    path = tmp_path / "catalogo.csv"
    path.write_bytes(csv_text(delimiter="\t").encode("utf-16"))

    report = preview_import(path)

    assert "UTF-16" in problems(report)[0]


def test_a_csv_whose_cell_breaks_the_reader_midway_is_refused(
    store, tmp_path, monkeypatch
):
    monkeypatch.setattr(spreadsheet, "CSV_FIELD_LIMIT", 40)
    rows = with_cell(ROWS, 2, "name", "x" * 50)

    report = preview_import(write_csv(tmp_path, rows=rows))

    assert problems(report) == [
        "Não foi possível ler o arquivo CSV na linha 4: o conteúdo não é uma "
        "planilha válida."
    ]


@pytest.mark.parametrize(
    "content",
    [bytes(range(256)) * 20, csv_text().encode()],
    ids=["random", "csv"],
)
def test_a_file_named_xlsx_that_is_not_a_workbook_is_rejected(store, tmp_path, content):
    path = tmp_path / "catalogo.xlsx"
    path.write_bytes(content)

    report = preview_import(path)

    assert problems(report) == [spreadsheet.UNREADABLE_XLSX]


def damaged_sheet(tmp_path, cut: int):
    """Write a workbook whose sheet XML stops after ``cut`` characters."""
    good = write_xlsx(tmp_path, name="bom.xlsx")
    path = tmp_path / "catalogo.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[:cut]
            target.writestr(item, data)
    return path


@pytest.mark.parametrize("cut", [10, -60], ids=["at-open", "midway"])
def test_a_workbook_with_a_damaged_sheet_is_rejected(store, tmp_path, cut):
    path = damaged_sheet(tmp_path, cut)

    report = apply_import(path)

    assert problems(report) == [spreadsheet.UNREADABLE_XLSX]
    assert product("CAN-01") is None


def test_an_unsupported_extension_is_rejected(store, tmp_path):
    path = tmp_path / "catalogo.txt"
    path.write_text("sku\n")

    report = apply_import(path)

    assert problems(report) == [
        "Formato não suportado: envie um arquivo .csv ou .xlsx."
    ]


# Validation: all or nothing --------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "column", "value", "expected"),
    [
        (0, "sku", "", "Linha 2, coluna sku: SKU em branco"),
        (2, "sku", "CAN-01", "Linha 4, coluna sku: SKU CAN-01 repetido"),
        (2, "sku", "CAM-01", "Linha 4, coluna sku"),
        (3, "sku", "CAM-01-P", "Linha 5, coluna sku: SKU CAM-01-P repetido"),
        (2, "sku_parent", "NOPE", "Linha 4, coluna sku_parent: produto pai NOPE"),
        (1, "special_price", "69.90", "Linha 3, coluna special_price: preço"),
        (0, "quantity", "-1", "Linha 2, coluna quantity: o estoque não pode"),
        (0, "quantity", "1.5", "Linha 2, coluna quantity: o estoque deve ser"),
        (0, "quantity", "", "Linha 2, coluna quantity: estoque em branco"),
        (0, "ean", "7891234567890", "Linha 2, coluna ean: EAN inválido"),
        (0, "ean", "12345", "Linha 2, coluna ean: EAN inválido"),
        (0, "price", "abc", "Linha 2, coluna price: número inválido"),
        (0, "price", "0", "Linha 2, coluna price: o valor deve ser maior que zero"),
        (0, "name", "", "Linha 2, coluna name: nome em branco"),
        (0, "link_image_1", "ftp://x", "Linha 2, coluna link_image_1"),
        (
            0,
            "price",
            "99999999999999999999999.99",
            "Linha 2, coluna price: valor acima do máximo de 99.999.999,99",
        ),
        (
            1,
            "special_price",
            "1" + "0" * 30,
            "Linha 3, coluna special_price: valor acima do máximo",
        ),
        (
            0,
            "quantity",
            "99999999999999999999",
            "Linha 2, coluna quantity: estoque acima do máximo de 1.000.000.000",
        ),
        (0, "weight", "1" + "0" * 20, "Linha 2, coluna weight: medida acima"),
        (0, "height", "1000000.5", "Linha 2, coluna height: medida acima"),
    ],
)
def test_an_invalid_row_rejects_the_whole_file_with_row_and_column(
    store, tmp_path, row, column, value, expected
):
    rows = with_cell(ROWS, row, column, value)

    report = import_rows(tmp_path, rows)

    assert not report.ok
    assert any(text.startswith(expected) for text in problems(report)), problems(report)
    assert report.summary().startswith("Arquivo recusado")
    assert count(Product) == 0
    assert count(SyncItem) == 0


def test_the_largest_price_stock_and_measures_are_stored_exactly(store, tmp_path):
    rows = with_cell(ROWS, 0, "price", "99999999.99")
    rows = with_cell(rows, 0, "quantity", "1000000000")
    rows = with_cell(rows, 0, "weight", "1000000")
    rows = with_cell(rows, 0, "length", "1000000")

    report = import_rows(tmp_path, rows)

    assert report.ok, problems(report)
    mug = product("CAN-01")
    assert mug.price == Decimal("99999999.99")
    assert mug.quantity == 1_000_000_000
    assert (mug.weight_g, mug.length_mm) == (1_000_000_000, 10_000_000)


def test_a_variation_with_its_parents_sku_is_rejected(store, tmp_path):
    rows = ROWS + [["CAM-02", "CAM-02", "Outra", *[""] * (len(HEADER) - 3)]]
    rows = with_cell(rows, 4, "price", "10.00")
    rows = with_cell(rows, 4, "quantity", "1")

    report = import_rows(tmp_path, rows)

    assert "Linha 6, coluna sku_parent: a variação tem o mesmo SKU do produto pai" in (
        problems(report)
    )


def test_every_problem_is_listed_at_once_in_row_order(store, tmp_path):
    rows = with_cell(ROWS, 3, "quantity", "-2")
    rows = with_cell(rows, 0, "ean", "7891234567890")

    report = import_rows(tmp_path, rows)

    assert [problem.row for problem in report.problems] == [2, 5]


def test_a_missing_required_column_is_reported_on_the_header(store, tmp_path):
    header = [name for name in HEADER if name != "quantity"]
    rows = [row[: HEADER.index("quantity")] for row in ROWS]

    report = import_rows(tmp_path, rows, header)

    assert "Linha 1, coluna quantity: coluna obrigatória ausente" in problems(report)


def test_a_rejected_file_leaves_the_previous_catalog_untouched(store, tmp_path):
    import_rows(tmp_path)
    rows = with_cell(ROWS, 0, "price", "99.90")
    rows = with_cell(rows, 3, "quantity", "-1")

    report = import_rows(tmp_path, rows)

    assert not report.ok
    assert product("CAN-01").price == Decimal("29.90")


def test_a_stored_product_cannot_become_a_variation(store, tmp_path):
    import_rows(tmp_path)
    rows = with_cell(ROWS, 0, "sku_parent", "CAM-01")

    report = import_rows(tmp_path, rows)

    assert any("não pode virar variação" in text for text in problems(report))


# Ignored columns -------------------------------------------------------------------


def test_never_sent_columns_are_ignored_with_a_notice(store, tmp_path):
    header = HEADER + ["ncm", "warranty_time", "handling_time", "cest", "link", "cor"]
    rows = [
        row + ["61091000", "12", "3", "1234567", "https://x", "azul"] for row in ROWS
    ]

    report = import_rows(tmp_path, rows, header)

    assert report.ok, problems(report)
    assert any(
        "Colunas ignoradas" in notice
        and "ncm" in notice
        and "warranty_time" in notice
        and "handling_time" in notice
        for notice in report.notices
    )
    assert any("Coluna link ignorada" in notice for notice in report.notices)
    assert any("desconhecidas ignoradas: cor" in notice for notice in report.notices)
    for item in db.session.scalars(select(SyncItem)):
        assert "61091000" not in str(item.desired_value)


# Counts ----------------------------------------------------------------------------


def test_reimporting_the_same_file_counts_everything_unchanged(store, tmp_path):
    import_rows(tmp_path)

    report = import_rows(tmp_path)

    assert (report.new, report.changed, report.unchanged) == (0, 0, 2)


def test_counts_new_changed_unchanged_and_deactivated_in_replace_mode(store, tmp_path):
    import_rows(tmp_path)
    rows = with_cell(ROWS[1:], 0, "name", "Camiseta Básica")
    extra = with_cell(ROWS[:1], 0, "sku", "CAN-02")

    report = import_rows(tmp_path, rows + extra, replace=True)

    assert report.ok, problems(report)
    assert (report.new, report.changed, report.unchanged) == (1, 1, 0)
    assert report.deactivated == 1
    assert product("CAN-01").active is False
    assert "1 novo(s), 1 alterado(s), 0 inalterado(s), 1 desativado(s)" in (
        report.summary()
    )


def test_update_mode_leaves_products_absent_from_the_file_alone(store, tmp_path):
    import_rows(tmp_path)

    report = import_rows(tmp_path, ROWS[1:])

    assert (report.deactivated, report.unchanged) == (0, 1)
    assert product("CAN-01").active is True


def test_a_variation_left_out_of_the_file_is_removed_from_the_store(store, tmp_path):
    import_rows(tmp_path)

    report = import_rows(tmp_path, ROWS[:3])

    assert report.removed_variations == 1
    assert report.changed == 1
    assert variation("CAM-01-M") is None


def test_the_preview_counts_without_writing(store, tmp_path):
    report = preview_import(write_csv(tmp_path))

    assert report.ok and report.new == 2
    assert not report.applied
    assert count(Product) == 0


def test_a_valid_import_stages_product_price_and_stock_items(store, tmp_path):
    import_rows(tmp_path)

    keys = set(db.session.execute(select(SyncItem.kind, SyncItem.key)).all())

    assert keys == {
        ("product", "CAN-01"),
        ("price", "CAN-01"),
        ("stock", "CAN-01"),
        ("product", "CAM-01"),
        ("price", "CAM-01-P"),
        ("stock", "CAM-01-P"),
        ("price", "CAM-01-M"),
        ("stock", "CAM-01-M"),
    }


def test_promotion_dates_are_read_in_both_formats(store, tmp_path):
    header = HEADER + ["special_price_start", "special_price_end"]
    rows = [row + ["", ""] for row in ROWS]
    rows = with_cell(rows, 1, "special_price_start", "01/12/2026", header)
    rows = with_cell(rows, 1, "special_price_end", "2026-12-31", header)

    report = import_rows(tmp_path, rows, header)

    assert report.ok, problems(report)
    assert product("CAM-01").special_start == date(2026, 12, 1)
    assert product("CAM-01").special_end == date(2026, 12, 31)


# Export ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["exportado.csv", "exportado.xlsx"])
def test_an_exported_catalog_imports_back_unchanged(store, tmp_path, name):
    import_rows(tmp_path)
    path = tmp_path / name

    rows = export_catalog(path)
    report = apply_import(path)

    assert rows == 4
    assert report.ok, problems(report)
    assert (report.new, report.changed, report.unchanged) == (0, 0, 2)


def reserve(sku: str, quantity: int) -> None:
    intake.ingest(
        parse_order(order_json("p1", lines=[(sku, quantity, "59.90")])), utcnow()
    )


def test_an_old_export_warns_about_the_stock_orders_moved_since(store, tmp_path):
    import_rows(tmp_path)
    path = tmp_path / "exportado.csv"
    export_catalog(path)
    reserve("CAM-01-P", 3)  # the store now has 1, the file still says 4

    report = preview_import(path)

    assert report.ok, problems(report)
    warning = [notice for notice in report.notices if notice.startswith("Atenção")]
    assert warning == [
        "Atenção: pedidos mudaram o estoque de 1 SKU(s) depois da última "
        "exportação ou importação da planilha: CAM-01-P (loja 1, planilha 4). "
        "Ao aplicar, o estoque da planilha substitui o da loja; confira antes "
        "de aplicar."
    ]


def test_a_fresh_export_or_import_brings_no_stock_warning(store, tmp_path):
    import_rows(tmp_path)
    reserve("CAM-01-P", 3)
    path = tmp_path / "exportado.csv"
    export_catalog(path)  # taken after the order: it already says 1

    report = preview_import(path)

    assert report.ok, problems(report)
    assert not [notice for notice in report.notices if notice.startswith("Atenção")]


def test_an_xlsx_export_keeps_prices_stock_and_measures_as_numbers(store, tmp_path):
    import_rows(tmp_path)
    path = tmp_path / "exportado.xlsx"

    export_catalog(path)

    workbook = load_workbook(path, read_only=True)
    try:
        rows = list(workbook.active.iter_rows(values_only=True))
    finally:
        workbook.close()
    header, mug = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert header[:3] == ("sku", "sku_parent", "name")
    assert mug["sku"] == "CAN-01"
    assert mug["price"] == pytest.approx(29.90)
    assert mug["quantity"] == 10
    assert mug["weight"] == pytest.approx(0.35)


def test_a_held_order_released_after_the_import_is_warned_about(store, tmp_path):
    intake.ingest(
        parse_order(order_json("p1", lines=[("CAM-01-P", 3, "59.90")])), utcnow()
    )
    held = db.session.scalar(select(Order).where(Order.pluggto_id == "p1"))
    assert held.hold_reason  # the store has no CAM-01-P yet
    path = write_csv(tmp_path)
    assert apply_import(path).ok  # adds CAM-01-P with stock 4
    assert intake.try_release(held, utcnow()) is not None  # takes 3: stock 1

    report = preview_import(path)

    warning = [notice for notice in report.notices if notice.startswith("Atenção")]
    assert len(warning) == 1
    assert "CAM-01-P (loja 1, planilha 4)" in warning[0]
