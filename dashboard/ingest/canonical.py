"""Staged text columns → typed canonical rows, each with the reason it is unusable.

All of it is one SQL statement per file so DuckDB does the work in parallel; a
row gets `__reason = NULL` when it is good, otherwise one readable sentence per
problem that names the column and the value ("created_at: could not read
'31/31/2024' as a date/time").

Why one file of ~550 lines: every canonical column's cleaning and its rejection
reason are SQL expressions built the same way; one file keeps the rules comparable.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from dashboard.ingest import zones
from dashboard.ingest.base import ENUM_FALLBACK, ENUMS, Adapter
from dashboard.ingest.read import Staged
from dashboard.sql import quote_ident, quote_literal

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
        # who asked, as the tool shows it: its own id, e-mail, name, employee number
        # (dashboard.identity turns them into one requester_id per person)
        ("requester_id", "text", False),
        ("requester_email", "text", False),
        ("requester_name", "text", False),
        ("requester_employee_id", "text", False),
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
        ("replies", "int", False),
        ("subject", "text", False),
    ],
    "surveys": [
        ("response_id", "text", False),
        ("survey", "text", False),
        ("submitted_at", "ts", False),
        ("respondent_id", "text", False),
        ("respondent_email", "text", False),
        ("respondent_name", "text", False),
        ("respondent_employee_id", "text", False),
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
        # what identifies the person in the tools (see dashboard.identity)
        ("email", "text", False),
        ("name", "text", False),
        ("employee_id", "text", False),
        ("aliases", "text", False),
    ],
    "org": [("department", "text", True), ("business_unit", "text", True)],
    # One row per recorded change; `status` is the status after it (vendor text
    # mapped like the tickets' status, the text itself kept in vendor_status).
    "events": [
        ("ticket_id", "text", True),
        ("event_at", "ts", True),  # stored as `at` (a keyword in SQL: quote it)
        ("status", "enum:status", False),
        ("vendor_status", "text", False),
        ("service_team", "text", False),
        ("assignee", "text", False),
        ("kind", "enum:event_kind", False),
        ("actor", "enum:actor", False),
        ("event_key", "text", False),
    ],
}

SURVEY_SCALES = {"csat": (1.0, 5.0), "nps": (0.0, 10.0), "ces": (1.0, 7.0), "other": (None, None)}


_MISSING_MAX = max(len(m) for m in MISSING)


def _clean_trimmed(col: str) -> str:
    """`clean` of an already trimmed value. The length test comes first: no
    'missing' spelling is longer than `_MISSING_MAX`, so most values skip the
    lower-casing and list lookup (about half the cost of a column at 1M rows)."""
    return (
        f"CASE WHEN strlen({col}) > {_MISSING_MAX} THEN {col} "
        f"WHEN lower({col}) IN ({', '.join(quote_literal(m) for m in MISSING)}) "
        f"THEN NULL ELSE {col} END"
    )


def clean(col: str) -> str:
    """Trimmed text, with the usual spellings of 'missing' turned into NULL."""
    return _clean_trimmed(f"trim({col})")


def day_first(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> bool:
    """Whether slash dates in these columns are day-first: evidence is a first
    field above 12 (only possible for days); default month-first when nothing
    decides (US exports: Google Forms, Freshservice)."""
    if not columns:
        return False
    pattern = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{2,4}"
    parts = []
    for c in columns:
        v = f"ltrim({quote_ident(c)})"
        # Cheap prefilter (a separator as 2nd or 3rd character) so ISO values, the
        # common case, never reach the regex.
        parts.append(
            f"SELECT regexp_extract({v}, '{pattern}', ['a', 'b']) AS m FROM {table} "
            f"WHERE substr({v}, 2, 1) IN ('/', '.', '-') OR substr({v}, 3, 1) IN ('/', '.', '-')"
        )
    first_big, second_big = con.sql(
        "SELECT count(*) FILTER (WHERE try_cast(m.a AS INTEGER) > 12), "
        "count(*) FILTER (WHERE try_cast(m.b AS INTEGER) > 12) "
        f"FROM ({' UNION ALL '.join(parts)})"
    ).fetchall()[0]
    return first_big > second_big


# Naive ISO 8601 (a date, or a date and time): the common case, read by a plain cast.
_ISO_NAIVE = r"\d{4}-\d{1,2}-\d{1,2}([T ]\d{1,2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?"
# A time followed by Z, an offset (+01:00, +0100, +01) or an IANA name
# (Europe/Berlin), which DuckDB's cast reads. Anchored on the time, so a date like
# 05-03-2024 is not read as offset -2024. Words (GMT+1, EST, AST) are read by
# `zones`, with a table of what they mean in English rather than ICU's legacy one.
_ZONED = (
    r"\d:\d{2}(:\d{2}(\.\d+)?)?\s*"
    r"(Z|[+-]\d{2}(:?\d{2})?|[A-Za-z]+/[A-Za-z_]+(/[A-Za-z_]+)?)$"
)
# Excel serial dates (days since 1899-12-30, the fraction is the time of day), in
# the range 1970-01-01 (25569) .. 2099-12-31 (73050): a CSV saved from Excel with
# the column formatted as a number. Outside the range a 5-digit number is no date.
# Rounded to the millisecond: 15 significant digits leave the fraction ~9 µs off.
_SERIAL = r"\d{5}(\.\d+)?"
_SERIAL_1970, _SERIAL_2100 = 25569, 73051


def ts_expr(text: str, timezone: str, dayfirst: bool) -> str:
    """SQL turning text into TIMESTAMPTZ: ISO, offsets, zone names and abbreviations,
    epochs, Excel serial dates, day/month-first, month names.

    Naive values (and Excel serials) are wall-clock time in `timezone`; values with
    an offset, `Z`, `GMT+1` or a zone name or abbreviation keep their own zone.
    Branches are ordered by how common they are, so a column of ISO values costs
    one regex and one cast per value.

    DST rule for naive values (DuckDB's, the same as PostgreSQL's): a wall time
    that does not exist (skipped by spring-forward: 02:30 in Berlin on
    2024-03-31) is read with the offset in force before the change, so it is
    03:30 summer time (01:30 UTC); a wall time that happens twice (fall-back:
    02:30 in Berlin on 2024-10-27) is read as the second occurrence, in
    standard time (01:30 UTC). Such rows load; they are never rejected for it.

    A plain `CAST(... AS TIMESTAMP)` is only used on strict ISO text: it ignores
    a trailing "PM" or zone name, which would shift such values silently.
    """
    formats = (
        _FORMATS_COMMON
        + ["%Y-%m-%d %I:%M:%S %p", "%Y-%m-%d %I:%M %p", "%Y/%m/%d %I:%M:%S %p", "%Y/%m/%d %I:%M %p"]
        + (_DAY_FIRST + _MONTH_FIRST if dayfirst else _MONTH_FIRST + _DAY_FIRST)
    )
    fmt_list = "[" + ", ".join(quote_literal(f) for f in formats) + "]"

    def wall_clock(ts: str) -> str:
        """Naive TIMESTAMP read as wall-clock time in `timezone`. For UTC, integer
        arithmetic instead of ICU's zone code: 2x faster per value, same result."""
        if timezone.upper() in ("UTC", "ETC/UTC"):
            return f"make_timestamptz(epoch_us({ts}))"
        return f"timezone({quote_literal(timezone)}, {ts})"

    offset = r"'\s*([+-]\d{2}):?(\d{2})$', '\1:\2'"  # +0100 → +01:00, which the cast reads

    def naive(body: str) -> str:
        """A value without its zone: strict ISO by cast, anything else by the formats."""
        return (
            f"CASE WHEN regexp_full_match({body}, '{_ISO_NAIVE}') "
            f"THEN try_cast({body} AS TIMESTAMP) ELSE try_strptime({body}, {fmt_list}) END"
        )

    serial = (
        f"CASE WHEN CAST({text} AS DOUBLE) >= {_SERIAL_1970} AND CAST({text} AS DOUBLE) "
        f"< {_SERIAL_2100} THEN make_timestamp(CAST(round((CAST({text} AS DOUBLE) - "
        f"{_SERIAL_1970}) * 86400e3) * 1000 AS BIGINT)) END"
    )
    return (
        f"CASE WHEN {text} IS NULL THEN NULL "
        f"WHEN regexp_full_match({text}, '{_ISO_NAIVE}') "
        f"THEN {wall_clock(f'try_cast({text} AS TIMESTAMP)')} "
        f"WHEN regexp_full_match({text}, '\\d{{9,10}}(\\.\\d+)?') "
        f"THEN to_timestamp(CAST({text} AS DOUBLE)) "
        f"WHEN regexp_full_match({text}, '\\d{{12,13}}') "
        f"THEN to_timestamp(CAST({text} AS DOUBLE) / 1000) "
        f"WHEN regexp_matches({text}, '{_ZONED}') "
        f"THEN try_cast(regexp_replace({text}, {offset}) AS TIMESTAMPTZ) "
        f"WHEN {zones.is_zoned(text)} THEN {zones.zoned_sql(text, naive)} "
        f"WHEN regexp_full_match({text}, '{_SERIAL}') THEN {wall_clock(serial)} "
        f"ELSE {wall_clock(f'try_strptime({text}, {fmt_list})')} END"
    )


