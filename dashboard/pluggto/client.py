"""The only code that speaks HTTP to Plugg.to.

One ``TokenProvider`` per process caches the access token and renews it one
thread at a time; one ``PluggtoClient`` per job run (or per request) wraps a
``requests.Session`` with timeouts, bounded retries from tenacity and a
callback that records every exchange.
"""

import email.utils
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_random
from urllib3.exceptions import NewConnectionError

from dashboard.pluggto import errors
from dashboard.pluggto.errors import CredentialsRejected, NotConfigured, PluggtoError

logger = logging.getLogger(__name__)

TOKEN_PATH = "/oauth/token"
ORDER_PAGE_LIMIT = 100
NOT_UPDATED = "not_updated"


@dataclass(frozen=True)
class Credentials:
    """The four values the Plugg.to panel generates for the plugin."""

    client_id: str = ""
    client_secret: str = ""
    username: str = ""
    password: str = ""

    def missing(self) -> list[str]:
        """Return the pt-BR names of the credentials that are empty."""
        labels = {
            "client_id": "Client ID",
            "client_secret": "Client Secret",
            "username": "API User",
            "password": "API Secret",
        }
        return [label for name, label in labels.items() if not getattr(self, name)]


@dataclass(frozen=True)
class ClientConfig:
    """How to reach Plugg.to and how patient to be."""

    base_url: str = "https://api.plugg.to"
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 4
    backoff_initial: float = 0.5
    backoff_max: float = 8.0
    max_throttle_wait: float = 120.0
    pool_size: int = 8


@dataclass
class CallRecord:
    """One HTTP exchange, as shown on the activity page (no bodies)."""

    method: str
    path: str
    status: int | None
    duration_ms: int
    error: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class ApiResult:
    """A successful answer; ``not_updated`` when Plugg.to already had the data."""

    status: int
    data: Any
    not_updated: bool = False


def sku_path(sku: str) -> str:
    """Percent-encode a SKU once, for use as one path segment."""
    return quote(sku, safe="")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def encode_json(payload: Any) -> str:
    """Serialise a payload, turning Decimal into numbers and dates into UTC."""
    return json.dumps(payload, default=_json_default, ensure_ascii=False)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Return the seconds a Retry-After header asks for, or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


class TokenProvider:
    """Cache one access token per process and renew it one thread at a time."""

    def __init__(self, credentials: Credentials, clock: Callable[[], float] = None):
        self.credentials = credentials
        self._clock = clock or time.monotonic
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def token(self, fetch: Callable[[Credentials], dict]) -> str:
        """Return a valid token, fetching a new one if needed."""
        with self._lock:
            if self._token and self._clock() < self._expires_at:
                return self._token
            return self._renew(fetch)

    def renew_after_rejection(
        self, stale: str, fetch: Callable[[Credentials], dict]
    ) -> str:
        """Renew unless another thread already replaced the stale token."""
        with self._lock:
            if self._token and self._token != stale:
                return self._token
            return self._renew(fetch)

    def forget(self) -> None:
        """Drop the cached token."""
        with self._lock:
            self._token = None

    def _renew(self, fetch: Callable[[Credentials], dict]) -> str:
        missing = self.credentials.missing()
        if missing:
            raise NotConfigured(missing)

        answer = fetch(self.credentials)
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not token:
            raise PluggtoError(
                "O Plugg.to não devolveu um token de acesso.",
                code=errors.BAD_RESPONSE,
                permanent=False,
                detail="token response without access_token",
            )

        lifetime = _lifetime(answer.get("expires_in"))
        self._token = token
        self._expires_at = self._clock() + lifetime
        logger.info("Plugg.to token renewed, valid for %d s", lifetime)
        return token


def _lifetime(expires_in: Any) -> float:
    """Seconds to trust a token: a minute less than granted, at least half."""
    try:
        granted = float(expires_in)
    except (TypeError, ValueError):
        granted = 3600.0
    margin = min(60.0, granted / 2)
    return max(granted - margin, 0.0)


