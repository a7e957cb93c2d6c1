"""Who a requester is: one key per person across every tool (CONTRACT "Who a requester is").

Tools name the same colleague differently: Zendesk by a numeric requester id (and an
e-mail), ServiceNow by a display name (and `caller_id.email` when it is exported),
Jira by a display name and an account id, survey tools by an e-mail. Keyed by
whatever id each tool has, one person is three requesters who never meet the people
file, so "left the organisation" cannot be applied and "stopped coming to IT, still
files with HR" cannot be seen.

So every identity an export shows (the tool's id, e-mail, name, employee number) is
kept once per source in `requester_identities`; tickets and survey responses point
at it through `requester_key` / `respondent_key`, and it is resolved to one
`requester_id`:

1. the people file's `person_id` when exactly one person fits, trying in order the
   e-mail (people `email`, a `person_id` that is an e-mail, or an e-mail alias), the
   employee number (`employee_id`, or a `person_id` equal to it), the tool's id (an
   alias written `source:id` or bare, or a `person_id` / `employee_id` equal to it)
   and the name (`name` or a name alias, compared without case, accents, extra
   spaces or "Last, First" order). A name never picks a person whose e-mail on file
   differs from the one the export shows: that is a namesake, not the same person;
2. else the e-mail in lower case;
3. else `source:tool id` (`source:employee id` or `source:name` when the export has
   nothing better).

A key that fits two or more people (two colleagues called Alex Kim) never merges
them: the identity keeps its own key, `matched_by = 'ambiguous'` and the number of
`candidates`; the Data page lists it. Within one source, identities that share a tool
id are one account: an e-mail or employee number seen on one counts for all (a
Zendesk API export without e-mails next to a CSV export with them).

Resolution is a pure function of the identities and the people file, redone in the
derived-data step after every ingest (`resolve`), so a people file loaded after the
tickets still matches them and loading the same data again changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from dashboard.identity import MATCHED_BY, PARTS, SIDES, SURVEYS, TICKETS, is_email, name_key


def _hash(exprs: Mapping[str, str]) -> str:
    return "hash(" + ", ".join(f"CAST({exprs.get(p, 'NULL')} AS VARCHAR)" for p in PARTS) + ")"


def observe(
    con: duckdb.DuckDBPyConnection,
    rows: str,
    exprs: Mapping[str, str],
    source: str,
    table: str,
) -> None:
    """Temp table `table`: the distinct identities among `rows`, normalised and keyed.

    `exprs` maps tool_id / email / name / employee_id to SQL over `rows` (cleaned text;
    missing parts are NULL); `source` is SQL too (a literal for one file, a column for
    a backfill). Columns: source, h (the hash a row is joined back on, see `join_on`),
    the raw parts, the normalised parts, requester_key, and requester_id (filled by
    `register`). Work happens on distinct raw tuples, so a million-row file costs one
    hash per row, not the normalisation and the md5 key per row.
    """
    raw = {p: f"CAST({exprs.get(p, 'NULL')} AS VARCHAR)" for p in PARTS}
    any_part = " OR ".join(f"{raw[p]} IS NOT NULL" for p in PARTS)
    email = (
        f"coalesce(CASE WHEN {is_email('raw_email')} THEN lower(raw_email) END, "
        f"CASE WHEN {is_email('raw_tool_id')} THEN lower(raw_tool_id) END, "
        f"CASE WHEN {is_email('raw_name')} THEN lower(raw_name) END)"
    )
    name = (
        f"CASE WHEN NOT {is_email('raw_name')} THEN "
        "nullif(trim(regexp_replace(raw_name, '\\s+', ' ', 'g')), '') END"
    )
    # 63 bits of the md5 of the normalised identity: stable across DuckDB versions (unlike
    # hash()) and a signed BIGINT, which Parquet and Spark read as they read any id
    key = (
        "CAST(md5_number_lower(concat_ws(chr(31), coalesce(tool_id, ''), coalesce(email, ''), "
        "coalesce(lower(name), ''), coalesce(employee_id, ''))) >> 1 AS BIGINT)"
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        WITH r AS (
            SELECT {source} AS source, {_hash(exprs)} AS h,
                {", ".join(f"{raw[p]} AS raw_{p}" for p in PARTS)}
            FROM {rows} WHERE {any_part}
            GROUP BY ALL
        ), n AS (
            SELECT *,
                CASE WHEN NOT {is_email("raw_tool_id")} THEN raw_tool_id END AS tool_id,
                {email} AS email, {name} AS name, raw_employee_id AS employee_id
            FROM r
        )
        SELECT *, {key} AS requester_key, CAST(NULL AS VARCHAR) AS requester_id FROM n""")


