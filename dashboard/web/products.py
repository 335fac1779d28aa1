"""Produtos: the catalog list, a product page, import/export and "sync now"."""

import io
import re
import tempfile
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    request,
    send_file,
    url_for,
)
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import InputRequired, ValidationError

from dashboard.catalog import cells, uploads
from dashboard.catalog.editing import SkuChange, StockChanged, edit_sku
from dashboard.catalog.exporter import export_catalog
from dashboard.catalog.importer import apply_import, preview_import
from dashboard.catalog.jobs import sync_now
from dashboard.catalog.listing import (
    KIND_FILTERS,
    STATE_FILTERS,
    STATE_LABELS,
    Filters,
    describe,
    product_family,
    product_page,
)
from dashboard.catalog.spreadsheet import SheetError
from dashboard.extensions import db
from dashboard.models.catalog import Product
from dashboard.models.types import utcnow
from dashboard.web.format import local
from dashboard.web.forms import Form
from dashboard.web.rendering import render, wants_fragment

bp = Blueprint("products", __name__, url_prefix="/produtos")

EXPORT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


class ImportForm(Form):
    file = FileField(
        "Planilha (.csv ou .xlsx)",
        validators=[FileRequired("Escolha um arquivo .csv ou .xlsx.")],
    )
    replace = BooleanField("Substituir o catálogo")


class ApplyForm(Form):
    """Only the CSRF token: the upload is named in the address."""


# A stock is whole: a separator before groups of three digits marks thousands.
THOUSANDS = re.compile(r"\d{1,3}(?:[.,]\d{3})+")


class SkuForm(Form):
    price = StringField(
        "Preço (de)", validators=[InputRequired("Informe o preço de venda.")]
    )
    special_price = StringField("Preço promocional (por)")
    quantity = StringField("Estoque")
    shown_quantity = HiddenField()  # the stock the page showed, to detect moves

    def validate_price(self, field) -> None:
        self.price_value = _money(field.data)

    def validate_special_price(self, field) -> None:
        self.special_value = _money(field.data) if (field.data or "").strip() else None
        price = getattr(self, "price_value", None)
        if self.special_value is not None and price and self.special_value > price:
            raise ValidationError("O preço promocional não pode ser maior que o preço.")

    def validate_quantity(self, field) -> None:
        try:
            raw = (field.data or "").strip()
            if THOUSANDS.fullmatch(raw):  # "1.000" or "1,000": a whole thousand
                raw = raw.replace(".", "").replace(",", "")
            self.quantity_value = cells.stock(raw, "," in raw)
        except cells.CellError as error:
            raise ValidationError(_sentence(str(error))) from None

    def change(self) -> SkuChange:
        shown = (self.shown_quantity.data or "").strip()
        return SkuChange(
            self.price_value,
            self.special_value,
            self.quantity_value,
            int(shown) if shown.isascii() and shown.isdigit() else None,
        )


def _money(text: str | None):
    raw = (text or "").strip()
    try:
        amount = cells.money(raw, "," in raw)
    except cells.CellError as error:
        raise ValidationError(_sentence(str(error))) from None
    if amount is None:
        raise ValidationError("Informe um valor.")
    return amount


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(")") else ".")


# List ---------------------------------------------------------------------------


def _list_context(**extra) -> dict:
    filters = Filters.parse(request.args)
    context = {
        "page": product_page(filters),
        "filters": filters,
        "state_filters": STATE_FILTERS,
        "kind_filters": KIND_FILTERS,
        "state_labels": STATE_LABELS,
        "describe": describe,
        "import_form": ImportForm(),
    }
    context.update(extra)
    return context


@bp.get("/")
def index():
    return render("products.html", "partials/_product_list.html", **_list_context())


# One product --------------------------------------------------------------------


def _family_or_404(product_id: int):
    family = product_family(product_id)
    if family is None:
        abort(404)
    return family


def _sku_forms(family, posted: tuple[int, SkuForm] | None = None) -> list:
    lines = [family.line, *family.variations]
    forms = []
    for index, line in enumerate(lines):
        if posted and posted[0] == index:
            forms.append((index, line, posted[1]))
            continue
        form = SkuForm(prefix=f"s{index}", formdata=None)
        form.price.data = _brl_input(line.price)
        form.special_price.data = _brl_input(line.special_price)
        form.quantity.data = "" if line.quantity is None else str(line.quantity)
        form.shown_quantity.data = form.quantity.data
        forms.append((index, line, form))
    return forms


def _brl_input(amount) -> str:
    return "" if amount is None else format(amount, "f").replace(".", ",")


