"""The server key on AWS: read from an SSM SecureString parameter at cold start (moto), failing closed."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib.runtime.services import Services
from chalicelib.settings import Settings, SettingsError
from chalicelib.storage.keys import ServerKeys
from chalicelib.web import context
from tests.conftest import ADMIN_KEY, REGION, Api, settings_env

PARAMETER = "/serverless-interviews/server-key"


@pytest.fixture
def ssm(fresh_aws: dict[str, Any]) -> Any:
    import boto3

    return boto3.client("ssm", region_name=REGION)


def _settings_from_parameter(name: str = PARAMETER) -> Settings:
    env = settings_env(SERVER_KEY_PARAMETER=name)
    del env["SERVER_KEY"]
    return Settings.from_env(env)


def test_services_read_the_key_from_the_ssm_secure_string_parameter(ssm: Any) -> None:
    # Given: the key only in SSM, as the deployed template arranges it
    key = os.urandom(32)
    ssm.put_parameter(Name=PARAMETER, Type="SecureString", Value=base64.b64encode(key).decode())
    # When: the services are built, as at a Lambda cold start
    services = Services.from_settings(_settings_from_parameter())
    # Then: every sub-key derives from that key
    assert services.settings.server_key == key
    assert services.keys == ServerKeys.derive(key)


def test_a_missing_parameter_is_a_clear_error_that_says_how_to_create_it(ssm: Any) -> None:
    with pytest.raises(SettingsError, match="does not exist: create it with aws ssm put-parameter --type SecureString"):
        Services.from_settings(_settings_from_parameter("/nowhere/server-key"))


def test_a_key_kept_in_a_plain_string_parameter_is_refused(ssm: Any) -> None:
    ssm.put_parameter(Name=PARAMETER, Type="String", Value=base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(SettingsError, match="expected a SecureString"):
        Services.from_settings(_settings_from_parameter())


@pytest.mark.parametrize(("value", "message"), [("not base64!", "must be base64"),
                                                (base64.b64encode(b"short").decode(), "must decode to at least 32")])
def test_a_malformed_key_in_the_parameter_is_refused(ssm: Any, value: str, message: str) -> None:
    ssm.put_parameter(Name=PARAMETER, Type="SecureString", Value=value)
    with pytest.raises(SettingsError, match=f"SSM parameter '{PARAMETER}' {message}"):
        Services.from_settings(_settings_from_parameter())


def test_services_without_a_key_are_refused() -> None:
    # Given: settings whose key was never read (a parameter, but not through from_settings)
    settings = _settings_from_parameter()
    # When / Then: no fallback key
    with pytest.raises(SettingsError, match="need the server key"):
        Services.in_memory(settings)


@pytest.fixture
def lambda_environment(ssm: Any, services: Services, monkeypatch: pytest.MonkeyPatch) -> Iterator[bytes]:
    """The process environment of a deployed function: the parameter's name, no key; the routes'
    services dropped so that the first request builds them from the environment."""
    key = os.urandom(32)
    ssm.put_parameter(Name=PARAMETER, Type="SecureString", Value=base64.b64encode(key).decode())
    for name, value in settings_env(SERVER_KEY_PARAMETER=PARAMETER).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SERVER_KEY")
    context.use_services(None)
    yield key
    context.use_services(None)


def test_a_cold_start_reads_the_key_once_and_serves_with_it(lambda_environment: bytes, client: Any) -> None:
    # Given: the admin's API key stored, and the app's services not built yet
    accounts = Services.from_settings(Settings.from_env()).accounts
    accounts.create_user("admin@localhost", "admin-password", privileges=("admin",))
    accounts.add_api_key("admin@localhost", ADMIN_KEY)
    context.use_services(None)
    # When: a request arrives
    started = Api(client, ADMIN_KEY).new_session("secret_answer.yml")
    # Then: it was served with the key from SSM
    assert context.services().keys == ServerKeys.derive(lambda_environment)
    assert started["encrypted"] is True
