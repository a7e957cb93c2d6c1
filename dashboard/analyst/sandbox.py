"""Running analyst SQL with limits that hold: each query runs in a worker process.

Why a process, not just a locked DuckDB connection (measured on DuckDB 2.0.1):

- `interrupt()` is only checked between chunks of work. `SELECT repeat('x', 1e9)`
  is one function call: 23 s alone, ~100 s with three at once, against a 2 s limit.
- `memory_limit` bounds DuckDB's buffer manager, not the heap of a value built
  inside a function: that query reached 2 GB RSS under a 100 MB limit.
- With external access off DuckDB still lets a database read its own files, so
  `read_blob('<warehouse path>')` returned the warehouse file itself.

A worker can be killed at the deadline and its address space capped
(`RLIMIT_AS`). Inside it DuckDB runs with `memory_limit`, without a temp
directory (`max_temp_directory_size` 0: nothing spills to disk, a query that
needs more memory fails saying so) and with its local file system disabled once
the warehouse is open, which refuses every file function, the warehouse's own
files included. Results stream out in Arrow batches and stop at the row cap or
the byte cap, whichever comes first.

Workers serve one query at a time and are reused, so their start (~0.5 s) is
paid once, not per query; at most `max_concurrent` run at once and the others
wait *within* their own time limit, so the limit is what a user waits even under
load. The worker imports only duckdb, pyarrow, this module and `dashboard.sql`
(which imports nothing). Requests go to it
as pickles (the parent trusts its own requests); results come back as a JSON
header plus Arrow IPC, never as pickles.

Why one file of ~680 lines: the worker runs this module alone (`python -m`), so its
loop, the parent's pool and the framing they speak must import nothing else of
Inward; split, the two halves of one protocol would have to be kept in step.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import pickle
import re
import select
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from dashboard.config import QuerySettings
from dashboard.sql import quote_ident

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

GRACE_SECONDS = 1.0  # the worker's own interrupt gets this long before it is killed
START_SECONDS = 60.0  # a worker that is not ready by then (machine overloaded) is an error
BATCH_ROWS = 2048


class QueryError(RuntimeError):
    """A query that could not be run (or was refused); the message is one readable line."""


class QueryUsageError(QueryError):
    """The caller asked for something wrong (unknown query or parameter, bad value, bad
    format): the CLI maps it to exit code 2 (bad usage) instead of 1."""


# ---------------------------------------------------------------------------
# Statement checks (shared by file parsing and the worker)
# ---------------------------------------------------------------------------

_parsers = threading.local()


def _parser_connection() -> duckdb.DuckDBPyConnection:
    """An in-memory connection for parsing only, one per thread.

    Module-level `duckdb.extract_statements` shares one default connection,
    which is not thread-safe under Streamlit; opening one per parse costs
    ~20 ms, so each thread keeps its own.
    """
    con = getattr(_parsers, "con", None)
    if con is None:
        con = _parsers.con = duckdb.connect(":memory:")
    return con


def one_line(exc: BaseException) -> str:
    """DuckDB errors span lines (caret, candidates); keep the first plus its LINE n."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    m = re.search(r"^LINE (\d+):", text, flags=re.MULTILINE)
    return f"{first} (line {m.group(1)})" if m and "line" not in first.lower() else first


def require_warehouse(path: Path) -> None:
    """Refuse a missing warehouse before DuckDB would create an empty one in its place."""
    if not path.is_file():
        raise QueryError(
            f"the warehouse {path} does not exist; run `inward demo` or `inward ingest` first"
        )


def open_conflict(path: Path, exc: duckdb.ConnectionException) -> QueryError:
    """DuckDB refuses a second connection with another configuration in one process."""
    return QueryError(
        f"cannot open {path} read-only in this process (a connection with a "
        f"different configuration is open): {one_line(exc)}"
    )


