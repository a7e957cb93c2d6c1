"""Benchmark: Inward at 100M tickets on one machine — time, warehouse size, peak RSS,
and what breaks first (issue 16, part 3).

    uv run python benchmarks/scale.py --tickets 100000000 [--chunk 10000000]
        [--until 18:50] [--min-free-gb 15] [--keep]

1. generate: N generic tickets as Parquet with response_times.py's generator, `--chunk`
   tickets a file, each file a consecutive slice of its 540 days (like monthly
   exports), so generation memory is bounded by one chunk. Files go to
   data/bench/scale_N/ (gitignored) and are reused by the next run of the same N.
2. ingest: `inward ingest FOLDER` (the real CLI: one transaction a file, then one
   derived refresh) in a fresh warehouse, measured as a process tree
   (benchmarks/proctree.py): wall, CPU (user + system), peak RSS of its largest
   process, and the CLI's phase lines summed over the files.
3. warehouse: the size of the .duckdb file (and its .wal) on disk.
4. raw: the cheapest queries any page could make, straight DuckDB on `tickets` in a
   process of their own: a full-scan aggregate (count and mean resolution by team) and
   the Teams page's core query (response_times.RAW_CORE: weekly median + p90 by team),
   each cold (first run after the ingest) and warm (second run).
5. pages: benchmarks/page_render.py --db WAREHOUSE --runs 1: every page's first render
   in a fresh browser session (cold: caches missed; cached; rerun), the exception a
   page showed if any, beside a bare Streamlit page (the floor) and a hand-written
   straight-DuckDB Overview measured the same way, and the peak RSS of that run's
   largest process (the app server or the browser).

Target (issue 16): every page ≤ 5 s cold at 100M tickets on this 24 GB, 2-core
machine. A failure is a result: a step that exits non-zero, is killed (rc -9 is the
OOM killer), would leave less than `--min-free-gb` of disk, or runs past `--until`
(UTC, HH:MM) is stopped and reported with the last lines it printed, and the steps
that need its output are skipped. The summary's last line names what broke first.
Reading the output: wall time on a shared machine measures the neighbours too, CPU
time does not; a page's cold figure against the raw queries says how much of it is
the data and how much the app. Everything is also written as JSON to
benchmarks/out/scale_N.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import proctree
from page_render import PAGES
from response_times import GENERATE, RAW_CORE, ROOT, SPAN_DAYS

DISK = "/"
SCAN = """SELECT service_team, count(*), avg(epoch(resolved_at) - epoch(created_at))
FROM tickets GROUP BY ALL"""
# Run in a process of its own, so its time and memory are the query's alone.
RAW = """
import json, sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
out = {}
for name, sql in json.loads(sys.argv[2]).items():
    for run in ("cold", "warm"):
        t = time.perf_counter()
        con.sql(sql).fetchall()
        out[f"{name} ({run})"] = time.perf_counter() - t
print(json.dumps(out))
"""


def free_gb() -> float:
    return shutil.disk_usage(DISK).free / 1e9


class Guard:
    """Why to stop now, if anything: disk below the floor or past the deadline. Also
    keeps the lowest free disk seen, which gives the run's peak disk use."""

    def __init__(self, min_free_gb: float, until: datetime | None) -> None:
        self.min_free_gb, self.until = min_free_gb, until
        self.start_free = self.lowest_free = free_gb()

    def __call__(self) -> str | None:
        free = free_gb()
        self.lowest_free = min(self.lowest_free, free)
        if free < self.min_free_gb:
            return f"disk: {free:.1f} GB free, below the {self.min_free_gb:.0f} GB floor"
        if self.until and datetime.now(UTC) >= self.until:
            return f"out of time: past {self.until:%H:%M} UTC"
        return None


