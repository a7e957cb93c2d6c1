"""Phase lines for long ingests: what is being done, on how many rows, how long it took.

An ingest of millions of rows runs for a minute or more; without a word the user
cannot tell a slow step from a hung one, nor which step to blame. Each step of
a file's load (read, type and check, write, commit) and of the derived refresh
(identities, business hours, history, engagement) reports when it ends. Short
work stays quiet: nothing is said until the work has run `QUIET_SECONDS`, and
then the phases held back so far come out first, so a long file's report is
complete and a small file's is empty.
"""

from __future__ import annotations

import time
from collections.abc import Callable

QUIET_SECONDS = 2.0

Say = Callable[[str], None]


class Phases:
    """Times the phases of one piece of work (a file, the refresh) and reports them.

    `say` gets one line per phase (`tickets.csv: typed and checked 2,000,000 rows in
    4.1 s`); None makes it a silent stopwatch. `clock` is injectable for tests."""

    def __init__(
        self,
        say: Say | None,
        label: str,
        quiet_seconds: float | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.say, self.label, self.clock = say, label, clock
        self.quiet = QUIET_SECONDS if quiet_seconds is None else quiet_seconds
        self.start = self.last = clock()
        self.held: list[str] = []
        self.loud = False
        self.timings: list[tuple[str, float]] = []  # (phase, seconds), also when quiet

    def done(self, what: str, rows: int | None = None) -> None:
        """Phase `what` just ended; `rows`: how many rows it worked on, when known."""
        now = self.clock()
        seconds, self.last = now - self.last, now
        self.timings.append((what, seconds))
        count = "" if rows is None else f" {rows:,} rows"
        self.held.append(f"{self.label}: {what}{count} in {seconds:.1f} s")
        if self.say is None:
            self.held.clear()
            return
        self.loud = self.loud or now - self.start >= self.quiet
        if self.loud:
            for line in self.held:
                self.say(line)
            self.held.clear()
