"""The Plugg.to client at its HTTP boundary, with requests_mock."""

import logging
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import parse_qs

import pytest
import requests
import requests_mock as requests_mock_module

from dashboard.logs import RedactingFilter, register_secrets
from dashboard.pluggto import errors
from dashboard.pluggto.client import (
    ClientConfig,
    Credentials,
    PluggtoClient,
    TokenProvider,
    parse_retry_after,
    sku_path,
)
from dashboard.pluggto.errors import CredentialsRejected, NotConfigured, PluggtoError

API = "https://api.test"
CREDS = Credentials("cid-1", "csecret-1", "user-1", "apisecret-1")
TOKEN = {"access_token": "tok-A", "expires_in": 3600, "token_type": "Bearer"}


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def records():
    return []


@pytest.fixture
def make_client(sleeps, records):
    def build(max_attempts=4, credentials=CREDS, tokens=None, **config):
        return PluggtoClient(
            ClientConfig(
                base_url=API, max_attempts=max_attempts, backoff_initial=0.5, **config
            ),
            tokens or TokenProvider(credentials),
            on_call=records.append,
            sleep=sleeps.append,
        )

    return build


@pytest.fixture
def mock():
    with requests_mock_module.Mocker() as mocker:
        mocker.post(f"{API}/oauth/token", json=TOKEN)
        yield mocker


def token_calls(mock):
    return [r for r in mock.request_history if r.path == "/oauth/token"]


def test_it_obtains_a_token_with_a_form_encoded_password_grant(mock, make_client):
    mock.get(f"{API}/products", json={"result": []})

    make_client().test_connection()

    token_request = token_calls(mock)[0]
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token_request.text) == {
        "grant_type": ["password"],
        "client_id": ["cid-1"],
        "client_secret": ["csecret-1"],
        "username": ["user-1"],
        "password": ["apisecret-1"],
    }
    assert mock.last_request.headers["Authorization"] == "Bearer tok-A"


def test_it_reuses_the_cached_token_across_calls(mock, make_client):
    mock.get(f"{API}/products", json={"result": []})
    client = make_client()

    client.test_connection()
    client.test_connection()

    assert len(token_calls(mock)) == 1


def test_it_renews_a_token_a_minute_before_it_expires():
    clock = [0.0]
    provider = TokenProvider(CREDS, clock=lambda: clock[0])
    fetched = []

    def fetch(credentials):
        fetched.append(1)
        return {"access_token": f"t{len(fetched)}", "expires_in": 3600}

    first = provider.token(fetch)
    clock[0] = 3530.0
    still = provider.token(fetch)
    clock[0] = 3545.0
    renewed = provider.token(fetch)

    assert (first, still, renewed) == ("t1", "t1", "t2")


def test_it_renews_once_and_replays_after_a_401(mock, make_client):
    mock.post(
        f"{API}/oauth/token",
        [{"json": TOKEN}, {"json": {**TOKEN, "access_token": "tok-B"}}],
    )
    mock.put(
        f"{API}/skus/A1/stock",
        [{"status_code": 401, "json": {"error": "expired"}}, {"json": {"Product": {}}}],
    )

    result = make_client().update_stock("A1", 3)

    assert result.status == 200
    stock_calls = [r for r in mock.request_history if r.path == "/skus/a1/stock"]
    assert [r.headers["Authorization"] for r in stock_calls] == [
        "Bearer tok-A",
        "Bearer tok-B",
    ]
    assert stock_calls[1].json() == {"action": "update", "quantity": 3, "sku": "A1"}


def test_a_second_401_means_the_credentials_are_rejected(mock, make_client):
    mock.get(f"{API}/products", status_code=401, json={"error": "invalid_token"})

    with pytest.raises(CredentialsRejected) as caught:
        make_client().test_connection()

    assert caught.value.permanent
    assert "Credenciais recusadas" in caught.value.message
    assert len(token_calls(mock)) == 2


def test_a_refused_password_grant_means_the_credentials_are_rejected(mock, make_client):
    mock.post(f"{API}/oauth/token", status_code=401, json={"error": "invalid_client"})

    with pytest.raises(CredentialsRejected):
        make_client().test_connection()


def test_missing_credentials_fail_before_any_call(mock, make_client):
    with pytest.raises(NotConfigured) as caught:
        make_client(credentials=Credentials("cid", "", "user", "")).test_connection()

    assert "Client Secret" in caught.value.message
    assert "API Secret" in caught.value.message
    assert mock.request_history == []


