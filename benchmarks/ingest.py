"""Benchmark: `inward ingest` of large CSV exports vs a raw DuckDB read.

    uv run python benchmarks/ingest.py [--rows 1000000 5000000] [--layout zendesk|generic]
        [--repeat 3] [--keep]

For each size a file is generated once with DuckDB under data/bench/ (gitignored)
and reused on later runs: `zendesk` (default) is shaped like a Zendesk "CSV export"
(the vendor's header names and value spellings, ~17 columns, ~1 % rejectable
rows); `generic` has the contract's column names and clean rows (15 columns),
the file issue 16's figures were measured on. In the same run and on the same
file we then time, best of `--repeat` runs each:

* `raw read_csv COUNT`: `SELECT count(*) FROM read_csv(...)` — the parse floor;
* `raw read_csv CTAS`: `CREATE TABLE AS SELECT * FROM read_csv(..., all_varchar)`
  into a fresh DuckDB file — what "just loading it" costs;
* `loader only`: `ingest_file` on a fresh warehouse (staging, detection,
  validation, dedupe, upsert, rejected_rows: the ingest path proper);
* `inward ingest`: `uv run inward ingest FILE --db TMP` as a subprocess (the real
  CLI: the loader, then the derived-table refresh — business minutes,
  engagement — which other modules own and which can dominate the total).

Each step runs in its own wrapper process, which reports wall time, CPU time
(user + system of the process tree) and peak RSS (`getrusage` ru_maxrss of the
largest process, so no sampling gaps). CPU time is printed because the machine
is often shared: wall time then measures the neighbours as much as the code.
Targets: ≥ 1M rows/s on 2 cores, ≤ 2x the raw CTAS, peak RSS ≤ 2 GB at 5M rows.

Last, the phase lines `inward ingest` printed in its best run (dashboard.progress):
where the time of a full ingest goes, step by step.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import proctree

BENCH = Path("data") / "bench"


def generate_generic(path: Path, rows: int) -> None:
    """Write `rows` clean tickets under the contract's column names (generic adapter)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    con = duckdb.connect()
    con.execute(f"""
    COPY (
      WITH b AS (
        SELECT i, CAST(hash(i) >> 2 AS BIGINT) AS h,
          TIMESTAMP '2024-01-01' + to_seconds(CAST(hash(i) % 63072000 AS BIGINT)) AS c
        FROM range({rows}) t(i)
      )
      SELECT 'T' || i AS ticket_id,
        ['IT Service Desk', 'HR Operations', 'Facilities', 'Finance Ops', 'Payroll',
         'Legal'][1 + h % 6] AS service_team,
        'user' || (h % 40000) || '@example.com' AS requester_email,
        ['Sales', 'Engineering', 'Finance', 'HR', 'Ops', 'Legal',
         'Marketing'][1 + (h >> 3) % 7] AS requester_department,
        ['email', 'portal', 'chat', 'phone'][1 + (h >> 6) % 4] AS channel,
        'cat' || (h >> 9) % 20 AS category,
        ['low', 'normal', 'high', 'urgent'][1 + (h >> 12) % 4] AS priority,
        ['incident', 'request', 'question'][1 + (h >> 14) % 3] AS ticket_type,
        ['solved', 'closed', 'open', 'pending'][1 + (h >> 16) % 4] AS status,
        strftime(c, '%Y-%m-%d %H:%M:%S') AS created_at,
        strftime(c + to_minutes(CAST(60 + (h >> 20) % 20000 AS BIGINT)), '%Y-%m-%d %H:%M:%S')
          AS updated_at,
        strftime(c + to_minutes(CAST(5 + (h >> 24) % 900 AS BIGINT)), '%Y-%m-%d %H:%M:%S')
          AS first_response_at,
        CASE WHEN (h >> 16) % 4 < 2 THEN strftime(c + to_minutes(CAST(30 + (h >> 28) % 10000
          AS BIGINT)), '%Y-%m-%d %H:%M:%S') END AS resolved_at,
        (h >> 32) % 3 AS reopen_count,
        'Ticket about thing ' || (h >> 34) % 100 AS subject
      FROM b ORDER BY i
    ) TO '{tmp}' (HEADER)""")
    con.close()
    tmp.rename(path)


