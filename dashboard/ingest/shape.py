"""Per-kind shaping of canonical rows into the warehouse tables' rows.

Tickets, people and org are one row per file row. Surveys and outcomes may be
wide (one column per metric) and are melted to the contract's long form; a file
row then counts as loaded when at least one of its values loaded and none was
invalid, so `rows_read = rows_loaded + rows_rejected` still counts file rows.
"""

from __future__ import annotations

import duckdb

from dashboard.derive import identity
from dashboard.ingest.canonical import (
    SURVEY_SCALES,
    Canonical,
    decimal_comma,
    number_sql,
)
from dashboard.sql import quote_literal

WIDE_SURVEY_METRICS = ("csat", "nps", "ces")


def tickets(con: duckdb.DuckDBPyConnection, canon: Canonical, source: str) -> str:
    """Good ticket rows, last row per ticket id winning; earlier duplicates are rejected
    with a reason so they are counted, not silently dropped.

    Only ids that occur more than once are ranked (a hash aggregate finds them),
    and `shaped` is a view of the canonical table plus those few reasons: a window
    over every row and a full copy of the file cost more than the insert itself
    at millions of rows."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE ticket_dups AS
        SELECT __row,
            'ticket_id: duplicate ''' || ticket_id || ''' in this file; row '
            || CAST(__winner AS VARCHAR) || ' replaces it' AS __dup_reason
        FROM (
            SELECT __row, ticket_id,
                row_number() OVER w AS __dup_rank,
                first_value(__row) OVER w AS __winner
            FROM {canon.table}
            WHERE __reason IS NULL AND ticket_id IN (
                SELECT ticket_id FROM {canon.table} WHERE __reason IS NULL
                GROUP BY ticket_id HAVING count(*) > 1)
            WINDOW w AS (PARTITION BY ticket_id ORDER BY updated_at DESC NULLS LAST, __row DESC)
        ) WHERE __dup_rank > 1""")
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW shaped AS
        SELECT c.*, coalesce(c.__reason, d.__dup_reason) AS __final_reason
        FROM {canon.table} c LEFT JOIN ticket_dups d USING (__row)""")
    on = _observe_requesters(
        con, "requester", source, "(SELECT * FROM shaped WHERE __final_reason IS NULL)"
    )
    return f"""
        SELECT s.ticket_id, {quote_literal(source)} AS source, s.service_team, o.requester_id,
            o.requester_key, s.requester_department,
            CASE WHEN s.requester_department IS NOT NULL THEN 'export' END
                AS requester_department_source,
            coalesce(s.requester_type, 'unknown') AS requester_type,
            CASE WHEN s.requester_type <> 'unknown' THEN 'export' END AS requester_type_source,
            s.channel, s.category, s.priority, s.ticket_type, s.status, s.created_at,
            s.updated_at,
            coalesce(s.first_response_at, s.created_at
                     + to_microseconds(CAST(s.first_response_minutes * 60e6 AS BIGINT)))
                AS first_response_at,
            s.resolved_at, s.reopen_count, s.replies, s.subject
        FROM shaped s LEFT JOIN {OBSERVED} o ON {on}
        WHERE s.__final_reason IS NULL"""


# The temp table of the file's requester identities; `load` registers them (and so
# fills in their resolved requester_id) before the shaped rows are written.
OBSERVED = "requester_obs"


def _observe_requesters(con: duckdb.DuckDBPyConnection, prefix: str, source: str, rows: str) -> str:
    """Collect the distinct identities of `rows` (canonical columns `<prefix>_id`,
    `_email`, `_name`, `_employee_id`) into OBSERVED; returns the ON clause that joins
    a row (as `s`) to its identity (as `o`)."""
    exprs = {
        "tool_id": f"s.{prefix}_id",
        "email": f"s.{prefix}_email",
        "name": f"s.{prefix}_name",
        "employee_id": f"s.{prefix}_employee_id",
    }
    identity.observe(con, f"{rows} s", exprs, quote_literal(source), OBSERVED)
    return identity.join_on(con, OBSERVED, "o", exprs, quote_literal(source))


def _row_reasons(con: duckdb.DuckDBPyConnection, value: str, missing: str) -> None:
    """`shaped`: one final reason per file row of `melted`, where one wide row became a
    row per metric: the row's own reason, every unreadable value's, or `missing` when
    the row held no `value` at all (None when the row is good)."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE shaped AS
        SELECT __row, nullif(concat_ws('; ', any_value(__reason),
                string_agg(__value_reason, '; '),
                CASE WHEN count({value}) = 0 AND any_value(__reason) IS NULL
                     AND count(__value_reason) = 0
                     THEN {quote_literal(missing)} END), '') AS __final_reason
        FROM melted GROUP BY __row""")


def surveys(con: duckdb.DuckDBPyConnection, canon: Canonical, source: str, survey_name: str) -> str:
    """Long survey rows: one per (response, metric); wide files are melted."""
    cols = set(canon.mapped)
    base = (
        "__row, coalesce(response_id, 'row-' || CAST(__row AS VARCHAR)) AS response_id, "
        f"coalesce(survey, {quote_literal(survey_name)}) AS survey, submitted_at, respondent_id, "
        "respondent_department, service_team, ticket_id, comment, __reason, "
        "respondent_email, respondent_name, respondent_employee_id"
    )
    parts = []
    if {"metric", "score"} <= cols:
        smin = "try_cast(x_scale_min AS DOUBLE)" if "scale_min" in cols else "NULL"
        smax = "try_cast(x_scale_max AS DOUBLE)" if "scale_max" in cols else "NULL"
        parts.append(
            f"SELECT {base}, lower(x_metric) AS metric, x_score AS score_text, "
            f"{smin} AS scale_min, {smax} AS scale_max FROM {canon.table}"
        )
    else:
        for m in WIDE_SURVEY_METRICS:
            if m in cols:
                lo, hi = SURVEY_SCALES[m]
                parts.append(
                    f"SELECT {base}, '{m}' AS metric, x_{m} AS score_text, "
                    f"{lo} AS scale_min, {hi} AS scale_max FROM {canon.table}"
                )
    if not parts:
        parts.append(
            f"SELECT {base}, NULL AS metric, NULL AS score_text, "
            f"NULL::DOUBLE AS scale_min, NULL::DOUBLE AS scale_max FROM {canon.table}"
        )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE melted AS
        WITH m AS ({" UNION ALL ".join(parts)}),
        s AS (
            SELECT m.* EXCLUDE (metric, scale_min, scale_max),
                CASE WHEN metric IN ('csat', 'nps', 'ces') THEN metric
                     WHEN metric IS NULL THEN NULL ELSE 'other' END AS metric,
                coalesce(scale_min, CASE metric WHEN 'csat' THEN 1 WHEN 'nps' THEN 0
                    WHEN 'ces' THEN 1 END) AS scale_min,
                coalesce(scale_max, CASE metric WHEN 'csat' THEN 5 WHEN 'nps' THEN 10
                    WHEN 'ces' THEN 7 END) AS scale_max,
                {number_sql("trim(score_text)", canon.decimal_comma)} AS score
            FROM m
        )
        SELECT *, CASE
            WHEN score_text IS NOT NULL AND trim(score_text) <> '' AND score IS NULL THEN
                'score: could not read ''' || score_text || ''' as a number (' || metric || ')'
            WHEN score < scale_min OR score > scale_max THEN
                'score: ' || score_text || ' is outside the ' || printf('%g', scale_min)
                || '–' || printf('%g', scale_max) || ' scale of ' || metric
            -- the same (response, metric) twice in one file: the last row wins and the
            -- earlier one is counted as rejected (a second upsert of one key would fail)
            WHEN __reason IS NULL AND score IS NOT NULL AND row_number() OVER (
                    PARTITION BY response_id, metric, __reason IS NULL AND score IS NOT NULL
                    ORDER BY __row DESC) > 1 THEN
                'response_id: duplicate ''' || response_id || ''' (' || metric
                || ') in this file; a later row replaces it'
            END AS __value_reason
        FROM s""")
    _row_reasons(con, "score", "score: no survey score in this row")
    con.execute("""
        CREATE OR REPLACE TEMP VIEW survey_rows AS
        SELECT melted.* FROM melted JOIN shaped USING (__row)
        WHERE __final_reason IS NULL AND score IS NOT NULL""")
    on = _observe_requesters(con, "respondent", source, "survey_rows")
    return f"""
        SELECT s.response_id, {quote_literal(source)} AS source, s.survey, s.submitted_at,
            o.requester_id AS respondent_id, o.requester_key AS respondent_key,
            s.respondent_department,
            CASE WHEN s.respondent_department IS NOT NULL THEN 'export' END
                AS respondent_department_source,
            s.service_team, s.ticket_id, s.metric, s.score, s.scale_min, s.scale_max, s.comment
        FROM survey_rows s LEFT JOIN {OBSERVED} o ON {on}"""


