"""GET /api/openapi.json: a valid OpenAPI 3.1 document that names every /api route the app serves,
and no route it does not serve (the fuzzer in test_openapi_fuzz.py checks the answers against it)."""

from __future__ import annotations

import json
from typing import Any

from openapi_spec_validator import validate

from chalicelib.web import openapi

# The catch-alls answer an unknown endpoint with a JSON 404; they are not endpoints themselves.
_CATCH_ALLS = {"/api/{name}", "/api/{name}/{part}"}


def _served_routes() -> set[tuple[str, str]]:
    from app import app

    return {(method, path) for path, methods in app.routes.items()
            if path.startswith("/api/") and path not in _CATCH_ALLS for method in methods}


def test_every_api_route_is_documented_and_every_documented_route_is_served() -> None:
    served = _served_routes()
    documented = openapi.documented_routes()
    assert served - documented == set(), "routes the description lacks: add an Operation in web/openapi.py"
    assert documented - served == set(), "documented routes the app does not serve"


def test_the_description_is_valid_openapi_3_1_and_served_without_a_key(client: Any) -> None:
    response = client.http.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    document = json.loads(response.body)
    validate(document)  # raises on an invalid document
    assert document["openapi"].startswith("3.1")
    assert document == json.loads(json.dumps(openapi.document("../")))


def test_each_route_says_how_it_fails() -> None:
    for op in openapi.OPERATIONS:
        statuses = {reply.status for reply in op.replies}
        assert any(200 <= s < 300 for s in statuses), op.path
        if not op.public:
            assert 403 in statuses and 400 in statuses, f"{op.method} {op.path} must document 400 and 403"
        for reply in op.replies:
            if reply.status >= 400:
                assert reply.content == {"application/json": {"$ref": "#/components/schemas/Error"}}, op.path


def test_a_request_without_a_key_gets_the_documented_error(client: Any) -> None:
    response = client.http.get("/api/session/question?i=actions.yml&session=x")
    assert response.status_code == 403
    assert set(json.loads(response.body)) == {"error"}
