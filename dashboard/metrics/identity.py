"""How well requesters were matched to the people file: per source, per file, and who
was not (for the Data page, `inward ingest` and the identity tests).

A requester is counted once per source and kind (tickets or surveys) by its resolved
`requester_id`; it is *matched* when that id is a person of the people file. The
counts by method say how: `email`, `employee_id`, `person_id` (the tool's id is the
person's id), `alias` (listed in the people file's aliases) or `name` (an
unambiguous name). `ambiguous` requesters fit several people (namesakes) and are kept
apart; `unmatched` fit nobody.
"""

from __future__ import annotations

import duckdb
import polars as pl

from dashboard.identity import MATCHED_BY, NOT_MATCHED, SURVEYS, TICKETS

_METHODS = (*MATCHED_BY, *NOT_MATCHED)


def _rows(ingest_id: int | None) -> str:
    """Rows per identity (tickets; survey responses counted once per response)."""
    where = "" if ingest_id is None else f" AND ingest_id = {int(ingest_id)}"
    return f"""
        SELECT 'tickets' AS kind, source, {TICKETS.key} AS k, count(*) AS n
        FROM {TICKETS.table} WHERE true{where} GROUP BY ALL
        UNION ALL
        SELECT 'surveys', source, {SURVEYS.key}, count(DISTINCT response_id)
        FROM {SURVEYS.table} WHERE true{where} GROUP BY ALL"""


def match_summary(con: duckdb.DuckDBPyConnection, ingest_id: int | None = None) -> pl.DataFrame:
    """One row per (kind, source): requesters, matched, by method, ambiguous, unmatched,
    match_rate, and the rows (tickets / responses) behind them, with the share of rows
    whose requester is matched and the rows that name no requester at all. With
    `ingest_id`, only the rows that file loaded (and still holds)."""
    counts = ", ".join(
        f"count(*) FILTER (WHERE best = '{m}') AS {'by_' + m if m in MATCHED_BY else m}"
        for m in _METHODS
    )
    return (
        con.sql(f"""
        WITH r AS ({_rows(ingest_id)}),
        per AS (
            SELECT r.kind, r.source, i.requester_id, sum(r.n) AS n,
                arg_min(i.matched_by, CASE i.matched_by
                    {" ".join(f"WHEN '{m}' THEN {j}" for j, m in enumerate(_METHODS))} END)
                    AS best,
                bool_or(i.email IS NOT NULL) AS has_email,
                bool_or(i.tool_id IS NOT NULL) AS has_tool_id,
                bool_or(i.name IS NOT NULL) AS has_name
            FROM r JOIN requester_identities i ON i.source = r.source AND i.requester_key = r.k
            GROUP BY ALL
        ), agg AS (
            SELECT kind, source, count(*) AS requesters,
                count(*) FILTER (WHERE best NOT IN {NOT_MATCHED}) AS matched, {counts},
                count(*) FILTER (WHERE has_email) AS with_email,
                count(*) FILTER (WHERE has_tool_id) AS with_tool_id,
                count(*) FILTER (WHERE has_name) AS with_name,
                CAST(sum(n) AS BIGINT) AS rows,
                CAST(sum(n) FILTER (WHERE best NOT IN {NOT_MATCHED}) AS BIGINT) AS rows_matched
            FROM per GROUP BY ALL
        ), blank AS (
            SELECT kind, source, CAST(sum(n) AS BIGINT) AS rows_without_requester
            FROM r WHERE k IS NULL
            GROUP BY ALL
        )
        SELECT kind, source, coalesce(requesters, 0) AS requesters,
            coalesce(matched, 0) AS matched,
            CASE WHEN requesters > 0 THEN matched / requesters END AS match_rate,
            * EXCLUDE (kind, source, requesters, matched, rows, rows_matched,
                       rows_without_requester),
            coalesce(rows, 0) AS rows,
            CASE WHEN rows > 0 THEN coalesce(rows_matched, 0) / rows END AS rows_matched_share,
            coalesce(rows_without_requester, 0) AS rows_without_requester
        FROM agg FULL JOIN blank USING (kind, source)
        ORDER BY kind DESC, source""")
        .pl()
        .with_columns(pl.col(pl.Int64).fill_null(0))
    )