# Numbers as Excel writes them per locale: `1,234.5` (en), `1.234,5` (de, es, it…),
# `1 234,5` (fr, with a no-break space). A file is read either with a decimal point
# or with a decimal comma, decided from its numbers (`decimal_comma`), never per
# value: `1,234` is 1234 in a US file and 1.234 in a German one.
_COMMA_EVIDENCE = (
    r"^[+-]?\d+,\d{1,2}$|^[+-]?\d+,\d{4,}$|^[+-]?\d{1,3}(\.\d{3})+,\d+$"
    r"|^[+-]?\d{1,3}(\.\d{3}){2,}$"
)
_POINT_EVIDENCE = (
    r"^[+-]?\d+\.\d{1,2}$|^[+-]?\d+\.\d{4,}$|^[+-]?\d{1,3}(,\d{3})+\.\d+$"
    r"|^[+-]?\d{1,3}(,\d{3}){2,}$"
)
_SPACE_GROUPS = r"^[+-]?\d{1,3}([\s\pZ]\d{3})+([.,]\d+)?$"


def decimal_comma(
    con: duckdb.DuckDBPyConnection, table: str, columns: list[str], delimiter: str | None = None
) -> bool:
    """Whether the numbers in these columns use a decimal comma (European Excel):
    evidence is a comma before 1-2 or 4+ digits (`12,5`, a comma decimal) or a
    dot-grouped number (`1.234,5`, `1.234.567`), against the same shapes with the
    marks swapped. No evidence either way (`3.229`, integers): a decimal comma
    when the file is `;`-delimited, the list separator Excel uses exactly where
    the decimal mark is a comma; else a decimal point."""
    if not columns:
        return delimiter == ";"
    parts = [
        f"SELECT trim({quote_ident(c)}) AS v FROM {table} WHERE contains({quote_ident(c)}, ',')"
        f" OR contains({quote_ident(c)}, '.')"
        for c in columns
    ]
    comma, point = con.sql(
        f"SELECT count(*) FILTER (WHERE regexp_matches(v, '{_COMMA_EVIDENCE}')), "
        f"count(*) FILTER (WHERE regexp_matches(v, '{_POINT_EVIDENCE}')) "
        f"FROM ({' UNION ALL '.join(parts)})"
    ).fetchall()[0]
    return comma > point or (comma == point and delimiter == ";")


