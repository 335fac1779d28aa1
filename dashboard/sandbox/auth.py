"""OAuth password and refresh grants with expiring, revocable tokens."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from .errors import oauth_error

_PASSWORD_FIELDS = ("client_id", "client_secret", "username", "password")
_PURGE_THRESHOLD = 1000


def _same(given: str, expected: str) -> bool:
    """Compare two secrets in constant time."""
    return hmac.compare_digest(given.encode(), expected.encode())


def _require(form: Mapping[str, str], names: tuple[str, ...]) -> None:
    """Reject a grant that lacks one of the named fields."""
    missing = [name for name in names if not form.get(name)]
    if missing:
        raise oauth_error(
            400, "invalid_request", f"Missing field(s): {', '.join(missing)}"
        )


class TokenRegistry:
    """Access tokens with their expiry, and single-use refresh tokens."""

    def __init__(self, credentials: Mapping[str, str]) -> None:
        self._credentials = dict(credentials)
        self._access: dict[str, float] = {}
        self._refresh: set[str] = set()

    def grant(self, form: Mapping[str, str], now: float, ttl: int) -> dict[str, Any]:
        """Run a password or refresh_token grant and return the token answer."""
        grant_type = form.get("grant_type")
        if grant_type == "password":
            self._check_password_grant(form)
        elif grant_type == "refresh_token":
            self._check_refresh_grant(form)
        elif not grant_type:
            raise oauth_error(400, "invalid_request", "Missing field: grant_type")
        else:
            raise oauth_error(
                400, "unsupported_grant_type", f"Unsupported grant: {grant_type}"
            )

        return self._issue(now, ttl)

    def is_valid(self, token: str, now: float) -> bool:
        """Tell whether an access token exists and has not expired."""
        expires_at = self._access.get(token)
        return expires_at is not None and now < expires_at

    def revoke_all(self) -> int:
        """Invalidate every access and refresh token; return how many were live."""
        count = len(self._access)
        self._access.clear()
        self._refresh.clear()
        return count

    def _check_client(self, form: Mapping[str, str]) -> None:
        """Reject a grant whose client id or secret is wrong."""
        client_ok = _same(form["client_id"], self._credentials["client_id"])
        secret_ok = _same(form["client_secret"], self._credentials["client_secret"])
        if not (client_ok and secret_ok):
            raise oauth_error(
                401, "invalid_client", "The client credentials are invalid"
            )

    def _check_password_grant(self, form: Mapping[str, str]) -> None:
        """Validate the four fields of a password grant."""
        _require(form, _PASSWORD_FIELDS)
        self._check_client(form)

        user_ok = _same(form["username"], self._credentials["username"])
        password_ok = _same(form["password"], self._credentials["password"])
        if not (user_ok and password_ok):
            raise oauth_error(
                401, "invalid_grant", "Invalid username and password combination"
            )

    def _check_refresh_grant(self, form: Mapping[str, str]) -> None:
        """Validate and consume a refresh token (each one works once)."""
        _require(form, ("client_id", "client_secret", "refresh_token"))
        self._check_client(form)

        token = form["refresh_token"]
        if token not in self._refresh:
            raise oauth_error(401, "invalid_grant", "Invalid refresh token")
        self._refresh.discard(token)

    def _issue(self, now: float, ttl: int) -> dict[str, Any]:
        """Create a new access and refresh token pair."""
        if len(self._access) > _PURGE_THRESHOLD:
            self._access = {t: exp for t, exp in self._access.items() if exp > now}

        access_token = secrets.token_hex(20)
        refresh_token = secrets.token_hex(20)
        self._access[access_token] = now + ttl
        self._refresh.add(refresh_token)

        return {
            "access_token": access_token,
            "refresh_token": refresh_token,
            "expires_in": ttl,
            "token_type": "Bearer",
            "scope": None,
        }
