"""Benchmark: the Teams page's computations on a large warehouse, next to raw DuckDB.

    uv run python benchmarks/response_times.py [--tickets 10000000] [--keep]

1. Generates N tickets straight to Parquet with DuckDB (generic layout), then loads
   them with `inward ingest` (the normal path), timing both.
2. Times every metric call behind one Teams page render (unfiltered = all history,
   filtered to one department, and the default last-91-days view), next to the raw
   DuckDB time of the page's core query (weekly median + p90 resolution by team,
   written directly against `tickets`) measured in the same run.
Targets (issue): page ≤ 1.5× the raw core query unfiltered, ≤ 1 s for one department.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard import scoped  # noqa: E402
from dashboard.access import OPERATOR  # noqa: E402
from dashboard.filters import Filters  # noqa: E402
from dashboard.metrics import response_times as rt  # noqa: E402

# Tickets `start` to `stop` created over `days` days from day `day` after 2025-01-01
# (one call: all of them; scale.py writes consecutive slices as files of their own).
SPAN_DAYS = 540
GENERATE = """
COPY (
  WITH base AS (
    SELECT i,
      TIMESTAMP '2025-01-01' + to_seconds(CAST(86400 * ({day} + random() * {days}) AS BIGINT))
          AS created,
      (['IT Service Desk', 'HR Operations', 'Finance & Payroll', 'Facilities', 'Legal'])
          [1 + CAST(floor(random() * 5) AS INTEGER)] AS team,
      'D' || CAST(floor(random() * 12) AS INTEGER) AS dept,
      (['low', 'normal', 'high', 'urgent'])[1 + CAST(floor(random() * 4) AS INTEGER)] AS prio,
      exp(4 + random() * 3) AS fr_min, exp(6 + random() * 3) AS res_min
    FROM range({start}, {stop}) t(i)
  )
  SELECT 'T' || i AS ticket_id, team AS service_team, 'u' || (i % 400000) AS requester_id,
    dept AS requester_department, 'employee' AS requester_type, 'portal' AS channel,
    'cat' || (i % 20) AS category, prio AS priority, 'request' AS ticket_type,
    'closed' AS status, strftime(created, '%Y-%m-%d %H:%M:%S') AS created_at,
    strftime(created + to_seconds(CAST(fr_min * 60 AS BIGINT)), '%Y-%m-%d %H:%M:%S')
        AS first_response_at,
    strftime(created + to_seconds(CAST((fr_min + res_min) * 60 AS BIGINT)),
             '%Y-%m-%d %H:%M:%S') AS resolved_at,
    CAST(random() < 0.06 AS INTEGER) AS reopen_count
  FROM base ORDER BY created
) TO '{path}' (FORMAT parquet)
"""

# The page's core query written straight against the base table, the way a DuckDB
# expert would: UTC week buckets and durations by epoch arithmetic, no view.
RAW_CORE = """
SELECT service_team, date_trunc('week', make_timestamp(epoch_us(created_at))) AS week,
    quantile_cont((epoch_us(resolved_at) - epoch_us(created_at)) / 60e6, [0.5, 0.9])
FROM tickets GROUP BY ALL
"""
# The same question as a first-time analyst writes it: through the view, with
# date_trunc on TIMESTAMPTZ (ICU time-zone code for every row). Context only.
NAIVE_CORE = """
SELECT service_team, date_trunc('week', created_at) AS week,
    quantile_cont(resolution_minutes, [0.5, 0.9])
FROM ticket_times GROUP BY ALL
"""


def page_calls(f: Filters) -> list[tuple[str, Callable[[duckdb.DuckDBPyConnection], object]]]:
    """Every metric call the Teams page makes for one render (see app_pages/teams.py)."""
    return [
        ("period_comparison (tiles + table)", lambda c: rt.period_comparison(c, f)),
        ("period_csat", lambda c: rt.period_csat(c, f)),
        ("service_mix", lambda c: rt.service_mix(c, f)),
        ("weekly_trend", lambda c: rt.weekly_trend(c, f)),
        ("heatmap", lambda c: rt.heatmap(c, f)),
        ("durations", lambda c: rt.durations(c, f)),
        ("backlog", lambda c: rt.backlog(c, f)),
        ("backlog_age", lambda c: rt.backlog_age(c, f)),
        ("channel_mix", lambda c: rt.channel_mix(c, f)),
        ("slowest_categories", lambda c: rt.slowest_categories(c, f)),
        ("tickets_per_head", lambda c: rt.tickets_per_head(c, f)),
        ("ticket_list", lambda c: rt.ticket_list(c, f)),
    ]


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=10_000_000)
    ap.add_argument("--keep", action="store_true", help="keep data/bench/ afterwards")
    args = ap.parse_args()
    out = ROOT / "data" / "bench" / "response_times"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    parquet, db = out / "tickets.parquet", out / "inward.duckdb"

    gen = timed(
        lambda: duckdb.connect().execute(
            GENERATE.format(start=0, stop=args.tickets, day=0, days=SPAN_DAYS, path=parquet)
        )
    )
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "dashboard", "ingest", str(parquet), "--db", str(db)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    ingest = time.perf_counter() - t
    if proc.returncode:
        sys.exit(proc.stderr)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    con = duckdb.connect(str(db), read_only=True)
    scoped.install(con, OPERATOR, db)  # the CLI's view: ticket_list needs inward_id
    for q in (RAW_CORE, NAIVE_CORE):
        con.sql(q).fetchall()  # warm the OS cache once for both sides
    raw = min(timed(lambda: con.sql(RAW_CORE).fetchall()) for _ in range(3))
    naive = min(timed(lambda: con.sql(NAIVE_CORE).fetchall()) for _ in range(3))
    print(f"\n{args.tickets:,} tickets on {os.cpu_count()} cores")
    print(
        f"generate parquet {gen:.1f} s · inward ingest {ingest:.1f} s "
        f"({args.tickets / ingest:,.0f} rows/s, peak RSS {rss:,.0f} MB)\n"
    )
    print(
        f"raw DuckDB core query (weekly median+p90 resolution by team, on `tickets`): "
        f"{raw:.3f} s; the same through `ticket_times` with date_trunc on TIMESTAMPTZ: "
        f"{naive:.3f} s\n"
    )
    dept = con.sql("SELECT min(requester_department) FROM tickets").fetchall()[0][0]
    _, last = rt.date_span(con)
    scopes = {
        "unfiltered (all history)": Filters(),
        f"one department ({dept}, all history)": Filters(departments=(dept,)),
        "default view (last 91 days)": Filters(date_from=last - timedelta(days=90), date_to=last),
    }
    print("| scope | page total (s) | × raw core query | first render (s) | slowest call |")
    print("|---|---|---|---|---|")
    for label, f in scopes.items():
        # the first render reads columns from disk; the figure is the best of two more
        first = sum(timed(lambda fn=fn: fn(con)) for _, fn in page_calls(f))
        runs = [
            {name: timed(lambda fn=fn: fn(con)) for name, fn in page_calls(f)} for _ in range(2)
        ]
        times = min(runs, key=lambda r: sum(r.values()))
        total = sum(times.values())
        slow = max(times, key=times.__getitem__)
        print(
            f"| {label} | {total:.2f} | {total / raw:.1f}× | {first:.2f} | "
            f"{slow} {times[slow]:.2f} s |"
        )
    con.close()
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
