"""The run wrapper: single flight, run records, failures, interruptions."""

import socket
import subprocess
import sys
import threading
import time
import types
from datetime import timedelta

import pytest
from sqlalchemy import select

from dashboard import settings as settings_store
from dashboard.extensions import db
from dashboard.models.sync import JobRun
from dashboard.models.types import utcnow
from dashboard.pluggto.errors import CredentialsRejected, PluggtoError
from dashboard.sync import claims, runner

WAIT = 10  # seconds; a bound on thread hand-offs, never a sleep
MINUTE = timedelta(minutes=1)


@pytest.fixture
def job_body(app, monkeypatch):
    """Point the stock job at a function the test provides."""
    module = types.ModuleType("fake_stock_job")
    monkeypatch.setitem(sys.modules, "fake_stock_job", module)
    monkeypatch.setitem(
        runner.JOBS,
        "stock",
        runner.Job("stock", "Estoque", "fake_stock_job:body", ("stock",)),
    )

    def use(function):
        module.body = function
        return function

    yield use
    assert runner.wait_for_runs(WAIT) == 0


def rejected(message="Produto recusado.", permanent=True):
    return PluggtoError(message, code="rejected", permanent=permanent)


def run_record(run_id) -> JobRun:
    return db.session.execute(
        select(JobRun)
        .where(JobRun.id == run_id)
        .execution_options(populate_existing=True)
    ).scalar_one()


def dead_owner() -> str:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return f"{socket.gethostname()[:40]}:{process.pid}:deadbeef0000"


def test_a_run_records_its_counts_and_ends_ok(job_body):
    @job_body
    def body(ctx):
        ctx.set_total(2)
        ctx.ok("CAM-01")
        ctx.ok("CAM-02")

    outcome = runner.run_job("stock", "manual")

    run = run_record(outcome.run_id)
    assert outcome.started and outcome.status == "ok"
    assert (run.status, run.trigger, run.ok_count, run.done, run.total) == (
        "ok",
        "manual",
        2,
        2,
        2,
    )
    assert run.finished_at is not None and run.current_item is None
    assert run.message == "2 ok, 0 com falha, 0 pulados, 0 chamadas à API."


def test_a_run_with_some_failures_is_partial_and_keeps_the_reasons(job_body):
    @job_body
    def body(ctx):
        ctx.ok("CAM-01")
        ctx.failed("CAM-02", "Preço inválido.", "Camiseta M")

    outcome = runner.run_job("stock", "manual")

    run = run_record(outcome.run_id)
    assert run.status == "partial"
    assert run.failures == [
        {"key": "CAM-02", "label": "Camiseta M", "message": "Preço inválido."}
    ]


def test_a_run_where_every_item_failed_is_failed(job_body):
    job_body(lambda ctx: ctx.failed("CAM-02", "Preço inválido."))

    outcome = runner.run_job("stock", "manual")

    assert outcome.status == "failed"


def test_an_unexpected_exception_is_recorded_not_raised(job_body):
    @job_body
    def body(ctx):
        raise ValueError("boom")

    outcome = runner.run_job("stock", "scheduled")

    run = run_record(outcome.run_id)
    assert run.status == "failed"
    assert run.message == "Erro inesperado na sincronização."
    assert "ValueError" in run.error_detail


def test_a_pluggto_error_fails_the_run_with_its_message(job_body):
    @job_body
    def body(ctx):
        raise PluggtoError("Plugg.to fora do ar.", code="server_error", permanent=False)

    outcome = runner.run_job("stock", "manual")

    assert outcome.status == "failed"
    assert run_record(outcome.run_id).message == "Plugg.to fora do ar."


def test_rejected_credentials_fail_the_run_and_are_remembered(job_body):
    @job_body
    def body(ctx):
        raise CredentialsRejected("401 twice")

    outcome = runner.run_job("stock", "manual")

    assert outcome.status == "failed"
    assert settings_store.credentials_rejected()