def _grouped(text: str, comma: bool) -> str:
    """SQL: DOUBLE of `text` with its group separators removed and the decimal mark
    made a point (no spaces inside)."""
    if comma:
        return (
            f"CASE WHEN regexp_full_match({text}, '[+-]?\\d{{1,3}}(\\.\\d{{3}})+(,\\d+)?') "
            f"THEN try_cast(replace(replace({text}, '.', ''), ',', '.') AS DOUBLE) "
            f"ELSE try_cast(replace({text}, ',', '.') AS DOUBLE) END"
        )
    return (
        f"CASE WHEN regexp_full_match({text}, '[+-]?\\d{{1,3}}(,\\d{{3}})+(\\.\\d+)?') "
        f"THEN try_cast(replace({text}, ',', '') AS DOUBLE) "
        f"ELSE try_cast(replace({text}, ',', '.') AS DOUBLE) END"
    )


def number_sql(text: str, comma: bool) -> str:
    """SQL: DOUBLE of a number with thousands separators and the file's decimal mark
    (NULL when unreadable). A plain number costs one cast, as before."""
    unspaced = f"regexp_replace({text}, '[\\s\\pZ]', '', 'g')"
    spaced = f"WHEN regexp_matches({text}, '{_SPACE_GROUPS}') THEN {_grouped(unspaced, comma)} "
    plain = f"try_cast({text} AS DOUBLE)"
    first = "" if comma else f"WHEN {plain} IS NOT NULL THEN {plain} "
    return f"CASE {first}{spaced}ELSE {_grouped(text, comma)} END"


def enum_expr(text: str, mapping: dict[str, str], fallback: str | None) -> str:
    """Map lower-cased text through `mapping`; unknown values get `fallback`.

    A MAP literal lookup, not a CASE chain: vendor maps have 40+ spellings and a
    CASE compares each value with all of them (4x slower at 1M rows)."""
    keys = {k.lower(): v for k, v in mapping.items()}
    lookup = (
        "MAP {"
        + ", ".join(f"{quote_literal(k)}: {quote_literal(v)}" for k, v in keys.items())
        + "}"
    )
    found = f"{lookup}[lower({text})]"
    if fallback is not None:
        found = f"coalesce({found}, {quote_literal(fallback)})"
    return f"CASE WHEN {text} IS NULL THEN NULL ELSE {found} END"


