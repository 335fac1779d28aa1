"""Attacks a local dashboard must resist: CSRF, DNS rebinding, framing."""

import pytest

from tests.conftest import csrf_token_from


def post_rules(app):
    """Every URL rule that accepts POST, with sample arguments."""
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods:
            continue
        values = {name: "1" for name in rule.arguments}
        yield rule.endpoint, rule.build(values, append_unknown=False)[1]


def test_every_post_endpoint_refuses_a_request_without_csrf_token(app, client):
    checked = 0

    for endpoint, url in post_rules(app):
        response = client.post(url, data={"x": "1"})
        assert response.status_code == 400, endpoint
        checked += 1

    assert checked >= 5


def test_a_token_from_another_session_is_refused(app, client):
    other = app.test_client()
    foreign = csrf_token_from(other.get("/configuracoes/").get_data(as_text=True))
    client.get("/configuracoes/")

    response = client.post("/configuracoes/testar", headers={"X-CSRFToken": foreign})

    assert response.status_code == 400


@pytest.mark.parametrize("host", ["evil.example", "attacker.com:8000", "192.168.0.5"])
def test_a_foreign_host_header_is_refused(client, host):
    response = client.get("/", headers={"Host": host})

    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Endereço não permitido: abra o painel por http://localhost:8000/" in text


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000", "localhost"])
def test_local_host_names_are_accepted(client, host):
    assert client.get("/", headers={"Host": host}).status_code == 200


def test_a_custom_bind_host_is_trusted():
    from dashboard.config import trusted_hosts

    assert "painel.local" in trusted_hosts("painel.local")
    assert "0.0.0.0" not in trusted_hosts("0.0.0.0")


def test_pages_cannot_be_framed_or_sniffed(client):
    response = client.get("/")

    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_session_cookie_is_http_only_and_same_site(client):
    client.get("/configuracoes/")

    cookie = client.get_cookie("session")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"


def test_htmx_is_served_locally(client):
    page = client.get("/").get_data(as_text=True)

    assert "/static/htmx-2.0.11.min.js" in page
    assert "unpkg" not in page and "cdn" not in page.lower()
    script = client.get("/static/htmx-2.0.11.min.js")
    assert script.status_code == 200
    script.close()
