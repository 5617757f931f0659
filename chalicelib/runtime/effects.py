"""Changes to other sessions, exactly once: recorded with the calling turn's commit, applied after it.

1. `OtherSessions` (runtime.push_pull) plans each change a turn's code asks for. The
   turn's commit writes one effect item per change (storage.effects, ``pending``),
   keyed by the turn's id and the change's place in the turn, only if the key is new;
   what the change needs is sealed under the server's `effects` sub-key.
2. After the commit each effect is applied, in order, as a turn on the other session
   through `Sessions` (start, set_variables, run_action), whose commit carries the
   effect's *mark*, only if it is new: an effect applied twice (a crash between the
   apply and its record, a sweep that raced the first apply) changes nothing the
   second time. Creating a session is its own mark: its id is derived from the
   effect's key, and a create fails if the id is taken.
3. The effect then records ``applied``, or ``failed`` with why, and its sealed payload
   (values, the target's key) is dropped. A fault that may pass (storage, a target that
   kept changing) is retried (runtime.retry's SEND_BACKOFF, EFFECT_ATTEMPTS tries);
   one that will not (a wrong secret, a missing session, an error in the target's
   interview) fails at once. A failure is logged, and the caller sees it in
   `GET /api/session/effects`.
4. Nothing is lost silently. The committing process holds a pending effect for
   PENDING_GRACE_SECONDS (its `due` time). If it died before the effect was recorded,
   the sweep (`sweep`, run with the hourly scheduled pass, and `records`, which
   `GET /api/session/effects` reads) finds it -- the hourly one through the sparse
   ``by_effect`` index, never a scan -- takes it with a conditional update (one taker
   wins, and holds it for SWEEP_HOLD_SECONDS; the original process can then no longer
   record it) and applies it through the same path, up to a day after it was
   committed (SWEEP_MAX_AGE_SECONDS; older ones are recorded failed).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

from chalicelib.engine.errors import EngineError, InterviewCodeError
from chalicelib.engine.request import Interface, Request, UserInfo
from chalicelib.runtime.errors import ConflictError, RuntimeLayerError
from chalicelib.runtime.push_pull import PlannedEffect, SessionUseCases
from chalicelib.runtime.refs import SessionRef, VariableChanges
from chalicelib.runtime.retry import SEND_BACKOFF
from chalicelib.runtime.variables import from_sent
from chalicelib.storage.effects import EffectKind, EffectRecord, EffectRef, EffectStatus
from chalicelib.storage.errors import (
    AlreadyAppliedError,
    SessionExistsError,
    SessionNotFoundError,
    StorageError,
    TamperedDataError,
    WrongSecretError,
)

log = logging.getLogger(__name__)

EFFECT_ATTEMPTS = 3
PENDING_GRACE_SECONDS = 60.0  # an effect pending longer than this was left by a process that died
# How long a sweep that took an effect holds it: longer than any Lambda run (15 minutes), so a
# sweeper still applying is never overtaken; a sweeper that died lets the next sweep take it.
SWEEP_HOLD_SECONDS = 900.0
# A pending effect older than this is not applied any more, but recorded failed: a target's marks
# live at least 7 days (its head's expiry), so an effect is never applied after its mark is gone.
SWEEP_MAX_AGE_SECONDS = 86400.0
MAX_DEPTH = 4  # effects applied from within an effect's turn (A changes B, whose action changes C, ...)
_DAY_SECONDS = 86400
_FOR_GOOD = (WrongSecretError, SessionNotFoundError, TamperedDataError, EngineError, RuntimeLayerError)


def _reason(err: Exception) -> str:
    """Why an effect failed, as stored with it: the error's kind and where, never the values an
    interview's exception may carry (those go to the log only)."""
    if isinstance(err, InterviewCodeError):
        log.warning("the code of the target failed: %s", err)
        return f"{type(err.error).__name__} in {err.where} (the message is in the server's log)"
    if isinstance(err, EngineError):
        log.warning("the target's interview failed: %s", err)
        return f"{type(err).__name__} in the target's interview (the message is in the server's log)"
    if isinstance(err, (StorageError, RuntimeLayerError)):
        return f"{type(err).__name__}: {err}"  # our own messages: ids and names, no values
    return f"{type(err).__name__} (the message is in the server's log)"


