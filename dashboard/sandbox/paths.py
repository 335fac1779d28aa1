"""Read the SKU from the raw request URI, so %2F stays inside the SKU."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from .errors import bad_request, not_found

SKU_PREFIX = "/skus/"
STOCK = "stock"


def raw_path(environ: Mapping[str, Any]) -> str | None:
    """Return the path exactly as the client sent it, still percent-encoded."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw:
        return None

    path = raw.split("?", 1)[0]
    if "://" in path:
        path = urlsplit(path).path
    return path


def decode_segment(segment: str) -> str:
    """Percent-decode one path segment exactly once, as UTF-8."""
    try:
        raw_bytes = segment.encode("latin-1")
    except UnicodeEncodeError:
        raw_bytes = segment.encode("utf-8")

    try:
        return unquote_to_bytes(raw_bytes).decode("utf-8")
    except UnicodeDecodeError as error:
        raise bad_request("The SKU in the URL is not valid UTF-8") from error


def split_sku_path(environ: Mapping[str, Any], decoded: str) -> tuple[str, str | None]:
    """Return (sku, sub-resource) for /skus/{sku} and /skus/{sku}/stock.

    ``decoded`` is what routing matched after /skus/; it is used only when the
    server does not expose the raw URI, where an encoded slash cannot be told
    from a real one.
    """
    path = raw_path(environ)
    if path is None or not path.startswith(SKU_PREFIX):
        if decoded.endswith("/" + STOCK):
            return decoded[: -len(STOCK) - 1], STOCK
        return decoded, None

    segments = path[len(SKU_PREFIX) :].split("/")
    if len(segments) == 1 and segments[0]:
        return decode_segment(segments[0]), None
    if len(segments) == 2 and segments[0] and segments[1] == STOCK:
        return decode_segment(segments[0]), STOCK

    raise not_found("No such resource: is a '/' in the SKU percent-encoded?")
