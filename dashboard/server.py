"""Serve the dashboard with Waitress and run the scheduler beside it."""

import fcntl
import logging
import threading
import time
from pathlib import Path
from typing import TextIO

import click
from waitress import create_server

from dashboard.cli import EXIT_CONFIG, EXIT_OK, Runtime, install_stop_signals
from dashboard.config import LOCAL_HOST_NAMES
from dashboard.storage import make_private_dir
from dashboard.sync import runner, scheduler

logger = logging.getLogger(__name__)

WAITRESS_THREADS = 8
# How long a stop waits for the scheduler and the runs in progress; a run
# still going after that is closed as interrupted on the next start.
STOP_WAIT_SECONDS = 4
DEMO_LOCK = "demo.lock"


def serve(runtime: Runtime) -> int:
    """Start everything, block until SIGINT/SIGTERM, stop cleanly."""
    demo_lock = None
    if runtime.demo:
        runtime.overrides["DEMO_MODE"] = True
        demo_lock = _lock_demo_folder(runtime.resolved_data_dir())
        if demo_lock is None:
            click.echo(
                "O modo demonstração já está aberto em outra janela (mesma pasta "
                "de dados). Use aquele painel ou feche-o antes.",
                err=True,
            )
            return EXIT_CONFIG
        from dashboard.demo import reset_store

        reset_store(runtime.resolved_data_dir())
    app = runtime.app()
    host, port = app.config["BIND_HOST"], app.config["BIND_PORT"]
    if host not in LOCAL_HOST_NAMES:
        logger.warning(
            "Listening on %s: the dashboard can be reached from other machines", host
        )

    stop_event = threading.Event()
    app.extensions["shutdown"] = stop_event
    # A retry back-off wakes up at once when the server stops.
    app.config.setdefault("PLUGGTO_SLEEP", stop_event.wait)
    try:
        server = create_server(app, host=host, port=port, threads=WAITRESS_THREADS)
    except OSError as error:
        click.echo(
            f"Não foi possível usar {host}:{port} ({error.strerror}). "
            "Outra cópia do painel pode estar aberta; use --port para outra porta.",
            err=True,
        )
        return EXIT_CONFIG

    # Only once the port is ours: a copy that cannot start must leave no
    # sandbox address behind.
    demo = None
    if runtime.demo:
        from dashboard.demo import start_demo

        try:
            demo = start_demo(app)
        except Exception:
            server.close()
            raise

    background = scheduler.start(app, stop_event)
    url = f"http://{'localhost' if host in ('127.0.0.1', '::1') else host}:{port}/"
    logger.info("Painel pronto: abra %s no navegador (Ctrl+C para encerrar)", url)
    install_stop_signals(stop_event)
    try:
        server.run()
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        stop_event.set()
        server.close()
        _wait_for_background(background)
        if demo is not None:
            demo.stop()
        if demo_lock is not None:
            demo_lock.close()
        logger.info("Dashboard stopped")
    return EXIT_OK


def _lock_demo_folder(folder: Path) -> TextIO | None:
    """Hold the demo folder for this process; None if another demo holds it.

    Each demo start wipes the demo store, so a second demo (on any port) must
    not start while one runs. The lock goes with the process, even on kill -9.
    """
    make_private_dir(folder)
    handle = (folder / DEMO_LOCK).open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    return handle


def _wait_for_background(background: scheduler.BackgroundScheduler) -> None:
    """Give the scheduler and the runs in progress a moment to finish."""
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    background.join(timeout=STOP_WAIT_SECONDS)
    left = runner.wait_for_runs(max(0.0, deadline - time.monotonic()))
    if left:
        logger.warning(
            "%d run(s) still going at exit; they are closed as interrupted "
            "on the next start",
            left,
        )
