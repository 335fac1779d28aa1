"""Run the sandbox in the foreground: python -m dashboard.sandbox --port 8765."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from types import FrameType

from .config import SandboxConfig
from .server import SandboxServer

logger = logging.getLogger(__name__)


class _StopRequested(Exception):
    """Raised by the signal handler to leave the wait loop."""


def _request_stop(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM or SIGINT into a clean shutdown."""
    raise _StopRequested(signal.Signals(signum).name)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m dashboard.sandbox",
        description="Local sandbox of the Plugg.to REST API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--token-ttl", type=int, default=3600, help="seconds")
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--demo-orders", action="store_true")
    parser.add_argument("--demo-interval", type=float, default=120, help="seconds")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT; print SANDBOX_URL=<url> once listening."""
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    config = SandboxConfig(
        host=args.host,
        port=args.port,
        token_ttl=args.token_ttl,
        latency_ms=args.latency_ms,
        seed=args.seed,
        demo_orders=args.demo_orders,
        demo_interval_s=args.demo_interval,
    )
    signal.signal(signal.SIGTERM, _request_stop)
    signal.signal(signal.SIGINT, _request_stop)

    server = SandboxServer(config)
    try:
        server.start()
        # The one line of stdout, read by the process that started us.
        sys.stdout.write(f"SANDBOX_URL={server.url}\n")
        sys.stdout.flush()
        while True:
            time.sleep(3600)
    except _StopRequested as stop:
        logger.info("Received %s, stopping", stop)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
