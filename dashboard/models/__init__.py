"""Every table, imported here so the metadata is complete."""

from dashboard.models.catalog import Product, Variation  # noqa: F401
from dashboard.models.orders import Order, OrderEvent, OrderItem  # noqa: F401
from dashboard.models.settings import Setting
from dashboard.models.sync import ApiCall, Claim, JobRun, SyncItem

__all__ = ["ApiCall", "Claim", "JobRun", "Setting", "SyncItem"]
