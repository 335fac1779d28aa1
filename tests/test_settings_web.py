"""Configurações: validation, masking, env overrides, connection test."""

import pytest
import requests

from dashboard import settings as settings_store
from tests.conftest import API, CREDENTIALS, TOKEN_URL

VALID_FORM = {
    **CREDENTIALS,
    "store_domain": "minhaloja.com.br",
    "concurrency": "4",
    "products_auto": "y",
    "products_interval": "10",
    "prices_auto": "y",
    "prices_interval": "10",
    "stock_auto": "y",
    "stock_interval": "5",
    "orders_interval": "7",
}


def test_the_settings_page_is_in_portuguese(client):
    page = client.get("/configuracoes/").get_data(as_text=True)

    assert "Credenciais do Plugg.to" in page
    assert "Testar conexão" in page
    assert 'lang="pt-BR"' in page


def test_saving_valid_settings_redirects_and_stores_them(client, post):
    response = post("/configuracoes/", VALID_FORM)

    assert response.status_code == 303
    stored = settings_store.load()
    assert stored.client_secret == CREDENTIALS["client_secret"]
    assert stored.store_domain == "https://minhaloja.com.br"
    assert stored.jobs["orders"].auto is False
    assert stored.jobs["orders"].interval == 7
    assert stored.jobs["stock"].interval == 5


def test_saved_credentials_are_shown_masked(client, post):
    post("/configuracoes/", VALID_FORM)

    page = client.get("/configuracoes/").get_data(as_text=True)

    for name in ("client_id", "client_secret", "api_user", "api_secret"):
        assert CREDENTIALS[name] not in page
    assert "Salvo: ••••••••" + CREDENTIALS["api_secret"][-4:] in page
    assert "Configurações salvas." in page


def test_an_empty_secret_field_keeps_the_stored_value(client, post):
    post("/configuracoes/", VALID_FORM)

    post("/configuracoes/", {**VALID_FORM, "client_secret": "", "api_secret": ""})

    stored = settings_store.load()
    assert stored.client_secret == CREDENTIALS["client_secret"]
    assert stored.api_secret == CREDENTIALS["api_secret"]


def test_missing_credentials_on_first_save_are_reported_per_field(client, post):
    response = post("/configuracoes/", {**VALID_FORM, "api_secret": ""})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Informe o API Secret do painel Plugg.to." in page


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ("", "Informe o domínio da loja"),
        ("http://minhaloja.com.br", "Use um endereço https://"),
        ("minha loja.com.br", "Domínio inválido"),
        ("localhost", "Domínio inválido"),
        ("192.168.0.10", "não um endereço IP"),
        ("https://minhaloja.com.br/?x=1", "sem parâmetros"),
    ],
)
def test_a_bad_domain_is_rejected_next_to_the_field(client, post, domain, message):
    response = post("/configuracoes/", {**VALID_FORM, "store_domain": domain})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="store_domain-error"' in page
    assert message in page
    assert settings_store.load().store_domain == ""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("minhaloja.com.br", "https://minhaloja.com.br"),
        ("https://MinhaLoja.com.br/", "https://minhaloja.com.br"),
        ("https://loja.com.br/catalogo/", "https://loja.com.br/catalogo"),
        ("açaí.com.br", "https://xn--aa-4iaz.com.br"),
    ],
)
def test_domains_are_normalised(value, expected):
    assert settings_store.normalize_domain(value) == expected


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("stock_interval", "0", "Informe um intervalo de 1 a 1440 minutos."),
        ("products_interval", "abc", "O valor inteiro não é válido."),
        ("concurrency", "99", "Informe um número de 1 a 16."),
        ("orders_interval", "", "Informe um intervalo de 1 a 1440 minutos."),
    ],
)
def test_bad_job_settings_are_rejected_with_a_message(
    client, post, field, value, message
):
    response = post("/configuracoes/", {**VALID_FORM, field: value})

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_environment_variables_override_and_lock_the_fields(client, post, monkeypatch):
    post("/configuracoes/", VALID_FORM)
    monkeypatch.setenv("PLUGGTO_API_SECRET", "from-env-secret-77")
    monkeypatch.setenv("STORE_DOMAIN", "outra-loja.com.br")

    page = client.get("/configuracoes/").get_data(as_text=True)
    stored = settings_store.load()

    assert stored.api_secret == "from-env-secret-77"
    assert stored.store_domain == "https://outra-loja.com.br"
    assert "PLUGGTO_API_SECRET" in page
    assert "from-env-secret-77" not in page