def outcomes(
    con: duckdb.DuckDBPyConnection, canon: Canonical, source: str, staged_columns: list[str]
) -> str:
    """Long outcome rows; a wide file's every other numeric column is a metric."""
    cols = set(canon.mapped)
    src = (
        f"coalesce(x_source, {quote_literal(source)})"
        if "source" in cols
        else quote_literal(source)
    )
    if {"metric", "value"} <= cols:
        con.execute(f"""CREATE OR REPLACE TEMP TABLE melted AS
            SELECT __row, period_start, business_unit, lower(x_metric) AS metric,
                x_value AS value_text, {src} AS source, __reason FROM {canon.table}""")
    else:
        used = set(canon.mapped.values())
        metric_cols = [c for c in staged_columns if c not in used]
        if not metric_cols:
            con.execute(f"""CREATE OR REPLACE TEMP TABLE melted AS
                SELECT __row, period_start, business_unit, NULL AS metric, NULL AS value_text,
                    {src} AS source, __reason FROM {canon.table}""")
        else:
            selects = " UNION ALL ".join(
                f"SELECT c.__row, c.period_start, c.business_unit, {quote_literal(m)} AS metric, "
                f'trim(s."{m}") AS value_text, {src} AS source, c.__reason '
                f"FROM {canon.table} c JOIN stg s USING (__row)"
                for m in metric_cols
            )
            con.execute(f"CREATE OR REPLACE TEMP TABLE melted AS {selects}")
    value = number_sql("value_text", decimal_comma(con, "melted", ["value_text"]))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE melted AS
        SELECT *, {value} AS value,
            CASE WHEN value_text IS NOT NULL AND value_text <> '' AND {value} IS NULL
                 THEN 'value: could not read ''' || value_text || ''' as a number ('
                      || metric || ')' END AS __value_reason
        FROM melted""")
    _row_reasons(con, "value", "value: no outcome value in this row")
    return """
        SELECT period_start, business_unit, metric, value, source
        FROM melted JOIN shaped USING (__row)
        WHERE __final_reason IS NULL AND value IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY period_start, business_unit, metric
                                   ORDER BY __row DESC) = 1"""


# People rows: the contract columns, then what identifies the person in the tools.
# Aliases are one text cell split on `;`, `|` or line breaks (never on commas, which
# names like "Tuter, Abel" contain); each is an e-mail, a tool id (`zendesk:123` for
# one tool, bare for any) or another spelling of the name.
PEOPLE_SELECT = (
    "person_id, department, person_type, active_from, active_to, email, {name} AS name, "
    "employee_id, list_filter(list_transform(regexp_split_to_array(coalesce(aliases, ''), "
    "'[;|\n]'), lambda a: trim(a)), lambda a: a <> '') AS aliases"
)


def full_name(canon: Canonical) -> str:
    """People `name`, else `first_name last_name` when the file splits it (HR exports do)."""
    parts = [f"x_{c}" for c in ("first_name", "last_name") if c in canon.mapped]
    if not parts:
        return "name"
    return f"coalesce(name, nullif(concat_ws(' ', {', '.join(parts)}), ''))"


def simple(con: duckdb.DuckDBPyConnection, canon: Canonical, key: str, select: str) -> str:
    """One row per file row (people, org); the last row per key wins, earlier ones are
    rejected as duplicates."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE shaped AS
        SELECT *, CASE WHEN __reason IS NULL AND row_number() OVER w > 1 THEN
            '{key}: duplicate ''' || {key} || ''' in this file; a later row replaces it'
            ELSE __reason END AS __final_reason
        FROM {canon.table}
        WINDOW w AS (PARTITION BY CASE WHEN __reason IS NULL THEN {key} END,
                     __reason IS NULL ORDER BY __row DESC)""")
    return f"SELECT {select} FROM shaped WHERE __final_reason IS NULL"


def events(
    con: duckdb.DuckDBPyConnection, canon: Canonical, source: str, name: str = "shaped"
) -> str:
    """Good event rows, one per event key, each a snapshot of the ticket after it.

    Vendors record either snapshots (an event log row carries every field) or
    deltas (an audit row names the one field that changed): filling status, team
    and assignee forward within each ticket turns both into snapshots, so a later
    reader never has to know which the file was. An event without a kind is a
    status change when it carries a status, an assignment when it carries a team
    or assignee, else `other`. The key is the vendor's event id, else a hash of the
    event's content, so a newer export that overlaps an older one adds nothing
    twice; the same key twice in one file keeps the later row and rejects the
    earlier with a reason (a row is counted, never dropped silently)."""
    content = (
        "md5(concat_ws('|', ticket_id, CAST(epoch_us(event_at) AS VARCHAR), vendor_status, "
        "service_team, assignee, kind, actor))"
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE ev_keyed AS
        SELECT *, coalesce(event_key, {content}) AS __key FROM {canon.table}""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE ev_dups AS
        SELECT __row, 'event_key: duplicate ''' || __key || ''' for ticket ''' || ticket_id
            || ''' in this file; a later row replaces it' AS __dup_reason
        FROM (SELECT __row, ticket_id, __key, row_number() OVER (
                  PARTITION BY ticket_id, __key ORDER BY __row DESC) AS n
              FROM ev_keyed WHERE __reason IS NULL)
        WHERE n > 1""")
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW {name} AS
        SELECT c.*, coalesce(c.__reason, d.__dup_reason) AS __final_reason
        FROM ev_keyed c LEFT JOIN ev_dups d USING (__row)""")
    filled = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    return f"""
        SELECT {quote_literal(source)} AS source, ticket_id, event_at AS "at",
            last_value(status IGNORE NULLS) OVER (w {filled}) AS status,
            last_value(service_team IGNORE NULLS) OVER (w {filled}) AS service_team,
            last_value(assignee IGNORE NULLS) OVER (w {filled}) AS assignee,
            coalesce(kind, CASE WHEN status IS NOT NULL THEN 'status'
                WHEN service_team IS NOT NULL OR assignee IS NOT NULL THEN 'assignment'
                ELSE 'other' END) AS kind,
            actor,
            last_value(vendor_status IGNORE NULLS) OVER (w {filled}) AS vendor_status,
            __key AS event_key, row_number() OVER w AS seq
        FROM {name} WHERE __final_reason IS NULL
        WINDOW w AS (PARTITION BY ticket_id ORDER BY event_at, __row)"""