class _RetryBudget:
    """Counts failed attempts and throttle waits for one logical call.

    Tenacity asks for the wait before asking whether to stop, so ``wait``
    does the accounting and ``should_stop`` only reads it.
    """

    def __init__(self, config: ClientConfig) -> None:
        self.config = config
        self.failures = 0
        self.throttled_for = 0.0
        self.over_budget = False
        self.jitter = wait_random(0, config.backoff_initial)

    def wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception()
        if error.code == errors.THROTTLED:
            wait = self.config.backoff_initial
            if error.retry_after is not None:
                wait = error.retry_after
            self.throttled_for += wait
            self.over_budget = self.throttled_for > self.config.max_throttle_wait
            return wait

        self.failures += 1
        self.over_budget = self.failures >= self.config.max_attempts
        exponential = self.config.backoff_initial * 2 ** (self.failures - 1)
        return min(exponential + self.jitter(state), self.config.backoff_max)

    def should_stop(self, state: RetryCallState) -> bool:
        return self.over_budget


class PluggtoClient:
    """A session with Plugg.to: token, timeouts, retries, one error type."""

    def __init__(
        self,
        config: ClientConfig,
        tokens: TokenProvider,
        *,
        on_call: Callable[[CallRecord], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        self.config = config
        self.tokens = tokens
        self.on_call = on_call
        self.sleep = sleep
        self.calls = 0
        self.session = session or _new_session(config.pool_size, config.base_url)
        self._earliest_server_time: datetime | None = None

    def earliest_server_time(self) -> datetime | None:
        """Return the earliest server clock (``Date`` header) seen, if any."""
        return self._earliest_server_time

    def forget_server_times(self) -> None:
        """Start watching the server clock afresh."""
        self._earliest_server_time = None

    def close(self) -> None:
        """Release the connection pool."""
        self.session.close()

    def __enter__(self) -> "PluggtoClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Domain calls -------------------------------------------------------

    def test_connection(self) -> ApiResult:
        """Obtain a token and make one harmless authenticated call."""
        return self.request("GET", "/products", params={"limit": 1})

    def upsert_product(self, sku: str, payload: dict) -> ApiResult:
        """Create or update a product by SKU; fall back to POST on a 404."""
        try:
            return self.request("PUT", f"/skus/{sku_path(sku)}", json_body=payload)
        except PluggtoError as error:
            if error.code != errors.NOT_FOUND:
                raise
        logger.info("PUT /skus answered 404 for %s, creating with POST", sku)
        return self.create_product(payload)

    def create_product(self, payload: dict) -> ApiResult:
        """Create a product; retried only when the request was never sent."""
        return self.request("POST", "/products", json_body=payload, idempotent=False)

    def get_sku(self, sku: str) -> dict | None:
        """Return the product holding a SKU (parent or variation), or None."""
        try:
            result = self.request("GET", f"/skus/{sku_path(sku)}")
        except PluggtoError as error:
            if error.code == errors.NOT_FOUND:
                return None
            raise
        return _unwrap(result.data, "Product")

    def delete_sku(self, sku: str) -> ApiResult:
        """Delete a product or variation by SKU."""
        return self.request("DELETE", f"/skus/{sku_path(sku)}")

    def update_stock(self, sku: str, quantity: int) -> ApiResult:
        """Set the absolute stock of a parent or variation SKU."""
        body = {"action": "update", "quantity": int(quantity), "sku": sku}
        return self.request("PUT", f"/skus/{sku_path(sku)}/stock", json_body=body)

    def list_orders(
        self,
        *,
        status: str | None = None,
        created: tuple[str, str] | None = None,
        modified: tuple[str, str] | None = None,
        limit: int = ORDER_PAGE_LIMIT,
    ) -> Iterator[dict]:
        """Yield every order matching the filters, each once, page by page.

        Raises a transient ``PluggtoError`` when a full page repeats an earlier
        one, so a listing cut short is never taken for the whole list.
        """
        params: dict[str, Any] = {"limit": limit}
        if status:
            params["status"] = status
        if created:
            params["created"] = f"{created[0]}to{created[1]}"
        if modified:
            params["modified"] = f"{modified[0]}to{modified[1]}"

        seen: set[str] = set()
        cursors: set[str] = set()
        while True:
            page = self._order_page(params)
            fresh = _unseen(page, seen)
            yield from fresh
            if len(page) < limit:
                return

            # A full page with nothing new means the cursor was not honoured;
            # stopping here would pass a partial listing off as complete.
            cursor = page[-1].get("id")
            if not fresh or cursor in cursors:
                raise _repeated_page(cursor)
            cursors.add(cursor)
            params["next"] = cursor

    def get_order(self, order_id: str) -> dict:
        """Return one order."""
        result = self.request("GET", f"/orders/{quote(order_id, safe='')}")
        return _unwrap(result.data, "Order")

    def update_order(
        self, order_id: str, changes: dict, *, idempotent: bool = True
    ) -> ApiResult:
        """Send a partial order update (status, external, shipments)."""
        path = f"/orders/{quote(order_id, safe='')}"
        return self.request("PUT", path, json_body=changes, idempotent=idempotent)

    def _order_page(self, params: dict) -> list[dict]:
        data = self.request("GET", "/orders", params=dict(params)).data
        rows = data.get("result") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise _bad_response("order list without 'result'")
        return [_unwrap(row, "Order") for row in rows]

    # Transport ------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict | None = None,
        idempotent: bool = True,
    ) -> ApiResult:
        """Send one logical call with token handling and bounded retries."""
        budget = _RetryBudget(self.config)
        retrying = Retrying(
            retry=retry_if_exception(lambda e: _retryable(e, idempotent)),
            stop=budget.should_stop,
            wait=budget.wait,
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(self._authorized, method, path, json_body, params)

    def _authorized(self, method, path, json_body, params) -> ApiResult:
        token = self.tokens.token(self._fetch_token)
        response = self._send(method, path, token, json_body, params)
        if response.status_code == 401:
            token = self.tokens.renew_after_rejection(token, self._fetch_token)
            response = self._send(method, path, token, json_body, params)
            if response.status_code == 401:
                self.tokens.forget()
                raise CredentialsRejected(_short(response.text))
        return _interpret(method, path, response)

    def _fetch_token(self, credentials: Credentials) -> dict:
        form = {
            "grant_type": "password",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
            "username": credentials.username,
            "password": credentials.password,
        }
        response = self._exchange("POST", TOKEN_PATH, data=form)
        if response.status_code in (400, 401, 403):
            raise CredentialsRejected(_short(response.text), response.status_code)
        return _interpret("POST", TOKEN_PATH, response).data

    def _send(self, method, path, token, json_body, params) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        body = None
        if json_body is not None:
            headers["Content-Type"] = "application/json"
            body = encode_json(json_body).encode("utf-8")
            logger.debug("%s %s body %s", method, path, body.decode("utf-8"))
        return self._exchange(method, path, data=body, params=params, headers=headers)

    def _exchange(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = self.config.base_url + path
        timeout = (self.config.connect_timeout, self.config.read_timeout)
        started = time.monotonic()
        self.calls += 1
        try:
            response = self.session.request(method, url, timeout=timeout, **kwargs)
        except requests.RequestException as exc:
            error = _transport_error(exc)
            self._record(method, path, kwargs, None, started, error.message)
            raise error from exc

        self._record(method, path, kwargs, response.status_code, started, None)
        self._note_server_time(response)
        if path != TOKEN_PATH:
            logger.debug(
                "%s %s -> %s %s",
                method,
                path,
                response.status_code,
                _short(response.text, 2000),
            )
        return response

    def _note_server_time(self, response: requests.Response) -> None:
        try:
            moment = email.utils.parsedate_to_datetime(response.headers["Date"])
        except (KeyError, TypeError, ValueError):
            return
        if moment.tzinfo is None:
            return
        earliest = self._earliest_server_time
        if earliest is None or moment < earliest:
            self._earliest_server_time = moment.astimezone(UTC)

    def _record(self, method, path, kwargs, status, started, error) -> None:
        if self.on_call is None:
            return
        query = kwargs.get("params") or {}
        shown = path + (
            "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
        )
        duration = int((time.monotonic() - started) * 1000)
        self.on_call(CallRecord(method, shown[:600], status, duration, error))


def _new_session(pool_size: int, base_url: str) -> requests.Session:
    session = requests.Session()
    # The environment (proxies, no_proxy, CA bundle) is read once here rather
    # than on every request: requests re-reads all of os.environ per call,
    # which costs more than building a product payload.
    session.proxies = requests.utils.get_environ_proxies(base_url)
    session.verify = (
        os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    )
    session.trust_env = False
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _retryable(error: BaseException, idempotent: bool) -> bool:
    if not isinstance(error, PluggtoError) or error.permanent:
        return False
    return idempotent or not error.request_sent


def _unwrap(data: Any, key: str) -> dict:
    if isinstance(data, dict) and isinstance(data.get(key), dict):
        return data[key]
    if isinstance(data, dict):
        return data
    raise _bad_response(f"expected an object with '{key}'")


def _unseen(orders: list[dict], seen: set[str]) -> list[dict]:
    """Return the orders whose id is not in ``seen``, and add their ids."""
    fresh = []
    for order in orders:
        if order.get("id") not in seen:
            seen.add(order.get("id"))
            fresh.append(order)
    return fresh


def _repeated_page(cursor: Any) -> PluggtoError:
    return PluggtoError(
        "O Plugg.to repetiu a mesma página de pedidos; "
        "a listagem será tentada de novo.",
        code=errors.BAD_RESPONSE,
        permanent=False,
        detail=f"a full order page ending at id {cursor} repeats an earlier page",
    )


def _short(text: str, limit: int = 300) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[:limit] + "..."


def _bad_response(detail: str) -> PluggtoError:
    return PluggtoError(
        "Resposta inválida do Plugg.to; será tentado de novo.",
        code=errors.BAD_RESPONSE,
        permanent=False,
        detail=detail,
    )


def _transport_error(exc: requests.RequestException) -> PluggtoError:
    if isinstance(exc, requests.ConnectTimeout):
        return PluggtoError(
            "O Plugg.to não respondeu a tempo (conexão).",
            code=errors.TIMEOUT,
            permanent=False,
            detail=str(exc),
            request_sent=False,
        )
    if isinstance(exc, requests.Timeout):
        return PluggtoError(
            "O Plugg.to não respondeu a tempo.",
            code=errors.TIMEOUT,
            permanent=False,
            detail=str(exc),
        )
    return PluggtoError(
        "Não foi possível conectar ao Plugg.to. Verifique a internet.",
        code=errors.UNREACHABLE,
        permanent=False,
        detail=str(exc),
        request_sent=not _never_connected(exc),
    )


def _never_connected(exc: requests.RequestException) -> bool:
    """Tell whether the request failed before any byte could reach the server."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError)


def _interpret(method: str, path: str, response: requests.Response) -> ApiResult:
    status = response.status_code
    data = _json_or_none(response)
    if 200 <= status < 300:
        if data is None and status != 204 and method != "DELETE":
            raise _bad_response(f"{status} with an empty or non-JSON body")
        return ApiResult(status, data)
    if status == 400 and _is_not_updated(data):
        return ApiResult(status, data, not_updated=True)
    raise _http_error(response, data)


def _json_or_none(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _is_not_updated(data: Any) -> bool:
    return isinstance(data, dict) and data.get("type") == NOT_UPDATED


def _http_error(response: requests.Response, data: Any) -> PluggtoError:
    status = response.status_code
    detail = f"HTTP {status}: {_short(response.text)}"
    if status in (429, 503) and "Retry-After" in response.headers:
        return PluggtoError(
            "O Plugg.to pediu para aguardar; será tentado de novo.",
            code=errors.THROTTLED,
            permanent=False,
            detail=detail,
            status=status,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )
    if status == 429:
        return PluggtoError(
            "Muitas requisições ao Plugg.to; será tentado de novo.",
            code=errors.THROTTLED,
            permanent=False,
            detail=detail,
            status=status,
        )
    if status >= 500:
        return PluggtoError(
            f"O Plugg.to está com problemas (erro {status}); será tentado de novo.",
            code=errors.SERVER_ERROR,
            permanent=False,
            detail=detail,
            status=status,
        )
    if status == 404:
        return PluggtoError(
            "Não encontrado no Plugg.to.",
            code=errors.NOT_FOUND,
            permanent=True,
            detail=detail,
            status=status,
        )
    return PluggtoError(
        f"O Plugg.to recusou os dados: {_api_message(data) or 'sem detalhes'}",
        code=errors.REJECTED,
        permanent=True,
        detail=detail,
        status=status,
    )


def _api_message(data: Any) -> str:
    if not isinstance(data, dict):
        return ""
    for key in ("details", "message", "error_description", "error"):
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return _short(value, 200)
        if isinstance(value, list | dict) and value:
            return _short(json.dumps(value, ensure_ascii=False), 200)
    return ""
