"""Creating store orders once, holding and releasing them, mirroring statuses."""

import threading
from decimal import Decimal

from sqlalchemy import func, select

from dashboard.extensions import db
from dashboard.models.orders import Order, OrderEvent
from dashboard.models.sync import SyncItem
from dashboard.models.types import utcnow
from dashboard.orders import intake
from dashboard.pluggto.orders import parse_order
from tests.orders_factories import (
    make_product,
    make_variation,
    order_json,
    order_of,
    stock_of,
    with_variation,
)


def ingest(data: dict) -> intake.Result:
    return intake.ingest(parse_order(data), utcnow())


def events(pluggto_id: str) -> list[str]:
    order = order_of(pluggto_id)
    return [event.kind for event in order.events]


def sync_item(kind: str, key: str) -> SyncItem | None:
    db.session.expire_all()
    return db.session.scalar(
        select(SyncItem).where(SyncItem.kind == kind, SyncItem.key == key)
    )


def test_it_creates_the_order_reserves_stock_and_stages_the_store_number(app):
    make_product("CAM-01", quantity=10)

    result = ingest(order_json("p1", lines=[("CAM-01", 3, "50.00")]))

    order = order_of("p1")
    assert result.outcome == intake.CREATED
    assert order.number == 1001
    assert order.status == "approved"
    assert order.approved_at is not None
    assert order.items[0].reserved == 3
    assert order.total == Decimal("165.00")
    assert stock_of("CAM-01") == 7
    assert events("p1") == ["imported"]
    assert sync_item("order_external", "p1").desired_value == {"external": "1001"}
    assert sync_item("order_external", "p1").label == "Pedido 1001 · MercadoLivre"


def test_the_reserved_stock_is_staged_for_the_next_stock_push(app):
    make_product("CAM-01", quantity=10)

    ingest(order_json("p1", lines=[("CAM-01", 3, "50.00")]))
    ingest(order_json("p1", lines=[("CAM-01", 3, "50.00")]))

    item = sync_item("stock", "CAM-01")
    assert item.desired_value == {"quantity": 7}
    assert item.state == "pending"


def test_store_numbers_are_sequential(app):
    make_product("CAM-01")

    ingest(order_json("p1"))
    ingest(order_json("p2"))

    assert [order_of("p1").number, order_of("p2").number] == [1001, 1002]


def test_re_ingesting_the_same_order_changes_nothing(app):
    make_product("CAM-01", quantity=10)
    data = order_json("p1", lines=[("CAM-01", 2, "50.00")])
    ingest(data)

    result = ingest(data)

    assert result.outcome == intake.UNCHANGED
    assert stock_of("CAM-01") == 8
    assert db.session.scalar(select(func.count(Order.id))) == 1
    assert events("p1") == ["imported"]


def test_a_line_resolves_by_its_variation_sku(app):
    make_variation("CAM-01", "CAM-01-M", quantity=5)

    ingest(
        with_variation(order_json("p1", lines=[("CAM-01", 2, "50.00")]), 0, "CAM-01-M")
    )

    assert order_of("p1").items[0].store_sku == "CAM-01-M"
    assert stock_of("CAM-01-M") == 3


def test_a_line_whose_variation_sku_is_unknown_falls_back_to_its_sku(app):
    make_product("CAM-01", quantity=10)

    ingest(with_variation(order_json("p1", lines=[("CAM-01", 2, "50.00")]), 0, "X-9"))

    assert order_of("p1").hold_reason is None
    assert order_of("p1").items[0].store_sku == "CAM-01"
    assert stock_of("CAM-01") == 8


def test_a_cancel_returns_stock_to_the_sku_it_was_taken_from(app):
    make_product("CAM-01", quantity=10)
    ingest(
        with_variation(order_json("p1", lines=[("CAM-01", 2, "50.00")]), 0, "CAM-01-G")
    )
    make_variation("OUTRA", "CAM-01-G", quantity=5)

    ingest(order_json("p1", status="canceled"))

    assert (stock_of("CAM-01"), stock_of("CAM-01-G")) == (10, 5)


