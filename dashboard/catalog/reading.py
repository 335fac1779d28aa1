"""Turn the rows of a catalog spreadsheet into product records, with problems.

The layout is Plugg.to's product spreadsheet: one row per product or
variation (``sku_parent`` set), numbered columns for images, attributes and
category levels. Every problem is collected with its row and column, so the
merchant gets the whole list at once; a file that turns out unreadable midway
is one problem for the file as a whole.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from dashboard.catalog import cells
from dashboard.catalog.cells import CellError
from dashboard.catalog.records import ItemRecord, ProductRecord
from dashboard.catalog.spreadsheet import Sheet, SheetError
from dashboard.pluggto.products import NEVER_SENT

SIMPLE_COLUMNS = (
    "sku",
    "sku_parent",
    "name",
    "description",
    "brand",
    "ean",
    "price",
    "special_price",
    "special_price_start",
    "special_price_end",
    "quantity",
    "weight",
    "length",
    "width",
    "height",
    "active",
    "external",
)
NUMBERED = re.compile(
    r"^(link_image|attribute_name|attribute_value|full_category_tree)_(\d+)$"
)
REQUIRED = ("sku", "name", "price", "quantity")
PRICE_COLUMNS = ("price", "special_price")
NUMBER_COLUMNS = (*PRICE_COLUMNS, "weight", "length", "width", "height")
DERIVED = ("link",)
FILE_FORMATS = {
    True: "o arquivo usa o formato brasileiro, como 1.299,90",
    False: "o arquivo usa o formato com ponto decimal, como 1299.90",
}
MAX_SKU = 255
MAX_NAME = 255


@dataclass(frozen=True)
class Problem:
    """One reason a file was rejected; row 0 means the file as a whole."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if not self.row:
            return self.message
        where = f"Linha {self.row}"
        if self.column:
            where += f", coluna {self.column}"
        return f"{where}: {self.message}"


@dataclass(slots=True)
class Row:
    """One data row, parsed."""

    row: int
    sku: str
    parent: str
    name: str
    description: str = ""
    brand: str = ""
    ean: str = ""
    price: Decimal | None = None
    special_price: Decimal | None = None
    special_start: date | None = None
    special_end: date | None = None
    quantity: int | None = None
    weight_g: int | None = None
    length_mm: int | None = None
    width_mm: int | None = None
    height_mm: int | None = None
    photos: list[str] = field(default_factory=list)
    attributes: list[list[str]] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    active: bool = True
    store_id: str | None = None
    invalid: set[str] = field(default_factory=set)  # columns already reported


@dataclass
class Layout:
    """Where each column is, and what the header says about the file."""

    index: dict[str, int]
    images: list[int]
    attributes: list[tuple[int | None, int | None, int]]
    categories: list[int]
    notices: list[str]
    problems: list[Problem]


def read_layout(header: list[str]) -> Layout:
    """Locate the columns and note the ignored ones."""
    index: dict[str, int] = {}
    numbered: dict[str, dict[int, int]] = {}
    ignored, unknown, problems = [], [], []
    for position, name in enumerate(header):
        if not name:
            continue
        match = NUMBERED.match(name)
        if name in index or (match and int(match[2]) in numbered.get(match[1], {})):
            problems.append(Problem(1, name, "coluna repetida no cabeçalho"))
        elif name in SIMPLE_COLUMNS:
            index[name] = position
        elif match:
            numbered.setdefault(match[1], {})[int(match[2])] = position
        elif name in NEVER_SENT or name in DERIVED:
            ignored.append(name)
        else:
            unknown.append(name)

    for name in REQUIRED:
        if name not in index:
            problems.append(Problem(1, name, "coluna obrigatória ausente"))
    return Layout(
        index=index,
        images=_ordered(numbered.get("link_image", {})),
        attributes=_attribute_pairs(numbered),
        categories=_ordered(numbered.get("full_category_tree", {})),
        notices=_notices(ignored, unknown),
        problems=problems,
    )


