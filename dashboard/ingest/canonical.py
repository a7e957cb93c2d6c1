"""Staged text columns → typed canonical rows, each with the reason it is unusable.

All of it is one SQL statement per file so DuckDB does the work in parallel; a
row gets `__reason = NULL` when it is good, otherwise one readable sentence per
problem that names the column and the value ("created_at: could not read
'31/31/2024' as a date/time").
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from dashboard.ingest.base import ENUM_FALLBACK, ENUMS, Adapter
from dashboard.ingest.read import Staged, quote_ident

MISSING = ("", "?", "null", "none", "n/a", "na", "nan", "nat", "-", "(empty)")

_FORMATS_COMMON = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%d/%b/%y %I:%M %p",
    "%d/%b/%Y %I:%M %p",
    "%d/%b/%y %H:%M",
    "%d/%b/%Y %H:%M",
    "%d-%b-%Y %H:%M:%S",
    "%d %b %Y %H:%M",
    "%d %b %Y",
    "%b %d, %Y %I:%M %p",
    "%b %d, %Y",
    "%Y%m%d",
]
_MONTH_FIRST = [
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y",
    "%m/%d/%y %H:%M",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%y",
]
_DAY_FIRST = [f.replace("%m/%d", "%d/%m") for f in _MONTH_FIRST] + [
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
]

# Canonical columns per kind: (name, type, required). Types: text, ts, date, int,
# double, enum:<name>.
COLUMNS: dict[str, list[tuple[str, str, bool]]] = {
    "tickets": [
        ("ticket_id", "text", True),
        ("service_team", "text", False),
        ("requester_id", "text", False),
        ("requester_department", "text", False),
        ("requester_type", "enum:requester_type", False),
        ("channel", "enum:channel", False),
        ("category", "text", False),
        ("priority", "enum:priority", False),
        ("ticket_type", "enum:ticket_type", False),
        ("status", "enum:status", False),
        ("created_at", "ts", True),
        ("updated_at", "ts", False),
        ("first_response_at", "ts", False),
        ("first_response_minutes", "double", False),
        ("resolved_at", "ts", False),
        ("reopen_count", "int", False),
        ("subject", "text", False),
    ],
    "surveys": [
        ("response_id", "text", False),
        ("survey", "text", False),
        ("submitted_at", "ts", False),
        ("respondent_id", "text", False),
        ("respondent_department", "text", False),
        ("service_team", "text", False),
        ("ticket_id", "text", False),
        ("comment", "text", False),
    ],
    "outcomes": [
        ("period_start", "date", True),
        ("business_unit", "text", True),
    ],
    "people": [
        ("person_id", "text", True),
        ("department", "text", False),
        ("person_type", "enum:person_type", False),
        ("active_from", "date", False),
        ("active_to", "date", False),
    ],
    "org": [("department", "text", True), ("business_unit", "text", True)],
}

SURVEY_SCALES = {"csat": (1.0, 5.0), "nps": (0.0, 10.0), "ces": (1.0, 7.0), "other": (None, None)}


def _lit(value: str | None) -> str:
    return "NULL" if value is None else "'" + value.replace("'", "''") + "'"


def clean(col: str) -> str:
    """Trimmed text, with the usual spellings of 'missing' turned into NULL."""
    return (
        f"CASE WHEN lower(trim({col})) IN ({', '.join(_lit(m) for m in MISSING)}) "
        f"THEN NULL ELSE trim({col}) END"
    )


def day_first(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> bool:
    """Whether slash dates in these columns are day-first: evidence is a first
    field above 12 (only possible for days); default month-first when nothing
    decides (US exports: Google Forms, Freshservice)."""
    if not columns:
        return False
    pattern = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}"
    parts = []
    for c in columns:
        parts.append(
            f"count(*) FILTER (WHERE try_cast(regexp_extract({quote_ident(c)}, "
            f"'{pattern}', 1) AS INTEGER) > 12)"
        )
        parts.append(
            f"count(*) FILTER (WHERE try_cast(regexp_extract({quote_ident(c)}, "
            f"'{pattern}', 2) AS INTEGER) > 12)"
        )
    counts = con.sql(f"SELECT {', '.join(parts)} FROM {table}").fetchall()[0]
    first_big = sum(counts[0::2])
    second_big = sum(counts[1::2])
    return first_big > second_big


def ts_expr(text: str, timezone: str, dayfirst: bool) -> str:
    """SQL turning text into TIMESTAMPTZ: ISO, offsets, epochs, day/month-first, month names.

    Naive values are wall-clock time in `timezone`; values with an offset or `Z`
    keep their own offset.
    """
    formats = _FORMATS_COMMON + (
        _DAY_FIRST + _MONTH_FIRST if dayfirst else _MONTH_FIRST + _DAY_FIRST
    )
    fmt_list = "[" + ", ".join(_lit(f) for f in formats) + "]"
    return (
        f"CASE WHEN {text} IS NULL THEN NULL "
        f"WHEN regexp_full_match({text}, '\\d{{9,10}}(\\.\\d+)?') "
        f"THEN to_timestamp(CAST({text} AS DOUBLE)) "
        f"WHEN regexp_full_match({text}, '\\d{{12,13}}') "
        f"THEN to_timestamp(CAST({text} AS DOUBLE) / 1000) "
        f"WHEN regexp_matches({text}, '(Z|[+-]\\d{{2}}:?\\d{{2}})$') "
        f"THEN try_cast({text} AS TIMESTAMPTZ) "
        f"ELSE timezone({_lit(timezone)}, coalesce(try_cast({text} AS TIMESTAMP), "
        f"try_strptime({text}, {fmt_list}))) END"
    )


def enum_expr(text: str, mapping: dict[str, str], fallback: str | None) -> str:
    """Map lower-cased text through `mapping`; unknown values get `fallback`."""
    whens = " ".join(f"WHEN {_lit(k)} THEN {_lit(v)}" for k, v in mapping.items())
    return (
        f"CASE WHEN {text} IS NULL THEN NULL ELSE "
        f"CASE lower({text}) {whens} ELSE {_lit(fallback)} END END"
    )


def typed_expr(col: str, kind: str, adapter: Adapter, timezone: str, dayfirst: bool) -> str:
    if kind == "text":
        return col
    if kind == "ts":
        return ts_expr(col, timezone, dayfirst)
    if kind == "date":
        return f"CAST({ts_expr(col, 'UTC', dayfirst)} AT TIME ZONE 'UTC' AS DATE)"
    if kind == "int":
        return (
            f"CASE lower({col}) WHEN 'true' THEN 1 WHEN 'false' THEN 0 WHEN 'yes' THEN 1 "
            f"WHEN 'no' THEN 0 ELSE CAST(round(try_cast({col} AS DOUBLE)) AS INTEGER) END"
        )
    if kind == "double":
        return f"try_cast(replace({col}, ',', '.') AS DOUBLE)"
    if kind.startswith("enum:"):
        name = kind.split(":", 1)[1]
        mapping = {v: v for v in ENUMS[name]} | adapter.values(name)
        return enum_expr(col, mapping, ENUM_FALLBACK[name])
    raise ValueError(kind)


def unreadable(name: str, col: str, typed: str, kind: str) -> str:
    what = {
        "ts": "a date/time",
        "date": "a date",
        "int": "a whole number",
        "double": "a number",
    }.get(kind)
    if what is None:
        return "NULL"
    return (
        f"CASE WHEN {col} IS NOT NULL AND {typed} IS NULL THEN "
        f"'{name}: could not read ''' || {col} || ''' as {what}' END"
    )


@dataclass
class Canonical:
    """The canonical temp table built from one staged file."""

    table: str
    mapped: dict[str, str]  # canonical column -> staged column used


def build(
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    adapter: Adapter,
    kind: str,
    timezone: str,
    table: str = "canon",
) -> Canonical:
    """Create temp table `table`: `__row`, typed canonical columns, `__reason`."""
    mapped = adapter.resolve(staged.columns)
    spec = COLUMNS[kind]
    ts_cols = [mapped[n] for n, t, _ in spec if t in ("ts", "date") and n in mapped]
    dayfirst = day_first(con, staged.table, ts_cols)
    cleans, typeds, checks = [], [], []
    for name, typ, required in spec:
        src = mapped.get(name)
        cleans.append(f"{clean(quote_ident(src)) if src else 'NULL'} AS c_{name}")
        typeds.append(f"{typed_expr(f'c_{name}', typ, adapter, timezone, dayfirst)} AS {name}")
        if required:
            checks.append(f"CASE WHEN c_{name} IS NULL THEN '{name}: empty (required)' END")
        checks.append(unreadable(name, f"c_{name}", name, typ))
    extras = [n for n in mapped if n not in {s[0] for s in spec}]
    extra_cleans = [f"{clean(quote_ident(mapped[n]))} AS x_{n}" for n in extras]
    checks += KIND_CHECKS.get(kind, [])
    keep = [n for n, _, _ in spec] + [f"x_{n}" for n in extras]
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
        WITH c AS (SELECT __row, {", ".join(cleans + extra_cleans)} FROM {staged.table}),
        t AS (SELECT *, {", ".join(typeds)} FROM c)
        SELECT __row, {", ".join(keep)},
            nullif(concat_ws('; ', {", ".join(checks)}), '') AS __reason
        FROM t"""
    )
    return Canonical(table, mapped)


_NOW_SLACK = "now() + INTERVAL 1 DAY"
KIND_CHECKS: dict[str, list[str]] = {
    "tickets": [
        "CASE WHEN created_at > " + _NOW_SLACK + " THEN 'created_at: ''' || c_created_at || "
        "''' is in the future' END",
        "CASE WHEN resolved_at < created_at THEN 'resolved_at: ''' || c_resolved_at || "
        "''' is before created_at ''' || c_created_at || '''' END",
        "CASE WHEN first_response_at < created_at THEN 'first_response_at: ''' || "
        "c_first_response_at || ''' is before created_at ''' || c_created_at || '''' END",
        "CASE WHEN first_response_minutes < 0 THEN 'first_response_minutes: ''' || "
        "c_first_response_minutes || ''' is negative' END",
        "CASE WHEN reopen_count < 0 THEN 'reopen_count: ''' || c_reopen_count || "
        "''' is negative' END",
    ],
    "people": [
        "CASE WHEN active_to < active_from THEN 'active_to: ''' || c_active_to || "
        "''' is before active_from' END",
    ],
}
