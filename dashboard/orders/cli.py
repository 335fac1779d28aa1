"""Command line commands of this area, added to run.py by dashboard.cli.

``orders [--json]`` lists the orders; ``invoice ORDER ...`` and ``ship ORDER
...`` validate, store and send the NF-e or tracking right away (ORDER is the
Plugg.to id or the store order number). Exit codes: 0 done, 1 refused or not
accepted by Plugg.to (it stays in Falhas and is retried), 2 configuration.
"""

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import NoReturn

import click

from dashboard.models.orders import Order
from dashboard.models.types import utcnow
from dashboard.orders import actions, queries, status
from dashboard.orders.nfe import NfeXmlError, read_xml, validate_invoice
from dashboard.orders.records import find_order, money
from dashboard.orders.tracking import validate_tracking

EXIT_OK = 0
EXIT_FAILURES = 1
EXIT_CONFIG = 2
MAX_LISTED = 1000

INVOICE_LABELS = {
    "key": "Chave",
    "number": "Número",
    "series": "Série",
    "issued_at": "Data",
    "link": "Link",
}
TRACKING_LABELS = {
    "carrier": "Transportadora",
    "code": "Código",
    "method": "Modalidade",
    "url": "Link",
    "shipped_on": "Data",
}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def order_row(order: Order, sync: str) -> dict:
    """Describe one order for `orders --json` (no personal data)."""
    return {
        "pluggto_id": order.pluggto_id,
        "number": order.number,
        "original_id": order.original_id,
        "marketplace": order.channel,
        "status": order.status,
        "status_label": status.label(order.status),
        "pluggto_status": order.pluggto_status,
        "sync": sync,
        "sync_label": queries.SYNC_LABELS[sync][0],
        "hold_reason": order.hold_reason,
        "needs_reversal": order.needs_reversal,
        "created_at": _iso(order.created_at),
        "imported_at": _iso(order.imported_at),
        "subtotal": str(order.subtotal),
        "shipping": str(order.shipping),
        "discount": str(order.discount),
        "total": str(order.total),
        "totals_mismatch": order.totals_mismatch,
        "nfe_sent_at": _iso(order.invoice_sent_at),
        "tracking_sent_at": _iso(order.tracking_sent_at),
    }


def _text_line(row: dict) -> str:
    flags = [row["hold_reason"]] if row["hold_reason"] else []
    if row["totals_mismatch"]:
        flags.append("totais não conferem")
    if row["needs_reversal"]:
        flags.append("NF-e emitida: cancelar/estornar a nota")
    line = (
        f"{row['number']}  {row['pluggto_id']}  {row['marketplace'] or '—'}  "
        f"{row['status_label']}  {row['sync_label']}  {money(Decimal(row['total']))}"
    )
    return line + (f"  ({'; '.join(flags)})" if flags else "")


@click.command("orders")
@click.option("--json", "as_json", is_flag=True, help="Saída em JSON.")
@click.option("--status", "status_filter", default="", help="Só pedidos neste status.")
@click.option(
    "--atencao", "attention", is_flag=True, help="Só os que precisam de atenção."
)
@click.pass_obj
def orders_command(runtime, as_json: bool, status_filter: str, attention: bool) -> None:
    """Lista os pedidos: status, sincronização e totais (sai com 1 se houver falha)."""
    app = runtime.app()
    with app.app_context():
        filters = queries.Filters(status=status_filter, attention=attention)
        page = queries.order_page(filters, page_size=MAX_LISTED)
        rows = [order_row(order, page.sync[order.pluggto_id]) for order in page.orders]

    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif rows:
        click.echo("\n".join(_text_line(row) for row in rows))
    else:
        click.echo("Nenhum pedido.")
    failing = any(
        row["sync"] in (queries.SYNC_FAILED, queries.SYNC_HELD) for row in rows
    )
    sys.exit(EXIT_FAILURES if failing else EXIT_OK)


def _load(reference: str) -> Order:
    order = find_order(reference)
    if order is None:
        click.echo(f"Pedido {reference} não encontrado na loja.", err=True)
        sys.exit(EXIT_FAILURES)
    return order


def _refuse(errors: dict[str, str], labels: dict[str, str]) -> NoReturn:
    click.echo("Nada foi salvo nem enviado:", err=True)
    for name, message in errors.items():
        click.echo(f"  {labels[name]}: {message}", err=True)
    sys.exit(EXIT_FAILURES)


def _refused(error: actions.ActionRefused, labels: dict[str, str]) -> NoReturn:
    if isinstance(error, actions.FieldRefused) and error.field:
        _refuse({error.field: str(error)}, labels)
    click.echo(str(error), err=True)
    sys.exit(EXIT_FAILURES)


def _finish(order: Order, action, value, labels: dict[str, str]) -> None:
    try:
        outcome = action(order, value)
    except actions.ActionRefused as error:
        _refused(error, labels)

    for message in outcome.messages:
        click.echo(message, err=not outcome.ok)
    if outcome.config_problem:
        sys.exit(EXIT_CONFIG)
    sys.exit(EXIT_OK if outcome.ok else EXIT_FAILURES)


def _xml_fields(path: Path | None) -> dict:
    if path is None:
        return {}
    try:
        fields = read_xml(path.read_bytes())
    except NfeXmlError as error:
        click.echo(f"XML: {error}", err=True)
        sys.exit(EXIT_FAILURES)
    return {
        "key": fields.key,
        "number": fields.number,
        "series": fields.series,
        "issued_at": fields.issued_at,
    }


@click.command("invoice")
@click.argument("order")
@click.option("--key", help="Chave de acesso (44 dígitos; espaços e pontos aceitos).")
@click.option("--number", help="Número da NF-e.")
@click.option("--series", help="Série da NF-e.")
@click.option("--date", "issued_at", help="Data de emissão (dd/mm/aaaa [hh:mm]).")
@click.option("--link", help="Link da DANFE (opcional).")
@click.option(
    "--xml",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="XML da NF-e: preenche chave, número, série e data.",
)
@click.pass_obj
def invoice_command(runtime, order: str, xml: Path | None, **given) -> None:
    """Informa a NF-e de um pedido e envia ao Plugg.to."""
    app = runtime.app()
    with app.app_context():
        found = _load(order)
        values = _xml_fields(xml)
        values.update({name: value for name, value in given.items() if value})
        invoice, errors = validate_invoice(
            key=values.get("key"),
            number=values.get("number"),
            series=values.get("series"),
            issued_at=values.get("issued_at"),
            link=values.get("link"),
            now=utcnow(),
        )
        if errors:
            _refuse(errors, INVOICE_LABELS)
        _finish(found, actions.save_invoice, invoice, INVOICE_LABELS)


@click.command("ship")
@click.argument("order")
@click.option("--carrier", help="Transportadora (ex.: Correios).")
@click.option("--code", help="Código de rastreio.")
@click.option("--method", help="Modalidade (ex.: PAC, SEDEX).")
@click.option("--url", help="Link de rastreio (Correios: preenchido sozinho).")
@click.option("--date", "shipped_on", help="Data de envio (dd/mm/aaaa; padrão: hoje).")
@click.pass_obj
def ship_command(runtime, order: str, **given) -> None:
    """Informa o rastreio de um pedido e envia ao Plugg.to."""
    app = runtime.app()
    with app.app_context():
        found = _load(order)
        tracking, errors = validate_tracking(now=utcnow(), **given)
        if errors:
            _refuse(errors, TRACKING_LABELS)
        _finish(found, actions.save_tracking, tracking, TRACKING_LABELS)


commands: list[click.Command] = [orders_command, invoice_command, ship_command]