def typed_expr(
    col: str, kind: str, adapter: Adapter, timezone: str, dayfirst: bool, comma: bool = False
) -> str:
    if kind == "text":
        return col
    if kind == "tool_id":  # digits Excel rounded away identify nobody: dropped, see build
        return f"CASE WHEN {_excel_rounded(col)} THEN NULL ELSE {col} END"
    if kind == "ts":
        return ts_expr(col, timezone, dayfirst)
    if kind == "date":
        return f"CAST({ts_expr(col, 'UTC', dayfirst)} AT TIME ZONE 'UTC' AS DATE)"
    if kind == "int":  # try_cast twice: '1e12' or 'inf' is unreadable, not an overflow crash
        return (
            f"CASE lower({col}) WHEN 'true' THEN 1 WHEN 'false' THEN 0 WHEN 'yes' THEN 1 "
            f"WHEN 'no' THEN 0 ELSE try_cast(round({number_sql(col, comma)}) AS INTEGER) END"
        )
    if kind == "double":  # 'inf' and 'nan' parse as doubles but are no usable numbers
        num = number_sql(col, comma)
        return f"CASE WHEN isfinite({num}) THEN {num} END"
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
    hint = ""
    if kind in ("ts", "date"):
        zone = zones.unknown_zone(col)
        hint = (
            f" || coalesce(' (unknown time zone ' || {zone} || ': write it as an offset "
            "such as GMT+1, see docs/vendor-formats.md)', '')"
        )
    return (
        f"CASE WHEN {col} IS NOT NULL AND {typed} IS NULL THEN "
        f"'{name}: could not read ''' || {col} || ''' as {what}'{hint} END"
    )


@dataclass
class Canonical:
    """The canonical temp table built from one staged file."""

    table: str
    mapped: dict[str, str]  # canonical column -> staged column used
    decimal_comma: bool = False  # the file's numbers use a decimal comma (see decimal_comma)


# `1.03006E+13`: a 14-digit id after a round trip through Excel, which shows numbers
# of 12 digits or more in scientific notation and keeps 15 significant digits
# (docs/vendor-formats.md §9). The digits are gone: as a record key the row is
# rejected with that reason (two tickets would collapse into one); as a person's
# tool id it is dropped, so the requester is known by e-mail or name instead.
EXCEL_ID = r"^\d([.,]\d+)?[eE]\+\d+$"  # a comma in European Excel: 1,03006E+13
NUMERIC_EXTRAS = ("csat", "nps", "ces", "score", "scale_min", "scale_max", "value")
KEY_IDS = {"tickets": "ticket_id", "surveys": "response_id", "people": "person_id"}
TOOL_IDS = (
    "requester_id",
    "respondent_id",
    "requester_employee_id",
    "respondent_employee_id",
    "employee_id",
)


def _excel_rounded(col: str) -> str:
    """SQL: whether the value is an id Excel turned into scientific notation (the cheap
    `contains` first: ordinary ids never reach the regex)."""
    return (
        f"((contains({col}, 'E+') OR contains({col}, 'e+')) "
        f"AND regexp_matches({col}, '{EXCEL_ID}'))"
    )