def generate(path: Path, rows: int) -> None:
    """Write `rows` tickets with DuckDB's COPY (seconds, not minutes, for 5M).

    About 1 % of rows are deliberately bad (unreadable `Created at`, `Solved at`
    before `Created at`) and 0.5 % repeat an earlier id, so the validation,
    reject and dedupe paths do real work rather than being skipped.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    q = f"""
    COPY (
      WITH base AS (
        SELECT i,
          CAST(hash(i) >> 2 AS BIGINT) AS h,
          TIMESTAMP '2024-01-01' + to_seconds(CAST(hash(i) % 63072000 AS BIGINT)) AS created
        FROM range({rows}) t(i)
      )
      SELECT
        1 AS "Summation column",
        CASE WHEN h % 200 = 7 THEN 100000 + (i // 2) ELSE 100000 + i END AS "Id",
        'Requester ' || (h % 40000) AS "Requester",
        CAST(10300612300000 + h % 40000 AS VARCHAR) AS "Requester id",
        'user' || (h % 40000) || '@northwind.example' AS "Requester email",
        ['IT Service Desk', 'HR Operations', 'Facilities', 'Finance Ops', 'Payroll',
         'Legal', 'Procurement', 'Workplace Tech'][1 + h % 8] AS "Group",
        'Ticket about ' || ['laptop', 'VPN, token', 'payslip', 'desk "move"', 'badge'][1 + h % 5]
          AS "Subject",
        'tag' || (h % 50) AS "Tags",
        ['Solved', 'Closed', 'Open', 'Pending', 'New', 'Hold'][1 + (h >> 8) % 6] AS "Status",
        ['Low', 'Normal', 'High', 'Urgent', ''][1 + (h >> 12) % 5] AS "Priority",
        ['Mail', 'Web form', 'Chat', 'Phone call (incoming)',
         'Web service (API)'][1 + (h >> 16) % 5] AS "Via",
        ['Incident', 'Question', 'Problem', 'Task', ''][1 + (h >> 20) % 5] AS "Ticket type",
        CASE WHEN h % 100 = 3 THEN 'not a date'
             ELSE strftime(created, '%Y-%m-%d %H:%M:%S') END AS "Created at",
        strftime(created + to_minutes(CAST(60 + (h >> 24) % 20000 AS BIGINT)), '%Y-%m-%d %H:%M:%S')
          AS "Updated at",
        CASE WHEN (h >> 8) % 6 IN (0, 1) THEN
          strftime(created + to_minutes(CAST(
              CASE WHEN h % 100 = 5 THEN -30 ELSE 30 + (h >> 28) % 10000 END AS BIGINT)),
            '%Y-%m-%d %H:%M:%S') END AS "Solved at",
        CAST((h >> 32) % 3 AS VARCHAR) AS "Reopens",
        CASE WHEN h % 10 = 0 THEN NULL ELSE CAST(1 + (h >> 36) % 900 AS VARCHAR) END
          AS "First reply time in minutes"
      FROM base ORDER BY i
    ) TO '{tmp}' (HEADER, DELIMITER ',')
    """
    con.execute(q)
    con.close()
    tmp.rename(path)


LOADER = """
import json, sys
from pathlib import Path
from dashboard import warehouse
from dashboard.ingest.load import ingest_file
with warehouse.writer(sys.argv[2]) as con:
    r = ingest_file(con, Path(sys.argv[1]))
print(json.dumps([r.as_json()]))
"""

RAW = """
import sys, duckdb
path, db, mode = sys.argv[1:4]
con = duckdb.connect(db)
if mode == "count":
    print(con.sql("SELECT count(*) FROM read_csv(?)", params=[path]).fetchall()[0][0])
else:
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, all_varchar = true)", [path])
    print(con.sql("SELECT count(*) FROM t").fetchall()[0][0])
