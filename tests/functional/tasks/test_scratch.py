from __future__ import annotations
from typing import Any
import pytest

CASES = {
  "background_action_with_response_action.yml": {"value_to_add": 5},
  "background-error-action.yml": {"value_to_add": 5},
  "background-error-action-demo.yml": {"b": 1, "c": 0},
  "background_action_object.yml": {"value_to_add": 5},
  "background_action_test_timing.yml": {"value_to_add": 5},
  "background_action_flash.yml": {"value_to_add": 5},
  "background_response_action_flash.yml": {"value_to_add": 5},
  "background_action_refresh.yml": {"value_to_add": 5},
  "background_action_javascript.yml": {"value_to_add": 5},
  "background_action_fields.yml": {"value_to_add": 5},
}

@pytest.mark.parametrize("name", list(CASES))
def test_scratch(api: Any, fresh_aws: Any, name: str, monkeypatch: Any) -> None:
    from app import app
    from chalicelib.local.drainer import QueueDrainer
    from chalicelib.web import context
    import dataclasses
    svc = context.services()
    context.use_services(dataclasses.replace(svc, settings=dataclasses.replace(svc.settings, task_retry_seconds=0)))
    drainer = QueueDrainer(app, sqs=fresh_aws["sqs"])
    s = api.new_session(name)
    ids = {"i": name, "session": s["session"], "secret": s["secret"]}
    q = "&".join(f"{k}={v}" for k, v in ids.items())
    r = api.post("/api/session", {**ids, "variables": CASES[name]})
    print("\n###", name, r.status, r.json.get("questionType"), r.json.get("questionText"))
    for _ in range(6):
        drainer.drain()
        r = api.get("/api/session/question?" + q)
        if r.status != 200 or r.json.get("questionType") != "wait":
            break
    print(api.get("/api/session/tasks?" + q).json)
    print("checkin", api.post("/api/session/checkin", {**ids}).json)
    print(r.status, r.json.get("questionText"), r.json.get("subquestionText"))
