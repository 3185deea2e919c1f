"""Rate limits of readers' reports: per client and per site.

Built on the ``limits`` library, as Flask-Limiter (which guards the sign-in forms) is,
but without Flask-Limiter's per-request bookkeeping, and spent only after the site key
and Origin are known to be good (``api.gate.admit_report``): a flood of reports over the
limit is refused for less than a bare Flask 404 (bench/refusals.py), and a flood with
made-up keys leaves nothing behind in the counters.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from feedback.errors import RateLimited

_PURGE_SECONDS = 5.0


class _InlineExpiryMemory(MemoryStorage):
    """``limits``' memory storage, but expired counters are dropped inline every few
    seconds: the original starts a timer thread after each burst, which under a flood is
    a new thread for nearly every request."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._next_purge = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the timer thread
        now = time.time()
        if now >= self._next_purge:
            self._next_purge = now + _PURGE_SECONDS
            self._MemoryStorage__expire_events()


class ReportLimits:
    """The app's two report limits (RATELIMIT_PER_CLIENT, RATELIMIT_PER_SITE) and their
    counters: this process's memory, or the shared store RATELIMIT_STORAGE_URL names."""

    def __init__(self, app: Flask):
        uri = app.config["RATELIMIT_STORAGE_URL"]
        storage = _InlineExpiryMemory() if uri.startswith("memory://") else None
        self.limiter = FixedWindowRateLimiter(storage or storage_from_string(uri))
        self.per_client = parse_many(app.config["RATELIMIT_PER_CLIENT"])
        self.per_site = parse_many(app.config["RATELIMIT_PER_SITE"])
        # Instances that share a store but not their counts (tests, several services).
        self.prefix = app.config.get("RATELIMIT_KEY_PREFIX") or ""

    def _spend(self, items: list[RateLimitItem], scope: str, key: str) -> None:
        for item in items:
            if not self.limiter.hit(item, scope, key):
                reset = self.limiter.get_window_stats(item, scope, key).reset_time
                raise RateLimited(max(1, math.ceil(reset - time.time())))

    def spend(self, client_key: str, site_key: str) -> None:
        """Count one report of this client for this site; RateLimited when either is over
        its limit (the client's first, so one client's flood spends none of the site's)."""
        self._spend(self.per_client, f"{self.prefix}report-client", client_key)
        self._spend(self.per_site, f"{self.prefix}report-site", site_key)


def init_report_limits(app: Flask) -> None:
    app.extensions["feedback_report_limits"] = ReportLimits(app)


def report_limits() -> ReportLimits:
    return current_app.extensions["feedback_report_limits"]