"""


def bench(rows: int, tmp: Path, layout: str = "zendesk", repeat: int = 1) -> list[dict]:
    path = BENCH / f"{layout}_{rows}.csv"
    if not path.exists():
        t0 = time.perf_counter()
        (generate_generic if layout == "generic" else generate)(path, rows)
        print(
            f"generated {path} ({path.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
        )
    out = []
    for label, cmd in (
        ("raw read_csv COUNT", [sys.executable, "-c", RAW, str(path), ":memory:", "count"]),
        (
            "raw read_csv CTAS",
            [sys.executable, "-c", RAW, str(path), str(tmp / "raw.duckdb"), "ctas"],
        ),
        ("loader only", [sys.executable, "-c", LOADER, str(path), str(tmp / "loader.duckdb")]),
        (
            "inward ingest",
            [
                "uv",
                "run",
                "--quiet",
                "inward",
                "ingest",
                str(path),
                "--db",
                str(tmp / "inward.duckdb"),
                "--json",
            ],
        ),
    ):
        runs = []
        for _ in range(repeat):
            for f in tmp.glob("*.duckdb*"):
                f.unlink()
            runs.append(proctree.measure(cmd, tmp))
        best = min(runs, key=lambda r: r.wall)
        wall, cpu, peak, stdout = best.wall, best.cpu, best.peak_rss, best.stdout
        detail = ""
        if label in ("inward ingest", "loader only"):
            # the JSON list, whatever else a module printed before it
            start = re.search(r"\[\s*\{", stdout)
            if start is None:
                raise SystemExit(f"{label}: no JSON result in its output: {stdout[:300]!r}")
            [res] = json.JSONDecoder().raw_decode(stdout[start.start() :])[0]
            detail = (
                f"{res['status']}: {res['rows_loaded']:,} loaded, {res['rows_rejected']:,} rejected"
            )
        out.append(
            {
                "rows": rows,
                "step": label,
                "seconds": wall,
                "cpu_s": cpu,
                "rows_per_s": rows / wall,
                "peak_rss_mb": peak / 2**20,
                "detail": detail,
                "phases": best.phases(),
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 5_000_000])
    ap.add_argument("--layout", choices=("zendesk", "generic"), default="zendesk")
    ap.add_argument("--repeat", type=int, default=1, help="runs per step; the best is kept")
    ap.add_argument("--keep", action="store_true", help="keep the warehouse files")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="inward-bench-"))
    results = []
    try:
        for n in args.rows:
            results.extend(bench(n, tmp, args.layout, args.repeat))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    load = os.getloadavg()[0]
    print(
        f"cores: {os.cpu_count()}, load average at the end: {load:.1f}, duckdb {duckdb.__version__}"
        f", {args.layout} CSV, best of {args.repeat}"
    )
    print(
        f"{'rows':>10} {'step':<20} {'wall s':>7} {'CPU s':>7} {'rows/s':>11} "
        f"{'peak RSS MB':>11}  detail"
    )
    by_rows: dict[int, dict[str, dict]] = {}
    for r in results:
        by_rows.setdefault(r["rows"], {})[r["step"]] = r
        print(
            f"{r['rows']:>10,} {r['step']:<20} {r['seconds']:>7.2f} {r['cpu_s']:>7.2f} "
            f"{r['rows_per_s']:>11,.0f} {r['peak_rss_mb']:>11,.0f}  {r['detail']}"
        )
    for n, steps in by_rows.items():
        raw = steps["raw read_csv CTAS"]
        for label in ("loader only", "inward ingest"):
            ing = steps[label]
            print(
                f"{n:>10,} {label} / raw CTAS: wall {ing['seconds'] / raw['seconds']:.2f}x, "
                f"CPU {ing['cpu_s'] / raw['cpu_s']:.2f}x"
            )
        phases = steps["inward ingest"]["phases"]
        if phases:
            print(f"{n:>10,} inward ingest phases (its best run; seconds, share of the total):")
            total = steps["inward ingest"]["seconds"]
            for what, secs in phases:
                step = what.split(": ", 1)[-1]  # without the file name
                print(f"{'':>12}{float(secs):>7.1f} {float(secs) / total:>5.0%}  {step}")


if __name__ == "__main__":
    main()
