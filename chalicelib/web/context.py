"""The process-wide Services used by the routes, built lazily on first use.

Lambda keeps a warm container's module state between invocations, so the
stores (and their boto3 clients) are built once per container. Tests replace
them with `use_services`.
"""

from __future__ import annotations

import threading

from chalicelib.runtime.mail_in import MailIn
from chalicelib.runtime.services import Services
from chalicelib.runtime.sessions import Sessions
from chalicelib.runtime.worker import Worker
from chalicelib.settings import Settings

_lock = threading.Lock()
_services: Services | None = None


def services() -> Services:
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = Services.from_settings(Settings.from_env())
    return _services


def sessions() -> Sessions:
    return Sessions(services())


def worker() -> Worker:
    return Worker(sessions())


def mail_in() -> MailIn:
    return MailIn(sessions())


def use_services(replacement: Services | None) -> None:
    """Swap the services (tests, the local stack); None means rebuild from the environment."""
    global _services
    with _lock:
        _services = replacement
