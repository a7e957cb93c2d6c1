"""Every panel of every page, by name: the app draws them, `inward panel NAME` prints them.

Why a registry: the guide's promise is that the CLI prints what the page shows. A
page asks for a panel by name (`dashboard.app.data.panel`), the CLI asks for the
same name, and both get the frame one function computes from the same filters —
so a number on screen can always be reproduced, piped or diffed from a terminal.

Each panel says which sidebar filters it honours (`applies`); the others are
cleared before it runs (they must not key a cache or look applied) and the page or
CLI says plainly which filters did not apply. Functions are module-level so the
app's cache can re-import them by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from dashboard.config import Config
from dashboard.filters import ALL_FILTERS, SURVEY_FILTERS, Filters
from dashboard.metrics import alignment as al
from dashboard.metrics import flow as fl
from dashboard.metrics import response_times as rt
from dashboard.metrics.engagement import departments, elsewhere, retention, stored, terms
from dashboard.metrics.surveys.answers import parse_by, whole_months
from dashboard.metrics.surveys.comments import comment_excerpts, comment_keywords
from dashboard.metrics.surveys.drivers import survey_drivers
from dashboard.metrics.surveys.summary import survey_summary, trend

TICKETS_NOW = tuple(f for f in ALL_FILTERS if f != "dates")  # states at the as-of
ENGAGEMENT = terms.ENGAGEMENT_FILTERS
ALIGNMENT = al.ALIGNMENT_FILTERS


@dataclass(frozen=True)
class Panel:
    """A table or chart's data: `compute(con, filters, config, **options)`."""

    name: str
    title: str
    applies: tuple[str, ...]
    compute: Callable[..., pl.DataFrame]
    why: str = ""  # why the filters outside `applies` do not apply

    def run(
        self, con: duckdb.DuckDBPyConnection, filters: Filters, config: Config, **options: Any
    ) -> pl.DataFrame:
        return self.compute(con, filters.only(self.applies), config, **options)


# --------------------------------------------------------------------------- tickets


