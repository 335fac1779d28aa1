"""The orders job: pull new and changed orders, release held ones, push updates.

Also ``send_now``, used by the order page and the CLI to push one order's
NF-e or tracking right away, through the same sync items and the same order
lease as the job.
"""

import logging
from collections.abc import Container
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from dashboard import settings as settings_store
from dashboard.extensions import db
from dashboard.models.orders import Order
from dashboard.models.sync import STATE_FAILED, SyncItem
from dashboard.models.types import utcnow
from dashboard.orders import intake, pull
from dashboard.orders.pushes import PushResult, due_order_ids, push_order
from dashboard.orders.records import (
    KIND_IMPORT,
    by_pluggto_id,
    label_of,
    order_label,
)
from dashboard.pluggto.errors import CredentialsRejected, PluggtoError
from dashboard.pluggto.orders import OrderDataError, parse_order
from dashboard.sync import claims, state
from dashboard.sync.api import CallRecorder, make_client
from dashboard.sync.runner import JobContext

logger = logging.getLogger(__name__)

BAD_DATA_CODE = "bad_order"
COUNTED_OK = (intake.CREATED, intake.RELEASED, intake.UPDATED)
LIST_LABEL = "Lista de pedidos do Plugg.to"


def sync_orders(ctx: JobContext) -> None:
    """Pull orders from Plugg.to, release held ones, push what is due."""
    if ctx.only is not None:
        _refresh(ctx, list(ctx.only))
        _release_held(ctx, only=set(ctx.only))
        _push_due(ctx, keys=list(ctx.only))
        return

    try:
        _pull(ctx)
    except CredentialsRejected:
        raise
    except PluggtoError as error:  # the pushes below still go out
        logger.warning("Listing orders failed: %s", error)
        ctx.failed(
            "orders", f"Não foi possível ler os pedidos: {error.message}", LIST_LABEL
        )
    _release_held(ctx)
    _push_due(ctx)


# Pulling -------------------------------------------------------------------


def _pull(ctx: JobContext) -> None:
    now = ctx.now()
    fetched = pull.fetch(ctx.client, now)
    bad_keys = _failed_import_keys()

    complete = True
    for data in sorted(fetched.orders, key=_creation_order):
        if ctx.stopping():
            complete = False
            break
        complete = _ingest_data(ctx, data, now, bad_keys) and complete
    _refresh(ctx, fetched.stale_ids, mark_refreshed=True)

    if complete and not ctx.stopping():
        pull.advance_watermark(fetched.end)
    logger.info(
        "Orders pulled by %s from %s: %d listed, %d stale refreshed",
        fetched.mode,
        fetched.start.isoformat(),
        len(fetched.orders),
        len(fetched.stale_ids),
    )


def _creation_order(data: dict) -> tuple[str, str]:
    return (str(data.get("created") or ""), str(data.get("id") or ""))


def _failed_import_keys() -> set[str]:
    return set(
        db.session.scalars(
            select(SyncItem.key).where(
                SyncItem.kind == KIND_IMPORT, SyncItem.state == STATE_FAILED
            )
        )
    )


def _ingest_data(
    ctx: JobContext, data: dict, now: datetime, bad_keys: Container[str] = ()
) -> bool:
    """Import or mirror one listed order; False if it must be read again."""
    try:
        remote = parse_order(data)
    except OrderDataError as error:
        _record_bad_data(ctx, data, error, now)
        return True

    try:
        result = intake.ingest(remote, now)
    except Exception as error:  # one bad order never stops the others
        db.session.rollback()
        logger.exception("Could not import order %s", remote.id)
        ctx.failed(remote.id, f"Erro inesperado ao importar o pedido: {error}")
        return False

    if remote.id in bad_keys:
        _clear_bad_data(remote.id, now)
    _count(ctx, remote.id, result)
    return True


def _count(ctx: JobContext, pluggto_id: str, result: intake.Result) -> None:
    if result.outcome in COUNTED_OK:
        ctx.ok(result.label)
    elif result.outcome == intake.HELD:
        ctx.failed(pluggto_id, result.message, result.label)


