"""Load test of the local stack (part of `make bench`): N simulated users at once, each walking
actions.yml in the browser's way (GET, fill the form, POST; a new cookie jar per walk), over loopback
against `python -m chalicelib.local` in its own process. Bounded: each user makes LOAD_REQUESTS
requests. For N in LOAD_USERS it gives requests per second, the median and 95th percentile latency,
and the number of failed requests (any status but 200, or no answer)."""

from __future__ import annotations

import http.cookiejar
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

LOAD_USERS = tuple(int(n) for n in os.environ.get("BENCH_LOAD_USERS", "1,2,4,8,16,32").split(","))
LOAD_REQUESTS = int(os.environ.get("BENCH_LOAD_REQUESTS", "30"))
READY_SECONDS = 90.0
INTERVIEW = "actions.yml"


@dataclass(frozen=True)
class Load:
    users: int
    requests: int
    failed: int
    per_second: float
    p50_ms: float
    p95_ms: float


@contextmanager
def local_stack(root: Path, env: dict[str, str]) -> Iterator[str]:
    """`python -m chalicelib.local` in a subprocess until `ready`; its web address."""
    process = subprocess.Popen([sys.executable, "-m", "chalicelib.local"], cwd=root, env={**os.environ, **env},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    try:
        deadline = time.monotonic() + READY_SECONDS
        seen: list[str] = []
        for line in process.stdout:
            seen.append(line)
            if line.strip() == "ready":
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the local stack was not ready in time:\n" + "".join(seen[-20:]))
        else:
            raise RuntimeError("the local stack exited before ready:\n" + "".join(seen[-20:]))
        threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()  # type: ignore[union-attr]
        yield f"http://127.0.0.1:{env['PORT']}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def _user(base: str, requests: int, filled: Callable[[str], dict[str, str] | None],
          latencies: list[float], failures: list[int]) -> None:
    url = f"{base}/interview?i={INTERVIEW}"
    done = 0
    while done < requests:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                             urllib.request.ProxyHandler({}))
        form: dict[str, str] | None = None
        while done < requests:
            data = urlencode(form).encode() if form is not None else None
            start = time.perf_counter()
            try:
                with opener.open(url, data=data, timeout=60) as reply:
                    page = reply.read().decode()
                    ok = reply.status == 200
            except Exception:  # a refused or failed request is counted, not raised
                page, ok = "", False
            latencies.append(time.perf_counter() - start)
            done += 1
            if not ok:
                failures.append(1)
                break
            form = filled(page)
            if form is None:  # the end screen: start a new walk
                break


def load_bench(base: str, filled: Callable[[str], dict[str, str] | None]) -> list[Load]:
    results = []
    _user(base, 5, filled, [], [])  # warm up
    for users in LOAD_USERS:
        latencies: list[float] = []
        failures: list[int] = []
        threads = [threading.Thread(target=_user, args=(base, LOAD_REQUESTS, filled, latencies, failures))
                   for _ in range(users)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
        ordered = sorted(latencies)
        results.append(Load(users, len(ordered), len(failures), len(ordered) / elapsed,
                            statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000))
    return results
