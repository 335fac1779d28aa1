"""The Produtos screen as data: search, filters, pages, sync state per SKU."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select

from dashboard.catalog.staging import KINDS, PRICE, STOCK
from dashboard.extensions import db
from dashboard.models.catalog import Product, Variation
from dashboard.models.sync import SyncItem

PAGE_SIZE = 25
STATE_FILTERS = {"ok": "Em dia", "pending": "Pendente", "failed": "Falhou"}
KIND_FILTERS = {"product": "Produto", "price": "Preço", "stock": "Estoque"}
STATE_LABELS = {
    "ok": "em dia",
    "pending": "pendente",
    "failed": "falhou",
    "ignored": "ignorado",
}


@dataclass(frozen=True)
class Filters:
    """What the merchant asked the list for."""

    q: str = ""
    state: str = ""
    kind: str = ""
    page: int = 1

    @classmethod
    def parse(cls, args) -> "Filters":
        """Read filters from query arguments, dropping unknown values."""
        state = args.get("estado", "")
        kind = args.get("tipo", "")
        try:
            page = max(int(args.get("pagina", 1)), 1)
        except ValueError:
            page = 1
        return cls(
            q=(args.get("q") or "").strip()[:255],
            state=state if state in STATE_FILTERS else "",
            kind=kind if kind in KIND_FILTERS else "",
            page=page,
        )

    def query_args(self, **changes: Any) -> dict[str, Any]:
        """Return the query arguments of these filters, with changes."""
        args = {"q": self.q, "estado": self.state, "tipo": self.kind}
        args.update(changes)
        return {name: value for name, value in args.items() if value}


@dataclass
class Line:
    """One SKU of the list with the sync state of each kind."""

    sku: str
    name: str
    price: Decimal
    special_price: Decimal | None
    quantity: int | None
    active: bool
    is_variation: bool
    items: dict[str, SyncItem] = field(default_factory=dict)
    holds_stock: bool = True


@dataclass
class Family:
    """A product and its variations, as listed."""

    product: Product
    line: Line
    variations: list[Line]


@dataclass
class ProductPage:
    """One page of the list."""

    families: list[Family]
    total: int
    filters: Filters
    pages: int


def product_page(filters: Filters) -> ProductPage:
    """Return the products matching the filters, one page of them."""
    query = _filtered(select(Product), filters)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(filters.page, pages)
    products = db.session.scalars(
        query.order_by(Product.name, Product.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return ProductPage(
        families(products),
        total,
        Filters(filters.q, filters.state, filters.kind, page),
        pages,
    )


def _filtered(query, filters: Filters):
    if filters.q:
        query = query.where(_matches(filters.q))
    if filters.state or filters.kind:
        items = select(SyncItem.group_key)
        if filters.state:
            items = items.where(SyncItem.state == filters.state)
        items = items.where(
            SyncItem.kind.in_([filters.kind] if filters.kind else KINDS)
        )
        query = query.where(Product.sku.in_(items))
    return query


def _matches(text: str):
    in_variations = select(Variation.product_id).where(
        or_(
            Variation.sku.contains(text, autoescape=True),
            Variation.name.contains(text, autoescape=True),
        )
    )
    return or_(
        Product.sku.contains(text, autoescape=True),
        Product.name.contains(text, autoescape=True),
        Product.id.in_(in_variations),
    )


def families(products: list[Product]) -> list[Family]:
    """Attach variations and sync items to products."""
    if not products:
        return []
    by_id = {product.id: product for product in products}
    variations: dict[int, list[Variation]] = {}
    for variation in db.session.scalars(
        select(Variation)
        .where(Variation.product_id.in_(list(by_id)))
        .order_by(Variation.position, Variation.id)
    ):
        variations.setdefault(variation.product_id, []).append(variation)
    items = _sync_items([product.sku for product in products])
    return [
        _family(product, variations.get(product.id, []), items) for product in products
    ]


def _sync_items(groups: list[str]) -> dict[tuple[str, str], SyncItem]:
    rows = db.session.scalars(select(SyncItem).where(SyncItem.group_key.in_(groups)))
    return {(row.kind, row.key): row for row in rows}


def _family(product: Product, variations: list[Variation], items) -> Family:
    has_variations = bool(variations)
    line = Line(
        product.sku,
        product.name,
        product.price,
        product.special_price,
        sum(v.quantity for v in variations) if has_variations else product.quantity,
        product.active,
        False,
        _items_of(product.sku, items, (KINDS if not has_variations else ("product",))),
        holds_stock=not has_variations,
    )
    lines = [
        Line(
            v.sku,
            v.name,
            v.price,
            v.special_price,
            v.quantity,
            v.active and product.active,
            True,
            _items_of(v.sku, items, (PRICE, STOCK)),
        )
        for v in variations
    ]
    return Family(product, line, lines)


def _items_of(sku: str, items, kinds) -> dict[str, SyncItem]:
    return {kind: items[(kind, sku)] for kind in kinds if (kind, sku) in items}


def product_family(product_id: int) -> Family | None:
    """Return one product with its variations and sync state, or None."""
    product = db.session.get(Product, product_id)
    if product is None:
        return None
    return families([product])[0]


def describe(kind: str, value: Any) -> str:
    """Say in pt-BR what a sync value holds (for 'último valor enviado')."""
    if not isinstance(value, dict):
        return "—"
    if kind == STOCK:
        return f"{value.get('quantity', 0)} un."
    if kind == PRICE:
        return f"{_brl(value.get('price'))} / {_brl(value.get('special_price'))}"
    return "cadastro completo"


def _brl(amount: Any) -> str:
    if amount in (None, ""):
        return "—"
    whole, _, cents = f"{Decimal(str(amount)):,.2f}".partition(".")
    return f"R$ {whole.replace(',', '.')},{cents}"
