"""No secret ever reaches a log line, whatever logs it."""

import logging
import stat

import pytest

from dashboard import settings as settings_store
from dashboard.logs import configure_logging, redact, register_secrets
from tests.conftest import API, CREDENTIALS


@pytest.fixture
def log_file(app, tmp_path):
    configure_logging(tmp_path / "logs", logging.DEBUG)
    yield tmp_path / "logs" / "dashboard.log"
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_dashboard", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.WARNING)


def test_no_log_line_contains_a_configured_secret(configured, api, post, log_file):
    api.get(f"{API}/products", json={"result": []})
    api.put(f"{API}/skus/X", [{"status_code": 401, "json": {}}, {"json": {}}])
    logger = logging.getLogger("dashboard.test")

    post("/configuracoes/testar", htmx=True)
    logger.info("careless line with %s", CREDENTIALS["client_secret"])
    logger.warning("settings: %r", settings_store.load())
    try:
        raise RuntimeError(f"boom {CREDENTIALS['api_secret']}")
    except RuntimeError:
        logger.exception("failure")

    text = log_file.read_text()
    assert "careless line with ***" in text
    for name in ("client_id", "client_secret", "api_user", "api_secret"):
        assert CREDENTIALS[name] not in text
    assert "token-1" not in text


@pytest.mark.parametrize(
    "line",
    [
        "Authorization: Bearer abc.def-123",
        "access_token=abc123&x=1",
        '{"client_secret": "zzz999"}',
        "password=hunter22 user=x",
    ],
)
def test_token_looking_values_are_redacted(line):
    assert "***" in redact(line)
    for secret in ("abc.def-123", "abc123", "zzz999", "hunter22"):
        assert secret not in redact(line)


def test_short_values_are_not_treated_as_secrets():
    register_secrets(["ab"])

    assert redact("about abc") == "about abc"


def test_a_log_file_left_readable_by_others_is_made_private(tmp_path):
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    (log_dir / "dashboard.log").write_text("")
    (log_dir / "dashboard.log").chmod(0o644)

    configure_logging(log_dir)

    assert stat.S_IMODE((log_dir / "dashboard.log").stat().st_mode) == 0o600