def unmatched_requesters(con: duckdb.DuckDBPyConnection, limit: int = 500) -> pl.DataFrame:
    """Requesters not matched to the people file, ambiguous ones first, most rows first:
    kind, source, requester_id, matched_by (ambiguous/unmatched), candidates (how many
    people an ambiguous one fits), which clues the export gave, and rows."""
    return con.sql(f"""
        WITH r AS ({_rows(None)}),
        u AS (
            SELECT r.kind, r.source, i.requester_id, i.matched_by,
                max(i.candidates) AS candidates,
                bool_or(i.email IS NOT NULL) AS has_email,
                bool_or(i.tool_id IS NOT NULL) AS has_tool_id,
                bool_or(i.name IS NOT NULL) AS has_name, CAST(sum(r.n) AS BIGINT) AS rows
            FROM r JOIN requester_identities i
                ON i.source = r.source AND i.requester_key = r.k
            WHERE i.matched_by IN {NOT_MATCHED}
            GROUP BY r.kind, r.source, i.requester_id, i.matched_by
        )
        SELECT * REPLACE (inward_id(requester_id) AS requester_id) FROM u
        ORDER BY matched_by = 'ambiguous' DESC, rows DESC, source, requester_id
        LIMIT {int(limit)}""").pl()


def people_summary(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """What the people file offers for matching: people, with e-mail / name / employee
    number / aliases, and names shared by two or more people (never matched by name)."""
    row = con.sql("""
        SELECT count(*), count(email), count(name), count(employee_id),
            count(*) FILTER (WHERE len(coalesce(aliases, [])) > 0),
            (SELECT count(*) FROM (SELECT lower(name) FROM people WHERE name IS NOT NULL
                                   GROUP BY 1 HAVING count(*) > 1))
        FROM people""").fetchall()[0]
    keys = ("people", "with_email", "with_name", "with_employee_id", "with_aliases",
            "shared_names")  # fmt: skip
    return dict(zip(keys, (int(v) for v in row), strict=True))


def describe(frame: pl.DataFrame, people: int) -> str:
    """'812 requesters, 97.3 % matched to people (700 by e-mail, 90 by name); 4 ambiguous'
    (`people`: the people file's size; without one, say how requesters are keyed)."""
    if frame.is_empty():
        return ""
    total = frame.select(pl.sum(c) for c in frame.columns if c not in ("kind", "source"))
    t = total.row(0, named=True)
    if not t["requesters"]:
        return "no requester in this file" if t["rows_without_requester"] else ""
    ways = ", ".join(
        f"{t['by_' + m]:,} by {m.replace('_', ' ').replace('email', 'e-mail')}"
        for m in MATCHED_BY
        if t["by_" + m]
    )
    text = f"{t['requesters']:,} requesters"
    if not people:
        return text + (
            f" ({t['with_email']:,} with an e-mail, {t['with_tool_id']:,} with a tool id, "
            f"{t['with_name']:,} with a name; no people file loaded to match them to)"
        )
    if t["matched"]:
        text += f", {t['matched'] / t['requesters']:.1%} matched to people ({ways})"
    else:
        text += ", none matched to people"
    extra = [f"{t[k]:,} {k}" for k in NOT_MATCHED if t[k] and (k != "unmatched" or t["matched"])]
    return text + ("; " + ", ".join(extra) if extra else "")


def ingest_note(con: duckdb.DuckDBPyConnection, kind: str, ingest_id: int) -> str:
    """The identity part of one ingest's summary line."""
    p = people_summary(con)
    if kind in ("tickets", "surveys"):
        return describe(match_summary(con, ingest_id), p["people"])
    if kind != "people":
        return ""
    text = (
        f"people file: {p['with_email']:,} with e-mail, {p['with_name']:,} with a name, "
        f"{p['with_employee_id']:,} with an employee number, {p['with_aliases']:,} with aliases"
    )
    if p["shared_names"]:
        text += f"; {p['shared_names']:,} names shared by several people (never matched by name)"
    loaded = describe(match_summary(con), p["people"])
    return text + (f"; requesters loaded so far: {loaded}" if loaded else "")


def find_requesters(con: duckdb.DuckDBPyConnection, text: str) -> list[str]:
    """The requester ids `text` names: a requester_id itself, else every requester a tool
    showed with that alias (e-mail, tool id, name or employee number; case-insensitive).
    Ids come back as the viewer sees them (`inward_id`); without a raw grant, aliases
    are pseudonyms too, so only a pseudonym finds anyone."""
    rows = con.sql(
        """SELECT DISTINCT inward_id(requester_id) FROM (
               SELECT requester_id FROM requester_identities
               WHERE requester_id = $t OR inward_id(requester_id) = $t
               UNION ALL SELECT person_id FROM people WHERE person_id = $t)""",
        params={"t": text},
    ).fetchall()
    if not rows:
        rows = con.sql(
            """SELECT DISTINCT inward_id(requester_id) FROM requester_aliases
               WHERE lower(alias) = lower(trim($t)) ORDER BY 1""",
            params={"t": text},
        ).fetchall()
    return [r[0] for r in rows]
