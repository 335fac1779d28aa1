"""Order totals for the overview, counted in São Paulo days."""

from datetime import UTC, date, datetime, timedelta

from dashboard.extensions import db
from dashboard.models.types import utcnow
from dashboard.orders import intake
from dashboard.orders.stats import order_totals, orders_per_day
from dashboard.pluggto.orders import parse_order
from dashboard.sync import state
from tests.orders_factories import make_product, order_json, order_of

# 01:30 UTC on the 11th is still 22:30 of the 10th in São Paulo.
NOW = datetime(2024, 5, 11, 1, 30, tzinfo=UTC)


def imported(pluggto_id: str, at: datetime, **fields) -> None:
    intake.ingest(parse_order(order_json(pluggto_id, **fields)), at)


def test_today_counts_the_sao_paulo_day(app):
    make_product("CAM-01")
    imported("yesterday", datetime(2024, 5, 10, 2, 0, tzinfo=UTC))
    imported("today-1", datetime(2024, 5, 10, 3, 30, tzinfo=UTC))
    imported("today-2", datetime(2024, 5, 11, 1, 0, tzinfo=UTC))

    totals = order_totals(NOW)

    assert totals["today"] == 2


def test_awaiting_invoice_and_tracking(app):
    make_product("CAM-01")
    imported("paid", NOW)
    imported("pending", NOW, status="pending")
    imported("invoiced", NOW)
    order = order_of("invoiced")
    order.nfe_key = "1" * 44
    order.status = "invoiced"
    db.session.commit()

    totals = order_totals(NOW)

    assert (totals["awaiting_invoice"], totals["awaiting_tracking"]) == (1, 1)


def test_attention_counts_held_mismatched_reversal_and_failed_orders(app):
    make_product("CAM-01")
    imported("held", NOW, lines=[("XYZ", 1, "1.00")])
    imported("mismatch", NOW, total=1.0)
    imported("fine", NOW)
    imported("failed", NOW)
    error = intake._hold_error("recusado")
    state.mark_failed("order_external", "failed", error, utcnow())
    db.session.commit()

    assert order_totals(NOW)["attention"] == 3


def test_orders_per_day_has_every_day_with_zeros(app):
    make_product("CAM-01")
    imported("a", datetime(2024, 5, 9, 15, 0, tzinfo=UTC))
    imported("b", datetime(2024, 5, 11, 0, 30, tzinfo=UTC))
    imported("c", NOW - timedelta(days=30))

    days = orders_per_day(3, NOW)

    assert days == {date(2024, 5, 8): 0, date(2024, 5, 9): 1, date(2024, 5, 10): 1}