def _ordered(columns: dict[int, int]) -> list[int]:
    return [columns[number] for number in sorted(columns)]


def _attribute_pairs(numbered: dict[str, dict[int, int]]):
    names = numbered.get("attribute_name", {})
    values = numbered.get("attribute_value", {})
    return [
        (names.get(number), values.get(number), number)
        for number in sorted(set(names) | set(values))
    ]


def _notices(ignored: list[str], unknown: list[str]) -> list[str]:
    notices = []
    never = [name for name in ignored if name in NEVER_SENT]
    if never:
        notices.append(
            "Colunas ignoradas (a loja não guarda esses dados e eles nunca são "
            "enviados ao Plugg.to): " + ", ".join(never) + "."
        )
    if "link" in ignored:
        notices.append(
            "Coluna link ignorada: o link do produto é montado com o domínio da "
            "loja configurado."
        )
    if unknown:
        notices.append("Colunas desconhecidas ignoradas: " + ", ".join(unknown) + ".")
    return notices


def decimal_comma(sheet: Sheet, layout: Layout) -> bool:
    """Decide the number format of the whole file from its number cells."""
    positions = [layout.index[name] for name in NUMBER_COLUMNS if name in layout.index]
    return cells.uses_decimal_comma(_cells_at(sheet, positions))


def _cells_at(sheet: Sheet, positions: list[int]) -> Iterator[Any]:
    try:
        for _, row in sheet.rows():
            yield from (row[position] for position in positions if position < len(row))
    except SheetError:
        # The row reader meets the same error and reports it; the cells before
        # it are enough to decide.
        return


class RowReader:
    """Parse the data rows of a file with one number format."""

    def __init__(self, layout: Layout, brazilian: bool) -> None:
        self.layout = layout
        self.brazilian = brazilian
        self.problems: list[Problem] = []

    def read(self, sheet: Sheet) -> Iterator[Row]:
        """Yield the parsed non-blank rows; problems pile up in ``problems``."""
        try:
            for number, values in sheet.rows():
                if all(cells.text(value) == "" for value in values):
                    continue
                row = self.parse(number, values)
                if row is not None:
                    yield row
        except SheetError as error:
            self.problems.append(Problem(0, "", str(error)))

    def parse(self, number: int, values: list[Any]) -> Row | None:
        """Parse one row, or record why it cannot be."""
        get = _getter(self.layout.index, values)
        sku = cells.text(get("sku"))
        if not sku:
            self._problem(number, "sku", "SKU em branco")
            return None
        if len(sku) > MAX_SKU:
            self._problem(number, "sku", f"SKU com mais de {MAX_SKU} caracteres")
            return None

        row = Row(number, sku, cells.text(get("sku_parent")), cells.text(get("name")))
        self._texts(row, get)
        self._numbers(row, get)
        self._lists(row, values)
        return row

    def _problem(self, row: int, column: str, message: str) -> None:
        self.problems.append(Problem(row, column, message))

    def _cell(self, row: Row, column: str, parse, value):
        try:
            return parse(value)
        except CellError as error:
            self._problem(row.row, column, self._explain(error))
            row.invalid.add(column)
            return None

    def _explain(self, error: CellError) -> str:
        """Say which number format the file uses when a cell breaks it."""
        if not isinstance(error, cells.NumberFormatError):
            return str(error)
        uses = FILE_FORMATS[self.brazilian]
        if error.other_format:
            return (
                "número em formato diferente do restante do arquivo: "
                f"{error.value!r} ({uses})"
            )
        return f"{error} ({uses})"

    def _texts(self, row: Row, get) -> None:
        if len(row.name) > MAX_NAME:
            self._problem(row.row, "name", f"nome com mais de {MAX_NAME} caracteres")
        row.description = cells.text(get("description"))
        row.brand = cells.text(get("brand"))[:120]
        row.ean = self._cell(row, "ean", cells.ean, get("ean")) or ""
        row.store_id = cells.text(get("external"))[:64] or None
        active = self._cell(row, "active", cells.flag, get("active"))
        row.active = True if active is None else active

    def _numbers(self, row: Row, get) -> None:
        comma = self.brazilian
        row.price = self._cell(
            row, "price", lambda v: cells.money(v, comma), get("price")
        )
        row.special_price = self._cell(
            row, "special_price", lambda v: cells.money(v, comma), get("special_price")
        )
        row.special_start = self._cell(
            row, "special_price_start", cells.day, get("special_price_start")
        )
        row.special_end = self._cell(
            row, "special_price_end", cells.day, get("special_price_end")
        )
        row.quantity = self._cell(
            row, "quantity", lambda v: cells.stock(v, comma), get("quantity")
        )
        for column, attribute, factor in (
            ("weight", "weight_g", 1000),
            ("length", "length_mm", 10),
            ("width", "width_mm", 10),
            ("height", "height_mm", 10),
        ):
            value = self._cell(
                row, column, lambda v, f=factor: cells.scaled(v, comma, f), get(column)
            )
            setattr(row, attribute, value)
        self._check_window(row)

    def _check_window(self, row: Row) -> None:
        if (row.special_start or row.special_end) and row.special_price is None:
            self._problem(
                row.row,
                "special_price",
                "datas de promoção informadas sem preço promocional",
            )
        if (
            row.special_start
            and row.special_end
            and row.special_end < row.special_start
        ):
            self._problem(
                row.row,
                "special_price_end",
                "a promoção termina antes de começar",
            )

    def _lists(self, row: Row, values: list[Any]) -> None:
        layout = self.layout
        for position in layout.images:
            value = _at(values, position)
            if cells.text(value):
                address = self._cell(row, _name(position, layout), cells.url, value)
                if address:
                    row.photos.append(address)
        for name_at, value_at, number in layout.attributes:
            self._attribute(row, values, name_at, value_at, number)
        row.categories = _categories(
            [cells.text(_at(values, position)) for position in layout.categories]
        )

    def _attribute(self, row, values, name_at, value_at, number) -> None:
        name = cells.text(_at(values, name_at))
        value = cells.text(_at(values, value_at))
        if name and value:
            row.attributes.append([name, value])
        elif name or value:
            column = f"attribute_value_{number}" if name else f"attribute_name_{number}"
            self._problem(row.row, column, "atributo sem nome ou sem valor")


