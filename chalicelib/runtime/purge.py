"""The inactivity purge: `cron_daily` deletes the sessions nobody has changed for a while.

A session is deleted, with everything it owns, when it was last modified more
than INTERVIEW_DELETE_DAYS whole days ago (0 keeps every session). An interview
may set its own period in its metadata (`interview delete days: 30`; 0 keeps its
sessions). Scheduled runs do not count as modifications (runtime.cron), as in
docassemble, so a session that only cron touches still ages out.

Behind the purge, the head and steps of a session carry the table's TTL attribute:
GRACE_DAYS after the purge would have deleted them, renewed with every save
(`expiry`). Other items of a session (persistent extras, task records, which
have their own) are deleted with it by the purge.

The store lists the idle sessions from an index ordered by last modification
(`SessionStore.idle_sessions`), so a purge reads the sessions it deletes and
not the others; each deletion is conditional on the session still being idle,
so a session answered while the purge runs is kept.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from chalicelib.language.blocks import Interview
from chalicelib.language.errors import InterviewError
from chalicelib.runtime.services import Services
from chalicelib.settings import Settings

log = logging.getLogger(__name__)

DAY_SECONDS = 86_400
METADATA_DAYS = "interview delete days"
# The safety net: the head and steps carry a DynamoDB TTL this many days after the purge would have
# deleted them, renewed on every save, so a session is gone even if the purge stops running.
GRACE_DAYS = 7


def own_period(interview: str, metadata: Mapping[str, Any]) -> int | None:
    """The interview's own `interview delete days`, or None (it uses INTERVIEW_DELETE_DAYS)."""
    value = metadata.get(METADATA_DAYS)
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        log.warning("%s: metadata %r must be a whole number of days; found %r, using the default",
                    interview, METADATA_DAYS, value)
        return None


def expiry(settings: Settings, interview: Interview, modified: float) -> float:
    """When the table's TTL may delete a session of `interview` last modified at `modified` (0: never).
    Takes the interview the turn has already loaded: a save reads no file for it."""
    own = own_period(interview.name, interview.metadata)
    days = settings.interview_delete_days if own is None else own
    return modified + (days + GRACE_DAYS) * DAY_SECONDS if days > 0 else 0.0


class Purge:
    def __init__(self, services: Services) -> None:
        self.services = services

    def run(self, now: float | None = None) -> int:
        """Delete every session idle for longer than its period; how many were deleted."""
        now = time.time() if now is None else now
        default = self.services.settings.interview_delete_days
        own = self._periods()
        periods = [days for days in (default, *own.values()) if days > 0]
        if not periods:
            return 0
        deleted = 0
        for idle in self.services.store.idle_sessions(now - min(periods) * DAY_SECONDS):
            days = own.get(idle.interview, default)
            if days <= 0 or idle.modified >= now - days * DAY_SECONDS:
                continue  # its interview keeps it, or keeps it longer
            if self.services.store.delete_idle(idle.interview, idle.session_id, now - days * DAY_SECONDS):
                deleted += 1
        log.info("purge: %d session(s) idle for longer than their period deleted", deleted)
        return deleted

    def _periods(self) -> dict[str, int]:
        """The interviews whose metadata sets their own period (`interview delete days`)."""
        periods: dict[str, int] = {}
        loader = self.services.loader
        for name in loader.names():
            try:
                own = own_period(name, loader.load(name).metadata)
            except InterviewError:
                continue  # it cannot run, so it is not asked; its sessions get the default period
            if own is not None:
                periods[name] = own
        return periods
