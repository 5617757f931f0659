"""`python -m chalicelib.local` (what `make run` runs): the local stack in the foreground.

Once every component is up it prints one line per address, the admin account
and the API key, then ``ready`` (stdout, flushed). It runs until SIGINT or
SIGTERM, then stops every component and exits 0 within 5 s. A stack that cannot
start (a port in use, a bad setting) prints one ``error:`` line on stderr and
exits 1 with nothing left running. Logs go to stderr; SIGUSR1 dumps the stack
of every thread there (for a stack that seems stuck).
"""

from __future__ import annotations

import faulthandler
import logging
import os
import signal
import sys
import threading
import time
from types import FrameType

from chalicelib.local.stack import STOP_SECONDS, LocalStack, StackError
from chalicelib.settings import SettingsError

log = logging.getLogger("chalicelib.local")

EXIT_OK = 0
EXIT_FAILED = 1


def configure_logging() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("chalicelib").setLevel(logging.INFO)


class StopRequest:
    """Set by SIGINT/SIGTERM. The handler only stores plain values: it may interrupt the
    main thread anywhere, even inside a lock, so it must take no lock (no Event, no logging)."""

    def __init__(self) -> None:
        self.signal_name: str | None = None

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signal_name is None:
            self.signal_name = signal.Signals(signum).name

    def install(self) -> None:
        signal.signal(signal.SIGINT, self.handle)
        signal.signal(signal.SIGTERM, self.handle)
        faulthandler.register(signal.SIGUSR1, all_threads=True)

    def wait(self) -> None:
        while self.signal_name is None:
            time.sleep(0.1)


def start_watchdog() -> None:
    """Exit anyway (status 1) should stopping ever take longer than STOP_SECONDS."""

    def give_up() -> None:
        print(f"error: the local stack did not stop within {STOP_SECONDS:g} s; exiting", file=sys.stderr, flush=True)
        os._exit(EXIT_FAILED)

    timer = threading.Timer(STOP_SECONDS - 0.5, give_up)
    timer.daemon = True
    timer.start()


def announce(stack: LocalStack) -> None:
    for line in stack.describe():
        print(line)
    print("ready", flush=True)


def main() -> int:
    configure_logging()
    stop = StopRequest()
    stop.install()
    try:
        stack = LocalStack().start()
    except (StackError, SettingsError) as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        return EXIT_FAILED
    try:
        if stop.signal_name is None:
            announce(stack)
        stop.wait()
        log.info("%s received, stopping", stop.signal_name)
    finally:
        start_watchdog()
        stack.stop()
    log.info("stopped")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
