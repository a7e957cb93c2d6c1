"""Which measures a team's export never carries, so a page can say "n/a" and why.

A blank median or rate means two different things: nothing happened yet (no ticket
in the range got a reply), or the tool's export has no such field at all (a
ServiceNow incident list has no first-response time, a Jira CSV no reopen count).
Only the second is a fact about the data a reader must be told, and it is judged
over the team's whole history from that source, not the selected range, so a
quiet week is never reported as a missing field.
"""

from __future__ import annotations

import duckdb
import polars as pl

from dashboard.filters import Filters

# measure → (ticket column, what the export lacks, in words)
MEASURES: dict[str, tuple[str, str]] = {
    "first_response": ("first_response_at", "first reply time"),
    "reopen": ("reopen_count", "reopen count"),
}


def missing_measures(con: duckdb.DuckDBPyConnection, filters: Filters) -> pl.DataFrame:
    """One row per (service_team, source, measure) where the team's tickets from that
    source never carry the measure, for the teams in the selection; `partial` when the
    team's tickets from another source do carry it (its number then counts only those)."""
    where, params = filters.where()
    lacks = " UNION ALL ".join(
        f"SELECT service_team, source, '{name}' AS measure, "
        f"bool_or({column}_known > 0) OVER (PARTITION BY service_team) AS partial "
        f"FROM history QUALIFY {column}_known = 0"
        for name, (column, _) in MEASURES.items()
    )
    known = ", ".join(f"count({c}) AS {c}_known" for c, _ in MEASURES.values())
    return con.sql(
        f"""
        WITH history AS (
            SELECT service_team, source, {known} FROM tickets GROUP BY ALL
        ), shown AS (
            SELECT DISTINCT service_team, source FROM tickets WHERE {where}
        )
        SELECT l.service_team, l.source, l.measure, l.partial
        FROM ({lacks}) l JOIN shown s
            ON s.source = l.source AND s.service_team IS NOT DISTINCT FROM l.service_team
        ORDER BY l.measure, l.service_team NULLS LAST, l.source""",
        params=params,
    ).pl()


def notes(missing: pl.DataFrame, measure: str, label: str) -> list[str]:
    """What a page says under a `label` column or tile, one sentence per source lacking
    `measure` (a key of MEASURES): 'Reopened: n/a for Legal — the jira export has no
    reopen count', and for a team that also has tickets from a tool that carries it,
    that its number counts only those ('…; for IT Service Desk only tickets from
    other tools count')."""
    out = []
    rows = missing.filter(pl.col("measure") == measure)
    for (source,), group in rows.group_by(["source"], maintain_order=True):
        names = [t or "tickets without a team" for t in group["service_team"]]
        full = [n for n, part in zip(names, group["partial"], strict=True) if not part]
        part = [n for n, p in zip(names, group["partial"], strict=True) if p]
        lacks = f"the {source} export has no {MEASURES[measure][1]}"
        sentence = f"{label}: n/a for {', '.join(full)} — {lacks}" if full else f"{label}: {lacks}"
        if part:
            sep = "; for " if full else ", so for "
            sentence += f"{sep}{', '.join(part)} only tickets from other tools count"
        out.append(sentence)
    return out
