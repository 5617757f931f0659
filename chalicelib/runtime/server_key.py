"""The server key on AWS: read once per container from an SSM SecureString parameter.

`Settings` stays pure: when only SERVER_KEY_PARAMETER is set, its `server_key`
is empty, and `Services.from_settings` calls `with_server_key` before it builds
anything. The key never sits in the template, the function's environment or a
tracked file; the function's role may read exactly that one parameter.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from chalicelib.settings import ENV_SERVER_KEY_PARAMETER, MAKE_KEY_COMMAND, Settings, SettingsError, decode_server_key

SECURE_STRING = "SecureString"


def with_server_key(settings: Settings, client: Any = None) -> Settings:
    """`settings` with the server key filled in from SSM if it is not set yet.

    Raises SettingsError, naming the parameter and what to do, when the parameter
    is missing, unreadable, not a SecureString, or not a valid key."""
    if settings.server_key:
        return settings
    name = settings.server_key_parameter
    if not name:
        raise SettingsError(f"no server key and no {ENV_SERVER_KEY_PARAMETER} to read it from")
    parameter = _get_parameter(name, client)
    if parameter.get("Type") != SECURE_STRING:
        raise SettingsError(
            f"SSM parameter {name!r} is a {parameter.get('Type')}, expected a {SECURE_STRING}: store the server key"
            f" encrypted (aws ssm put-parameter --type {SECURE_STRING} --overwrite --name {name} --value ...)"
        )
    key = decode_server_key(str(parameter.get("Value", "")), f"SSM parameter {name!r}")
    return dataclasses.replace(settings, server_key=key)


def _get_parameter(name: str, client: Any) -> dict[str, Any]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        ssm = client if client is not None else _new_client()
        parameter: dict[str, Any] = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        if code == "ParameterNotFound":
            raise SettingsError(
                f"SSM parameter {name!r} ({ENV_SERVER_KEY_PARAMETER}) does not exist: create it with"
                f" aws ssm put-parameter --type {SECURE_STRING} --name {name} --value \"$({MAKE_KEY_COMMAND})\""
            ) from err
        raise SettingsError(
            f"reading the server key from SSM parameter {name!r} failed: {code}: {err}; check that the"
            " function's role may call ssm:GetParameter on it"
        ) from err
    except BotoCoreError as err:
        raise SettingsError(f"reading the server key from SSM parameter {name!r} failed: {err}") from err
    return parameter


def _new_client() -> Any:
    import boto3  # here, not at module level: it costs ~200 ms of cold start

    make_client: Any = boto3.client
    return make_client("ssm")
