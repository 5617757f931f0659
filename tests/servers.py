"""Real servers the tests start: PostgreSQL (SQLObject) and Redis (DARedis with REDIS_URL).

Each runs from a temporary directory on a free port and is stopped when the fixture ends.
Readiness is waited for by connecting, with a generous timeout. When the server is not
installed (`make test` installs both with apt-get when it can), the test is skipped with the
reason printed, except under CI (the CI variable set), where that is a failure.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

READY_SECONDS = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unavailable(reason: str) -> None:
    """Skip (printing why), or fail under CI, where every server must be there."""
    message = f"{reason}; `make test` installs it (apt-get, as root)"
    if os.environ.get("CI"):
        pytest.fail(f"under CI nothing may be skipped: {message}")
    print(f"skipped: {message}")
    pytest.skip(message)


def wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode} before it was ready")
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} was not ready after {READY_SECONDS:.0f} s")


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=60)


def _as_postgres_user() -> list[str]:
    """postgres refuses to run as root: then run it as the `postgres` user."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        unavailable("PostgreSQL must not run as root, and runuser is missing")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        unavailable("PostgreSQL must not run as root, and there is no postgres user")
    return [str(runuser), "-u", "postgres", "--"]


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A fresh PostgreSQL cluster; yields its SQLAlchemy URL (psycopg 3)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        unavailable("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; Debian package postgresql)")
    bin_dir = Path(found[-1]).parent
    prefix = _as_postgres_user()
    home = Path(tempfile.mkdtemp(prefix="pg-test-"))
    try:
        if prefix:
            shutil.chown(home, "postgres", "postgres")
        data = home / "data"
        subprocess.run([*prefix, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                        "--no-sync"], check=True, capture_output=True, timeout=300)
        port = free_port()
        process = subprocess.Popen(
            [*prefix, str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(home),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
            wait_until(lambda: _postgres_answers(port), process, "PostgreSQL")
            yield url
        finally:
            # runuser does not pass signals on: pg_ctl stops the server itself ("fast": no waiting on clients)
            subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "stop", "-D", str(data), "-m", "fast", "-w",
                            "-t", "120"], capture_output=True, timeout=300)
            stop(process, signal.SIGINT)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _postgres_answers(port: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=5):
            return True
    except psycopg.OperationalError:
        return False


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """A fresh Redis server keeping nothing on disk; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not installed (Debian package redis-server)")
    home = tempfile.mkdtemp(prefix="redis-test-")
    port = free_port()
    process = subprocess.Popen([str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", home],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"redis://127.0.0.1:{port}/0"
        wait_until(lambda: _redis_answers(url), process, "redis-server")
        yield url
    finally:
        stop(process)
        shutil.rmtree(home, ignore_errors=True)


def _redis_answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=5).ping())
    except redis.ConnectionError:
        return False
