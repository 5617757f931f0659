"""An embedded AWS (moto) that answers one request at a time.

moto's backends are not thread-safe: two concurrent conditional writes can both
pass the same condition, which real DynamoDB never allows. Serializing the
requests restores the atomicity our no-lost-update promise relies on, so both
the local stack and the concurrency tests use this server.

The local stack's own calls skip HTTP: `in_process_client` makes a boto3 client
whose requests moto answers in this process, from the same backends the HTTP
endpoint serves (so the AWS CLI with `--endpoint-url` sees the app's data), under
the same lock, held only for the call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


# One call at a time into moto's backends, from the HTTP endpoint or from this process.
MOTO_LOCK = threading.Lock()


def one_request_at_a_time(app: WsgiApp) -> WsgiApp:
    def serialized(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with MOTO_LOCK:
            return list(app(environ, start_response))

    return serialized


def in_process_client(service: str, region: str) -> Any:
    """A boto3 client for `service` answered by moto in this process: no HTTP, no endpoint URL
    (the environment's is ignored), fake credentials."""
    import boto3
    from botocore.awsrequest import AWSPreparedRequest, AWSResponse
    from botocore.config import Config
    from moto.core.botocore_stubber import MockRawResponse
    from moto.core.models import botocore_stubber

    def answer(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        with MOTO_LOCK:
            response = botocore_stubber.process_request(request)
        if response is None:
            return None
        status, headers, body = response
        return AWSResponse(request.url, status, headers, MockRawResponse(body))  # type: ignore[arg-type]

    session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=region)
    config = Config(ignore_configured_endpoint_urls=True)  # type: ignore[call-arg]  # stubs lag botocore 1.31+
    client: Any = session.client(service, config=config)  # type: ignore[call-overload]  # a service name as str
    client.meta.events.register_first("before-send", answer)
    return client


class MotoServer:
    """moto's HTTP endpoint on 127.0.0.1 in a background thread."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                """No access log line per request."""

        app = one_request_at_a_time(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(host, port, app, threaded=True, request_handler=QuietHandler)
        self.host = host
        self.port: int = self._server.port
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> MotoServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
