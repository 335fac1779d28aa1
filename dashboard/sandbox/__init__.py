"""A local stand-in for the Plugg.to REST API, traps included.

It serves the calls the connector makes (OAuth, SKUs, products, orders) with
the real API's quirks, plus /_sandbox control endpoints for tests and the demo.
It imports nothing from the rest of the dashboard.
"""

from .config import DEMO_CREDENTIALS, ORDER_STATUSES, SandboxConfig
from .server import SandboxServer
from .store import Store

__all__ = [
    "DEMO_CREDENTIALS",
    "ORDER_STATUSES",
    "SandboxConfig",
    "SandboxServer",
    "Store",
]
