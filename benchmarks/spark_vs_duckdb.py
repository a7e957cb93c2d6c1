"""Benchmark: `inward metrics` on DuckDB (the warehouse) and on Spark (the lake).

    uv run --extra spark python benchmarks/spark_vs_duckdb.py [--sizes 1000000,10000000]
        [--master local[*]] [--driver-memory 12g] [--keep]

For each size: synthetic tickets are written straight into a warehouse (SQL, no
ingest: this measures the engines, not the adapters) and exported with
`inward export-lake`. Then each engine runs in a process of its own, so start-up
and memory are its own: DuckDB opens the file, Spark starts a session (JVM
included) and registers the lake. Both answer the same `summary` calls (all
tickets; by team; by team × department; the last 90 days of one team), first
run (cold) and best of three (warm), and their answers are checked equal. Peak
memory is the largest resident set of the worker's whole process tree (the JVM
is a child of the Python driver), sampled every 50 ms.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard import warehouse  # noqa: E402
from dashboard.filters import Filters  # noqa: E402
from dashboard.lake import export_lake  # noqa: E402
from dashboard.metrics.response_times import group_columns, summary  # noqa: E402

# Tickets over 18 months: 8 teams, 40 departments, log-normal-ish durations with
# sub-minute precision (as real exports have), business minutes a share of them.
GENERATE = """
INSERT INTO tickets BY NAME
WITH base AS (
    SELECT i,
        TIMESTAMPTZ '2025-01-01 00:00:00+00'
            + to_seconds(CAST(random() * 86400 * 540 AS BIGINT)) AS created,
        exp(3 + random() * 4) AS fr, exp(5 + random() * 4) AS res
    FROM range({n}) t(i)
)
SELECT 'T' || i AS ticket_id, 'generic' AS source,
    'Team ' || (i % 8) AS service_team, 'u' || (i % 200000) AS requester_id,
    'Dept ' || (i % 40) AS requester_department, 'employee' AS requester_type,
    -- carried by the export: the identity step (run when a writer opens the warehouse)
    -- keeps them instead of refilling them from a people file this benchmark has not
    'export' AS requester_department_source, 'export' AS requester_type_source,
    (['low', 'normal', 'high', 'urgent'])[1 + CAST(i % 4 AS INTEGER)] AS priority,
    'solved' AS status, created AS created_at, created + to_seconds(CAST((fr + res) * 60 AS BIGINT))
        AS updated_at,
    created + to_microseconds(CAST(fr * 60e6 AS BIGINT)) AS first_response_at,
    created + to_microseconds(CAST((fr + res) * 60e6 AS BIGINT)) AS resolved_at,
    CAST(random() < 0.06 AS INTEGER) AS reopen_count,
    fr * 0.4 AS first_response_business_minutes, res * 0.3 AS resolution_business_minutes,
    1 AS ingest_id
