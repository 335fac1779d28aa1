"""Pedidos: the order list, one order's page, NF-e and tracking forms."""

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.widgets import DateInput, DateTimeLocalInput

from dashboard.models.orders import Order
from dashboard.models.types import utcnow
from dashboard.orders import actions, queries, status
from dashboard.orders.dates import STORE_TIMEZONE, local_day
from dashboard.orders.nfe import (
    NfeXmlError,
    XmlFields,
    read_xml,
    validate_invoice,
)
from dashboard.orders.records import find_order
from dashboard.orders.tracking import CORREIOS, validate_tracking
from dashboard.sync.report import KIND_LABELS
from dashboard.web.forms import Form
from dashboard.web.rendering import render, wants_fragment

bp = Blueprint("orders", __name__, url_prefix="/pedidos")

DETAIL_PAGE = "order.html"
DETAIL_FRAGMENT = "partials/_order_detail.html"
LIST_FRAGMENT = "partials/_orders_table.html"


class InvoiceForm(Form):
    key = StringField("Chave de acesso (44 dígitos)")
    number = StringField("Número")
    series = StringField("Série")
    issued_at = StringField("Data de emissão", widget=DateTimeLocalInput())
    link = StringField("Link da DANFE (opcional)")


class XmlForm(Form):
    xml = FileField("Arquivo XML da NF-e")


class TrackingForm(Form):
    carrier = StringField("Transportadora")
    method = StringField("Modalidade (opcional)")
    code = StringField("Código de rastreio")
    url = StringField("Link de rastreio (opcional)")
    shipped_on = StringField("Data de envio", widget=DateInput())


# List ----------------------------------------------------------------------


def _filters() -> queries.Filters:
    return queries.Filters(
        status=request.args.get("status", "").strip(),
        channel=request.args.get("marketplace", "").strip(),
        attention=request.args.get("atencao") == "1",
        step=request.args.get("etapa", "").strip(),
        page=max(request.args.get("pagina", 1, type=int) or 1, 1),
    )


@bp.get("/")
def index():
    filters = _filters()
    return render(
        "orders.html",
        LIST_FRAGMENT,
        result=queries.order_page(filters),
        filters=filters,
        channels=queries.channels(),
        statuses=queries.statuses(),
        steps=[(name, label) for name, (label, _) in queries.STEPS.items()],
        **_helpers(),
    )


def _helpers() -> dict:
    return {
        "status_label": status.label,
        "status_tone": status.tone,
        "sync_labels": queries.SYNC_LABELS,
        "first_name": queries.first_name,
    }


# One order -----------------------------------------------------------------


def _order_or_404(order_id: str) -> Order:
    order = find_order(order_id)
    if order is None:
        abort(404)
    return order


def _invoice_defaults(order: Order) -> dict:
    issued = order.nfe_date.astimezone(STORE_TIMEZONE) if order.nfe_date else None
    return {
        "key": order.nfe_key,
        "number": order.nfe_number,
        "series": order.nfe_series,
        "issued_at": issued.strftime("%Y-%m-%dT%H:%M") if issued else "",
        "link": order.nfe_link,
    }


def _tracking_defaults(order: Order) -> dict:
    shipped = order.date_shipped or local_day(utcnow())
    return {
        "carrier": order.shipping_company or CORREIOS,
        "method": order.shipping_method,
        "code": order.track_code,
        "url": order.track_url,
        "shipped_on": shipped.isoformat(),
    }


def _context(order: Order, invoice_form=None, tracking_form=None, xml_form=None):
    return {
        "order": order,
        "invoice_form": invoice_form or InvoiceForm(data=_invoice_defaults(order)),
        "tracking_form": tracking_form or TrackingForm(data=_tracking_defaults(order)),
        "xml_form": xml_form or XmlForm(),
        "items": queries.sync_items(order.pluggto_id),
        "sync": queries.sync_states([order])[order.pluggto_id],
        "edit_problem": actions.edit_problem(order),
        "tracking_problem": actions.tracking_problem(order),
        "kind_states": queries.KIND_STATE_LABELS,
        "kind_names": KIND_LABELS,
        "document": queries.masked_document(order.buyer_document),
        "payment_label": queries.payment_label,
        "email": queries.masked_email(order.buyer_email),
        "expected_total": order.subtotal + order.shipping - order.discount,
        **_helpers(),
    }


def _page(order: Order, code: int = 200, **forms):
    response = render(DETAIL_PAGE, DETAIL_FRAGMENT, **_context(order, **forms))
    response.status_code = code  # base.html lets htmx swap a 422
    return response


@bp.get("/<order_id>")
def detail(order_id: str):
    order = find_order(order_id)
    if order is None:
        return _not_imported(order_id)
    return _page(order)


def _not_imported(order_id: str):
    failure = queries.import_failure(order_id)
    if failure is None:
        abort(404)
    return render("order_missing.html", failure=failure, pluggto_id=order_id)


