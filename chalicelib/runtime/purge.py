"""The inactivity purge: `cron_daily` deletes the sessions nobody has changed for a while.

A session is deleted, with everything it owns, when it was last modified more
than INTERVIEW_DELETE_DAYS whole days ago (0 keeps every session). An interview
may set its own period in its metadata (`interview delete days: 30`; 0 keeps its
sessions). Scheduled runs do not count as modifications (runtime.cron), as in
docassemble, so a session that only cron touches still ages out.

The store lists the idle sessions from an index ordered by last modification
(`SessionStore.idle_sessions`), so a purge reads the sessions it deletes and
not the others; each deletion is conditional on the session still being idle,
so a session answered while the purge runs is kept.
"""

from __future__ import annotations

import logging
import time

from chalicelib.language.errors import InterviewError
from chalicelib.runtime.services import Services

log = logging.getLogger(__name__)

DAY_SECONDS = 86_400
METADATA_DAYS = "interview delete days"


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
                value = loader.load(name).metadata.get(METADATA_DAYS)
            except InterviewError:
                continue  # it cannot run, so it is not asked; its sessions get the default period
            if value is None:
                continue
            try:
                periods[name] = int(value)
            except (TypeError, ValueError):
                log.warning("purge: %s: metadata %r must be a whole number of days; found %r, using the default",
                            name, METADATA_DAYS, value)
        return periods
