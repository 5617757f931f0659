"""The API fuzzer: schemathesis generates requests from GET /api/openapi.json and sends them to a
running local stack (`make run`), with the admin's API key. Every answer must be documented: no 5xx,
a documented status and content type, and a body that matches the documented schema.

The number of examples per operation is bounded (FUZZ_EXAMPLES, default 25), so the run's length
depends on the machine's speed but never its outcome; hypothesis's deadline is off for that reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.stateful import run_state_machine_as_test
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import FIXTURE_INTERVIEWS, examples_dir
from tests.functional.test_local_stack import API_KEY, make_run, stack_env

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
FIXED_SEED = os.environ.get("FUZZ_RANDOM") != "1"  # FUZZ_RANDOM=1: fresh seeds each run
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def stack_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    env = stack_env(INTERVIEW_PATH=f"{examples_dir()}:{FIXTURE_INTERVIEWS}")
    with make_run(tmp_path_factory.mktemp("fuzz"), **env) as run:
        run.wait_ready()
        yield f"http://127.0.0.1:{env['PORT']}"


@pytest.fixture(scope="module")
def api_schema(stack_url: str) -> Any:
    return schemathesis.openapi.from_url(f"{stack_url}/api/openapi.json", wait_for_schema=30)


def test_every_answer_is_documented(api_schema: Any, stack_url: str) -> None:
    """Each operation in turn; every failing operation is reported, not only the first."""
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 17, [op.label for op in operations]

    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=FIXED_SEED, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case: Any) -> None:
            case.call_and_validate(base_url=stack_url, headers={"X-API-Key": API_KEY}, checks=CHECKS, timeout=30)

        try:
            call()
        except Exception as err:
            failures.append(f"{operation.label}: {err}")
    assert not failures, "\n\n".join(failures)


def test_sequences_of_calls_follow_the_documented_links(api_schema: Any, stack_url: str) -> None:
    """Stateful: a session that /api/session/new made (or data that /api/stash_data kept) is used by the
    calls its answer links to, so the fuzzer reaches real sessions, not only unknown ids."""
    machine = api_schema.as_state_machine()

    class Fuzz(machine):  # type: ignore[misc, valid-type]
        def before_call(self, case: Any) -> None:
            if case.operation.path == "/api/session/new":  # a real interview, so the links lead somewhere
                case.query = {**(case.query or {}), "i": "actions.yml"}

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": stack_url, "headers": {"X-API-Key": API_KEY}, "timeout": 30}

        def validate_response(self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    run_state_machine_as_test(Fuzz, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=6, deadline=None, derandomize=FIXED_SEED, database=None,
        suppress_health_check=list(HealthCheck)))
