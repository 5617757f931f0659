from __future__ import annotations
from typing import Any

def test_scratch(api: Any, fresh_aws: Any) -> None:
    from app import app
    from chalicelib.local.drainer import QueueDrainer
    drainer = QueueDrainer(app, sqs=fresh_aws["sqs"])
    s = api.new_session("background_action.yml")
    ids = {"i": "background_action.yml", "session": s["session"], "secret": s["secret"]}
    q = "&".join(f"{k}={v}" for k, v in ids.items())
    print(api.get("/api/session/question?" + q).json["questionText"])
    r = api.post("/api/session", {**ids, "variables": {"value_to_add": 5}})
    print(r.status, r.json.get("questionText"))
    print(api.get("/api/session/tasks?" + q).json)
    print("drained", drainer.drain())
    print(api.get("/api/session/tasks?" + q).json)
    print(api.get("/api/session/question?" + q).json.get("questionText"))
