"""Scheduled passes (docassemble's cron): `cron_hourly`, `cron_daily`, ... in every session that asked.

A pass has two halves, so its cost grows with the sessions that asked for it, not
with all sessions, and no session's run can hold up another's:

1. `Cron.scheduled_pass(event)` (an EventBridge schedule, the local stack's clock,
   or `POST /api/cron`; `cron_daily` first runs the inactivity purge, `cron_hourly`
   the sweeps of pending e-mails and SMS, runtime.messaging, and of pending changes
   to other sessions, runtime.effects) lists the
   cron-enabled sessions from the store's sparse index (`allow_cron` set, not
   encrypted: `SessionStore.cron_targets`), keeps those whose interview defines
   the event, and sends one queue message per session, in batches of ten. An
   interview that is gone or does not parse is logged and skipped; the pass goes on.
2. The worker hands each message to `Cron.run`: the event runs as an action in
   that session, as the cron user, in a turn of its own (`Sessions.scheduled`:
   conditional write, retried on conflict, tasks sent after the commit). The
   message carries the pass's id, recorded by the commit, so a redelivered message
   runs nothing. Endings as docassemble: `command('exit')` (or `restart`,
   `exit_logout`) deletes the session and everything it owns; `command('leave')`
   and the other commands keep it unchanged; `response('text')` ends the run and
   its text is logged; `response(null=True)` ends it without saving;
   `background_response_action(...)` runs the callback at once. An error in the
   interview's code is logged with the session id; the pass goes on.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chalicelib.engine.errors import EngineError, InterviewCodeError
from chalicelib.engine.request import Interface, Request, UserInfo
from chalicelib.engine.screen import OutcomeKind
from chalicelib.engine.signals import Command
from chalicelib.language.errors import InterviewError
from chalicelib.runtime.errors import ConflictError, CronEventError
from chalicelib.runtime.purge import Purge
from chalicelib.runtime.sessions import SessionRef, Sessions
from chalicelib.storage.errors import SessionNotFoundError, StorageError, WrongSecretError

log = logging.getLogger(__name__)

# The cron user: docassemble's built-in account, the only holder of the `cron` privilege.
# No account can be given the privilege (storage.accounts refuses it).
CRON_PRIVILEGE = "cron"
CRON_USER = UserInfo(id="cron", email="cron@admin.com", first_name="Cron", last_name="User",
                     privileges=(CRON_PRIVILEGE,), logged_in=True)
SCHEDULED_EVENTS = ("cron_hourly", "cron_daily", "cron_weekly", "cron_monthly")
PURGE_EVENT = "cron_daily"  # the pass that also deletes idle sessions
SEND_SWEEP_EVENT = "cron_hourly"  # the pass that also sends/applies what a dead process left pending
_EVENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
_BATCH = 10  # SQS SendMessageBatch takes at most ten
_ENDS_SESSION = (Command.EXIT, Command.RESTART, Command.EXIT_LOGOUT)


def check_event(event: Any) -> str:
    if not isinstance(event, str) or not _EVENT.fullmatch(event):
        raise CronEventError(f"a scheduled pass needs an event name such as 'cron_daily' (letters, digits and _, "
                             f"at most 100, not starting with a digit); got {str(event)[:100]!r}")
    return event


def is_cron_message(message: Mapping[str, Any]) -> bool:
    return "cron" in message


class Cron:
    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.queue = sessions.tasks.queue
        self.services = sessions.services

    # ------------------------------------------------------------------ the pass
    def scheduled_pass(self, event: str) -> int:
        """What a schedule (or POST /api/cron) runs: for `cron_daily`, the inactivity purge first
        (runtime.purge), for `cron_hourly` the send sweep (runtime.messaging) and the effect sweep
        (runtime.effects); then the pass. How
        many session runs were queued."""
        event = check_event(event)
        if event == PURGE_EVENT:
            Purge(self.services).run()
        if event == SEND_SWEEP_EVENT:
            try:
                self.sessions.messages.sweep()
            except StorageError:  # the next hour's sweep finds them again; the pass goes on
                log.exception("the send sweep stopped early")
            try:
                self.sessions.effects.sweep()
            except StorageError:  # the next hour's sweep finds them again; the pass goes on
                log.exception("the sweep of changes to other sessions stopped early")
        return self.queue_pass(event)

    def queue_pass(self, event: str) -> int:
        """One message per cron-enabled session whose interview defines `event`; how many were sent."""
        event = check_event(event)
        run_id = uuid.uuid4().hex
        defines: dict[str, bool] = {}
        batch: list[dict[str, str]] = []
        sent = 0
        for target in self.services.store.cron_targets():
            if target.interview not in defines:
                defines[target.interview] = self._defines(target.interview, event)
            if not defines[target.interview]:
                continue
            batch.append({"cron": event, "run": run_id, "i": target.interview, "session": target.session_id})
            if len(batch) == _BATCH:
                self.queue.send(batch)
                sent, batch = sent + len(batch), []
        if batch:
            self.queue.send(batch)
            sent += len(batch)
        log.info("scheduled pass %s (%s): %d session(s) queued", event, run_id, sent)
        return sent

    def _defines(self, interview: str, event: str) -> bool:
        try:
            definers = self.services.loader.load(interview).definers
        except InterviewError as err:
            log.warning("scheduled pass: skipping the sessions of %s: %s", interview, err)
            return False
        return event in definers

    # ------------------------------------------------------------------ one session
    def run(self, message: Mapping[str, Any]) -> None:
        """One session's run of a pass (a queue message from `queue_pass`). Never raises for the
        interview's own faults: they are logged, and the message is done with."""
        try:
            event = check_event(message["cron"])
            ref = SessionRef(str(message["i"]), str(message["session"]), None)
            run_id = str(message["run"])
        except (KeyError, TypeError, CronEventError):
            log.error("dropped a scheduled-pass message that is not ours: %.200s", message)
            return
        request = Request(ref.interview, ref.session_id, action=event, persistent_action=False, user=CRON_USER,
                          interface=Interface.CRON)
        try:
            self._run(ref, request, run_id)
        except SessionNotFoundError:
            log.info("scheduled %s: session %s of %s is gone", event, ref.session_id, ref.interview)
        except WrongSecretError:
            log.info("scheduled %s: session %s of %s is encrypted now; not run", event, ref.session_id,
                     ref.interview)
        except InterviewError as err:
            log.warning("scheduled %s: session %s skipped: %s", event, ref.session_id, err)
        except (InterviewCodeError, EngineError):
            log.exception("scheduled %s in session %s of %s failed", event, ref.session_id, ref.interview)
        except (ConflictError, StorageError):
            raise  # not the interview's fault: the message is tried again
        except Exception:
            log.exception("scheduled %s in session %s of %s failed", event, ref.session_id, ref.interview)

    def _run(self, ref: SessionRef, request: Request, run_id: str) -> None:
        outcome = self.sessions.scheduled(ref, request, run_id).outcome
        if outcome is None:
            return
        if outcome.kind is OutcomeKind.COMMAND and outcome.command in _ENDS_SESSION:
            self.sessions.delete(ref, verify=False)
            log.info("scheduled %s: session %s of %s ended with %s and was deleted", request.action,
                     ref.session_id, ref.interview, outcome.command)
        elif outcome.kind is OutcomeKind.RESPONSE and outcome.body:
            log.info("scheduled %s in session %s: %s", request.action, ref.session_id,
                     outcome.body.decode("utf-8", "replace")[:1000])
        elif outcome.kind is OutcomeKind.CALLBACK and outcome.action:
            callback = replace(request, action=outcome.action, arguments=dict(outcome.arguments))
            self.sessions.scheduled(ref, callback, f"{run_id}:callback")