def generate(folder: Path, tickets: int, chunk: int, guard: Guard) -> dict:
    """The Parquet files of `tickets` tickets, `chunk` a file (reused when complete)."""
    folder.mkdir(parents=True, exist_ok=True)
    bounds = [(lo, min(lo + chunk, tickets)) for lo in range(0, tickets, chunk)]
    t0, made = time.perf_counter(), 0
    for k, (lo, hi) in enumerate(bounds):
        path = folder / f"tickets_{k:03d}.parquet"
        if path.exists():
            continue
        if reason := guard():
            return {"files": k, "seconds": time.perf_counter() - t0, "stopped": reason}
        part = path.with_suffix(".part")
        day, days = SPAN_DAYS * lo / tickets, SPAN_DAYS * (hi - lo) / tickets
        con = duckdb.connect()
        con.execute(GENERATE.format(start=lo, stop=hi, day=day, days=days, path=part))
        con.close()
        part.rename(path)
        made += 1
        print(f"generated {path.name} ({hi:,} of {tickets:,} tickets)", file=sys.stderr)
    files = sorted(folder.glob("*.parquet"))
    return {
        "files": len(files),
        "generated": made,
        "seconds": time.perf_counter() - t0,
        "parquet_gb": sum(f.stat().st_size for f in files) / 1e9,
        # this process did nothing heavier than DuckDB's COPY
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measured(step: str, cmd: list[str], tmp: Path, guard: Guard) -> tuple[dict, proctree.Run]:
    """Run one step's command; its figures, and 'broke' when it did not finish cleanly."""
    print(f"{step} … (output in {tmp}/)", file=sys.stderr, flush=True)
    load = os.getloadavg()[0]
    r = proctree.run(cmd, tmp, stop=guard)
    out = {"wall_s": r.wall, "cpu_s": r.cpu, "peak_rss_mb": r.peak_rss / 2**20, "rc": r.rc}
    # wall ≫ CPU / cores means the machine was busy with others: the load says how busy
    out["load"] = (load, os.getloadavg()[0])
    if r.stopped or r.rc != 0:
        lines = [line for line in r.stderr.splitlines() if line.strip()]
        # a refused file says why on stdout (the CLI goes on with the next file, then
        # exits 1)
        refused = [line for line in r.stdout.splitlines() if "refused:" in line]
        last = refused[:3] or lines[-5:]
        why = r.stopped or ("killed (rc -9: the OOM killer?)" if r.rc == -9 else f"rc {r.rc}")
        out["broke"] = f"{step}: {why}; it said: " + " / ".join(last)
    return out, r


def summed_phases(run: proctree.Run) -> dict[str, float]:
    """Seconds by phase over all files (`tickets_003.parquet: written` → `written`)."""
    total: dict[str, float] = {}
    for what, secs in run.phases():
        name = what.split(": ", 1)[-1]
        total[name] = total.get(name, 0.0) + float(secs)
    return total


def pages_table(stdout: str) -> dict[str, dict]:
    """page_render.py's markdown rows → {page: {cold, cached, rerun, error}}."""
    rows = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        try:
            cold, cached, rerun, error = *map(float, cells[1:4]), cells[4]
        except (ValueError, IndexError):  # the header, its rule, or not a row at all
            continue
        rows[cells[0]] = {"cold": cold, "cached": cached, "rerun": rerun, "error": error}
    return rows


def bench(args: argparse.Namespace, guard: Guard) -> dict:
    folder = ROOT / "data" / "bench" / f"scale_{args.tickets}"
    db = (
        folder.with_name(f"{folder.name}_warehouse") / "inward.duckdb"
    )  # not in the folder ingested
    shutil.rmtree(db.parent, ignore_errors=True)
    db.parent.mkdir(parents=True)
    tmp = db.parent
    res: dict = {"tickets": args.tickets, "chunk": args.chunk, "cores": os.cpu_count()}
    res["generate"] = gen = generate(folder, args.tickets, args.chunk, guard)
    if "stopped" in gen:
        res["broke"] = f"generate: {gen['stopped']}"
        return res

    cmd = [sys.executable, "-m", "dashboard", "ingest", str(folder), "--db", str(db)]
    res["ingest"], run = measured("ingest", cmd, tmp, guard)
    res["ingest"]["phases"] = summed_phases(run)
    res["warehouse_gb"] = sum(f.stat().st_size for f in db.parent.glob("inward.duckdb*")) / 1e9
    if "broke" in res["ingest"]:
        res["broke"] = res["ingest"]["broke"]
        return res

    queries = json.dumps({"scan floor": SCAN, "Teams core": RAW_CORE})
    res["raw"], run = measured("raw", [sys.executable, "-c", RAW, str(db), queries], tmp, guard)
    if "broke" in res["raw"]:
        res["broke"] = res["raw"]["broke"]
        return res
    res["raw"]["seconds"] = json.loads(run.stdout)

    render = [sys.executable, str(ROOT / "benchmarks" / "page_render.py"), "--db", str(db)]
    res["pages"], run = measured("pages", [*render, "--runs", "1"], tmp, guard)
    res["pages"]["by_page"] = pages_table(run.stdout)
    res["pages"]["table"] = "\n".join(r for r in run.stdout.splitlines() if r.startswith("|"))
    # Inward's pages only: not the floor nor the hand-written page measured beside them
    pages = {p: r for p, r in res["pages"]["by_page"].items() if p in PAGES}
    slow = {p: r for p, r in pages.items() if r["cold"] > args.target}
    failed = {p: r["error"] for p, r in pages.items() if r["error"]}
    if "broke" in res["pages"]:
        res["broke"] = res["pages"]["broke"]
    elif failed:
        res["broke"] = "pages: " + "; ".join(f"{p}: {e}" for p, e in failed.items())
    elif slow:
        worst = max(slow, key=lambda p: slow[p]["cold"])
        res["broke"] = (
            f"pages over {args.target:.0f} s cold: {', '.join(slow)} "
            f"(slowest {worst}, {slow[worst]['cold']:.1f} s)"
        )
    if not args.keep:
        shutil.rmtree(db.parent, ignore_errors=True)
    return res


def report(res: dict, guard: Guard) -> None:
    g = res["generate"]
    print(f"\n# {res['tickets']:,} tickets, {res['cores']} cores, duckdb {duckdb.__version__}\n")
    print(
        f"generate: {g.get('files', 0)} Parquet files ({g.get('generated', 0)} new) in "
        f"{g['seconds']:.0f} s, {g.get('parquet_gb', 0):.2f} GB, "
        f"peak RSS {g.get('peak_rss_mb', 0):,.0f} MB"
    )
    if "ingest" in res:
        i = res["ingest"]
        print(
            f"ingest: {i['wall_s']:.0f} s wall, {i['cpu_s']:.0f} s CPU, "
            f"{res['tickets'] / i['wall_s']:,.0f} rows/s, peak RSS {i['peak_rss_mb']:,.0f} MB, "
            f"load {i['load'][0]:.1f} → {i['load'][1]:.1f}; "
            f"warehouse {res['warehouse_gb']:.2f} GB"
        )
        for what, secs in sorted(i["phases"].items(), key=lambda p: -p[1]):
            print(f"  {secs:>8.1f} s  {what}")
    if "seconds" in res.get("raw", {}):
        raw = res["raw"]["seconds"]
        print("raw DuckDB: " + ", ".join(f"{q} {s:.2f} s" for q, s in raw.items()))
    if "pages" in res:
        p = res["pages"]
        print(
            f"pages: {p['wall_s']:.0f} s, peak RSS of the run's largest process "
            f"{p['peak_rss_mb']:,.0f} MB, load {p['load'][0]:.1f} → {p['load'][1]:.1f}"
        )
        print(p["table"])
    used = guard.start_free - guard.lowest_free
    print(f"\npeak extra disk in use {used:.1f} GB (lowest free {guard.lowest_free:.1f} GB)")
    print(f"what broke first: {res.get('broke', 'nothing')}")


def deadline(text: str | None) -> datetime | None:
    """'18:50' → today at 18:50 UTC."""
    if text is None:
        return None
    hour, minute = map(int, text.split(":"))
    return datetime.now(UTC).replace(hour=hour, minute=minute, second=0, microsecond=0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=100_000_000)
    ap.add_argument("--chunk", type=int, default=10_000_000, help="tickets per Parquet file")
    ap.add_argument("--until", help="stop whatever runs at this UTC time (HH:MM)")
    ap.add_argument("--min-free-gb", type=float, default=15.0, help="stop below this free disk")
    ap.add_argument("--target", type=float, default=5.0, help="cold seconds a page may take")
    ap.add_argument("--keep", action="store_true", help="keep the warehouse afterwards")
    args = ap.parse_args()
    guard = Guard(args.min_free_gb, deadline(args.until))
    res = bench(args, guard)
    res["lowest_free_gb"] = guard.lowest_free
    report(res, guard)
    out = ROOT / "benchmarks" / "out" / f"scale_{args.tickets}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