def _record_bad_data(
    ctx: JobContext, data: dict, error: OrderDataError, now: datetime
) -> None:
    pluggto_id = str(data.get("id") or "").strip()
    message = f"Pedido com dados inválidos: {error}"
    if not pluggto_id:
        ctx.failed("?", message)
        return

    order = by_pluggto_id(pluggto_id)
    label = label_of(order) if order else order_label(None, data.get("channel"))
    state.stage(
        state.Desired(KIND_IMPORT, pluggto_id, {"order": pluggto_id}, pluggto_id, label)
    )
    failure = PluggtoError(message, code=BAD_DATA_CODE, permanent=True)
    state.mark_failed(KIND_IMPORT, pluggto_id, failure, now)
    db.session.commit()
    ctx.failed(pluggto_id, message, label)


def _clear_bad_data(pluggto_id: str, now: datetime) -> None:
    order = by_pluggto_id(pluggto_id)
    if order is None or order.hold_reason:
        return
    state.mark_sent(KIND_IMPORT, pluggto_id, {"order": pluggto_id}, now)
    db.session.commit()


def _refresh(
    ctx: JobContext, pluggto_ids: list[str], mark_refreshed: bool = False
) -> None:
    """Read orders one by one (retries, or open orders too old to list)."""
    for pluggto_id in pluggto_ids:
        if ctx.stopping():
            return
        now = ctx.now()
        try:
            data = ctx.client.get_order(pluggto_id)
        except CredentialsRejected:
            raise
        except PluggtoError as error:
            ctx.failed(pluggto_id, error.message)
            data = None
        if data is not None:
            _ingest_data(ctx, data, now, {pluggto_id})
        if mark_refreshed:
            _mark_refreshed(pluggto_id, now)


def _mark_refreshed(pluggto_id: str, now: datetime) -> None:
    db.session.execute(
        update(Order).where(Order.pluggto_id == pluggto_id).values(refreshed_at=now)
    )
    db.session.commit()


def _release_held(ctx: JobContext, only: set[str] | None = None) -> None:
    """Import held orders whose SKUs now exist (no API call)."""
    for order_id in intake.held_order_ids():
        order = db.session.get(Order, order_id)
        if order is None or (only is not None and order.pluggto_id not in only):
            continue
        result = intake.try_release(order, ctx.now())
        if result is not None:
            ctx.ok(result.label)


# Pushing -------------------------------------------------------------------


def _push_due(ctx: JobContext, keys: list[str] | None = None) -> None:
    items = [(pid, _label(pid)) for pid in due_order_ids(ctx.now(), keys)]
    if not items:
        return

    def handle(item: tuple[str, str]) -> None:
        pluggto_id, label = item
        for result in push_order(ctx.client, pluggto_id, ctx.now()):
            if result.ok:
                ctx.ok(label)
            elif result.waiting:
                ctx.skipped(label)
            else:
                ctx.failed(pluggto_id, result.message, label)

    ctx.add_total(len(items))
    ctx.for_each(
        items, handle, group_of=lambda item: item[0], label_of=lambda item: item[1]
    )


def _label(pluggto_id: str) -> str:
    order = by_pluggto_id(pluggto_id)
    return label_of(order) if order else pluggto_id


def send_now(pluggto_id: str) -> list[PushResult]:
    """Push one order's due updates now, holding the order's lease."""
    settings = settings_store.load()
    if settings.missing():
        return [
            PushResult(
                "config",
                False,
                "Credenciais do Plugg.to incompletas: o envio fica pendente até "
                "a configuração ser concluída.",
            )
        ]

    owner = claims.new_owner()
    key = f"group:{pluggto_id}"
    lease = timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"])
    if not claims.try_claim(key, owner, lease):
        return [
            PushResult(
                "busy",
                False,
                "Este pedido está sendo enviado por uma sincronização agora; "
                "o envio continua pendente e sai em seguida.",
            )
        ]
    return _send_holding_lease(settings, pluggto_id, key, owner)


def _send_holding_lease(
    settings: settings_store.Settings, pluggto_id: str, key: str, owner: str
) -> list[PushResult]:
    recorder = CallRecorder()
    try:
        with make_client(settings, recorder) as client:
            return push_order(client, pluggto_id, utcnow())
    except CredentialsRejected as error:
        db.session.rollback()
        settings_store.mark_credentials_rejected(error.message)
        return [PushResult("credentials", False, error.message)]
    finally:
        claims.release(key, owner)
        db.session.commit()
        recorder.flush()
