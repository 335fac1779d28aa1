"""Import a catalog spreadsheet: all or nothing, with a pt-BR report.

``preview_import`` reads, validates and counts what would change without
writing; ``apply_import`` does the same and, when the file is valid, writes
the catalog and stages the sync items in ONE transaction. By default only the
products in the file change; with ``replace`` the active products absent from
the file are deactivated (Plugg.to then shows stock 0 for them).
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, insert, select, update

from dashboard import settings as settings_store
from dashboard.catalog import staging, stock_moves
from dashboard.catalog.reading import (
    Families,
    Problem,
    RowReader,
    assemble,
    decimal_comma,
    read_layout,
)
from dashboard.catalog.records import (
    CHUNK,
    ITEM_FIELDS,
    PRODUCT_FIELDS,
    ItemRecord,
    ProductRecord,
    load_families,
)
from dashboard.catalog.spreadsheet import SheetError, open_sheet
from dashboard.extensions import db
from dashboard.models.catalog import Product, Variation
from dashboard.models.types import utcnow
from dashboard.pluggto.products import local_date

logger = logging.getLogger(__name__)


@dataclass
class ImportReport:
    """What an import found, and what it changed (or would change)."""

    file_name: str
    replace: bool = False
    rows: int = 0
    products: int = 0
    skus: int = 0
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    deactivated: int = 0
    removed_variations: int = 0
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """Return the counts in one pt-BR sentence."""
        if not self.ok:
            return (
                f"Arquivo recusado: {len(self.problems)} problema(s) encontrado(s). "
                "Nada foi alterado."
            )
        text = (
            f"{self.products} produto(s) e {self.skus} SKU(s) no arquivo: "
            f"{self.new} novo(s), {self.changed} alterado(s), "
            f"{self.unchanged} inalterado(s), {self.deactivated} desativado(s)"
        )
        if self.removed_variations:
            text += f", {self.removed_variations} variação(ões) removida(s)"
        return text + "."


def preview_import(
    path: Path, *, replace: bool = False, name: str | None = None
) -> ImportReport:
    """Read and check a file and count what would change; write nothing."""
    return _run(path, replace, name, write=False)


def apply_import(
    path: Path, *, replace: bool = False, name: str | None = None
) -> ImportReport:
    """Import a file if it is valid, in one transaction. Commits."""
    return _run(path, replace, name, write=True)


def _run(path: Path, replace: bool, name: str | None, write: bool) -> ImportReport:
    report = ImportReport(name or path.name, replace)
    families = _read(path, name, report)
    if families is None or not report.ok:
        return report

    try:
        _compare_and_write(families, report, write)
    except Exception:
        db.session.rollback()
        raise
    if write:
        db.session.commit()
        report.applied = True
        logger.info("Catalog imported from %s: %s", report.file_name, report.summary())
    else:
        db.session.rollback()
    return report


# Reading ------------------------------------------------------------------------


def _read(path: Path, name: str | None, report: ImportReport) -> Families | None:
    try:
        sheet = open_sheet(path, name)
    except SheetError as error:
        report.problems.append(Problem(0, "", str(error)))
        return None

    layout = read_layout(sheet.header)
    report.notices.extend(layout.notices)
    if layout.problems:
        report.problems.extend(layout.problems)
        return None

    reader = RowReader(layout, decimal_comma(sheet, layout))
    rows = list(reader.read(sheet))
    families = assemble(rows)
    report.rows = len(rows)
    report.products = len(families.products)
    report.skus = sum(len(p.variations) + 1 for p in families.products.values())
    problems = reader.problems + families.problems
    if not problems:
        problems = conflicts_with_catalog(families)
    if not problems and not families.products:
        problems = [Problem(0, "", "O arquivo não tem nenhum produto.")]
    report.problems = sorted(problems, key=lambda problem: problem.row)
    return families


def conflicts_with_catalog(families: Families) -> list[Problem]:
    """Find SKUs the file uses in a way the stored catalog forbids.

    A SKU is unique across products and variations. A variation may move to
    another product only if its current product is also in the file; a
    stored product never becomes a variation.
    """
    parent_in_file = {
        variation.sku: product.sku
        for product in families.products.values()
        for variation in product.variations
    }
    skus = list(families.rows)
    stored_products = set(_stored_products(skus))
    stored_variations = dict(_stored_variations(skus))

    problems = []
    for sku, row in families.rows.items():
        message = _conflict(
            sku, parent_in_file.get(sku), families, stored_products, stored_variations
        )
        if message:
            problems.append(Problem(row, "sku", message))
    return problems


def _conflict(sku, parent, families, stored_products, stored_variations) -> str:
    owner = stored_variations.get(sku)
    if parent is not None and sku in stored_products:
        return (
            f"o SKU {sku} já é um produto do catálogo e não pode virar variação "
            "de outro produto"
        )
    if owner is not None and owner != parent and owner not in families.products:
        return (
            f"o SKU {sku} já é variação do produto {owner}, que não está no "
            "arquivo (inclua esse produto para mover a variação)"
        )
    return ""


def _stored_products(skus: list[str]) -> Iterable[str]:
    for start in range(0, len(skus), CHUNK):
        chunk = skus[start : start + CHUNK]
        yield from db.session.scalars(select(Product.sku).where(Product.sku.in_(chunk)))


def _stored_variations(skus: list[str]) -> Iterable[tuple[str, str]]:
    for start in range(0, len(skus), CHUNK):
        chunk = skus[start : start + CHUNK]
        yield from db.session.execute(
            select(Variation.sku, Product.sku)
            .join(Product, Variation.product_id == Product.id)
            .where(Variation.sku.in_(chunk))
        )


# Comparing and writing ----------------------------------------------------------


@dataclass
class _Work:
    """Changes collected for one chunk of products."""

    new: list[ProductRecord] = field(default_factory=list)
    changed: list[tuple[ProductRecord, ProductRecord]] = field(default_factory=list)


def _compare_and_write(families: Families, report: ImportReport, write: bool) -> None:
    products = families.products
    removed, touched = _removed_variations(products, write)
    report.removed_variations = len(removed)

    staged: list[str] = []
    stock_changes: dict[str, tuple[int, int]] = {}
    skus = list(products)
    for start in range(0, len(skus), CHUNK):
        chunk = [products[sku] for sku in skus[start : start + CHUNK]]
        work = _compare(chunk, removed, touched, report)
        stock_changes.update(_stock_changes(work.changed))
        if write:
            _write(work)
            staged.extend(p.sku for p in work.new)
            staged.extend(new.sku for new, _ in work.changed)

    deactivated = _deactivate_absent(products) if report.replace else []
    report.deactivated = len(deactivated)
    notice = stock_moves.overwrite_notice(stock_changes)
    if notice:
        report.notices.append(notice)
    if write:
        if report.replace:
            _switch_off(deactivated)
        _stage(staged + [sku for _, sku in deactivated])
        stock_moves.remember_file_moment()


def _stock_changes(
    changed: list[tuple[ProductRecord, ProductRecord]],
) -> dict[str, tuple[int, int]]:
    """Return {sku: (store stock, file stock)} where the file changes the stock."""
    found = {}
    for new, old in changed:
        stored = {item.sku: item.quantity for item in old.variations or [old]}
        for item in new.variations or [new]:
            if item.sku in stored and stored[item.sku] != item.quantity:
                found[item.sku] = (stored[item.sku], item.quantity)
    return found


def _removed_variations(
    products: dict[str, ProductRecord], write: bool
) -> tuple[set[str], set[str]]:
    """Find (and delete) stored variations that their product no longer lists."""
    listed = {v.sku: p.sku for p in products.values() for v in p.variations}
    skus = list(products)
    doomed: list[tuple[int, str, str]] = []
    for start in range(0, len(skus), CHUNK):
        rows = db.session.execute(
            select(Variation.id, Variation.sku, Product.sku)
            .join(Product, Variation.product_id == Product.id)
            .where(Product.sku.in_(skus[start : start + CHUNK]))
        )
        doomed.extend(row for row in rows if listed.get(row[1]) != row[2])

    ids = [variation_id for variation_id, _, _ in doomed]
    if write:
        for start in range(0, len(ids), CHUNK):
            db.session.execute(
                delete(Variation)
                .where(Variation.id.in_(ids[start : start + CHUNK]))
                .execution_options(synchronize_session=False)
            )
    return {sku for _, sku, _ in doomed}, {parent for _, _, parent in doomed}


def _compare(
    chunk: list[ProductRecord], removed: set[str], touched: set[str], report
) -> _Work:
    stored = load_families(product.sku for product in chunk)
    work = _Work()
    for product in chunk:
        old = stored.get(product.sku)
        if old is None:
            work.new.append(product)
            report.new += 1
            continue
        old.variations = [v for v in old.variations if v.sku not in removed]
        if product.sku in touched or not _same(product, old):
            work.changed.append((product, old))
            report.changed += 1
        else:
            report.unchanged += 1
    return work


def _same(new: ProductRecord, old: ProductRecord) -> bool:
    if new.values() != old.values():
        return False
    if new.store_id and new.store_id != old.store_id:
        return False
    if [v.sku for v in new.variations] != [v.sku for v in old.variations]:
        return False
    return all(
        a.values() == b.values()
        for a, b in zip(new.variations, old.variations, strict=True)
    )


def _write(work: _Work) -> None:
    now = utcnow()
    if work.new:
        rows = [_product_row(product, None, now) for product in work.new]
        db.session.connection().execute(insert(Product.__table__), rows)
        ids = _ids_of(product.sku for product in work.new)
        variations = [
            _variation_row(variation, ids[product.sku], position, now)
            for product in work.new
            for position, variation in enumerate(product.variations)
        ]
        if variations:
            db.session.connection().execute(insert(Variation.__table__), variations)
    for new, old in work.changed:
        _write_changed(new, old, now)


def _write_changed(new: ProductRecord, old: ProductRecord, now) -> None:
    values = _product_row(new, old.store_id, now)
    values.pop("created_at")
    db.session.execute(
        update(Product)
        .where(Product.id == old.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )

    stored = {variation.sku: variation for variation in old.variations}
    fresh = []
    for position, variation in enumerate(new.variations):
        row = _variation_row(variation, old.id, position, now)
        current = stored.get(variation.sku)
        if current is None:
            fresh.append(row)
            continue
        row.pop("created_at")
        db.session.execute(
            update(Variation)
            .where(Variation.id == current.id)
            .values(**row)
            .execution_options(synchronize_session=False)
        )
    if fresh:
        db.session.connection().execute(insert(Variation.__table__), fresh)


def _product_row(product: ProductRecord, store_id: str | None, now) -> dict:
    values = product.values(PRODUCT_FIELDS)
    values.update(
        sku=product.sku,
        store_id=product.store_id or store_id,
        created_at=now,
        updated_at=now,
    )
    return values


def _variation_row(variation: ItemRecord, product_id: int, position, now) -> dict:
    values = variation.values(ITEM_FIELDS)
    values.update(
        sku=variation.sku,
        product_id=product_id,
        position=position,
        created_at=now,
        updated_at=now,
    )
    return values


def _ids_of(skus: Iterable[str]) -> dict[str, int]:
    wanted = list(skus)
    rows = db.session.execute(
        select(Product.sku, Product.id).where(Product.sku.in_(wanted))
    )
    return dict(rows.all())


def _deactivate_absent(products: dict[str, ProductRecord]) -> list[tuple[int, str]]:
    """Return the active stored products the file does not list."""
    rows = db.session.execute(
        select(Product.id, Product.sku).where(Product.active.is_(True))
    )
    return [(product_id, sku) for product_id, sku in rows if sku not in products]


def _switch_off(products: list[tuple[int, str]]) -> None:
    ids = [product_id for product_id, _ in products]
    now = utcnow()
    for start in range(0, len(ids), CHUNK):
        db.session.execute(
            update(Product)
            .where(Product.id.in_(ids[start : start + CHUNK]))
            .values(active=False, updated_at=now)
            .execution_options(synchronize_session=False)
        )


def _stage(skus: list[str]) -> None:
    """Stage the sync items of the products written (no commit)."""
    store_url = settings_store.load().store_url()
    today = local_date(utcnow())
    for start in range(0, len(skus), CHUNK):
        families = load_families(skus[start : start + CHUNK])
        staging.stage_families(families.values(), store_url, today)
    staging.remember_store_url(store_url)
