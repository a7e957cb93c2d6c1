"""Time zones written as words after a time: `5:05:35 PM GMT`, `11:07:29 AM AST`,
`GMT+1`, `GMT-05:00`, `UTC+5:30`.

Google Forms' own "Download responses (.csv)" writes the form's time zone this
way (docs/vendor-formats.md §7b), as do Excel and many reporting tools. DuckDB's
cast knows some abbreviations, but by ICU's legacy table, not the one people
read: it takes `AST` for UTC−9 (Alaska, abolished 1983) where an English UI
means Atlantic Standard Time (UTC−4), and `BST` for Bangladesh (UTC+6) where it
means British Summer Time (UTC+1). So abbreviations are looked up in
`ABBREVIATIONS`: the English short names of the Unicode CLDR metazones, which
is what Google, Microsoft and Apple products print in an English locale. An
abbreviation names an offset, daylight saving included (EDT is UTC−4 all
year), so no zone rules are needed: the value is the wall time minus that
offset.

Ambiguous abbreviations (the same letters for several zones) take their CLDR
English meaning, listed in `AMBIGUOUS`; an abbreviation not in the table makes
the row's value unreadable (rejected, naming the value), never a guess.
"""

from __future__ import annotations

from collections.abc import Callable

from dashboard.sql import quote_literal

# minutes east of UTC
ABBREVIATIONS: dict[str, int] = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": 60, "BST": 60, "IST": 330,
    "CET": 60, "CEST": 120, "MET": 60, "MEST": 120, "EET": 120, "EEST": 180, "MSK": 180,
    "WAT": 60, "CAT": 120, "EAT": 180, "SAST": 120,
    "EST": -300, "EDT": -240, "CST": -360, "CDT": -300, "MST": -420, "MDT": -360,
    "PST": -480, "PDT": -420, "AKST": -540, "AKDT": -480, "HST": -600, "HDT": -540,
    "AST": -240, "ADT": -180, "NST": -210, "NDT": -150,
    "PKT": 300, "HKT": 480, "SGT": 480, "PHT": 480, "WIB": 420, "JST": 540, "KST": 540,
    "AWST": 480, "ACST": 570, "ACDT": 630, "AEST": 600, "AEDT": 660,
    "NZST": 720, "NZDT": 780, "CHST": 600,
}  # fmt: skip
AMBIGUOUS: dict[str, str] = {
    "AST": "Atlantic (UTC−4), not Arabia (UTC+3, which English Google writes GMT+3)",
    "CST": "US Central (UTC−6), not China (UTC+8) or Cuba (UTC−5)",
    "IST": "India (UTC+5:30), not Ireland (UTC+1) or Israel (UTC+2)",
    "BST": "British Summer Time (UTC+1), not Bangladesh (UTC+6)",
}

# After a time (and an optional AM/PM): GMT/UTC with an optional offset, or a
# 2-5 letter abbreviation. A digit or AM/PM must come first, so a trailing word
# in a free-text value or a bare date never looks like a zone. Spaces include
# the no-break and narrow no-break ones recent CLDR puts before AM/PM.
_SPACE = r"[\s\pZ]"
_ZONE = r"(?:GMT|UTC|UT)(?:\s*[+-]\d{1,2}(?::?\d{2})?)?|[A-Za-z]{2,5}"
TAIL = rf"\d(?:{_SPACE}*[AaPp]\.?[Mm]\.?)?{_SPACE}*({_ZONE})$"


def is_zoned(text: str) -> str:
    """SQL: whether `text` ends in a zone `zoned_sql` reads (AM/PM alone is none)."""
    return (
        f"(regexp_matches({text}, '{TAIL}') AND "
        f"upper(regexp_extract({text}, '{TAIL}', 1)) NOT IN ('AM', 'PM'))"
    )


def unknown_zone(text: str) -> str:
    """SQL: the abbreviation `text` ends with when the table does not know it (for
    the rejection reason), else NULL."""
    zone = f"upper(regexp_extract({text}, '{TAIL}', 1))"
    known = ", ".join(quote_literal(k) for k in ABBREVIATIONS)
    return (
        f"CASE WHEN {is_zoned(text)} AND NOT regexp_matches({zone}, '^(GMT|UTC|UT)') "
        f"AND {zone} NOT IN ({known}) THEN {zone} END"
    )


def zoned_sql(text: str, naive: Callable[[str], str]) -> str:
    """SQL: TIMESTAMPTZ of `text` for which `is_zoned` holds, NULL when unreadable
    (an unknown abbreviation, a body no format reads).

    `naive(sql)` reads the value without its zone as a naive TIMESTAMP
    (canonical's ISO cast and strptime list)."""
    zone = f"upper(regexp_extract({text}, '{TAIL}', 1))"
    body = (
        f"trim(regexp_replace(regexp_replace({text}, '{_SPACE}*({_ZONE})$', ''), "
        f"'{_SPACE}+', ' ', 'g'))"
    )
    table = "MAP {" + ", ".join(f"{quote_literal(k)}: {v}" for k, v in ABBREVIATIONS.items()) + "}"
    sign = f"CASE WHEN contains({zone}, '-') THEN -1 ELSE 1 END"
    parts = f"regexp_extract({zone}, '([+-])(\\d{{1,2}})(?::?(\\d{{2}}))?$', ['s', 'h', 'm'])"
    offset = (
        f"CASE WHEN regexp_matches({zone}, '^(GMT|UTC|UT)\\s*[+-]') THEN {sign} * "
        f"(CAST({parts}.h AS INTEGER) * 60 + coalesce(try_cast({parts}.m AS INTEGER), 0)) "
        f"ELSE {table}[{zone}] END"
    )
    return f"make_timestamptz(epoch_us({naive(body)}) - CAST({offset} AS BIGINT) * 60000000)"
