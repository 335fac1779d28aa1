"""Per-item sync state: staging, due items, acknowledgements, failures."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from dashboard.extensions import db
from dashboard.models.sync import SyncItem
from dashboard.models.types import utcnow
from dashboard.pluggto.errors import PluggtoError
from dashboard.sync import state
from dashboard.sync.state import Desired


@pytest.fixture(autouse=True)
def _app(app):
    return app


def item(key="A1", kind="stock"):
    return db.session.scalar(
        select(SyncItem).where(SyncItem.kind == kind, SyncItem.key == key)
    )


def transient():
    return PluggtoError("fora do ar", code="server_error", permanent=False)


def rejected():
    return PluggtoError("recusado", code="rejected", permanent=True)


def test_a_staged_value_is_due_until_acknowledged():
    now = utcnow()
    state.stage(Desired("stock", "A1", {"quantity": 5}, "A", "Camiseta"))
    db.session.commit()

    due = state.due("stock", now)
    state.mark_sent("stock", "A1", {"quantity": 5}, now)
    db.session.commit()

    assert [row.key for row in due] == ["A1"]
    assert state.due("stock", now) == []
    assert item().state == "ok"
    assert item().group_key == "A"
    assert item().acked_value == {"quantity": 5}


def test_restaging_the_same_value_changes_nothing():
    now = utcnow()
    state.stage(Desired("stock", "A1", {"quantity": 5}))
    state.mark_sent("stock", "A1", {"quantity": 5}, now)
    db.session.commit()

    changed = state.stage_many([Desired("stock", "A1", {"quantity": 5})])

    assert changed == 0
    assert state.due("stock", now) == []


def test_a_value_staged_while_in_flight_stays_pending():
    now = utcnow()
    state.stage(Desired("stock", "A1", {"quantity": 5}))
    db.session.commit()

    state.stage(Desired("stock", "A1", {"quantity": 4}))
    state.mark_sent("stock", "A1", {"quantity": 5}, now)
    db.session.commit()

    assert item().state == "pending"
    assert [row.key for row in state.due("stock", now)] == ["A1"]


def test_going_back_to_the_acknowledged_value_needs_no_push():
    now = utcnow()
    state.stage(Desired("stock", "A1", {"quantity": 5}))
    state.mark_sent("stock", "A1", {"quantity": 5}, now)
    state.stage(Desired("stock", "A1", {"quantity": 4}))
    db.session.commit()

    state.stage(Desired("stock", "A1", {"quantity": 5}))
    db.session.commit()

    assert item().state == "ok"
    assert state.due("stock", now) == []


def test_a_transient_failure_is_retried_later_with_growing_delay():
    now = utcnow()
    state.stage(Desired("stock", "A1", {"quantity": 5}))

    state.mark_failed("stock", "A1", transient(), now)
    state.mark_failed("stock", "A1", transient(), now)
    db.session.commit()

    row = item()
    assert row.state == "failed"
    assert row.attempts == 2
    assert row.next_retry_at == now + timedelta(minutes=2)
    assert state.due("stock", now) == []
    assert [r.key for r in state.due("stock", now + timedelta(minutes=2))] == ["A1"]


def test_backoff_is_capped():
    assert state.backoff(1) == timedelta(minutes=1)
    assert state.backoff(30) == timedelta(hours=6)


def test_a_permanent_failure_waits_until_the_data_changes():
    now = utcnow()
    state.stage(Desired("price", "A1", {"price": "10.00"}))
    state.mark_failed("price", "A1", rejected(), now)
    db.session.commit()
    assert state.due("price", now + timedelta(days=1)) == []

    state.stage(Desired("price", "A1", {"price": "12.00"}))
    db.session.commit()

    row = item(kind="price")
    assert row.state == "pending"
    assert row.last_error is None
    assert [r.key for r in state.due("price", now)] == ["A1"]


def test_retry_makes_a_failed_item_due_now():
    now = utcnow()
    state.stage(Desired("price", "A1", {"price": "10.00"}))
    state.mark_failed("price", "A1", rejected(), now)
    db.session.commit()

    state.retry([item(kind="price").id])
    db.session.commit()

    assert [r.key for r in state.due("price", now)] == ["A1"]


def test_ignore_hides_a_failure_until_the_data_changes():
    now = utcnow()
    state.stage(Desired("price", "A1", {"price": "10.00"}))
    state.mark_failed("price", "A1", transient(), now)
    state.ignore([item(kind="price").id])
    db.session.commit()
    assert state.due("price", now + timedelta(days=1)) == []

    state.stage(Desired("price", "A1", {"price": "11.00"}))
    db.session.commit()

    assert item(kind="price").state == "pending"


def test_success_clears_the_error():
    now = utcnow()
    state.stage(Desired("stock", "A1", {"quantity": 1}))
    state.mark_failed("stock", "A1", transient(), now)

    state.mark_sent("stock", "A1", {"quantity": 1}, now)
    db.session.commit()

    row = item()
    assert (row.state, row.last_error, row.attempts) == ("ok", None, 0)


def test_due_can_be_limited_to_some_keys():
    now = utcnow()
    state.stage_many([Desired("stock", k, {"quantity": 1}) for k in ("A", "B", "C")])
    db.session.commit()

    assert [r.key for r in state.due("stock", now, keys=["B"])] == ["B"]


def test_fingerprints_ignore_key_order_and_decimal_form():
    first = state.fingerprint({"a": 1, "price": Decimal("10.5")})
    second = state.fingerprint({"price": Decimal("10.50"), "a": 1})

    assert first == second
    assert first != state.fingerprint({"a": 1, "price": Decimal("10.51")})


def test_bulk_staging_handles_more_than_one_chunk():
    items = [Desired("stock", f"S{i:04d}", {"quantity": i}) for i in range(1200)]

    changed = state.stage_many(items)
    db.session.commit()

    assert changed == 1200
    assert len(state.due("stock", utcnow())) == 1200