def test_a_locked_field_is_not_overwritten_by_the_form(client, post, monkeypatch):
    monkeypatch.setenv("STORE_DOMAIN", "outra-loja.com.br")

    response = post("/configuracoes/", {**VALID_FORM, "store_domain": ""})

    assert response.status_code == 303
    monkeypatch.delenv("STORE_DOMAIN")
    assert settings_store.load().store_domain == ""


def test_a_post_without_csrf_token_is_refused(client):
    response = client.post("/configuracoes/", data=VALID_FORM)

    assert response.status_code == 400
    assert "Formulário expirado ou inválido" in response.get_data(as_text=True)
    assert settings_store.load().client_id == ""


def test_the_connection_test_reports_success(configured, post, api):
    api.get(f"{API}/products", json={"result": []})

    response = post("/configuracoes/testar", htmx=True)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="connection-result"' in page
    assert "Conexão com o Plugg.to funcionando" in page
    assert "<html" not in page


def test_the_connection_test_reports_rejected_credentials(configured, post, api):
    api.post(TOKEN_URL, status_code=401, json={"error": "invalid_client"})

    page = post("/configuracoes/testar", htmx=True).get_data(as_text=True)

    assert "Credenciais recusadas pelo Plugg.to" in page
    assert settings_store.credentials_rejected()


def test_the_connection_test_reports_an_unreachable_host(configured, post, api):
    api.post(TOKEN_URL, exc=requests.exceptions.ConnectionError("no route"))

    page = post("/configuracoes/testar", htmx=True).get_data(as_text=True)

    assert "Não foi possível conectar ao Plugg.to" in page


def test_the_connection_test_reports_a_timeout(configured, post, api):
    api.get(f"{API}/products", exc=requests.exceptions.ReadTimeout("slow"))

    page = post("/configuracoes/testar", htmx=True).get_data(as_text=True)

    assert "O Plugg.to não respondeu a tempo." in page


def test_without_htmx_the_connection_test_flashes_and_redirects(
    client, configured, post, api
):
    api.get(f"{API}/products", json={"result": []})

    response = post("/configuracoes/testar")

    assert response.status_code == 303
    page = client.get("/configuracoes/").get_data(as_text=True)
    assert "Conexão com o Plugg.to funcionando" in page


def test_rejected_credentials_show_a_banner_until_a_test_succeeds(
    client, configured, post, api
):
    settings_store.mark_credentials_rejected("Credenciais recusadas")
    assert "Credenciais recusadas pelo Plugg.to" in client.get("/").get_data(
        as_text=True
    )
    api.get(f"{API}/products", json={"result": []})

    post("/configuracoes/testar", htmx=True)

    assert "Credenciais recusadas pelo Plugg.to" not in client.get("/").get_data(
        as_text=True
    )


def test_saving_new_credentials_clears_the_rejection(client, configured, post):
    settings_store.mark_credentials_rejected("Credenciais recusadas")

    post("/configuracoes/", {**VALID_FORM, "api_secret": "a-new-secret-1"})

    assert settings_store.credentials_rejected() == ""


def test_missing_settings_show_a_banner_on_every_page(client):
    page = client.get("/falhas/").get_data(as_text=True)

    assert "Configuração incompleta" in page
    assert "Domínio da loja" in page


def test_wrong_method_is_refused(client):
    response = client.put("/configuracoes/")

    assert response.status_code == 405
    assert "Ação não permitida" in response.get_data(as_text=True)