def test_an_unknown_variation_of_a_parent_with_variations_is_named(app):
    make_variation("CAM-01", "CAM-01-M", quantity=5)

    ingest(
        with_variation(order_json("p1", lines=[("CAM-01", 1, "50.00")]), 0, "CAM-01-G")
    )

    assert order_of("p1").hold_reason == (
        "Aguardando mapeamento: SKU CAM-01-G desconhecido"
    )
    assert stock_of("CAM-01-M") == 5


def test_a_line_with_neither_sku_known_names_the_variation_sku(app):
    ingest(with_variation(order_json("p1", lines=[("NOPE", 1, "50.00")]), 0, "NOPE-G"))

    assert order_of("p1").hold_reason == (
        "Aguardando mapeamento: SKU NOPE-G desconhecido"
    )


def test_an_unknown_sku_holds_the_order_without_reserving(app):
    make_product("CAM-01", quantity=10)

    result = ingest(
        order_json("p1", lines=[("CAM-01", 1, "50.00"), ("XYZ", 1, "9.90")])
    )

    order = order_of("p1")
    item = sync_item("order_import", "p1")
    assert result.outcome == intake.HELD
    assert order.hold_reason == "Aguardando mapeamento: SKU XYZ desconhecido"
    assert stock_of("CAM-01") == 10
    assert item.state == "failed"
    assert item.last_error == "Aguardando mapeamento: SKU XYZ desconhecido"
    assert sync_item("order_external", "p1") is None


def test_a_held_order_is_imported_once_the_sku_exists(app):
    make_product("CAM-01", quantity=10)
    ingest(order_json("p1", lines=[("CAM-01", 1, "50.00"), ("XYZ", 2, "9.90")]))
    make_product("XYZ", quantity=4)

    result = intake.try_release(order_of("p1"), utcnow())
    again = intake.try_release(order_of("p1"), utcnow())

    assert result.outcome == intake.RELEASED
    assert again is None
    assert order_of("p1").hold_reason is None
    assert (stock_of("CAM-01"), stock_of("XYZ")) == (9, 2)
    assert sync_item("order_import", "p1").state == "ok"
    assert sync_item("order_external", "p1").state == "pending"


def test_a_parent_sku_with_variations_holds_the_order(app):
    make_variation("CAM-01", "CAM-01-M", quantity=5)

    result = ingest(order_json("p1", lines=[("CAM-01", 1, "50.00")]))

    assert result.outcome == intake.HELD
    assert "variações" in order_of("p1").hold_reason
    assert ".." not in order_of("p1").events[-1].message


def test_pending_then_approved_approves_once(app):
    make_product("CAM-01")
    ingest(order_json("p1", status="pending"))
    assert order_of("p1").approved_at is None

    ingest(order_json("p1", status="approved"))
    ingest(order_json("p1", status="approved"))

    assert order_of("p1").status == "approved"
    assert events("p1") == ["imported", "approved"]


def test_approved_then_canceled_twice_returns_the_stock_once(app):
    make_product("CAM-01", quantity=10)
    ingest(order_json("p1", lines=[("CAM-01", 4, "50.00")]))

    ingest(order_json("p1", status="canceled"))
    ingest(order_json("p1", status="canceled"))

    order = order_of("p1")
    assert stock_of("CAM-01") == 10
    assert order.status == "canceled"
    assert order.items[0].returned == 4
    assert events("p1") == ["imported", "canceled"]
    assert order.needs_reversal is False


def test_cancel_returns_exactly_what_was_reserved_when_stock_was_short(app):
    make_product("CAM-01", quantity=2)
    ingest(order_json("p1", lines=[("CAM-01", 3, "50.00")]))
    assert order_of("p1").items[0].reserved == 2

    ingest(order_json("p1", status="canceled"))

    assert stock_of("CAM-01") == 2


def test_a_cancel_after_the_store_invoiced_is_applied_and_flagged(app):
    make_product("CAM-01", quantity=10)
    ingest(order_json("p1"))
    order = order_of("p1")
    order.nfe_key = "1" * 44
    order.status = "invoiced"
    db.session.commit()

    ingest(order_json("p1", status="canceled"))

    order = order_of("p1")
    assert order.status == "canceled"
    assert order.needs_reversal is True
    assert stock_of("CAM-01") == 10
    assert order.events[-1].message == "NF-e emitida: cancelar/estornar a nota."


