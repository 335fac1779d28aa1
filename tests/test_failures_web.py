"""Falhas: the failed items, with Tentar novamente, Tentar todas and Ignorar."""

import pytest

from dashboard.extensions import db
from dashboard.models.sync import SyncItem
from dashboard.sync.runner import RunOutcome
from dashboard.web import failures

HTMX = {"HX-Request": "true"}


class Starts(list):
    """Stands in for start_in_background; records (job, trigger, keys)."""

    def __init__(self) -> None:
        super().__init__()
        self.busy: set[str] = set()

    def __call__(self, name, trigger, only=None) -> RunOutcome:
        if name in self.busy:
            return RunOutcome(False, message=f"{name} já está em andamento.")
        self.append((name, trigger, sorted(only or ())))
        return RunOutcome(True, 1, "running", "iniciada")


@pytest.fixture
def starts(monkeypatch):
    recorder = Starts()
    monkeypatch.setattr(failures, "start_in_background", recorder)
    return recorder


def add_item(kind="product", key="CAM-01", state="failed", **values) -> SyncItem:
    item = SyncItem(
        kind=kind,
        key=key,
        group_key=values.pop("group_key", key),
        label=values.pop("label", f"Item {key}"),
        state=state,
        last_error=values.pop("last_error", "O Plugg.to recusou os dados: EAN."),
        attempts=values.pop("attempts", 2),
        **values,
    )
    db.session.add(item)
    db.session.commit()
    return item


def text(response) -> str:
    return response.get_data(as_text=True)


def state_of(item: SyncItem) -> str:
    db.session.expire_all()
    return db.session.get(SyncItem, item.id).state


# The list ---------------------------------------------------------------------


def test_the_failed_items_are_listed_with_kind_reason_and_attempts(client):
    add_item("stock", "CAM-01", last_error="Estoque negativo.", attempts=3)
    add_item("price", "CAM-02", state="ok")

    html = text(client.get("/falhas/"))

    row = html[html.index("<tbody>") : html.index("</tbody>")]
    assert "1 falha<" in html
    assert "Estoque" in row and "Item CAM-01" in row and "Estoque negativo." in row
    assert '<td data-label="Tentativas">3</td>' in row
    assert "CAM-02" not in row


def test_no_failure_says_everything_was_accepted(client):
    html = text(client.get("/falhas/"))

    assert "Nenhuma falha." in html and "Tentar todas" not in html


def test_htmx_gets_only_the_failures_region(client):
    add_item()

    response = client.get("/falhas/", headers=HTMX)

    assert text(response).lstrip().startswith('<section id="failures"')
    assert "HX-Request" in response.headers["Vary"]


# Tentar novamente ---------------------------------------------------------------


def test_tentar_novamente_makes_the_item_due_and_runs_its_job(client, post, starts):
    item = add_item("stock", "CAM-01")

    response = post(f"/falhas/{item.id}/tentar", htmx=True)

    html = text(response)
    assert state_of(item) == "pending"
    assert starts == [("stock", "retry", ["CAM-01"])]
    assert "CAM-01" not in html[html.index('<section id="failures"') :]
    assert "1 item enviado para nova tentativa." in html
    assert 'id="flashes" hx-swap-oob="true"' in html


def test_without_htmx_tentar_novamente_redirects(client, post, starts):
    item = add_item()

    response = post(f"/falhas/{item.id}/tentar")

    assert response.status_code == 303
    assert response.headers["Location"] == "/falhas/"
    assert "1 item enviado para nova tentativa." in text(client.get("/falhas/"))


def test_a_busy_job_says_the_item_goes_in_the_next_run(client, post, starts):
    item = add_item("price", "CAM-01")
    starts.busy.add("prices")

    html = text(post(f"/falhas/{item.id}/tentar", htmx=True))

    assert state_of(item) == "pending"
    assert "prices já está em andamento." in html
    assert "serão enviados na próxima execução" in html
    assert "flash-warning" in html


def test_tentar_todas_groups_the_items_by_job(client, post, starts):
    add_item("stock", "CAM-01")
    add_item("stock", "CAM-02")
    add_item("product", "CAM-03")

    html = text(post("/falhas/tentar-todas", htmx=True))

    assert sorted(starts) == [
        ("products", "retry", ["CAM-03"]),
        ("stock", "retry", ["CAM-01", "CAM-02"]),
    ]
    assert "3 itens enviados para nova tentativa." in html
    assert "Nenhuma falha." in html


def test_tentar_todas_without_failures_says_so(client, post, starts):
    html = text(post("/falhas/tentar-todas", htmx=True))

    assert starts == []
    assert "Não há falhas para tentar de novo." in html


# Ignorar ------------------------------------------------------------------------


def test_ignorar_takes_the_item_off_the_list_without_a_run(client, post, starts):
    item = add_item()

    html = text(post(f"/falhas/{item.id}/ignorar", htmx=True))

    assert state_of(item) == "ignored"
    assert starts == []
    assert "Falha ignorada" in html and "Nenhuma falha." in html


# Negatives ----------------------------------------------------------------------


@pytest.mark.parametrize("action", ["tentar", "ignorar"])
def test_an_unknown_item_is_not_found(post, action):
    assert post(f"/falhas/999/{action}").status_code == 404


def test_the_actions_need_a_post(client):
    item = add_item()

    assert client.get(f"/falhas/{item.id}/tentar").status_code == 405
    assert client.get("/falhas/tentar-todas").status_code == 405


def test_the_actions_need_the_csrf_token(client, starts):
    item = add_item()

    response = client.post(f"/falhas/{item.id}/tentar")

    assert response.status_code == 400
    assert state_of(item) == "failed" and starts == []
