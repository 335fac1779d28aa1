"""Error answers of the sandbox API, shaped like Plugg.to's."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An HTTP error answer: status code, JSON payload and extra headers."""

    def __init__(
        self,
        status: int,
        payload: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(payload.get("details") or payload.get("error"))
        self.status = status
        self.payload = payload
        self.headers = headers or {}


def bad_request(details: str, kind: str = "invalid_data") -> ApiError:
    """Build a 400 answer with Plugg.to's error layout."""
    return ApiError(400, {"error": True, "type": kind, "details": details})


def not_found(details: str) -> ApiError:
    """Build a 404 answer with Plugg.to's error layout."""
    return ApiError(404, {"error": True, "type": "not_found", "details": details})


def not_updated(details: str) -> ApiError:
    """Build the 400 answer Plugg.to gives when nothing would change."""
    return ApiError(400, {"error": True, "type": "not_updated", "details": details})


def oauth_error(status: int, error: str, description: str) -> ApiError:
    """Build an OAuth-style error answer for the token endpoint."""
    return ApiError(status, {"error": error, "error_description": description})
