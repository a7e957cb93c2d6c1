"""Wall time, CPU time and peak RSS of a command's whole process tree, for the benchmarks
that time the real CLI as a subprocess (ingest.py, scale.py).

The command runs under a fresh wrapper process, so `getrusage(RUSAGE_CHILDREN)` there
covers exactly that tree: CPU is user + system of every process in it, peak RSS is
`ru_maxrss` of its largest process (the kernel's high-water mark, so no sampling gaps).
A run that fails, is killed (OOM: rc -9) or is stopped by the caller is a result too:
`run` returns it rather than raising, with the stderr written so far.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Forwards SIGTERM to the command so that a stopped run still reports its rusage; its
# output goes to files as it comes, to follow a long run with `tail -f`.
WRAP = """
import json, resource, signal, subprocess, sys
report, outputs, errors, *cmd = sys.argv[1:]
with open(outputs, "w") as out, open(errors, "w") as err:
    child = subprocess.Popen(cmd, stdout=out, stderr=err)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    child.wait()
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
json.dump({"rc": child.returncode, "cpu": ru.ru_utime + ru.ru_stime,
           "maxrss": ru.ru_maxrss * 1024}, open(report, "w"))
"""

# `tickets.parquet: typed and checked 1,000,000 rows in 3.8 s` (dashboard.progress)
PHASE = re.compile(r"^(?P<what>.+?)(?: [\d,]+ rows)? in (?P<s>\d+\.\d) s$")


@dataclass(frozen=True)
class Run:
    """One measured run; `stopped` says why the caller ended it early, if it did."""

    rc: int
    wall: float
    cpu: float
    peak_rss: int  # bytes
    stdout: str
    stderr: str
    stopped: str | None = None

    def phases(self) -> list[tuple[str, str]]:
        """(phase, seconds) for every phase line the command printed."""
        return [m.groups() for m in map(PHASE.match, self.stderr.splitlines()) if m]


def run(
    cmd: list[str], tmp: Path, stop: Callable[[], str | None] | None = None, poll: float = 5.0
) -> Run:
    """Run `cmd` in a fresh wrapper process and measure it (its output lands in `tmp`'s
    stdout.txt and stderr.txt as it runs). Every `poll` seconds `stop()` may return a
    reason to end it (disk nearly full, out of time): the command then gets SIGTERM
    and the run is returned with that reason."""
    report, outputs, errors = tmp / "rusage.json", tmp / "stdout.txt", tmp / "stderr.txt"
    report.unlink(missing_ok=True)
    start = time.perf_counter()
    files = [str(report), str(outputs), str(errors)]
    wrapper = subprocess.Popen([sys.executable, "-c", WRAP, *files, *cmd])
    stopped = None
    while True:
        try:
            wrapper.wait(timeout=poll)
            break
        except subprocess.TimeoutExpired:
            stopped = stop() if stop else None
            if stopped:
                wrapper.terminate()
                wrapper.wait()
                break
    wall = time.perf_counter() - start
    r = json.loads(report.read_text())
    stdout, stderr = (f.read_text(errors="replace") for f in (outputs, errors))
    return Run(r["rc"], wall, r["cpu"], r["maxrss"], stdout, stderr, stopped)


def measure(cmd: list[str], tmp: Path) -> Run:
    """`run`, for benchmarks where a failure ends the benchmark: exits with its stderr."""
    r = run(cmd, tmp)
    if r.rc != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.rc}): {r.stderr.strip()[-500:]}")
    return r