def test_a_stop_request_ends_the_run_as_interrupted(job_body):
    handled = []
    job_body(lambda ctx: ctx.for_each([1, 2, 3], handled.append))
    stop = threading.Event()
    stop.set()

    outcome = runner.run_job("stock", "manual", stop_event=stop)

    assert outcome.status == "interrupted"
    assert handled == []


def test_progress_is_written_while_the_run_goes(job_body):
    seen = {}

    @job_body
    def body(ctx):
        ctx.set_total(3)
        ctx.progress(current="Camiseta Azul M", force=True)
        run = run_record(ctx.run_id)
        seen.update(status=run.status, total=run.total, current=run.current_item)

    runner.run_job("stock", "manual")

    assert seen == {"status": "running", "total": 3, "current": "Camiseta Azul M"}


def test_the_lease_is_released_after_the_run(job_body):
    job_body(lambda ctx: None)

    runner.run_job("stock", "manual")

    assert claims.holder("job:stock") is None


# Single flight ----------------------------------------------------------------


def blocking_body(job_body):
    """Install a body that waits for a release; return (entered, release)."""
    entered, release = threading.Event(), threading.Event()

    @job_body
    def body(ctx):
        entered.set()
        assert release.wait(WAIT)
        ctx.ok("CAM-01")

    return entered, release


def test_a_second_run_is_refused_while_the_first_goes_on(app, job_body):
    entered, release = blocking_body(job_body)
    outcomes = []

    def first():
        with app.app_context():
            outcomes.append(runner.run_job("stock", "scheduled"))
            db.session.remove()

    thread = threading.Thread(target=first)
    thread.start()
    assert entered.wait(WAIT)

    second = runner.run_job("stock", "manual")

    release.set()
    thread.join(WAIT)
    assert not second.started
    assert second.message == (
        "A sincronização de estoque já está em andamento; aguarde ela terminar."
    )
    assert outcomes[0].status == "ok"


def test_a_background_run_is_recorded_before_its_thread_starts(job_body):
    entered, release = blocking_body(job_body)

    outcome = runner.start_in_background("stock", "manual")

    run = run_record(outcome.run_id)
    assert outcome.started and outcome.status == "running"
    assert run.status == "running"
    assert claims.holder("job:stock") == run.owner
    release.set()


def test_a_click_while_the_job_runs_is_refused(job_body):
    entered, release = blocking_body(job_body)
    first = runner.start_in_background("stock", "scheduled")
    assert entered.wait(WAIT)

    second = runner.start_in_background("stock", "manual")

    release.set()
    assert runner.wait_for_runs(WAIT) == 0
    assert not second.started
    assert "já está em andamento" in second.message
    assert run_record(first.run_id).status == "ok"
    assert db.session.scalar(select(db.func.count(JobRun.id))) == 1


def test_different_jobs_run_side_by_side(job_body, monkeypatch):
    entered, release = blocking_body(job_body)
    monkeypatch.setitem(
        runner.JOBS,
        "prices",
        runner.Job("prices", "Preços", "fake_stock_job:other", ("price",)),
    )
    sys.modules["fake_stock_job"].other = lambda ctx: ctx.ok("X")
    runner.start_in_background("stock", "manual")
    assert entered.wait(WAIT)

    outcome = runner.run_job("prices", "manual")

    release.set()
    assert outcome.status == "ok"


# Interrupted runs ---------------------------------------------------------------


def test_a_run_of_a_dead_process_is_closed_as_interrupted(app):
    run = JobRun(job="stock", trigger="scheduled", owner=dead_owner())
    db.session.add(run)
    db.session.commit()

    closed = runner.close_interrupted()

    assert closed == 1
    assert run_record(run.id).status == "interrupted"
    assert run_record(run.id).message == runner.INTERRUPTED_MESSAGE
    assert run_record(run.id).finished_at is not None