def _note_rounded_ids(
    con: duckdb.DuckDBPyConnection, staged: Staged, mapped: dict[str, str], kind: str
) -> None:
    """Say in the ingest message how many ids Excel rounded (the rows still load or are
    rejected with the reason; the note tells what to fix in the export)."""
    key = KEY_IDS.get(kind)
    for name in (key, *TOOL_IDS):
        src = mapped.get(name or "")
        if not src:
            continue
        rounded = _excel_rounded(f"trim({quote_ident(src)})")
        n = con.sql(f"SELECT count(*) FROM {staged.table} WHERE {rounded}").fetchall()[0][0]
        if n:
            what = "rejected" if name == key else "dropped (known by e-mail or name instead)"
            staged.notes.append(
                f"{n:,} {name} values were rounded by Excel (e.g. 1.03E+13) and {what}; "
                "export again without opening the file in Excel"
            )


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
    extras = [n for n in mapped if n not in {s[0] for s in spec}]
    numbers = [mapped[n] for n, t, _ in spec if t in ("int", "double") and n in mapped]
    numbers += [mapped[n] for n in extras if n in NUMERIC_EXTRAS]
    comma = decimal_comma(con, staged.table, numbers, staged.delimiter)
    _note_rounded_ids(con, staged, mapped, kind)
    # Trimmed once in its own step (r), so `clean` does not trim three times.
    trims, cleans, typeds, checks = [], [], [], []
    for name, typ, required in spec:
        src = mapped.get(name)
        if src:
            trims.append(f"trim({quote_ident(src)}) AS t_{name}")
        cleans.append(f"{_clean_trimmed(f't_{name}') if src else 'NULL'} AS c_{name}")
        typ = "tool_id" if name in TOOL_IDS else typ
        typeds.append(
            f"{typed_expr(f'c_{name}', typ, adapter, timezone, dayfirst, comma)} AS {name}"
        )
        if required:
            checks.append(f"CASE WHEN c_{name} IS NULL THEN '{name}: empty (required)' END")
        if name == KEY_IDS.get(kind):
            checks.append(
                f"CASE WHEN {_excel_rounded(f'c_{name}')} THEN '{name}: ''' || c_{name} || "
                "''' is a number Excel rounded to scientific notation; its digits are lost "
                "(export again without opening the file in Excel, or format the column as "
                "text)' END"
            )
        checks.append(unreadable(name, f"c_{name}", name, typ))
        if typ == "ts" and src:
            checks.append(_implausible(name))
    trims += [f"trim({quote_ident(mapped[n])}) AS t_x_{n}" for n in extras]
    extra_cleans = [f"{_clean_trimmed(f't_x_{n}')} AS x_{n}" for n in extras]
    checks += KIND_CHECKS.get(kind, [])
    keep = [n for n, _, _ in spec] + [f"x_{n}" for n in extras]
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {table} AS
        WITH r AS (SELECT __row{"".join(", " + t for t in trims)} FROM {staged.table}),
        c AS (SELECT __row, {", ".join(cleans + extra_cleans)} FROM r),
        t AS (SELECT *, {", ".join(typeds)} FROM c)
        SELECT __row, {", ".join(keep)},
            nullif(concat_ws('; ', {", ".join(checks)}), '') AS __reason
        FROM t"""
    )
    return Canonical(table, mapped, comma)


_NOW_SLACK = "now() + INTERVAL 1 DAY"  # a day: naive times in a zone ahead of UTC


# The time that places a row in time: in the future, the row is a data error.
# Later times of a ticket (updated, resolved) are bounded by the order checks
# instead, so an export with a scheduled follow-up date still loads.
_EVENT_TIMES = ("created_at", "submitted_at", "event_at")


def _implausible(name: str) -> str:
    """Reason for a created/submitted time in the future, or any time before 1970
    (Unix time 0, .NET's 0001-01-01 for "no value", a two-digit year read as
    19xx): data errors that, kept, would skew every duration computed from them."""
    future = (
        f"WHEN {name} > {_NOW_SLACK} THEN '{name}: ''' || c_{name} || ''' is in the future' "
        if name in _EVENT_TIMES
        else ""
    )
    return (
        f"CASE {future}WHEN {name} < TIMESTAMPTZ '1970-01-01 00:00:00+00' "
        f"THEN '{name}: ''' || c_{name} || ''' is before 1970' END"
    )


# Ten years of minutes: more is no response time, and would overflow the
# microsecond arithmetic that turns minutes into first_response_at.
_MAX_MINUTES = 10 * 366 * 24 * 60
KIND_CHECKS: dict[str, list[str]] = {
    "tickets": [
        "CASE WHEN resolved_at < created_at THEN 'resolved_at: ''' || c_resolved_at || "
        "''' is before created_at ''' || c_created_at || '''' END",
        "CASE WHEN first_response_at < created_at THEN 'first_response_at: ''' || "
        "c_first_response_at || ''' is before created_at ''' || c_created_at || '''' END",
        "CASE WHEN first_response_minutes < 0 THEN 'first_response_minutes: ''' || "
        "c_first_response_minutes || ''' is negative' "
        f"WHEN first_response_minutes > {_MAX_MINUTES} THEN 'first_response_minutes: ''' || "
        "c_first_response_minutes || ''' is more than ten years' END",
        "CASE WHEN replies < 0 THEN 'replies: ''' || c_replies || ''' is negative' END",
        "CASE WHEN reopen_count < 0 THEN 'reopen_count: ''' || c_reopen_count || "
        "''' is negative' END",
    ],
    "people": [
        "CASE WHEN active_to < active_from THEN 'active_to: ''' || c_active_to || "
        "''' is before active_from' END",
    ],
}