def _detail_context(family, posted=None) -> dict:
    return {
        "family": family,
        "forms": _sku_forms(family, posted),
        "has_variations": bool(family.variations),
        "state_labels": STATE_LABELS,
        "describe": describe,
    }


@bp.get("/<int:product_id>")
def detail(product_id: int):
    family = _family_or_404(product_id)
    return render("product.html", **_detail_context(family))


@bp.post("/<int:product_id>/editar/<int:index>")
def edit(product_id: int, index: int):
    family = _family_or_404(product_id)
    lines = [family.line, *family.variations]
    if index >= len(lines):
        abort(404)
    form = SkuForm(prefix=f"s{index}")
    line = lines[index]

    if not form.validate():
        return _edit_response(product_id, index, line, form, 422)

    try:
        edit_sku(family.product, line.sku, form.change())
    except StockChanged as moved:
        form.quantity.errors = [str(moved)]
        form.quantity.data = form.shown_quantity.data = str(moved.current)
        return _edit_response(product_id, index, line, form, 409)
    flash(f"{line.sku}: alteração salva; será enviada ao Plugg.to.", "success")
    if not wants_fragment():
        return redirect(url_for("products.detail", product_id=product_id), code=303)
    family = _family_or_404(product_id)
    fresh = _sku_forms(family)[index]
    return _edit_response(product_id, index, fresh[1], fresh[2], 200)


def _edit_response(product_id, index, line, form, status):
    if wants_fragment():
        response = render(
            "product.html",
            "partials/_product_edit.html",
            product_id=product_id,
            index=index,
            line=line,
            form=form,
        )
        response.status_code = status
        return response
    family = _family_or_404(product_id)
    response = render("product.html", **_detail_context(family, (index, form)))
    response.status_code = status
    return response


@bp.post("/<int:product_id>/sincronizar")
def sync(product_id: int):
    product = db.session.get(Product, product_id) or abort(404)
    started, refused = sync_now(product.sku)
    if refused:
        flash(
            " ".join(refused)
            + " O produto entra na próxima execução dessa sincronização.",
            "warning",
        )
    if started:
        flash(f"Sincronização de {product.sku} iniciada.", "success")
    if request.form.get("voltar") == "produto":
        return redirect(url_for("products.detail", product_id=product_id), code=303)
    return redirect(url_for("products.index", q=product.sku), code=303)


# Import / export ----------------------------------------------------------------


def _data_dir() -> Path:
    return Path(current_app.config["DATA_DIR"])


@bp.post("/importar")
def upload():
    form = ImportForm()
    if not form.validate():
        context = _list_context(import_form=form)
        response = render("products.html", "partials/_import_panel.html", **context)
        response.status_code = 422
        return response

    file = form.file.data
    try:
        stored = uploads.save(
            _data_dir(), file.stream, file.filename, form.replace.data
        )
    except SheetError as error:
        form.file.errors = [str(error)]
        context = _list_context(import_form=form)
        response = render("products.html", "partials/_import_panel.html", **context)
        response.status_code = 422
        return response

    if not wants_fragment():
        return redirect(url_for("products.preview", token=stored.token), code=303)
    return _preview(stored)


def _preview(stored: uploads.Upload):
    report = preview_import(stored.path, replace=stored.replace, name=stored.name)
    return render(
        "product_import.html",
        "partials/_import_preview.html",
        report=report,
        upload=stored,
        apply_form=ApplyForm(),
    )


def _upload_or_404(token: str) -> uploads.Upload:
    stored = uploads.find(_data_dir(), token)
    if stored is None:
        abort(404)
    return stored


@bp.get("/importar/<token>")
def preview(token: str):
    return _preview(_upload_or_404(token))


@bp.post("/importar/<token>/aplicar")
def apply(token: str):
    stored = _upload_or_404(token)
    report = apply_import(stored.path, replace=stored.replace, name=stored.name)
    if not report.ok:
        response = _preview(stored)
        response.status_code = 422
        return response

    uploads.discard(stored)
    flash(f"Importação aplicada. {report.summary()}", "success")
    return redirect(url_for("products.index"), code=303)


@bp.get("/exportar")
def export():
    kind = request.args.get("formato", "csv")
    if kind not in EXPORT_TYPES:
        abort(404)

    with tempfile.TemporaryDirectory(dir=uploads.folder(_data_dir())) as folder:
        path = Path(folder) / f"catalogo.{kind}"
        export_catalog(path)
        data = path.read_bytes()
    stamp = local(utcnow()).strftime("%Y%m%d-%H%M")
    return send_file(
        io.BytesIO(data),
        mimetype=EXPORT_TYPES[kind],
        as_attachment=True,
        download_name=f"catalogo-{stamp}.{kind}",
    )