def test_a_429_waits_retry_after_without_counting_as_a_failure(
    mock, make_client, sleeps
):
    mock.get(
        f"{API}/products",
        [
            {"status_code": 429, "headers": {"Retry-After": "2.0"}, "json": {}},
            {"status_code": 429, "headers": {"Retry-After": "2"}, "json": {}},
            {"status_code": 429, "headers": {"Retry-After": "1"}, "json": {}},
            {"json": {"result": []}},
        ],
    )

    result = make_client(max_attempts=2).test_connection()

    assert result.status == 200
    assert sleeps == [2.0, 2.0, 1.0]


def test_a_retry_after_http_date_is_understood():
    now = time.time()
    header = format_datetime(datetime.fromtimestamp(now + 30, tz=UTC), usegmt=True)

    assert 28 <= parse_retry_after(header, now=now) <= 31
    assert parse_retry_after("2.0") == 2.0
    assert parse_retry_after("soon") is None


def test_a_503_with_retry_after_is_waited_like_a_429(mock, make_client, sleeps):
    mock.get(
        f"{API}/products",
        [
            {"status_code": 503, "headers": {"Retry-After": "3"}, "text": "busy"},
            {"json": {"result": []}},
        ],
    )

    make_client().test_connection()

    assert sleeps == [3.0]


def test_throttling_gives_up_after_the_wait_budget(mock, make_client):
    mock.get(
        f"{API}/products",
        status_code=429,
        headers={"Retry-After": "50"},
        json={},
    )

    with pytest.raises(PluggtoError) as caught:
        make_client(max_throttle_wait=120).test_connection()

    assert caught.value.code == errors.THROTTLED
    assert not caught.value.permanent


def test_a_5xx_is_retried_with_growing_backoff_then_succeeds(mock, make_client, sleeps):
    mock.put(
        f"{API}/skus/A1",
        [
            {"status_code": 500, "text": "oops"},
            {"status_code": 502, "text": "bad gateway"},
            {"json": {"Product": {"id": "p1"}}},
        ],
    )

    result = make_client().upsert_product("A1", {"sku": "A1"})

    assert result.data == {"Product": {"id": "p1"}}
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0
    assert 1.0 <= sleeps[1] <= 1.5


def test_retries_are_bounded(mock, make_client, sleeps):
    mock.put(f"{API}/skus/A1", status_code=500, text="down")

    with pytest.raises(PluggtoError) as caught:
        make_client(max_attempts=3).upsert_product("A1", {"sku": "A1"})

    assert caught.value.code == errors.SERVER_ERROR
    assert not caught.value.permanent
    assert "erro 500" in caught.value.message
    assert len([r for r in mock.request_history if r.method == "PUT"]) == 3


def test_a_timeout_is_retried_and_reported_as_transient(mock, make_client):
    mock.get(f"{API}/products", exc=requests.exceptions.ReadTimeout("slow"))

    with pytest.raises(PluggtoError) as caught:
        make_client(max_attempts=2).test_connection()

    assert caught.value.code == errors.TIMEOUT
    assert caught.value.message == "O Plugg.to não respondeu a tempo."
    assert len([r for r in mock.request_history if r.method == "GET"]) == 2


def test_a_connection_error_says_the_host_is_unreachable(mock, make_client):
    mock.get(f"{API}/products", exc=requests.exceptions.ConnectionError("refused"))

    with pytest.raises(PluggtoError) as caught:
        make_client(max_attempts=1).test_connection()

    assert caught.value.code == errors.UNREACHABLE


@pytest.mark.parametrize("body", ["", "<html>gateway</html>", "{broken"])
def test_an_empty_or_non_json_body_is_transient_and_retried(mock, make_client, body):
    mock.get(
        f"{API}/orders/o1",
        [{"text": body}, {"json": {"Order": {"id": "o1"}}}],
    )

    order = make_client().get_order("o1")

    assert order == {"id": "o1"}


def test_not_updated_counts_as_success(mock, make_client):
    mock.put(
        f"{API}/orders/o1",
        status_code=400,
        json={
            "error": True,
            "type": "not_updated",
            "details": "Changes not found in the order",
        },
    )

    result = make_client().update_order("o1", {"status": "invoiced"})

    assert result.not_updated
    assert len([r for r in mock.request_history if r.method == "PUT"]) == 1