def kpis(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    """The KPI tiles: value, previous period's value and change."""
    tiles = rt.kpis(con, f, config.anonymity_min_group)
    return pl.DataFrame(
        {
            "kpi": [k.label for k in tiles],
            "value": [k.value for k in tiles],
            "previous": [k.previous for k in tiles],
            "change": [k.delta for k in tiles],
            "unit": [k.unit for k in tiles],
        },
        schema={
            "kpi": pl.String,
            "value": pl.Float64,
            "previous": pl.Float64,
            "change": pl.Float64,
            "unit": pl.String,
        },
    )


def weekly_trend(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return rt.weekly_trend(con, f)


def by_team(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return rt.summary(con, f, ["service_team"])


def period_comparison(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return rt.period_comparison(con, f)


def service_mix(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    mix = rt.service_mix(con, f)
    return pl.DataFrame({"measure": list(mix), "share": list(mix.values())})


def heatmap(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return rt.heatmap(con, f)


def resolution_spread(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return rt.resolution_spread(con, f)


def backlog(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return rt.backlog(con, f)


def backlog_age(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return rt.backlog_age(con, f)


def channel_mix(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return rt.channel_mix(con, f)


def slowest_categories(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return rt.slowest_categories(con, f)


def tickets_per_head(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return rt.tickets_per_head(con, f)


def ticket_list(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return rt.ticket_list(con, f)


# --------------------------------------------------------------------------- flow


def flow_summary(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return fl.summary(con, f)


def flow_status(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return fl.status_time(con, f)


def flow_waits(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return fl.waits(con, f)


def flow_handoffs(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return fl.handoffs(con, f)


def flow_backlog(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return fl.backlog_by_team(con, f)


def flow_replies(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return fl.next_replies(con, f)


def flow_agents(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    """Per-agent rows exist only when the config asks for them (agents are people)."""
    if not config.show_agents:
        raise PermissionError(
            "per-agent tables are off; set show_agents = true in inward.toml to show them"
        )
    return fl.agents(con, f)


# --------------------------------------------------------------------------- engagement


def quiet_by_team(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return retention.quiet_by_quarter(con, filters=f)


def came_back(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return retention.lost_after_bad_experience(con, filters=f)


def reactive_share(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return departments.reactive_shift(con, filters=f)


def cohorts(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return retention.cohort_window(retention.cohort_retention(con, filters=f))


def department_signals(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return departments.department_signals(con, f)


def at_risk(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return stored.at_risk_rows(con, config, f)


def across_teams(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return elsewhere.across_teams(con, f)


def team_switches(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return elsewhere.team_switches(con, f)


# --------------------------------------------------------------------------- voice


def voice_summary(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return survey_summary(con, config, (), whole_months(f))


def voice_trend(
    con: duckdb.DuckDBPyConnection, f: Filters, config: Config, period: str = "month"
) -> pl.DataFrame:
    return trend(con, config, period, whole_months(f))


def voice_drivers(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return survey_drivers(con, config, whole_months(f))


def voice_groups(
    con: duckdb.DuckDBPyConnection, f: Filters, config: Config, by: str = "service_team"
) -> pl.DataFrame:
    return survey_summary(con, config, parse_by(by), whole_months(f))


def voice_phrases(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return comment_keywords(con, config, whole_months(f))


def voice_comments(
    con: duckdb.DuckDBPyConnection,
    f: Filters,
    config: Config,
    band: str = "low",
    search: str | None = None,
    limit: int = 30,
) -> pl.DataFrame:
    return comment_excerpts(con, config, whole_months(f), band, search or None, int(limit))


# --------------------------------------------------------------------------- alignment


def alignment(
    con: duckdb.DuckDBPyConnection,
    f: Filters,
    config: Config,
    period: str = "week",
    max_lag: int | None = None,
) -> pl.DataFrame:
    lag = int(max_lag) if max_lag is not None else (4 if period == "week" else 3)
    return al.alignment_view(con, config, period, lag, f)  # type: ignore[arg-type]


def goals(con: duckdb.DuckDBPyConnection, f: Filters, config: Config) -> pl.DataFrame:
    return al.goal_attainment(con, config)


def alignment_pair(
    con: duckdb.DuckDBPyConnection,
    f: Filters,
    config: Config,
    team: str = al.ALL_TEAMS,
    unit: str = "",
    internal: str = "median_resolution_hours",
    external: str = "customer_csat",
    lag: int = 2,
    period: str = "week",
) -> pl.DataFrame:
    return al.pair_series(con, config, period, team, unit, internal, external, int(lag))  # type: ignore[arg-type]


_NOW = "the backlog is a state at the as-of, not a count of tickets created in a period"
_ENG = (
    "silence is judged at the as-of over each requester's whole history; priority, "
    "category and channel describe single tickets, not a requester's relationship with a team"
)
_SURVEYS = (
    "survey answers carry a team, the respondent's department and type, but no priority, "
    "category or channel; dates are widened to whole months so small windows cannot "
    "single out answers"
)
_ALIGN = (
    "the tests need every period of the history, and re-running them on a slice chosen "
    "after looking would invent links; departments choose their business units, teams "
    "their rows, q-values stay those of the whole table"
)


def _honouring(
    applies: tuple[str, ...], why: str, *panels: tuple[str, str, Callable[..., pl.DataFrame]]
) -> tuple[Panel, ...]:
    """Panels (name, title, compute) that honour the same filters for the same reason."""
    return tuple(Panel(name, title, applies, compute, why) for name, title, compute in panels)


PANELS: dict[str, Panel] = {
    p.name: p
    for p in (
        *_honouring(
            ALL_FILTERS,
            "",
            ("overview.kpis", "KPI tiles", kpis),
            ("overview.weekly_trend", "Tickets and durations per week", weekly_trend),
            ("overview.by_team", "By service team", by_team),
            ("teams.comparison", "This period, previous, last year", period_comparison),
            ("teams.service_mix", "Reopened, one-touch, last-minute, after hours", service_mix),
            ("teams.heatmap", "Median first response, department × team", heatmap),
            ("teams.resolution_spread", "Resolution time spread per team", resolution_spread),
            ("teams.backlog", "Open tickets at the end of each day", backlog),
        ),
        Panel("teams.backlog_age", "Open now, by age", TICKETS_NOW, backlog_age, _NOW),
        *_honouring(
            ALL_FILTERS,
            "",
            ("teams.channels", "First-contact channel per team", channel_mix),
            ("teams.slowest_categories", "Slowest categories", slowest_categories),
            ("teams.per_head", "Demand per head count", tickets_per_head),
            ("teams.tickets", "Tickets (pseudonymised)", ticket_list),
            ("flow.summary", "Resolution with and without waiting", flow_summary),
            ("flow.status", "Time in status by team", flow_status),
            ("flow.waits", "Where tickets wait", flow_waits),
            ("flow.handoffs", "Slowest hand-offs between teams", flow_handoffs),
            ("flow.backlog", "Open at each day's end, per team", flow_backlog),
            ("flow.replies", "Replies, first and next reply", flow_replies),
            ("flow.agents", "Per agent (show_agents = true)", flow_agents),
        ),
        *_honouring(
            ENGAGEMENT,
            _ENG,
            ("engagement.quiet", "Regulars who went quiet, by team", quiet_by_team),
            ("engagement.came_back", "Came back after a bad experience", came_back),
            ("engagement.reactive", "Reactive share per department and quarter", reactive_share),
            ("engagement.cohorts", "Cohort retention", cohorts),
            ("engagement.departments", "Department signals", department_signals),
            ("engagement.at_risk", "At risk and gone quiet", at_risk),
            (
                "engagement.across_teams",
                "Went quiet with one team, still files with another",
                across_teams,
            ),
            (
                "engagement.team_switches",
                "Went quiet with → still files with (people per pair of teams)",
                team_switches,
            ),
        ),
        *_honouring(
            SURVEY_FILTERS,
            _SURVEYS,
            ("voice.summary", "Survey scores", voice_summary),
            ("voice.trend", "Scores per month", voice_trend),
            ("voice.drivers", "What goes with low scores", voice_drivers),
            ("voice.groups", "Scores by team, department or type", voice_groups),
            ("voice.phrases", "Frequent phrases by score band", voice_phrases),
            ("voice.comments", "Comments", voice_comments),
        ),
        Panel("alignment.table", "Alignment tests", ALIGNMENT, alignment, _ALIGN),
        Panel(
            "alignment.goals",
            "Corporate goals",
            (),
            goals,
            "goals are judged on the last 30 days of all tickets, as configured",
        ),
        Panel(
            "alignment.pair",
            "One internal and one external series",
            (),
            alignment_pair,
            "the pair is chosen by its own inputs",
        ),
    )
}


def get(name: str) -> Panel:
    """The panel `name`, or a KeyError that lists the names."""
    try:
        return PANELS[name]
    except KeyError:
        raise KeyError(f"no panel {name!r}; panels: {', '.join(PANELS)}") from None


def not_applying(panel: Panel, filters: Filters) -> str | None:
    """A sentence naming the set filters `panel` ignores, and why (None if none)."""
    return filters.ignored_note(panel.applies, panel.why)
