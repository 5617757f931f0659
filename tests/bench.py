"""Benchmarks (`make bench`): figures to read, never assertions.

For each core example of ../shared/examples it prints the median time per
screen of
  (a) the engine and renderer alone (evaluate + render one screen, answers in memory), and
  (b) a whole REST API turn on moto (HTTP routing, DynamoDB load, decrypt, evaluate,
      encrypt, conditional commit),
then the cold-import time and resident memory of `app.py`.
"""

from __future__ import annotations

import copy
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT.parent / "shared" / "examples"

# Each core example: the steps of one path through it.
# ("view",) | ("action", name, arguments) | ("set", {variables})
Step = tuple[Any, ...]
PATHS: dict[str, list[Step]] = {
    "actions.yml": [("view",), ("action", "color", {}), ("set", {"color": "red"}), ("set", {"info_is_verified": True})],
    "actions-parameters.yml": [("view",), ("action", "add", {"color": "blue"}), ("set", {"info_is_verified": True})],
    "reload.yml": [("view",), ("view",), ("set", {"acknowledged": True})],
    "response.yml": [("view",)],
    "message.yml": [("view",)],
    "command.yml": [("view",)],
    "exit.yml": [("view",), ("set", {"target_url": "http://stanford.edu/"})],
    "leave.yml": [("view",), ("set", {"target_url": "http://stanford.edu/"})],
    "persistent-task.yml": [("view",), ("set", {"favorite_fruit": "apple"})],
}
REPEAT = int(os.environ.get("BENCH_REPEAT", "200"))
API_REPEAT = int(os.environ.get("BENCH_API_REPEAT", "30"))


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


class _Kv:
    def get(self, scope: str, key: str) -> Any:
        return None


def engine_bench() -> dict[str, float]:
    """(a) evaluate + render one screen, per screen of each path; median over screens."""
    from chalicelib.engine import assign
    from chalicelib.engine.evaluator import Evaluation, Request
    from chalicelib.language.loader import InterviewLoader
    from chalicelib.library import namespace

    loader = InterviewLoader([EXAMPLES])
    results: dict[str, float] = {}
    for name, steps in PATHS.items():
        interview = loader.load(name)
        answers: dict[str, Any] = {}
        per_screen: list[float] = []
        for step in steps:
            action, arguments = (step[1], step[2]) if step[0] == "action" else (None, {})
            if step[0] == "set":
                for variable, value in step[1].items():
                    assign.assign(answers, variable, value)
            request = Request(name, "B" * 32, action=action, arguments=arguments, persistent_action=False,
                              kv=_Kv())
            samples = []
            for _ in range(REPEAT):
                trial = copy.deepcopy(answers)
                start = time.perf_counter()
                Evaluation(interview, trial, request, namespace.build).run()
                samples.append(time.perf_counter() - start)
            per_screen.append(statistics.median(samples))
            ev = Evaluation(interview, answers, request, namespace.build)
            ev.run()
            answers = ev.answers()
        results[name] = statistics.median(per_screen) * 1000
    return results


def api_bench() -> dict[str, float]:
    """(b) whole API turns on in-process moto; median per request over each path."""
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                       "AWS_DEFAULT_REGION": "us-east-1", "INTERVIEW_PATH": str(EXAMPLES)})
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from moto.moto_api._internal.models import moto_api_backend

        from app import app
        from chalicelib.local.resources import create_resources
        from chalicelib.runtime.services import Services
        from chalicelib.settings import Settings
        from chalicelib.web import context

        key = "BenchKey0123456789abcdefghijklmn"
        results: dict[str, float] = {}
        for name, steps in PATHS.items():
            # A fresh table per example: moto copies the whole table on every transaction,
            # so a growing table would slow later examples for reasons that are moto's alone.
            moto_api_backend.reset()
            create_resources()
            services = Services.from_settings(Settings.from_env())
            services.accounts.create_user("bench@localhost", "bench-password", privileges=("admin",))
            services.accounts.add_api_key("bench@localhost", key)
            context.use_services(services)
            with Client(app) as client:
                results[name] = _api_path(client, key, name, steps)
        return results


def _api_path(client: Any, key: str, name: str, steps: list[Step]) -> float:
    headers = {"X-API-Key": key, "Content-Type": "application/json"}
    samples: list[float] = []

    def timed(call: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        response = call()
        samples.append(time.perf_counter() - start)
        assert response.status_code < 400, response.body
        return response

    for _ in range(API_REPEAT):
        new = client.http.get(f"/api/session/new?i={name}", headers=headers).json_body
        ids = {"i": name, "session": new["session"], "secret": new["secret"]}
        query = "&".join(f"{k}={v}" for k, v in ids.items())
        for step in steps:
            if step[0] == "view":
                timed(lambda query=query: client.http.get(f"/api/session/question?{query}", headers=headers))
            elif step[0] == "action":
                body = json.dumps({**ids, "action": step[1], "arguments": step[2]})
                timed(lambda body=body: client.http.post("/api/session/action", headers=headers, body=body))
            else:
                body = json.dumps({**ids, "variables": step[1]})
                timed(lambda body=body: client.http.post("/api/session", headers=headers, body=body))
    return _median_ms(samples)


def import_bench(runs: int = 5) -> tuple[float, float]:
    """Cold import of app.py in a fresh interpreter: median ms, and resident memory (MB) after it."""
    code = ("import time, resource; t = time.perf_counter(); import app; d = time.perf_counter() - t; "
            "rss = [l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1]; "
            "print(d, int(rss) / 1024)")
    times, memory = [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        seconds, megabytes = out.stdout.split()
        times.append(float(seconds))
        memory.append(float(megabytes))
    return _median_ms(times), statistics.median(memory)


def main() -> None:
    if not EXAMPLES.is_dir():
        sys.exit(f"bench: the core examples are not at {EXAMPLES} (../shared/examples)")
    print(f"bench: {REPEAT} engine runs and {API_REPEAT} API paths per example (2-core machine; noisy)")
    engine = engine_bench()
    api = api_bench()
    print(f"{'example':28} {'(a) engine+render ms':>22} {'(b) API turn ms':>18}")
    for name in PATHS:
        print(f"{name:28} {engine[name]:22.3f} {api[name]:18.2f}")
    print(f"{'median of examples':28} {statistics.median(engine.values()):22.3f} "
          f"{statistics.median(api.values()):18.2f}")
    cold, rss = import_bench()
    print(f"cold import of app.py: {cold:.0f} ms; resident memory after import: {rss:.1f} MB")
    print("targets: (a) <= 0.5 ms, (b) <= 15 ms, cold import <= 400 ms, memory <= 100 MB")


if __name__ == "__main__":
    main()