def _done(order: Order, outcome: actions.Outcome):
    for message in outcome.messages:
        flash(message, "success" if outcome.ok else "warning")
    if wants_fragment():
        return _page(order)
    return redirect(url_for("orders.detail", order_id=order.pluggto_id), code=303)


def _refused(order: Order, error: actions.ActionRefused):
    flash(str(error), "danger")
    if wants_fragment():
        return _page(order, 409)
    return redirect(url_for("orders.detail", order_id=order.pluggto_id), code=303)


def _attach_errors(form: Form, errors: dict[str, str]) -> None:
    for name, message in errors.items():
        form[name].errors = [*form[name].errors, message]


def _refused_in_form(
    order: Order, error: actions.FieldRefused, form_name: str, form: Form
):
    """Show a refusal inside the form that caused it, keeping what was typed."""
    if error.field:
        _attach_errors(form, {error.field: str(error)})
    else:
        form.form_errors.append(str(error))
    return _page(order, 409, **{form_name: form})


@bp.post("/<order_id>/nfe")
def save_invoice(order_id: str):
    order = _order_or_404(order_id)
    form = InvoiceForm()
    invoice, errors = validate_invoice(
        key=form.key.data,
        number=form.number.data,
        series=form.series.data,
        issued_at=form.issued_at.data,
        link=form.link.data,
        now=utcnow(),
    )
    if errors:
        _attach_errors(form, errors)
        return _page(order, 422, invoice_form=form)

    try:
        outcome = actions.save_invoice(order, invoice)
    except actions.FieldRefused as error:
        return _refused_in_form(order, error, "invoice_form", form)
    except actions.ActionRefused as error:
        return _refused(order, error)
    return _done(order, outcome)


@bp.post("/<order_id>/nfe/xml")
def read_invoice_xml(order_id: str):
    order = _order_or_404(order_id)
    xml_form = XmlForm()
    upload = xml_form.xml.data
    if not upload or not getattr(upload, "filename", ""):
        _attach_errors(xml_form, {"xml": "Escolha o arquivo XML da NF-e."})
        return _page(order, 422, xml_form=xml_form)

    try:
        fields = read_xml(upload.read())
    except NfeXmlError as error:
        _attach_errors(xml_form, {"xml": str(error)})
        return _page(order, 422, xml_form=xml_form)

    form = _xml_form(order, fields)
    errors = _xml_errors(order, fields)
    if errors:
        _attach_errors(form, errors)
        flash("Dados lidos do XML, mas há campos a corrigir: veja abaixo.", "warning")
        return _page(order, 422, invoice_form=form)

    flash("Dados lidos do XML. Confira e clique em “Salvar e enviar NF-e”.", "info")
    return _page(order, invoice_form=form)


def _xml_form(order: Order, fields: XmlFields) -> InvoiceForm:
    issued = fields.issued_at.astimezone(STORE_TIMEZONE) if fields.issued_at else None
    return InvoiceForm(
        formdata=None,
        data={
            "key": fields.key,
            "number": fields.number,
            "series": fields.series,
            "issued_at": issued.strftime("%Y-%m-%dT%H:%M") if issued else "",
            "link": order.nfe_link,
        },
    )


def _xml_errors(order: Order, fields: XmlFields) -> dict[str, str]:
    """Check what an XML filled in, so a problem shows before the merchant saves."""
    invoice, errors = validate_invoice(
        key=fields.key,
        number=fields.number,
        series=fields.series,
        issued_at=fields.issued_at,
        link=order.nfe_link,
        now=utcnow(),
    )
    if invoice is None:
        return errors
    in_use = actions.key_in_use(order, invoice.key)
    if in_use:
        return {"key": in_use}
    too_early = actions.issue_date_problem(order, invoice)
    return {"issued_at": too_early} if too_early else {}


@bp.post("/<order_id>/rastreio")
def save_tracking(order_id: str):
    order = _order_or_404(order_id)
    form = TrackingForm()
    tracking, errors = validate_tracking(
        carrier=form.carrier.data,
        code=form.code.data,
        method=form.method.data,
        url=form.url.data,
        shipped_on=form.shipped_on.data,
        now=utcnow(),
    )
    if errors:
        _attach_errors(form, errors)
        return _page(order, 422, tracking_form=form)

    try:
        outcome = actions.save_tracking(order, tracking)
    except actions.FieldRefused as error:
        return _refused_in_form(order, error, "tracking_form", form)
    except actions.ActionRefused as error:
        return _refused(order, error)
    return _done(order, outcome)


@bp.post("/<order_id>/nfe/estornada")
def mark_reversed(order_id: str):
    order = _order_or_404(order_id)
    return _done(order, actions.mark_reversed(order))


@bp.post("/<order_id>/tentar")
def retry(order_id: str):
    order = _order_or_404(order_id)
    return _done(order, actions.retry_order(order))
