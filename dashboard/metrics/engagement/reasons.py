"""The one readable sentence per engagement row, built from column expressions (no
per-row Python): rhythm, silence, the bad experience before it, other teams still used."""

from __future__ import annotations

import polars as pl

from dashboard.metrics.engagement.terms import FLAGGED

LONG_RESOLUTION_FACTOR = 3.0  # "took long" = at least this x the team's median resolution


def days_text(days: pl.Expr) -> pl.Expr:
    """'1 day' / 'N days' from a (non-null) number of days, rounded."""
    n = days.round(0).cast(pl.Int64)
    return pl.when(n == 1).then(pl.lit("1 day")).otherwise(pl.format("{} days", n))


def _span_text(days: pl.Expr) -> pl.Expr:
    """A human duration for a history span: weeks, months or years."""
    weeks = (days / 7.0).round(0).cast(pl.Int64).clip(1)
    months = (days / 30.44).round(0).cast(pl.Int64)
    years = (days / 365.25).round(1)
    return (
        pl.when(days < 61)
        .then(pl.when(weeks == 1).then(pl.lit("1 week")).otherwise(pl.format("{} weeks", weeks)))
        .when(days < 730)
        .then(pl.format("{} months", months))
        .otherwise(pl.format("{} years", years))
    )


def _times_text(n: pl.Expr) -> pl.Expr:
    return (
        pl.when(n == 1)
        .then(pl.lit("once"))
        .when(n == 2)
        .then(pl.lit("twice"))
        .otherwise(pl.format("{} times", n))
    )


def _join_and(parts: list[pl.Expr]) -> pl.Expr:
    """'a', 'a and b', 'a, b and c' from nullable string expressions (nulls skipped).

    String concatenation plus one regex instead of list operations: the list
    version (slice by per-row length, join) was ~100x slower on a million rows.
    The parts must not contain commas themselves.
    """
    joined = pl.concat_str(parts, separator=", ", ignore_nulls=True)
    return pl.when(joined != "").then(joined.str.replace(r", ([^,]*)$", " and $1"))


def _bad_experience_expr() -> pl.Expr:
    """' since a ticket that took 11 days to resolve and missed its SLA', or ''."""
    res = pl.col("_last_res")
    long_res = (
        res.is_not_null()
        & (res >= 1440)
        & (
            pl.col("_team_median_res").is_null()
            | (res >= LONG_RESOLUTION_FACTOR * pl.col("_team_median_res"))
        )
    )
    res_days = res / 1440.0
    took = pl.when(long_res).then(
        pl.format(
            "took {} to resolve",
            pl.when(res_days < 2)
            .then(pl.format("{} hours", (res / 60.0).round(0).cast(pl.Int64)))
            .otherwise(days_text(res_days)),
        )
    )
    unresolved = pl.when(
        pl.col("_last_resolved").is_null()
        & ~pl.col("_last_status").fill_null("").is_in(["solved", "closed", "cancelled"])
    ).then(pl.lit("is still open"))
    breach = pl.when(pl.col("_last_sla") == False).then(  # noqa: E712 - null stays null
        pl.lit("missed its resolution SLA")
    )
    reopened = pl.when(pl.col("_last_reopens").fill_null(0) > 0).then(
        pl.format("was reopened {}", _times_text(pl.col("_last_reopens").cast(pl.Int64)))
    )
    low_csat = pl.when(pl.col("_last_low_csat") == True).then(  # noqa: E712
        pl.lit("got a low satisfaction score")
    )
    bad = _join_and([took, unresolved, breach, reopened, low_csat])
    return (
        pl.when(bad.is_not_null())
        .then(pl.format(" since a ticket that {}", bad))
        .otherwise(pl.lit(""))
    )