def _getter(index: dict[str, int], values: list[Any]):
    def get(column: str) -> Any:
        position = index.get(column)
        return _at(values, position)

    return get


def _at(values: list[Any], position: int | None) -> Any:
    if position is None or position >= len(values):
        return None
    return values[position]


def _name(position: int, layout: Layout) -> str:
    number = layout.images.index(position) + 1
    return f"link_image_{number}"


def _categories(levels: list[str]) -> list[str]:
    """Read category columns: full trees (``A > B``) or the levels of one tree."""
    filled = [level for level in levels if level]
    if not filled:
        return []
    if any(">" in level for level in filled):
        return [
            " > ".join(part.strip() for part in level.split(">")) for level in filled
        ]
    return [" > ".join(filled)]


# Families -----------------------------------------------------------------------


@dataclass
class Families:
    """The products of a file, keyed by SKU, and what was wrong with them."""

    products: dict[str, ProductRecord]
    rows: dict[str, int]  # SKU -> row number, for messages
    problems: list[Problem]


def assemble(rows: list[Row]) -> Families:
    """Group rows into products with variations and check the relations."""
    problems: list[Problem] = []
    by_sku: dict[str, Row] = {}
    for row in rows:
        if row.sku in by_sku:
            problems.append(
                Problem(
                    row.row,
                    "sku",
                    f"SKU {row.sku} repetido (também na linha {by_sku[row.sku].row})",
                )
            )
            continue
        by_sku[row.sku] = row

    products = {row.sku: _product(row) for row in by_sku.values() if not row.parent}
    for row in by_sku.values():
        if row.parent:
            _attach(row, by_sku, products, problems)
    for product in products.values():
        _resolve_prices(product, by_sku, problems)
        _check_product(product, by_sku, problems)
    rows_by_sku = {sku: row.row for sku, row in by_sku.items()}
    return Families(products, rows_by_sku, problems)


