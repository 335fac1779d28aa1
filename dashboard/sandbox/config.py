"""Settings of the local Plugg.to sandbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

DEMO_CREDENTIALS: Mapping[str, str] = MappingProxyType(
    {
        "client_id": "demo-client-id",
        "client_secret": "demo-client-secret",
        "username": "demo-api-user",
        "password": "demo-api-secret",
    }
)

ORDER_STATUSES: frozenset[str] = frozenset(
    {
        "pending",
        "partial_payment",
        "paid",
        "approved",
        "waiting_invoice",
        "invoiced",
        "invoice_error",
        "shipping_informed",
        "shipped",
        "shipping_error",
        "delivered",
        "canceled",
        "under_review",
    }
)


def _demo_credentials() -> dict[str, str]:
    """Return a fresh copy of the demo account credentials."""
    return dict(DEMO_CREDENTIALS)


@dataclass(frozen=True)
class SandboxConfig:
    """Start-up settings; latency, token TTL and put_creates can change at runtime."""

    host: str = "127.0.0.1"
    port: int = 0
    token_ttl: int = 3600
    credentials: Mapping[str, str] = field(default_factory=_demo_credentials)
    latency_ms: float = 0
    seed: int = 1
    put_creates: bool = True
    demo_orders: bool = False
    demo_interval_s: float = 120
    missing_data_rate: float = 0.1
    call_log_bodies: int = 5000
    call_log_entries: int = 200_000