def single_select(sql: str, what: str, con: duckdb.DuckDBPyConnection | None = None) -> Any:
    """DuckDB's parser must see exactly one SELECT (WITH … SELECT, FROM-first count too)."""
    con = con or _parser_connection()
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(f"{what}: {one_line(exc)}") from exc
    if not statements:
        raise QueryError(f"{what}: there is no SQL statement")
    if len(statements) > 1:
        nxt = re.compile(r"\S").search(sql, len(statements[0].query))
        line = sql.count("\n", 0, nxt.start() if nxt else len(sql)) + 1
        raise QueryError(
            f"{what}: only one statement is allowed, found {len(statements)} "
            f"(the second starts at line {line})"
        )
    stmt = statements[0]
    if stmt.type != duckdb.StatementType.SELECT:
        kind = str(stmt.type).rsplit(".", 1)[-1]
        raise QueryError(
            f"{what}: only a read-only SELECT (or WITH … SELECT) is allowed, not {kind}"
        )
    return stmt


def _without_terminator(sql: str) -> str:
    """Drop a final `;` (and comments after it), found with DuckDB's own tokenizer.

    The relation API wraps the statement (for the row cap), and a `;` followed by
    a comment inside that wrapper is a syntax error.
    """
    tokens = [t for t in duckdb.tokenize(sql) if t[1] != duckdb.token_type.comment]
    if tokens and sql[tokens[-1][0]] == ";":
        return sql[: tokens[-1][0]]
    return sql


# ---------------------------------------------------------------------------
# The sandboxed connection (runs in the worker)
# ---------------------------------------------------------------------------


def sandbox_config(settings: QuerySettings) -> dict[str, str]:
    """DuckDB settings fixed at connect time: no external access, bounded memory, no spill."""
    return {
        "enable_external_access": "false",
        "memory_limit": f"{settings.memory_limit_mb}MB",
        "temp_directory": "",
        "max_temp_directory_size": "0B",
    }