def test_a_live_run_is_not_closed(app):
    owner = claims.new_owner()
    claims.try_claim("job:stock", owner, MINUTE)
    run = JobRun(job="stock", trigger="manual", owner=owner)
    db.session.add(run)
    db.session.commit()

    closed = runner.close_interrupted()

    assert closed == 0
    assert run_record(run.id).status == "running"


def test_the_next_run_closes_the_one_a_crash_left_open(job_body):
    job_body(lambda ctx: None)
    crashed = JobRun(
        job="stock",
        trigger="scheduled",
        owner=dead_owner(),
        started_at=utcnow() - MINUTE,
    )
    db.session.add(crashed)
    db.session.commit()

    outcome = runner.run_job("stock", "manual")

    assert outcome.status == "ok"
    assert run_record(crashed.id).status == "interrupted"


# for_each ---------------------------------------------------------------------


def test_one_failing_item_never_stops_the_others(job_body):
    @job_body
    def body(ctx):
        def handle(item):
            if item == "bad-data":
                raise rejected("EAN inválido.")
            if item == "bug":
                raise KeyError("price")
            ctx.ok(item)

        ctx.set_total(3)
        ctx.for_each(["good", "bad-data", "bug"], handle)

    outcome = runner.run_job("stock", "manual")

    run = run_record(outcome.run_id)
    assert (run.status, run.ok_count, run.failed_count) == ("partial", 1, 2)
    messages = {failure["key"]: failure["message"] for failure in run.failures}
    assert messages["bad-data"] == "EAN inválido."
    assert messages["bug"].startswith("Erro inesperado")


def test_an_item_whose_group_is_busy_is_skipped(job_body):
    claims.try_claim("group:CAM", "another-process", MINUTE)
    handled = []

    @job_body
    def body(ctx):
        def handle(sku):
            handled.append(sku)
            ctx.ok(sku)

        ctx.for_each(["CAM-M", "BONE-U"], handle, group_of=lambda sku: sku[:3])

    outcome = runner.run_job("stock", "manual")

    run = run_record(outcome.run_id)
    assert handled == ["BONE-U"]
    assert (run.ok_count, run.skipped_count) == (1, 1)
    assert claims.holder("group:BON") is None


def test_the_items_of_one_group_never_run_at_once_nor_lose_the_lease(job_body):
    inside, overlaps, stolen = [], [], []
    lock = threading.Lock()

    @job_body
    def body(ctx):
        def handle(sku):
            with lock:
                overlaps.extend(other for other in inside if other[:3] == sku[:3])
                inside.append(sku)
            if sku == "CAM-G":  # the family is still being pushed
                stolen.append(claims.try_claim("group:CAM", "another-process", MINUTE))
            time.sleep(0.05)
            with lock:
                inside.remove(sku)
            ctx.ok(sku)

        ctx.for_each(["CAM-M", "CAM-G", "BONE-U"], handle, group_of=lambda sku: sku[:3])

    outcome = runner.run_job("stock", "manual")

    assert run_record(outcome.run_id).ok_count == 3
    assert overlaps == []
    assert stolen == [False]
    assert claims.holder("group:CAM") is None  # released once the family is done


def test_rejected_credentials_stop_the_remaining_items(job_body, configured):
    settings_store.save({"concurrency": 1})
    handled = []

    @job_body
    def body(ctx):
        def handle(item):
            handled.append(item)
            raise CredentialsRejected("401 twice")

        ctx.for_each([1, 2, 3], handle)

    outcome = runner.run_job("stock", "manual")

    assert outcome.status == "failed"
    assert handled == [1]
    assert settings_store.credentials_rejected()


def test_each_item_runs_in_its_own_app_context(job_body):
    sessions = []

    @job_body
    def body(ctx):
        def handle(item):
            sessions.append(id(db.session()))
            ctx.ok(str(item))

        ctx.for_each([1, 2], handle)
        sessions.append(id(db.session()))

    runner.run_job("stock", "manual")

    assert len(set(sessions)) >= 2