def add_reasons(g: pl.DataFrame) -> pl.DataFrame:
    """One readable sentence per row, without per-row Python.

    Each row is formatted by the template of its own kind only (the frame is
    split by kind and put back together): a single when/then chain would
    format every template for every row, which cost seconds at 1M rows.
    """
    g = g.with_columns(
        pl.col("service_team").fill_null("the service").alias("_team_txt"),
        pl.format("~{}", days_text(pl.col("typical_gap_days"))).alias("_gap_txt"),
        _span_text(pl.col("_span_days")).alias("_span_txt"),
        days_text(pl.col("days_silent")).alias("_silent_txt"),
        pl.when(pl.col("status") == "new")
        .then(pl.lit("new"))
        .when((pl.col("status") == "occasional") & (pl.col("tickets") < 2))
        .then(pl.lit("one"))
        .when((pl.col("status") == "occasional") & pl.col("_enough"))
        .then(pl.lit("occ"))
        .when(pl.col("status") == "occasional")
        .then(pl.lit("few"))
        .when(pl.col("status").is_in(["at_risk", "gone_quiet"]))
        .then(pl.lit("flag"))
        .when(pl.col("_overdue"))
        .then(pl.lit("late"))
        .otherwise(pl.lit("ok"))
        .alias("_kind"),
    )
    team, gap_txt, span_txt, silent_txt = (
        pl.col(c) for c in ("_team_txt", "_gap_txt", "_span_txt", "_silent_txt")
    )
    n = pl.col("tickets")
    ratio = (pl.col("days_silent") / pl.col("typical_gap_days")).round(0).cast(pl.Int64)
    templates: dict[str, pl.Expr] = {
        "new": pl.format(
            "New to {}: {} since {}; too little history for a rhythm yet",
            team,
            pl.when(n == 1).then(pl.lit("1 ticket")).otherwise(pl.format("{} tickets", n)),
            pl.col("first_ticket_at").dt.strftime("%Y-%m-%d"),
        ),
        "one": pl.format(
            "One ticket to {}, {} ago; too little history for a rhythm", team, silent_txt
        ),
        "occ": pl.format(
            "Uses {} occasionally, every {} over {}; silent {}, {}",
            team,
            gap_txt,
            span_txt,
            silent_txt,
            pl.when(pl.col("_overdue"))
            .then(pl.lit("longer than usual but the overall pattern still looks active"))
            .otherwise(pl.lit("within the usual rhythm")),
        ),
        "few": pl.format(
            "{} tickets to {} over {}; too few for a rhythm, last one {} ago",
            n,
            team,
            span_txt,
            silent_txt,
        ),
        "flag": pl.format(
            "Used {} every {} for {}; silent {} ({}x the usual gap){}",
            team,
            gap_txt,
            span_txt,
            silent_txt,
            ratio,
            _bad_experience_expr(),
        ),
        "late": pl.format(
            "Uses {} every {} for {}; silent {}, longer than usual, but the "
            "overall pattern still looks active",
            team,
            gap_txt,
            span_txt,
            silent_txt,
        ),
        "ok": pl.format(
            "Uses {} every {} for {}; last ticket {} ago", team, gap_txt, span_txt, silent_txt
        ),
    }
    parts = [
        part.with_columns(templates[kind].alias("reason"))
        for (kind,), part in g.group_by("_kind", maintain_order=True)
    ]
    return (
        pl.concat(parts, how="vertical")
        if parts
        else g.with_columns(pl.lit(None, dtype=pl.String).alias("reason"))
    )


def still_files_elsewhere(g: pl.DataFrame) -> pl.DataFrame:
    """Append "; still files with HR Operations (last ticket 4 days ago)" to the reason of
    a flagged row whose requester kept filing with other teams after going quiet here.

    That is what tells a person who stopped using one service from one who left or no
    longer needs help: they are still around, still asking, just not here. Only
    meaningful because requester_id is the same person in every tool.
    """
    flagged = g.filter(pl.col("status").is_in(FLAGGED)).select(
        "_gid", "requester_id", "last_ticket_at"
    )
    if flagged.is_empty():
        return g
    others = g.filter(~pl.col("status").is_in(FLAGGED)).select(
        "requester_id",
        pl.col("service_team").alias("_other"),
        pl.col("last_ticket_at").alias("_other_last"),
        pl.col("days_silent").alias("_other_silent"),
    )
    still = (
        flagged.join(others, on="requester_id")
        .filter(pl.col("_other_last") > pl.col("last_ticket_at"), pl.col("_other").is_not_null())
        .sort("_other_last", descending=True)
        .group_by("_gid")
        .agg(pl.col("_other").str.join(", ").alias("_teams"), pl.col("_other_silent").min())
        .with_columns(
            pl.format(
                "; still files with {} (last ticket {} ago)",
                pl.col("_teams"),
                days_text(pl.col("_other_silent")),
            ).alias("_still")
        )
    )
    return (
        g.join(still.select("_gid", "_still"), on="_gid", how="left")
        .with_columns(pl.concat_str("reason", pl.col("_still").fill_null("")).alias("reason"))
        .drop("_still")
    )