@contextmanager
def open_sandbox(
    db_path: Path | str, settings: QuerySettings | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh read-only connection: external access off, memory capped, no spill files,
    local file system disabled, configuration locked.

    Meant for the worker process, whose DuckDB instance is its own: the file-system
    and lock settings are instance-wide, and DuckDB refuses a connection with a
    different configuration to a file already open in the same process.
    """
    from dashboard.warehouse import WarehouseBusy, connect

    st = settings or QuerySettings()
    path = Path(db_path)
    require_warehouse(path)
    try:
        con = connect(path, read_only=True, wait_seconds=5.0, config=sandbox_config(st))
    except WarehouseBusy as exc:
        raise QueryError(str(exc)) from exc
    except duckdb.ConnectionException as exc:
        raise open_conflict(path, exc) from exc
    except duckdb.Error as exc:
        raise QueryError(f"cannot open the warehouse {path}: {one_line(exc)}") from exc
    try:
        _lock_down(con)
        yield con
    finally:
        con.close()


def _lock_down(con: duckdb.DuckDBPyConnection) -> None:
    """Disable file access and lock the (instance-wide) configuration, once per instance.

    The session time zone is deliberately left alone: queries that extract hours
    or truncate dates use `timezone('UTC', ts)` explicitly.
    """

    def locked() -> bool:
        return bool(con.sql("SELECT current_setting('lock_configuration')").fetchall()[0][0])

    if locked():
        return
    try:
        con.execute("SET enable_progress_bar = false")  # keeps stderr clean
        # The warehouse is open already: from here on no file can be opened at all.
        con.execute("SET disabled_filesystems = 'LocalFileSystem'")
        con.execute("SET lock_configuration = true")
    except duckdb.Error as exc:  # a concurrent sandbox won the race: fine if it is locked
        if not locked():
            raise QueryError(f"could not lock the sandbox configuration: {one_line(exc)}") from exc


def _rows_within(batch: pa.RecordBatch, budget: int) -> int:
    """The most leading rows of `batch` whose Arrow buffers fit in `budget` bytes."""
    lo, hi = 0, batch.num_rows
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if batch.slice(0, mid).nbytes <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def fetch_arrow(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Mapping[str, Any],
    settings: QuerySettings,
) -> tuple[pa.Table, str | None]:
    """The result as an Arrow table, cut at the row cap or the byte cap, and which cut it.

    Batches are read one at a time so a huge result stops at the cap instead of
    being built whole first.
    """
    import pyarrow as pa

    rel = con.sql(_without_terminator(sql), params=dict(params))
    if rel is None:  # not a SELECT after all; the statement check should have refused it
        raise QueryError("the statement returned no rows")
    # Polars cannot import DuckDB INTERVAL; show it as DuckDB's own text ("3 days").
    types = [str(t) for t in rel.dtypes]
    if "INTERVAL" in types:
        cols = ", ".join(
            f"CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}"
            if t == "INTERVAL"
            else quote_ident(c)
            for c, t in zip(rel.columns, types, strict=True)
        )
        rel = rel.project(cols)
    byte_cap = settings.result_limit_mb * 2**20
    reader = rel.limit(settings.row_cap + 1).to_arrow_reader(BATCH_ROWS)
    batches: list[pa.RecordBatch] = []
    size = rows = 0
    cut: str | None = None
    for batch in reader:
        if size + batch.nbytes > byte_cap:
            fit = _rows_within(batch, byte_cap - size)
            if rows + fit == 0:
                raise QueryError(
                    f"one row of the result is larger than the result limit of "
                    f"{settings.result_limit_mb} MB (select fewer or shorter columns)"
                )
            batches.append(batch.slice(0, fit))
            rows += fit
            cut = f"result limit of {settings.result_limit_mb} MB"
            break
        batches.append(batch)
        size += batch.nbytes
        rows += batch.num_rows
    table = pa.Table.from_batches(batches, schema=reader.schema)
    if table.num_rows > settings.row_cap:
        table, cut = table.slice(0, settings.row_cap), f"row cap of {settings.row_cap:,}"
    return table, cut


def _timed(
    con: duckdb.DuckDBPyConnection, deadline: float, settings: QuerySettings, fn: Any, what: str
) -> Any:
    """Run `fn()` with a timer that interrupts the connection at `deadline` (monotonic).

    The cooperative stop gives a clean message for ordinary queries; the parent
    kills the worker for work that never checks the interrupt flag.
    """
    limit_s = settings.time_limit_seconds
    lock = threading.Lock()
    finished = False
    fired = False

    def stop() -> None:
        nonlocal fired
        with lock:
            if not finished:
                fired = True
                con.interrupt()

    timer = threading.Timer(max(deadline - time.monotonic(), 0.001), stop)
    timer.daemon = True
    timer.start()
    try:
        return fn()
    except duckdb.InterruptException as exc:
        if not fired:
            raise QueryError(f"{what}: interrupted") from exc
        raise QueryError(_time_limit_message(what, limit_s)) from exc
    except duckdb.PermissionException as exc:
        raise QueryError(
            f"{what}: refused, queries cannot read or write files: {one_line(exc)}"
        ) from exc
    except (duckdb.OutOfMemoryException, MemoryError) as exc:
        raise QueryError(_memory_message(what, settings)) from exc
    except duckdb.Error as exc:
        if fired:
            raise QueryError(_time_limit_message(what, limit_s)) from exc
        if "bad_alloc" in str(exc) or "Out of Memory" in str(exc):
            raise QueryError(_memory_message(what, settings)) from exc
        raise QueryError(f"{what}: {one_line(exc)}") from exc
    finally:
        with lock:
            finished = True
        timer.cancel()


def _time_limit_message(what: str, limit_s: float) -> str:
    return (
        f"{what}: stopped at the time limit of {limit_s:g} s (narrow the filters or aggregate more)"
    )


def _memory_message(what: str, settings: QuerySettings) -> str:
    return (
        f"{what}: needs more memory than the sandbox allows ({settings.memory_limit_mb} MB "
        "per query); aggregate more or narrow the filters"
    )


def _mapped_bytes() -> int:
    """This process's virtual size (Linux /proc)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@contextmanager
def _address_space_cap(settings: QuerySettings) -> Iterator[None]:
    """Cap the worker's address space at what it maps now plus the query's allowance.

    Allocations DuckDB does not track then fail (DuckDB reports them as out of
    memory) instead of growing the process. The allowance covers DuckDB's own
    limit plus the result being built. Where /proc or setrlimit is missing
    (not Linux) the time limit still holds through the kill.
    """
    try:
        import resource

        base = _mapped_bytes()
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        extra_mb = settings.memory_limit_mb + max(512, 4 * settings.result_limit_mb)
        cap = base + extra_mb * 2**20
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def execute(request: Mapping[str, Any]) -> tuple[pa.Table, str | None]:
    """One request in the worker: check, validate choice values, run, fetch (capped).

    `request`: db, settings, seconds, what, sql, params, checks — `checks` are
    (name, options_sql, what) of choice parameters whose value must be one of
    the options the SQL returns now.
    """
    st: QuerySettings = request["settings"]
    deadline = time.monotonic() + request["seconds"]
    with open_sandbox(request["db"], st) as con, _address_space_cap(st):
        # This is the check that guards execution: DuckDB's parser on this connection,
        # and exactly the statement it found.
        stmt = single_select(request["sql"], request["what"], con)
        bound = dict(request["params"])
        for name, options_sql, what in request["checks"]:
            check = single_select(options_sql, what, con)
            options, _ = _timed(
                con, deadline, st, lambda q=check.query: fetch_arrow(con, q, {}, st), what
            )
            allowed = (
                [v for v in options.column(0).to_pylist() if v is not None]
                if (options.num_columns)
                else []
            )
            match = [o for o in allowed if o == bound[name] or str(o) == str(bound[name])]
            if not match:
                raise QueryUsageError(
                    f"parameter ${name}: {bound[name]!r} is not one of the "
                    f"{len(allowed)} allowed values"
                )
            bound[name] = match[0]
        return _timed(
            con, deadline, st, lambda: fetch_arrow(con, stmt.query, bound, st), request["what"]
        )


# ---------------------------------------------------------------------------
# Framing between parent and worker
# ---------------------------------------------------------------------------

_LEN = struct.Struct(">Q")


def _write_frame(out: Any, data: bytes) -> None:
    out.write(_LEN.pack(len(data)))
    out.write(data)
    out.flush()


def _read_blocking(stream: Any, n: int) -> bytes | None:
    data = stream.read(n)
    return data if data is not None and len(data) == n else None


def _ipc(table: pa.Table) -> bytes:
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue().to_pybytes()


def _worker_main() -> int:
    """The worker loop: read a request, answer with a header and Arrow IPC, repeat."""
    import pyarrow  # noqa: F401  (imported before any cap: its import maps memory)

    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # a stray print can never corrupt the protocol
    stdin = sys.stdin.buffer
    _write_frame(out, b"ready")
    while True:
        head = _read_blocking(stdin, _LEN.size)
        if head is None:
            return 0  # the parent went away or closed the pipe
        data = _read_blocking(stdin, _LEN.unpack(head)[0])
        if data is None:
            return 0
        request = pickle.loads(data)
        header: dict[str, Any]
        payload = b""
        try:
            table, cut = execute(request)
            header, payload = {"cut": cut}, _ipc(table)
        except QueryError as exc:
            header = {"error": str(exc), "usage": isinstance(exc, QueryUsageError)}
        except MemoryError:
            header = {"error": _memory_message(request["what"], request["settings"])}
        except Exception as exc:  # one readable line back, never a traceback
            header = {"error": f"{request['what']}: {type(exc).__name__}: {one_line(exc)}"}
        _write_frame(out, json.dumps(header).encode())
        _write_frame(out, payload)
        del payload
        if _resident_bytes() > request["settings"].memory_limit_mb * 2**20:
            return 0  # hand a grown heap back to the system; the next query starts afresh


# ---------------------------------------------------------------------------
# The parent side: a small pool of workers
# ---------------------------------------------------------------------------


class _Timeout(Exception):
    pass


class _Worker:
    """One worker process, used by one query at a time."""

    def __init__(self) -> None:
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "dashboard.analyst.sandbox"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.ready = False

    def wait_ready(self) -> None:
        """Block until the worker has imported what it needs (once)."""
        if self.ready:
            return
        try:
            if self._frame(time.monotonic() + START_SECONDS) != b"ready":
                raise QueryError("the query worker did not start properly")
        except _Timeout as exc:
            self.kill()
            raise QueryError(f"the query worker did not start within {START_SECONDS:g} s") from exc
        except QueryError:
            self.kill()
            raise
        self.ready = True

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()

    def close(self) -> None:
        """Closing its stdin ends an idle worker's loop."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()

    def _read(self, n: int, until: float) -> bytes:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        chunks: list[bytes] = []
        got = 0
        while got < n:
            left = until - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise _Timeout
            chunk = os.read(fd, min(n - got, 1 << 20))
            if not chunk:
                code = self.proc.wait()
                how = f"signal {-code}" if code < 0 else f"exit code {code}"
                raise QueryError(
                    f"the query's worker process ended unexpectedly ({how}); "
                    "it may have run out of memory"
                )
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _frame(self, until: float) -> bytes:
        return self._read(_LEN.unpack(self._read(_LEN.size, until))[0], until)

    def call(self, request: Mapping[str, Any], deadline: float) -> tuple[dict[str, Any], bytes]:
        assert self.proc.stdin is not None
        _write_frame(self.proc.stdin, pickle.dumps(dict(request)))
        header = json.loads(self._frame(deadline + GRACE_SECONDS))
        # The header says the work is done; the payload (≤ result limit) follows at once.
        return header, self._frame(time.monotonic() + START_SECONDS)


class _Pool:
    """Up to `max_concurrent` queries at once; idle workers are kept for the next query."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._busy = 0

    def run(self, request: dict[str, Any], settings: QuerySettings) -> tuple[dict, bytes]:
        limit = settings.time_limit_seconds
        what = request["what"]
        deadline = time.monotonic() + limit
        with self._cond:
            while self._busy >= settings.max_concurrent:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise QueryError(
                        f"{_time_limit_message(what, limit)}; {self._busy} other queries "
                        "were running"
                    )
                self._cond.wait(left)
            self._busy += 1
            worker = self._idle.pop() if self._idle else None
        try:
            if worker is None or not worker.alive():
                worker = _Worker()
            if not worker.ready:
                started = time.monotonic()
                worker.wait_ready()
                deadline += time.monotonic() - started  # starting a worker is not the query
            request["seconds"] = max(deadline - time.monotonic(), 0.001)
            try:
                return worker.call(request, deadline)
            except _Timeout as exc:
                worker.kill()
                raise QueryError(_time_limit_message(what, limit)) from exc
            except BaseException:
                worker.kill()
                raise
        finally:
            with self._cond:
                self._busy -= 1
                if worker is not None and worker.alive():
                    self._idle.append(worker)
                self._cond.notify()

    def prestart(self) -> None:
        """Start a worker now, without waiting, so its imports overlap the caller's work."""
        with self._cond:
            if not self._idle and not self._busy:
                self._idle.append(_Worker())

    def shutdown(self) -> None:
        with self._cond:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()


_POOL = _Pool()
atexit.register(_POOL.shutdown)


def run_sql(
    db_path: Path | str,
    sql: str,
    params: Mapping[str, Any],
    settings: QuerySettings,
    what: str,
    checks: Sequence[tuple[str, str, str]] = (),
) -> tuple[pl.DataFrame, str | None]:
    """Run one SELECT in a worker; the frame and which cap cut it (None: complete).

    Raises QueryError (QueryUsageError for a choice value that is not allowed)
    with one readable line for refusals, SQL errors and every limit.
    """
    import polars as pl

    path = Path(db_path).resolve()
    if not path.is_file():
        raise QueryError(
            f"the warehouse {db_path} does not exist; run `inward demo` or `inward ingest` first"
        )
    request = {
        "db": str(path),
        "settings": settings,
        "what": what,
        "sql": sql,
        "params": dict(params),
        "checks": list(checks),
    }
    header, payload = _POOL.run(request, settings)
    if "error" in header:
        raise (QueryUsageError if header.get("usage") else QueryError)(header["error"])
    frame = pl.read_ipc_stream(io.BytesIO(payload))
    tz_cols = [
        c
        for c, d in frame.schema.items()
        if isinstance(d, pl.Datetime) and d.time_zone not in (None, "UTC")
    ]
    if tz_cols:
        frame = frame.with_columns(pl.col(tz_cols).dt.convert_time_zone("UTC"))
    return frame, header.get("cut")


def prestart_worker() -> None:
    """Start a query worker in the background (the CLI calls it before parsing)."""
    _POOL.prestart()


def shutdown_workers() -> None:
    """Stop idle workers now (tests use it to read their peak memory)."""
    _POOL.shutdown()


if __name__ == "__main__":
    sys.exit(_worker_main())