def join_on(
    con: duckdb.DuckDBPyConnection, table: str, alias: str, exprs: Mapping[str, str], source: str
) -> str:
    """The ON clause joining rows back to their identity in `table` (as `alias`).

    On the row hash alone normally; if two raw identities of this file share a 64-bit
    hash (about one chance in 10^8 at a million identities), on the raw values too."""
    on = f"{alias}.source = {source} AND {alias}.h = {_hash(exprs)}"
    collided = con.sql(f"SELECT count(*) > count(DISTINCT (source, h)) FROM {table}").fetchall()[0][
        0
    ]
    if collided:
        on += "".join(
            f" AND {alias}.raw_{p} IS NOT DISTINCT FROM CAST({exprs.get(p, 'NULL')} AS VARCHAR)"
            for p in PARTS
        )
    return on


def register(con: duckdb.DuckDBPyConnection, table: str, ingest_id: int | None) -> int:
    """Add the identities of `table` (from `observe`) that are new, resolve everything,
    and fill `table.requester_id` with the resolved ids. Returns how many identities
    already loaded changed their requester (see `resolve`)."""
    con.execute(f"""
        INSERT INTO requester_identities
            (source, requester_key, tool_id, email, name, employee_id, first_ingest_id)
        SELECT source, requester_key, any_value(tool_id), any_value(email), any_value(name),
            any_value(employee_id), {"NULL" if ingest_id is None else int(ingest_id)}
        FROM {table} GROUP BY source, requester_key
        ON CONFLICT DO NOTHING""")
    changed = resolve(con)
    con.execute(f"""
        UPDATE {table} SET requester_id = i.requester_id FROM requester_identities i
        WHERE i.source = {table}.source AND i.requester_key = {table}.requester_key""")
    return changed


_PRIORITY = " ".join(f"WHEN '{m}' THEN {i}" for i, m in enumerate(MATCHED_BY))