def _order(record: EffectRecord) -> tuple[float, str, int]:
    """Where an effect comes among its caller's: by commit, then by its place in the turn."""
    turn, _, index = record.key.rpartition("-")
    return record.created, turn, int(index) if index.isdigit() else 0


class _Depth(threading.local):
    value = 0


class EffectService:
    def __init__(self, sessions: SessionUseCases) -> None:
        self.sessions = sessions
        self._depth = _Depth()

    # ------------------------------------------------------------------ with the calling turn
    def prepare(self, session_id: str, planned: Sequence[PlannedEffect], user: UserInfo) -> list[EffectRecord]:
        """The effect records of a turn's planned changes, to write with its commit."""
        now = time.time()
        expires = now + self.sessions.services.settings.task_record_days * _DAY_SECONDS
        sealer = self.sessions.services.sealer
        return [EffectRecord(session_id, p.key, p.kind.value, p.interview, p.session_id, EffectStatus.PENDING, now,
                             payload=sealer.seal_effect({**p.data, "user": dataclasses.asdict(user)}, session_id,
                                                        p.key),
                             expires_at=expires, due=now + PENDING_GRACE_SECONDS)
                for p in planned]

    def apply(self, records: Sequence[EffectRecord]) -> list[EffectRecord]:
        """Apply the committed effects, in order, each once; the records as they end."""
        if self._depth.value >= MAX_DEPTH:
            for record in records:
                log.warning("effect %s of session %s left pending: changes nested %d deep (a loop between "
                            "sessions?); the hourly pass applies it", record.key, record.session_id,
                            MAX_DEPTH)
            return list(records)
        self._depth.value += 1
        try:
            failed: set[str] = set()  # sessions whose creation failed: their later changes fail too
            done = []
            for record in records:
                if record.target_session in failed:
                    done.append(self._record(record, EffectStatus.FAILED, "the session was not created"))
                    continue
                ended = self._apply_one(record)
                if ended.status == EffectStatus.FAILED and record.kind == EffectKind.CREATE:
                    failed.add(record.target_session)
                done.append(ended)
            return done
        finally:
            self._depth.value -= 1

    def records(self, session_id: str) -> list[EffectRecord]:
        """The session's effects, after applying again those left pending too long (the sweep)."""
        effects = self.sessions.services.store.list_effects(session_id)
        now = time.time()
        stale = [EffectRef(e.session_id, e.key) for e in effects
                 if e.status == EffectStatus.PENDING and (e.due or e.created + PENDING_GRACE_SECONDS) < now]
        if not stale:
            return effects
        self._take_and_apply(stale, now)
        return self.sessions.services.store.list_effects(session_id)

    def sweep(self, now: float | None = None) -> int:
        """Apply the pending effects whose process died before it recorded them (those past their
        `due` time, from the sparse index), each once; how many were taken. Run with the hourly pass."""
        now = time.time() if now is None else now
        taken = self._take_and_apply(list(self.sessions.services.store.due_effects(now)), now)
        log.info("effect sweep: %d pending change(s) to other sessions taken", taken)
        return taken

    def _take_and_apply(self, refs: Iterable[EffectRef], now: float) -> int:
        """Take each effect (one taker wins), record failed those over a day old, and apply the rest,
        each caller's in the order they were committed; how many were taken."""
        store = self.sessions.services.store
        claimed: list[EffectRecord] = []
        taken = 0
        for ref in refs:
            try:
                record = store.claim_effect(ref, now, now + SWEEP_HOLD_SECONDS)
            except StorageError:
                log.exception("effect sweep: could not take effect %s of session %s", ref.key, ref.session_id)
                continue
            if record is None:
                continue  # applied, failed or taken by someone else meanwhile
            taken += 1
            log.warning("effect sweep: effect %s (%s) of session %s to session %s was still pending (sweep "
                        "attempt %d); applying it", record.key, record.kind, record.session_id,
                        record.target_session, record.attempts)
            if record.created < now - SWEEP_MAX_AGE_SECONDS:
                log.error("effect %s of session %s was left pending for over a day; it is not applied now",
                          record.key, record.session_id)
                self._record(record, EffectStatus.FAILED, "left pending for over a day (the server stopped); not "
                                                          "applied")
                continue
            claimed.append(record)
        by_caller: dict[str, list[EffectRecord]] = {}
        for record in sorted(claimed, key=_order):
            by_caller.setdefault(record.session_id, []).append(record)
        for records in by_caller.values():
            self.apply(records)
        return taken

    # ------------------------------------------------------------------ one effect
    def _apply_one(self, record: EffectRecord) -> EffectRecord:
        reason = ""
        for attempt in range(EFFECT_ATTEMPTS):
            try:
                self._run(record)
                return self._record(record, EffectStatus.APPLIED)
            except AlreadyAppliedError:
                return self._record(record, EffectStatus.APPLIED)
            except Exception as err:
                if not isinstance(err, (StorageError, ConflictError)) or (
                        isinstance(err, _FOR_GOOD) and not isinstance(err, ConflictError)):
                    if not isinstance(err, _FOR_GOOD):
                        log.exception("effect %s of session %s raised", record.key, record.session_id)
                    reason = _reason(err)
                    break
                reason = f"{err} (after {attempt + 1} of {EFFECT_ATTEMPTS} tries)"
                if attempt + 1 < EFFECT_ATTEMPTS:
                    log.warning("applying effect %s of session %s to %s failed (try %d of %d), retrying: %s",
                                record.key, record.session_id, record.target_session, attempt + 1, EFFECT_ATTEMPTS,
                                err)
                    self.sessions.clock.sleep(SEND_BACKOFF.pause(attempt, self.sessions.jitter))
        log.error("could not apply effect %s (%s) of session %s to session %s: %s", record.key, record.kind,
                  record.session_id, record.target_session, reason)
        return self._record(record, EffectStatus.FAILED, reason)

    def _run(self, record: EffectRecord) -> None:
        data = self.sessions.services.sealer.open_effect(record.payload, record.session_id, record.key)
        if not isinstance(data, dict):
            raise TamperedDataError(f"effect {record.key!r} holds no change")
        user = UserInfo(**{**data["user"], "privileges": tuple(data["user"]["privileges"])})
        key: bytes | None = data["key"]
        ref = SessionRef(record.target_interview, record.target_session, key=key)
        request = Request(record.target_interview, record.target_session, user=user, interface=Interface.API)
        if record.kind == EffectKind.CREATE:
            try:
                self.sessions.start(record.target_interview, key=key, session_id=record.target_session,
                                    url_args=data["url_args"], user=user, interface=Interface.API)
            except SessionExistsError:
                pass  # this effect made it before: the id is the effect's own
        elif record.kind == EffectKind.SET:
            values: dict[str, Any] = data["values"]
            if data["process_objects"]:
                values = {name: from_sent(value) for name, value in values.items()}
            changes = VariableChanges(values=values, delete=data["delete"], question_name=data["question_name"],
                                      raw=True)
            self.sessions.set_variables(ref, request, changes, new_step=not data["overwrite"], evaluate=False,
                                        mark=record.mark)
        else:
            request = dataclasses.replace(request, action=data["action"], arguments=data["arguments"],
                                          persistent_action=data["persistent"])
            self.sessions.run_action(ref, request, new_step=not data["overwrite"], mark=record.mark)

    def _record(self, record: EffectRecord, status: EffectStatus, reason: str = "") -> EffectRecord:
        done = dataclasses.replace(record, status=status, payload=b"", finished=time.time(), reason=reason[:500])
        try:
            if not self.sessions.services.store.update_effect(done):
                log.info("effect %s of session %s was no longer pending when it was recorded", record.key,
                         record.session_id)
        except StorageError:
            log.exception("effect %s of session %s was %s, but that could not be recorded", record.key,
                          record.session_id, status)
        return done
