"""Process configuration: defaults, environment (strict), overrides."""

import pytest

from dashboard.config import ConfigError, build_config, from_environment, parse_api_url


def test_defaults_bind_to_localhost_and_the_real_api(tmp_path):
    config = build_config({"DATA_DIR": tmp_path})

    assert config["BIND_HOST"] == "127.0.0.1"
    assert config["PLUGGTO_API_URL"] == "https://api.plugg.to"
    assert config["SQLALCHEMY_DATABASE_URI"].endswith("dashboard.db")


def test_the_environment_overrides_defaults_and_overrides_win(tmp_path, monkeypatch):
    monkeypatch.setenv("PLUGGTO_API_URL", "https://sandbox.example/")
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path / "env"))

    from_env = build_config()
    explicit = build_config({"DATA_DIR": tmp_path / "cli"})

    assert from_env["PLUGGTO_API_URL"] == "https://sandbox.example"
    assert from_env["DATA_DIR"] == (tmp_path / "env").resolve()
    assert explicit["DATA_DIR"] == (tmp_path / "cli").resolve()


@pytest.mark.parametrize(
    "value",
    ["api.plugg.to", "ftp://api.plugg.to", "http://api.plugg.to", "https://"],
)
def test_a_bad_api_url_is_refused(value):
    with pytest.raises(ConfigError):
        parse_api_url(value)


def test_plain_http_is_allowed_only_on_this_machine():
    assert parse_api_url("http://127.0.0.1:9000") == "http://127.0.0.1:9000"


@pytest.mark.parametrize("value", ["abc", "0", "-3", "9999"])
def test_a_bad_timeout_is_refused_with_the_variable_name(value):
    with pytest.raises(ConfigError, match="PLUGGTO_READ_TIMEOUT"):
        from_environment({"PLUGGTO_READ_TIMEOUT": value})