FROM base ORDER BY created
"""
SLA = "INSERT INTO sla_targets VALUES ('*', 'normal', 480, 4320, false)"


def calls() -> dict[str, tuple[Filters, list[str]]]:
    last = date(2026, 6, 23)
    recent = Filters(date_from=last - timedelta(days=89), date_to=last, teams=("Team 3",))
    return {
        "all tickets": (Filters(), []),
        "by team": (Filters(), group_columns("team")),
        "by team × department": (Filters(), group_columns("team,department")),
        "one team, last 90 days": (recent, []),
    }


def worker(engine: str, path: str, master: str, memory: str) -> None:
    """Run in a child process: start the engine, time every call, print JSON."""
    t0 = time.perf_counter()
    if engine == "duckdb":
        con = warehouse.connect(path, read_only=True)
    else:
        from dashboard import spark

        conf = {"spark.driver.memory": memory}
        con = spark.open_lake(path, master, conf)
    startup = time.perf_counter() - t0
    print(json.dumps({"startup": startup}), flush=True)
    for name, (filters, by) in calls().items():
        t = time.perf_counter()
        frame = summary(con, filters, by)
        cold = time.perf_counter() - t
        warm = []
        for _ in range(3):
            t = time.perf_counter()
            summary(con, filters, by)
            warm.append(time.perf_counter() - t)
        print(json.dumps({name: {"cold": cold, "warm": min(warm), "rows": frame.rows()}}),
              flush=True)  # fmt: skip


def run_worker(engine: str, path: Path, args: argparse.Namespace) -> dict:
    """The worker in a subprocess; adds its peak resident memory (process tree)."""
    cmd = [sys.executable, __file__, "--worker", engine, str(path),
           "--master", args.master, "--driver-memory", args.driver_memory]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree))
            except psutil.Error:
                pass
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    try:
        stdout, stderr = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:  # report what finished; the rest is "timeout"
        for p in psutil.Process(proc.pid).children(recursive=True):
            p.kill()
        proc.kill()
        stdout, stderr = proc.communicate()
    total = time.perf_counter() - t0
    done.set()
    sampler.join()
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    if not lines:
        sys.exit(f"{engine} worker failed:\n{stderr[-3000:]}")
    calls_done = {k: v for line in lines[1:] for k, v in line.items()}
    return lines[0] | {"calls": calls_done, "peak_mb": peak / 2**20, "process_s": total}


def same(a: list, b: list) -> bool:
    """Rows equal, floats to 1e-9 relative (interpolation may round differently)."""
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b, strict=True):
        for x, y in zip(ra, rb, strict=True):
            if isinstance(x, float) and isinstance(y, float):
                if not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9):
                    return False
            elif x != y:
                return False
    return True


def build(n: int, folder: Path) -> tuple[Path, Path, float, float]:
    """Warehouse with `n` synthetic tickets and its lake; returns paths and timings."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    db, lake = folder / "inward.duckdb", folder / "lake"
    t = time.perf_counter()
    with warehouse.writer(db) as con:
        con.execute(GENERATE.format(n=n))
        con.execute(SLA)
    generate = time.perf_counter() - t
    t = time.perf_counter()
    export_lake(db, lake)
    return db, lake, generate, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--master", default="local[*]")
    ap.add_argument("--driver-memory", default="12g", help="Spark local driver heap")
    ap.add_argument("--keep", action="store_true", help="keep data/bench/spark/")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per engine and size")
    ap.add_argument("--worker", nargs=2, metavar=("ENGINE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker, args.master, args.driver_memory)
        return
    root = ROOT / "data" / "bench" / "spark"
    print(f"# Spark vs DuckDB: `inward metrics` ({os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}, Spark {args.master}, "
          f"driver heap {args.driver_memory})\n")  # fmt: skip
    for n in (int(s) for s in args.sizes.split(",")):
        db, lake, generate, export = build(n, root / str(n))
        lake_mb = sum(p.stat().st_size for p in lake.rglob("*.parquet")) / 2**20
        duck = run_worker("duckdb", db, args)
        spark = run_worker("spark", lake, args)
        print(f"## {n:,} tickets\n")
        print(f"generate {generate:.1f} s · export-lake {export:.1f} s ({lake_mb:,.0f} MB "
              f"Parquet) · warehouse {db.stat().st_size / 2**20:,.0f} MB\n")  # fmt: skip
        print("| | DuckDB | Spark | Spark ÷ DuckDB |\n|---|---|---|---|")
        rows: list[tuple[str, float, float | None]] = [
            ("start-up (s)", duck["startup"], spark["startup"])
        ]
        agree = True
        for name, d in duck["calls"].items():
            s = spark["calls"].get(name)
            agree &= s is None or same(d["rows"], s["rows"])
            rows += [(f"{name}: first (s)", d["cold"], s and s["cold"]),
                     (f"{name}: warm, best of 3 (s)", d["warm"], s and s["warm"])]  # fmt: skip
        rows += [("whole process (s)", duck["process_s"], spark["process_s"]),
                 ("peak memory, process tree (MB)", duck["peak_mb"], spark["peak_mb"])]  # fmt: skip
        for label, d, s in rows:
            if s is None:
                print(f"| {label} | {d:,.2f} | not reached in {args.timeout:.0f} s | |")
            else:
                print(f"| {label} | {d:,.2f} | {s:,.2f} | {s / d if d else math.inf:,.1f}× |")
        if not agree:
            sys.exit(f"the engines disagree at {n:,} tickets")
        print("\nanswers identical on both engines for every call that finished\n", flush=True)
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