def test_a_cancel_after_tracking_was_entered_is_flagged(app):
    make_product("CAM-01", quantity=10)
    ingest(order_json("p1"))
    order = order_of("p1")
    order.track_code = "AA123456789BR"
    db.session.commit()

    ingest(order_json("p1", status="canceled"))

    assert order_of("p1").needs_reversal is True
    assert stock_of("CAM-01") == 10


def test_a_repeated_cancel_after_invoice_flags_once(app):
    make_product("CAM-01", quantity=10)
    ingest(order_json("p1", status="invoiced"))

    ingest(order_json("p1", status="canceled"))
    ingest(order_json("p1", status="canceled"))

    assert events("p1").count("reversal") == 1
    assert stock_of("CAM-01") == 10


def test_a_canceled_held_order_leaves_falhas_without_touching_stock(app):
    ingest(order_json("p1", lines=[("XYZ", 1, "9.90")]))

    ingest(order_json("p1", status="canceled"))

    assert order_of("p1").hold_reason is None
    assert sync_item("order_import", "p1").state == "ok"


def test_a_late_status_never_moves_the_order_back(app):
    make_product("CAM-01")
    ingest(order_json("p1", status="shipped"))

    ingest(order_json("p1", status="approved"))

    assert order_of("p1").status == "shipped"
    assert order_of("p1").pluggto_status == "approved"
    assert "voltou o status" in order_of("p1").events[-1].message


def test_plugg_catching_up_with_the_store_adds_no_timeline_noise(app):
    make_product("CAM-01")
    ingest(order_json("p1", status="approved"))
    order = order_of("p1")
    order.status = "shipped"
    db.session.commit()

    ingest(order_json("p1", status="invoiced"))
    ingest(order_json("p1", status="shipping_informed"))

    assert events("p1") == ["imported"]
    assert order_of("p1").status == "shipped"


def test_an_unknown_status_is_kept_and_shown_but_changes_nothing(app):
    make_product("CAM-01")
    ingest(order_json("p1", status="approved"))

    ingest(order_json("p1", status="awaiting_pickup"))

    order = order_of("p1")
    assert order.status == "approved"
    assert order.pluggto_status == "awaiting_pickup"
    assert "awaiting_pickup" in order.events[-1].message


def test_an_order_first_seen_invoiced_is_imported_invoiced(app):
    make_product("CAM-01", quantity=5)

    ingest(order_json("p1", status="invoiced"))

    assert order_of("p1").status == "invoiced"
    assert stock_of("CAM-01") == 4


def test_an_order_first_seen_canceled_is_not_imported(app):
    result = ingest(order_json("p1", status="canceled"))

    assert result.outcome == intake.SKIPPED
    assert order_of("p1") is None


def test_a_totals_mismatch_is_recorded_not_corrected(app):
    make_product("CAM-01")

    ingest(order_json("p1", total=99.0))

    order = order_of("p1")
    assert order.total == Decimal("99.00")
    assert order.totals_mismatch is True
    assert "Totais não conferem" in order.events[-1].message


def test_a_missing_subtotal_and_email_do_not_stop_the_import(app):
    make_product("CAM-01")

    ingest(order_json("p1", subtotal=None, payer_email="", receiver_email=None))

    order = order_of("p1")
    assert order.subtotal == Decimal("50.00")
    assert order.subtotal_derived is True
    assert order.buyer_email is None
    assert order.totals_mismatch is False


def test_two_threads_importing_the_same_order_create_it_once(app):
    make_product("CAM-01", quantity=10)
    remote = parse_order(order_json("p1", lines=[("CAM-01", 2, "50.00")]))
    barrier = threading.Barrier(2)
    outcomes = []

    def run() -> None:
        with app.app_context():
            barrier.wait()
            outcomes.append(intake.ingest(remote, utcnow()).outcome)
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) in (
        [intake.CREATED, intake.EXISTING],
        [intake.CREATED, intake.UNCHANGED],
    )
    assert db.session.scalar(select(func.count(Order.id))) == 1
    assert stock_of("CAM-01") == 8
    assert db.session.scalar(select(func.count(OrderEvent.id))) == 1