def _person_keys(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table inward_person_keys: every value that identifies a person (kind, value),
    how many people it fits, and how many of those have an e-mail on file."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE inward_person_keys AS
        WITH p AS (
            SELECT person_id, trim(email) AS email, trim(employee_id) AS employee_id, name,
                coalesce(aliases, []::VARCHAR[]) AS aliases
            FROM people
        ), a AS (
            SELECT person_id, trim(unnest(aliases)) AS alias FROM p
        ), raw AS (
            SELECT person_id, 'email' AS kind, lower(email) AS value, 'email' AS via
            FROM p WHERE email IS NOT NULL
            UNION ALL SELECT person_id, 'email', lower(person_id), 'email'
            FROM p WHERE {is_email("person_id")}
            UNION ALL SELECT person_id, 'email', lower(alias), 'alias'
            FROM a WHERE {is_email("alias")}
            UNION ALL SELECT person_id, 'employee_id', lower(employee_id), 'employee_id'
            FROM p WHERE employee_id IS NOT NULL
            UNION ALL SELECT person_id, 'employee_id', lower(person_id), 'person_id' FROM p
            UNION ALL SELECT person_id, 'id', lower(person_id), 'person_id' FROM p
            UNION ALL SELECT person_id, 'id', lower(employee_id), 'employee_id'
            FROM p WHERE employee_id IS NOT NULL
            UNION ALL SELECT person_id, 'id', lower(alias), 'alias'
            FROM a WHERE NOT {is_email("alias")}
            UNION ALL SELECT person_id, 'name', {name_key("name")}, 'name'
            FROM p WHERE name IS NOT NULL
            UNION ALL SELECT person_id, 'name', {name_key("alias")}, 'alias'
            FROM a WHERE NOT {is_email("alias")}
        ), mailed AS (SELECT DISTINCT person_id FROM raw WHERE kind = 'email')
        SELECT kind, value, count(DISTINCT person_id) AS people,
            count(DISTINCT person_id) FILTER (WHERE person_id IN (SELECT person_id FROM mailed))
                AS with_email,
            min(person_id) AS person_id,
            arg_min(via, CASE via {_PRIORITY} END) AS via
        FROM raw WHERE value IS NOT NULL AND value <> ''
        GROUP BY kind, value""")


def _resolved(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table inward_resolved: every identity's requester_id, matched_by, candidates."""
    steps = (  # (alias, kind, value expression), in matching order
        ("e", "email", "i.email"),
        ("k", "employee_id", "lower(i.employee_id)"),
        ("s", "id", "lower(i.source || ':' || i.tool_id)"),
        ("b", "id", "lower(i.tool_id)"),
        ("n", "name", name_key("i.name")),
    )
    joins = " ".join(
        f"LEFT JOIN inward_person_keys {a} ON {a}.kind = '{k}' AND {a}.value = {v}"
        for a, k, v in steps
    )
    # a name whose every candidate has an e-mail on file other than the export's: a namesake
    n_people = (
        "CASE WHEN i.email IS NOT NULL AND n.with_email = n.people THEN NULL ELSE n.people END"
    )
    counts = {a: f"{a}.people" for a, _, _ in steps} | {"n": n_people}
    unique = [(a, f"coalesce({counts[a]}, 0) = 1") for a, _, _ in steps]
    person = "CASE " + " ".join(f"WHEN {c} THEN {a}.person_id" for a, c in unique) + " END"
    via = "CASE " + " ".join(f"WHEN {c} THEN {a}.via" for a, c in unique)
    most = "greatest(" + ", ".join(f"coalesce({c}, 0)" for c in counts.values()) + ")"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE inward_resolved AS
        WITH i AS (
            SELECT source, requester_key, tool_id, name,
                coalesce(email, CASE WHEN tool_id IS NOT NULL AND count(DISTINCT email) OVER w = 1
                                     THEN max(email) OVER w END) AS email,
                coalesce(employee_id, CASE WHEN tool_id IS NOT NULL
                                           AND count(DISTINCT employee_id) OVER w = 1
                                           THEN max(employee_id) OVER w END) AS employee_id
            FROM requester_identities
            WINDOW w AS (PARTITION BY source, tool_id)
        ), m AS (
            SELECT i.*, {person} AS person_id,
                {via} WHEN {most} > 1 THEN 'ambiguous' ELSE 'unmatched' END AS matched_by,
                {most} AS most
            FROM i {joins}
        )
        SELECT source, requester_key,
            coalesce(person_id, email, source || ':' || tool_id, source || ':' || employee_id,
                     source || ':' || name) AS requester_id,
            matched_by,
            CAST(CASE WHEN matched_by = 'ambiguous' THEN most END AS INTEGER) AS candidates
        FROM m""")


def resolve(con: duckdb.DuckDBPyConnection) -> int:
    """Re-resolve every identity against the people file; rewrite the requester of the
    tickets and survey responses whose identity now resolves differently.

    Only changed identities touch the big tables (a semi-join on their keys), so a
    refresh after an ingest that changed nothing costs a scan of the small identity
    table, not an update of every ticket. Returns the number of changed identities.
    """
    _person_keys(con)
    _resolved(con)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE inward_identity_changes AS
        SELECT r.* FROM inward_resolved r JOIN requester_identities i USING (source, requester_key)
        WHERE i.requester_id IS DISTINCT FROM r.requester_id
           OR i.matched_by IS DISTINCT FROM r.matched_by
           OR i.candidates IS DISTINCT FROM r.candidates""")
    changed = con.sql("SELECT count(*) FROM inward_identity_changes").fetchall()[0][0]
    if changed:
        con.execute("""
            UPDATE requester_identities SET requester_id = c.requester_id,
                matched_by = c.matched_by, candidates = c.candidates
            FROM inward_identity_changes c
            WHERE c.source = requester_identities.source
              AND c.requester_key = requester_identities.requester_key""")
        for side in SIDES:
            con.execute(f"""
                UPDATE {side.table} SET {side.person} = c.requester_id
                FROM inward_identity_changes c
                WHERE c.source = {side.table}.source AND c.requester_key = {side.table}.{side.key}
                  AND {side.table}.{side.person} IS DISTINCT FROM c.requester_id""")
    for t in ("inward_person_keys", "inward_resolved", "inward_identity_changes"):
        con.execute(f"DROP TABLE IF EXISTS temp.main.{t}")
    return changed


