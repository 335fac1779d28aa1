"""Order actions: NF-e and ship dates against the order, NF-e reversal."""

from datetime import UTC, date, datetime

import pytest

from dashboard.extensions import db
from dashboard.models.orders import Order
from dashboard.models.types import utcnow
from dashboard.orders import actions, intake
from dashboard.orders.nfe import Invoice
from dashboard.orders.stats import order_totals
from dashboard.orders.tracking import Tracking
from dashboard.pluggto.orders import parse_order
from tests.orders_factories import make_product, nfe_key, order_json, order_of

# 02:50 UTC on 4 Dec is 23:50 on 3 Dec in Brasília.
CREATED = datetime(2026, 12, 4, 2, 50, tzinfo=UTC)


def invoice_at(moment: datetime) -> Invoice:
    return Invoice(nfe_key(year_month="2612"), "1234", "1", moment)


def shipped(day: date) -> Tracking:
    return Tracking("Jadlog", "JD1", None, None, day)


@pytest.mark.parametrize(
    "issued",
    [
        datetime(2026, 12, 4, 3, 10, tzinfo=UTC),  # 00:10 the next Brasília day
        datetime(2026, 12, 3, 12, 0, tzinfo=UTC),  # earlier the same day
    ],
)
def test_an_nfe_on_or_after_the_orders_day_is_accepted(issued):
    order = Order(created_at=CREATED)

    assert actions.issue_date_problem(order, invoice_at(issued)) is None


def test_an_nfe_dated_before_the_orders_day_is_refused():
    order = Order(created_at=CREATED)

    problem = actions.issue_date_problem(
        order, invoice_at(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
    )

    assert problem == (
        "A data de emissão não pode ser anterior à criação do pedido (03/12/2026)."
    )


def test_an_order_without_creation_time_is_dated_by_its_import():
    order = Order(created_at=None, imported_at=CREATED)

    problem = actions.issue_date_problem(
        order, invoice_at(datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    )

    assert "(03/12/2026)" in problem


def test_a_ship_date_before_the_nfe_day_is_refused():
    # 01:00 UTC on 6 Dec is still 5 Dec in Brasília.
    order = Order(created_at=CREATED, nfe_date=datetime(2026, 12, 6, 1, 0, tzinfo=UTC))

    problem = actions.ship_date_problem(order, shipped(date(2026, 12, 4)))

    assert problem == (
        "A data de envio não pode ser anterior à emissão da NF-e (05/12/2026)."
    )


def test_a_ship_date_on_the_nfe_day_is_accepted():
    order = Order(created_at=CREATED, nfe_date=datetime(2026, 12, 6, 1, 0, tzinfo=UTC))

    assert actions.ship_date_problem(order, shipped(date(2026, 12, 5))) is None


def test_a_ship_date_before_the_orders_day_is_refused():
    order = Order(created_at=CREATED, nfe_date=None)

    problem = actions.ship_date_problem(order, shipped(date(2026, 12, 2)))

    assert problem == (
        "A data de envio não pode ser anterior à criação do pedido (03/12/2026)."
    )


@pytest.fixture
def reversal(configured):
    make_product("CAM-01")
    intake.ingest(parse_order(order_json("p1")), utcnow())
    order = order_of("p1")
    order.needs_reversal = True
    db.session.commit()
    return order


def test_marking_the_nfe_reversed_clears_the_alert_and_the_attention_count(reversal):
    before = order_totals(utcnow())["attention"]

    outcome = actions.mark_reversed(reversal)

    order = order_of("p1")
    assert outcome.ok
    assert before == 1
    assert order_totals(utcnow())["attention"] == 0
    assert order.needs_reversal is False
    assert order.events[-1].message == actions.REVERSAL_DONE


def test_marking_the_nfe_reversed_twice_changes_nothing_the_second_time(reversal):
    actions.mark_reversed(reversal)
    events = len(order_of("p1").events)

    outcome = actions.mark_reversed(order_of("p1"))

    assert outcome.ok
    assert len(order_of("p1").events) == events
    assert order_of("p1").needs_reversal is False


def test_tracking_needs_an_nfe_recorded_here_or_seen_on_plugg_to():
    assert actions.tracking_problem(Order(pluggto_status="approved")).startswith(
        "Informe a NF-e antes do rastreio"
    )
    assert actions.tracking_problem(Order(nfe_key="3" * 44)) is None
    # Invoiced from an ERP or the Plugg.to panel: the NF-e is already there.
    assert actions.tracking_problem(Order(pluggto_status="invoiced")) is None
    assert actions.tracking_problem(Order(pluggto_status="shipped")) is None