def _attach(row: Row, by_sku, products, problems: list[Problem]) -> None:
    if row.parent == row.sku:
        problems.append(
            Problem(row.row, "sku_parent", "a variação tem o mesmo SKU do produto pai")
        )
        return
    parent = products.get(row.parent)
    if parent is None:
        message = (
            f"{row.parent} é uma variação; uma variação não pode ter variações"
            if row.parent in by_sku
            else f"produto pai {row.parent} não está no arquivo"
        )
        problems.append(Problem(row.row, "sku_parent", message))
        return
    parent.variations.append(_variation(row, parent))


def _product(row: Row) -> ProductRecord:
    return ProductRecord(
        sku=row.sku,
        name=row.name,
        price=row.price,
        quantity=row.quantity if row.quantity is not None else 0,
        ean=row.ean,
        special_price=row.special_price,
        special_start=row.special_start,
        special_end=row.special_end,
        photos=row.photos,
        attributes=row.attributes,
        active=row.active,
        store_id=row.store_id,
        description=row.description,
        brand=row.brand,
        weight_g=row.weight_g,
        length_mm=row.length_mm,
        width_mm=row.width_mm,
        height_mm=row.height_mm,
        categories=row.categories,
    )


def _variation(row: Row, parent: ProductRecord) -> ItemRecord:
    return ItemRecord(
        sku=row.sku,
        name=row.name or parent.name,
        price=row.price,
        quantity=row.quantity,
        ean=row.ean,
        special_price=row.special_price,
        special_start=row.special_start,
        special_end=row.special_end,
        photos=row.photos,
        attributes=row.attributes,
        active=row.active,
    )


def _resolve_prices(product: ProductRecord, by_sku, problems) -> None:
    """Let variations inherit the parent's price, and parents the lowest one."""
    for variation in product.variations:
        if variation.price is None and product.price is not None:
            variation.price = product.price
            variation.special_price = product.special_price
            variation.special_start = product.special_start
            variation.special_end = product.special_end
        elif variation.price is None and "price" not in by_sku[variation.sku].invalid:
            problems.append(
                Problem(
                    by_sku[variation.sku].row,
                    "price",
                    "preço em branco (nem a variação nem o produto pai têm preço)",
                )
            )
    priced = [v.price for v in product.variations if v.price is not None]
    if product.price is None and priced:
        product.price = min(priced)


def _check_product(product: ProductRecord, by_sku, problems: list[Problem]) -> None:
    row = by_sku[product.sku]
    if not product.name:
        problems.append(Problem(row.row, "name", "nome em branco"))
    if product.price is None and not product.variations and "price" not in row.invalid:
        problems.append(Problem(row.row, "price", "preço em branco"))
    _check_sale_price(product, row.row, problems)

    stocked = [(v, by_sku[v.sku]) for v in product.variations] or [(product, row)]
    for item, item_row in stocked:
        if item_row.quantity is None and "quantity" not in item_row.invalid:
            problems.append(
                Problem(
                    item_row.row, "quantity", "estoque em branco (use 0 se não houver)"
                )
            )
            item.quantity = 0
        if item is not product:
            _check_sale_price(item, item_row.row, problems)


def _check_sale_price(item: ItemRecord, row: int, problems) -> None:
    if item.price is None or item.special_price is None:
        return
    if item.special_price > item.price:
        problems.append(
            Problem(
                row,
                "special_price",
                f"preço promocional ({_brl(item.special_price)}) maior que o preço "
                f"({_brl(item.price)})",
            )
        )


def _brl(amount: Decimal) -> str:
    whole, _, cents = f"{amount:,.2f}".partition(".")
    return f"R$ {whole.replace(',', '.')},{cents}"