def test_other_4xx_are_permanent_and_carry_pluggto_message(mock, make_client):
    mock.put(
        f"{API}/skus/A1",
        status_code=400,
        json={"error": True, "details": "price must be greater than zero"},
    )

    with pytest.raises(PluggtoError) as caught:
        make_client().upsert_product("A1", {"sku": "A1"})

    assert caught.value.permanent
    assert caught.value.code == errors.REJECTED
    assert "price must be greater than zero" in caught.value.message
    assert len([r for r in mock.request_history if r.method == "PUT"]) == 1


def test_a_404_on_put_falls_back_to_post_products(mock, make_client):
    mock.put(f"{API}/skus/NOVO-1", status_code=404, json={"error": "not found"})
    mock.post(f"{API}/products", status_code=201, json={"Product": {"id": "x"}})

    result = make_client().upsert_product("NOVO-1", {"sku": "NOVO-1", "price": 10})

    assert result.status == 201
    assert mock.last_request.json() == {"sku": "NOVO-1", "price": 10}


def test_a_create_is_not_replayed_after_the_server_received_it(mock, make_client):
    mock.post(f"{API}/products", status_code=500, text="boom")

    with pytest.raises(PluggtoError):
        make_client().create_product({"sku": "X"})

    assert len([r for r in mock.request_history if r.path == "/products"]) == 1


@pytest.mark.parametrize(
    ("sku", "encoded"),
    [
        ("KIT 2/3 COPOS", "KIT%202%2F3%20COPOS"),
        ("100%", "100%25"),
        ("00123", "00123"),
        ("CAMISA-AÇÃO", "CAMISA-A%C3%87%C3%83O"),
        ("A+B?C#D", "A%2BB%3FC%23D"),
    ],
)
def test_skus_are_percent_encoded_exactly_once(mock, make_client, sku, encoded):
    mock.put(requests_mock_module.ANY, json={"Product": {}})

    make_client().update_stock(sku, 0)

    assert sku_path(sku) == encoded
    sent = mock.last_request
    assert sent.url == f"{API}/skus/{encoded}/stock"
    assert sent.json() == {"action": "update", "quantity": 0, "sku": sku}


def order_page(ids, limit=2):
    return {
        "total": 4,
        "showing": len(ids),
        "limit": limit,
        "result": [{"Order": {"id": i}} for i in ids],
    }


def test_listing_orders_follows_next_and_dedupes_repeats(mock, make_client):
    mock.get(
        f"{API}/orders",
        [
            {"json": order_page(["a", "b"])},
            {"json": order_page(["b", "c"])},
            {"json": order_page(["d"])},
        ],
    )

    orders = list(make_client().list_orders(status="approved", limit=2))

    assert [o["id"] for o in orders] == ["a", "b", "c", "d"]
    queries = [r.qs for r in mock.request_history if r.path == "/orders"]
    assert queries[0] == {"limit": ["2"], "status": ["approved"]}
    assert queries[1]["next"] == ["b"]
    assert queries[2]["next"] == ["c"]


def test_a_full_page_repeated_because_next_was_ignored_is_a_transient_error(
    mock, make_client
):
    mock.get(f"{API}/orders", json=order_page(["a", "b"]))
    listed = []

    with pytest.raises(PluggtoError) as caught:
        for order in make_client().list_orders(limit=2):
            listed.append(order["id"])

    assert caught.value.permanent is False
    assert caught.value.message == (
        "O Plugg.to repetiu a mesma página de pedidos; a listagem será tentada de novo."
    )
    assert listed == ["a", "b"]
    assert len([r for r in mock.request_history if r.path == "/orders"]) == 2


def test_a_page_that_leads_back_to_a_used_cursor_is_a_transient_error(
    mock, make_client
):
    mock.get(
        f"{API}/orders",
        [{"json": order_page(["a", "b"])}, {"json": order_page(["c", "b"])}],
    )

    with pytest.raises(PluggtoError) as caught:
        list(make_client().list_orders(limit=2))

    assert caught.value.permanent is False
    assert caught.value.code == errors.BAD_RESPONSE


def test_a_short_page_of_repeats_still_ends_the_listing(mock, make_client):
    mock.get(
        f"{API}/orders",
        [{"json": order_page(["a", "b"])}, {"json": order_page(["b"])}],
    )

    orders = list(make_client().list_orders(limit=2))

    assert [o["id"] for o in orders] == ["a", "b"]


