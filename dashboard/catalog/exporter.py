"""Export the catalog in the layout the import reads (a lossless round trip)."""

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from dashboard.catalog import stock_moves
from dashboard.catalog.reading import SIMPLE_COLUMNS
from dashboard.catalog.records import ItemRecord, ProductRecord, iter_families
from dashboard.catalog.spreadsheet import format_of, write_csv, write_xlsx
from dashboard.extensions import db
from dashboard.models.catalog import Product, Variation
from dashboard.models.types import utcnow

# The export writes exactly the columns the import reads, in the same order.
BASE_COLUMNS = list(SIMPLE_COLUMNS)
MIN_CATEGORY_COLUMNS = 3


def export_catalog(path: Path) -> int:
    """Write the whole catalog to a .csv or .xlsx file; return rows written.

    Commits the moment of the export, so a later import of an edited copy
    can warn about stock that orders moved in between.
    """
    kind = format_of(path.name)
    started = utcnow()  # orders after this moment are not in the file
    header, sizes = _header()
    counter = _Counter()
    rows = counter.wrap(_rows(sizes))
    if kind == "csv":
        write_csv(path, header, rows)
    else:
        write_xlsx(path, header, rows)
    stock_moves.remember_file_moment(started)
    db.session.commit()
    return counter.count


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def wrap(self, rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
        for row in rows:
            self.count += 1
            yield row


def _header() -> tuple[list[str], tuple[int, int, int]]:
    """Return the columns, sized for the most photos, attributes and levels."""
    photos = attributes = 0
    categories = MIN_CATEGORY_COLUMNS
    for table in (Product, Variation):
        for row_photos, row_attributes in db.session.execute(
            select(table.photos, table.attributes)
        ):
            photos = max(photos, len(row_photos or []))
            attributes = max(attributes, len(row_attributes or []))
    for (row_categories,) in db.session.execute(select(Product.categories)):
        categories = max(categories, len(_category_cells(row_categories or [])))

    header = list(BASE_COLUMNS)
    header += [f"link_image_{n}" for n in range(1, photos + 1)]
    for n in range(1, attributes + 1):
        header += [f"attribute_name_{n}", f"attribute_value_{n}"]
    header += [f"full_category_tree_{n}" for n in range(1, categories + 1)]
    return header, (photos, attributes, categories)


def _category_cells(categories: list[str]) -> list[str]:
    """One category goes as its levels; several go as full trees."""
    if len(categories) == 1:
        return [level.strip() for level in categories[0].split(">")]
    return list(categories)


def _rows(sizes: tuple[int, int, int]) -> Iterator[list[Any]]:
    for family in iter_families():
        yield _row(family, family, "", sizes)
        for variation in family.variations:
            yield _row(variation, family, family.sku, sizes)


def _row(
    item: ItemRecord, family: ProductRecord, parent: str, sizes: tuple[int, int, int]
) -> list[Any]:
    photos, attributes, categories = sizes
    is_product = item is family
    row = [
        item.sku,
        parent,
        item.name,
        family.description if is_product else "",
        family.brand if is_product else "",
        item.ean,
        item.price,
        item.special_price,
        _day(item.special_start),
        _day(item.special_end),
        item.quantity,
        _scaled(family.weight_g, 1000) if is_product else None,
        _scaled(family.length_mm, 10) if is_product else None,
        _scaled(family.width_mm, 10) if is_product else None,
        _scaled(family.height_mm, 10) if is_product else None,
        "sim" if item.active else "não",
        (family.store_id or "") if is_product else "",
    ]
    row += _padded(item.photos, photos)
    pairs = _padded(item.attributes, attributes, ["", ""])
    row += [cell for pair in pairs for cell in pair]
    cells = _category_cells(family.categories) if is_product else []
    row += _padded(cells, categories)
    return row


def _padded(values: list, size: int, empty: Any = "") -> list:
    return list(values) + [empty] * (size - len(values))


def _day(value) -> str:
    return value.isoformat() if value else ""


def _scaled(value: int | None, factor: int) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value) / factor).normalize()
