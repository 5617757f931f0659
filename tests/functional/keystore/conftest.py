"""`fresh_aws` (tests/conftest.py) leaves the resources it made behind; empty moto after each test
here, as tests/functional/api does, so that later packages which create their own tables
(tests/functional/storage) find none left over."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _empty_moto_afterwards(fresh_aws: dict[str, Any]) -> Iterator[None]:
    yield
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