def backfill(con: duckdb.DuckDBPyConnection) -> None:
    """Give rows written without an identity (a warehouse from before identities, or rows
    inserted by SQL) one: their stored id is read as the tool's id (or e-mail)."""
    for side in SIDES:
        legacy = f"{side.table} WHERE {side.key} IS NULL AND {side.person} IS NOT NULL"
        if not con.sql(f"SELECT 1 FROM {legacy} LIMIT 1").fetchall():
            continue
        exprs = {"tool_id": side.person}
        observe(con, f"(SELECT * FROM {legacy})", exprs, "source", "inward_legacy_obs")
        register(con, "inward_legacy_obs", None)
        on = join_on(
            con,
            "inward_legacy_obs",
            "o",
            {"tool_id": f"{side.table}.{side.person}"},
            f"{side.table}.source",
        )
        con.execute(f"""
            UPDATE {side.table} SET {side.key} = o.requester_key, {side.person} = o.requester_id
            FROM inward_legacy_obs o WHERE {side.table}.{side.key} IS NULL AND {on}""")
        con.execute("DROP TABLE IF EXISTS temp.main.inward_legacy_obs")


def fill_from_people(con: duckdb.DuckDBPyConnection) -> None:
    """Requester department/type the export did not carry, from the people file.

    Many tools (Jira, Freshservice without a Department column) export no department
    or requester type; HR's people file has both. A value the export carried
    (`*_source = 'export'`) is never touched; a value filled from people is refilled,
    so it follows the people file and the current identity match (and is cleared when
    the requester no longer matches anyone).
    """
    for side, column, source, person_column, default in (
        (TICKETS, "requester_department", "requester_department_source", "department", None),
        (TICKETS, "requester_type", "requester_type_source", "person_type", "'unknown'"),
        (SURVEYS, SURVEYS.department, SURVEYS.department_source, "department", None),
    ):
        value = f"coalesce(p.{person_column}, {default})" if default else f"p.{person_column}"
        con.execute(f"""
            UPDATE {side.table} SET {column} = f.value,
                {source} = CASE WHEN f.filled THEN 'people' END
            FROM (SELECT t.rowid AS rid, {value} AS value,
                         p.{person_column} IS NOT NULL AS filled
                  FROM {side.table} t LEFT JOIN people p ON p.person_id = t.{side.person}
                  WHERE coalesce(t.{source}, '') <> 'export'
                    AND t.{column} IS DISTINCT FROM {value}) f
            WHERE {side.table}.rowid = f.rid""")


def refresh(con: duckdb.DuckDBPyConnection) -> int:
    """The derived-data step for identities: backfill, re-resolve, fill.

    Identities no row points at any more (a newer export of the same tickets named the
    requester differently) are kept: they are aliases the tools showed, they still link
    a tool id to an e-mail, and match rates only count identities rows point at."""
    backfill(con)
    changed = resolve(con)
    fill_from_people(con)
    return changed