def test_listing_orders_sends_the_created_window(mock, make_client):
    mock.get(f"{API}/orders", json={"result": []})

    list(
        make_client().list_orders(
            created=("2026-12-01T00:00:00Z", "2026-12-03T10:00:00Z")
        )
    )

    assert "created=2026-12-01T00%3A00%3A00Zto2026-12-03T10%3A00%3A00Z" in (
        mock.last_request.url
    )


def test_concurrent_calls_renew_the_token_only_once(mock, make_client):
    mock.get(f"{API}/products", json={"result": []})
    client = make_client()
    barrier = threading.Barrier(6)

    def call():
        barrier.wait()
        client.test_connection()

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(token_calls(mock)) == 1


def test_concurrent_401s_renew_the_token_only_once(mock, make_client):
    tokens = iter(["tok-A", "tok-B", "tok-C", "tok-D"])
    mock.post(
        f"{API}/oauth/token",
        json=lambda request, context: {"access_token": next(tokens), "expires_in": 60},
    )

    def answer(request, context):
        if request.headers["Authorization"] == "Bearer tok-A":
            context.status_code = 401
            return {"error": "expired"}
        return {"result": []}

    mock.get(f"{API}/products", json=answer)
    client = make_client()
    client.tokens.token(client._fetch_token)  # everyone starts with tok-A
    barrier = threading.Barrier(4)

    def call():
        barrier.wait()
        client.test_connection()

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(token_calls(mock)) == 2


def test_every_call_is_recorded_without_bodies(mock, make_client, records):
    mock.put(f"{API}/skus/A1", [{"status_code": 500, "text": "x"}, {"json": {}}])

    make_client().upsert_product("A1", {"sku": "A1", "price": 9.9})

    assert [(r.method, r.path, r.status) for r in records] == [
        ("POST", "/oauth/token", 200),
        ("PUT", "/skus/A1", 500),
        ("PUT", "/skus/A1", 200),
    ]
    assert all(r.duration_ms >= 0 for r in records)


def test_transport_errors_are_recorded_with_their_reason(mock, make_client, records):
    mock.get(f"{API}/products", exc=requests.exceptions.ConnectTimeout("slow"))

    with pytest.raises(PluggtoError):
        make_client(max_attempts=1).test_connection()

    assert records[-1].status is None
    assert "não respondeu" in records[-1].error


def test_no_secret_or_token_reaches_the_logs_even_at_debug(mock, make_client, caplog):
    mock.put(f"{API}/skus/A1", [{"status_code": 401, "json": {}}, {"json": {}}])
    register_secrets(["csecret-1", "apisecret-1", "cid-1", "user-1"])
    handler_filter = RedactingFilter()
    caplog.handler.addFilter(handler_filter)
    caplog.set_level(logging.DEBUG)

    make_client().upsert_product("A1", {"sku": "A1", "note": "apisecret-1"})

    text = caplog.text
    assert "PUT /skus/A1 body" in text
    for secret in ("csecret-1", "apisecret-1", "tok-A", "Bearer tok"):
        assert secret not in text


def test_the_client_remembers_the_earliest_server_clock_it_saw(mock, make_client):
    client = make_client()
    early = datetime(2026, 12, 3, 12, 0, 5, tzinfo=UTC)
    mock.get(
        f"{API}/orders/a",
        json={"Order": {"id": "a"}},
        headers={"Date": format_datetime(early, usegmt=True)},
    )
    mock.get(
        f"{API}/orders/b",
        json={"Order": {"id": "b"}},
        headers={"Date": "not a date"},
    )

    client.get_order("a")
    client.get_order("b")

    assert client.earliest_server_time() == early
    client.forget_server_times()
    assert client.earliest_server_time() is None


def test_the_proxy_from_the_environment_is_read_once_and_kept(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.interno:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    client = PluggtoClient(ClientConfig(base_url=API), TokenProvider(CREDS))

    assert client.session.proxies.get("https") == "http://proxy.interno:3128"
    assert client.session.trust_env is False


def test_no_proxy_for_the_api_host_is_respected(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.interno:3128")
    monkeypatch.setenv("NO_PROXY", "api.plugg.to")

    client = PluggtoClient(
        ClientConfig(base_url="https://api.plugg.to"), TokenProvider(CREDS)
    )

    assert "https" not in client.session.proxies
