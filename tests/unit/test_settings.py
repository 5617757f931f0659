"""chalicelib.settings: the server key fails closed; the settings this module owns."""

from __future__ import annotations

import base64

import pytest

from chalicelib.settings import Settings, SettingsError

KEY = base64.b64encode(b"k" * 32).decode()


def test_without_a_server_key_or_its_parameter_the_settings_refuse_to_load() -> None:
    # Given: an environment with no key at all (a deploy that forgot it)
    # When / Then: no built-in key: an error that names both ways to give one
    with pytest.raises(SettingsError, match="no server key") as raised:
        Settings.from_env({})
    assert "SERVER_KEY_PARAMETER" in str(raised.value) and "SERVER_KEY " in str(raised.value)


def test_the_server_key_comes_from_server_key() -> None:
    settings = Settings.from_env({"SERVER_KEY": KEY})
    assert settings.server_key == b"k" * 32


def test_with_only_the_parameter_the_key_is_left_for_the_runtime_to_read() -> None:
    # Given / When
    settings = Settings.from_env({"SERVER_KEY_PARAMETER": "/serverless-interviews/server-key"})
    # Then: settings stay pure (no AWS call here); Services.from_settings reads it
    assert settings.server_key == b""
    assert settings.server_key_parameter == "/serverless-interviews/server-key"


def test_the_local_stack_gets_a_random_key_for_its_run_only() -> None:
    # Given / When: two local stack runs without SERVER_KEY
    first, second = Settings.from_env({}, local_stack=True), Settings.from_env({}, local_stack=True)
    # Then: each has a key of its own, none built in
    assert len(first.server_key) == 32 and len(second.server_key) == 32
    assert first.server_key != second.server_key
    # Then: a SERVER_KEY given to the local stack is used as it is
    assert Settings.from_env({"SERVER_KEY": KEY}, local_stack=True).server_key == b"k" * 32


@pytest.mark.parametrize(("raw", "message"), [("not base64!", "must be base64"),
                                              (base64.b64encode(b"short").decode(), "at least 32 bytes")])
def test_a_malformed_server_key_is_refused(raw: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({"SERVER_KEY": raw})


def test_task_records_are_kept_a_week_by_default_and_at_least_a_day() -> None:
    assert Settings.from_env({"SERVER_KEY": KEY}).task_record_days == 7
    assert Settings.from_env({"SERVER_KEY": KEY, "TASK_RECORD_DAYS": "30"}).task_record_days == 30
    with pytest.raises(SettingsError, match="TASK_RECORD_DAYS must be at least 1"):
        Settings.from_env({"SERVER_KEY": KEY, "TASK_RECORD_DAYS": "0"})


def test_the_turn_retry_budget_is_a_setting_of_at_least_one_second() -> None:
    assert Settings.from_env({"SERVER_KEY": KEY}).turn_retry_seconds == 20
    assert Settings.from_env({"SERVER_KEY": KEY, "TURN_RETRY_SECONDS": "90"}).turn_retry_seconds == 90
    with pytest.raises(SettingsError, match="TURN_RETRY_SECONDS must be at least 1"):
        Settings.from_env({"SERVER_KEY": KEY, "TURN_RETRY_SECONDS": "0"})


def test_default_country_is_us_and_must_be_a_two_letter_code() -> None:
    assert Settings.from_env({"SERVER_KEY": KEY}).default_country == "US"
    assert Settings.from_env({"SERVER_KEY": KEY, "DEFAULT_COUNTRY": "gb"}).default_country == "GB"
    with pytest.raises(SettingsError, match="DEFAULT_COUNTRY must be a two-letter country code"):
        Settings.from_env({"SERVER_KEY": KEY, "DEFAULT_COUNTRY": "France"})


def test_the_sql_database_is_a_local_sqlite_file_only_on_the_local_stack_and_redis_only_when_set() -> None:
    deployed = Settings.from_env({"SERVER_KEY": KEY})
    assert deployed.database_url == "" and deployed.redis_url == ""  # SQLObject says to set it; DARedis uses the table
    local = Settings.from_env({}, local_stack=True)
    assert local.database_url.startswith("sqlite:///")
    chosen = Settings.from_env({"SERVER_KEY": KEY, "DATABASE_URL": " postgresql+psycopg://u:pw@db/x ",
                                "REDIS_URL": "redis://cache:6379/2"})
    assert chosen.database_url == "postgresql+psycopg://u:pw@db/x" and chosen.redis_url == "redis://cache:6379/2"
    assert "pw@db" not in repr(chosen)  # a URL may hold a password: kept out of logs
