"""Serve the dashboard with Waitress and run the scheduler beside it."""

import logging
import threading

import click
from waitress import create_server

from dashboard.cli import EXIT_CONFIG, EXIT_OK, Runtime, install_stop_signals
from dashboard.config import LOCAL_HOST_NAMES
from dashboard.sync import scheduler

logger = logging.getLogger(__name__)

WAITRESS_THREADS = 8


def serve(runtime: Runtime) -> int:
    """Start everything, block until SIGINT/SIGTERM, stop cleanly."""
    if runtime.demo:
        runtime.overrides["DEMO_MODE"] = True
    app = runtime.app()
    host, port = app.config["BIND_HOST"], app.config["BIND_PORT"]
    if host not in LOCAL_HOST_NAMES:
        logger.warning(
            "Listening on %s: the dashboard can be reached from other machines", host
        )

    stop_event = threading.Event()
    app.extensions["shutdown"] = stop_event
    demo = None
    if runtime.demo:
        from dashboard.demo import start_demo

        demo = start_demo(app)

    try:
        server = create_server(app, host=host, port=port, threads=WAITRESS_THREADS)
    except OSError as error:
        click.echo(
            f"Não foi possível usar {host}:{port} ({error.strerror}). "
            "Outra cópia do painel pode estar aberta; use --port para outra porta.",
            err=True,
        )
        if demo is not None:
            demo.stop()
        return EXIT_CONFIG

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
        background.join(timeout=10)
        if demo is not None:
            demo.stop()
        logger.info("Dashboard stopped")
    return EXIT_OK
