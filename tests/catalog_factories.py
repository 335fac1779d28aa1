"""Builders shared by the catalog tests: spreadsheet files and a sample catalog."""

from pathlib import Path

from openpyxl import Workbook

from dashboard.catalog.importer import ImportReport, apply_import

HEADER = [
    "sku",
    "sku_parent",
    "name",
    "brand",
    "ean",
    "price",
    "special_price",
    "quantity",
    "weight",
    "length",
    "width",
    "height",
    "link_image_1",
    "attribute_name_1",
    "attribute_value_1",
    "full_category_tree_1",
    "full_category_tree_2",
]
# A simple product and a product with two variations (Cor).
ROWS = [
    [
        "CAN-01",
        "",
        "Caneca Azul",
        "Rocky",
        "7891234567895",
        "29.90",
        "",
        "10",
        "0.350",
        "12",
        "9",
        "10",
        "https://img.loja.com.br/can-01.jpg",
        "",
        "",
        "Casa",
        "Cozinha",
    ],
    ["CAM-01", "", "Camiseta", "Rocky", "", "59.90", "49.90", "0", "0.2"]
    + ["30", "20", "2", "", "", "", "Moda", "Camisetas"],
    ["CAM-01-P", "CAM-01", "Camiseta P", "", "", "59.90", "", "4", ""]
    + ["", "", "", "", "Tamanho", "P", "", ""],
    ["CAM-01-M", "CAM-01", "Camiseta M", "", "", "59.90", "", "0", ""]
    + ["", "", "", "", "Tamanho", "M", "", ""],
]


def csv_text(header=HEADER, rows=ROWS, delimiter: str = ",") -> str:
    """Return a CSV document (no quoting needed by the sample values)."""
    lines = [delimiter.join(header)]
    lines += [delimiter.join(str(cell) for cell in row) for row in rows]
    return "\r\n".join(lines) + "\r\n"


def write_csv(
    folder: Path,
    header=HEADER,
    rows=ROWS,
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    name: str = "catalogo.csv",
) -> Path:
    """Write a CSV catalog file and return its path."""
    path = folder / name
    path.write_bytes(csv_text(header, rows, delimiter).encode(encoding))
    return path


def write_xlsx(folder: Path, header=HEADER, rows=ROWS, name="catalogo.xlsx") -> Path:
    """Write an XLSX catalog file (cells as given) and return its path."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    path = folder / name
    workbook.save(path)
    return path


def with_cell(rows, row: int, column: str, value, header=HEADER) -> list[list]:
    """Return a copy of rows with one cell changed."""
    copy = [list(cells) for cells in rows]
    copy[row][header.index(column)] = value
    return copy


def import_rows(folder: Path, rows=ROWS, header=HEADER, **options) -> ImportReport:
    """Write rows as a CSV and apply the import."""
    return apply_import(write_csv(folder, header, rows), **options)
