"""What an order line needs to know about the product it sells."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LineSource:
    """A sellable SKU: itself, its parent when it is a variation, name and price."""

    sku: str
    parent_sku: str | None
    name: str
    price: float
