"""Plotly figures shared by the app's pages and the static report (layout only, no SQL).

One builder per chart, fed the frames the metric functions return, so the chart an
executive sees in the PDF is the chart the Overview draws: the app passes it to
`st.plotly_chart`, the report exports it to SVG (`dashboard/report/charts.py`).

Reading rules every builder follows: linear axes that start at zero for counts and
durations (a log axis labelled "2 … 9, 100" where "2" means 20 h misleads more than
a long p90 line compresses the median), score axes over the whole scale (a CSAT axis
of 4.18–4.23 turns a 0.05 wobble into a swing), percentages as percentages, and
weekly axes ticked by week, never by hour.

Why one file of ~510 lines: one short builder per chart, all held to the reading rules
above; split by page, each file would restate them and the report would import from all.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.express as px
import plotly.graph_objects as go
import polars as pl

from dashboard.formatting import status_label
from dashboard.ordering import natural_sorted

MARGIN = {"l": 10, "r": 10, "t": 10, "b": 10}
WEEK_MS = 7 * 86_400_000
RED, GREEN, GREY = "#dc2626", "#16a34a", "#9ca3af"


def tidy(fig: go.Figure, height: int = 320) -> go.Figure:
    """Compact margins and a horizontal legend under the plot (never over the data)."""
    fig.update_layout(
        height=height, margin=MARGIN, legend={"orientation": "h", "y": -0.2, "title": None}
    )
    return fig


def weekly_axis(fig: go.Figure, weeks: int) -> go.Figure:
    """Dates as '12 May' ticked by week (a sparse range would otherwise get ticks like
    23:59:59.9996), hovering as the week's Monday."""
    fig.update_xaxes(
        tickformat="%d %b",
        hoverformat="week of %d %b %Y",
        dtick=WEEK_MS if weeks <= 10 else None,
    )
    return fig


def trend_lines(
    frame: pl.DataFrame,
    x: str,
    columns: dict[str, str],
    y_title: str,
    target: float | None = None,
) -> go.Figure:
    """Several measures over time as lines on a linear axis from zero; `columns` maps
    column → legend name."""
    long = (
        frame.select(x, *columns)
        .rename(columns)
        .unpivot(index=x, variable_name="measure", value_name="value")
    )
    fig = px.line(
        long,
        x=x,
        y="value",
        color="measure",
        markers=frame.height <= 12,
        labels={x: "", "value": y_title},
    )
    fig.update_yaxes(rangemode="tozero")
    if target is not None:
        fig.add_hline(
            y=target,
            line_dash="dash",
            line_color=RED,
            annotation_text="SLA target",
            annotation_position="top left",
        )
    return tidy(fig)


def tickets_per_week(trend: pl.DataFrame, height: int = 300) -> go.Figure:
    """Bars of tickets per week (`weekly_trend` frame)."""
    fig = px.bar(trend, x="week", y="tickets", labels={"week": "", "tickets": "tickets"})
    return weekly_axis(tidy(fig, height), trend.height)


def duration_per_week(trend: pl.DataFrame, measure: str) -> go.Figure:
    """Median and p90 hours of `measure` ("first_response" or "resolution") per week,
    linear from zero (`weekly_trend` frame)."""
    fig = trend_lines(
        trend,
        "week",
        {
            f"median_{measure}_hours": "median (half were faster)",
            f"p90_{measure}_hours": "p90 (9 in 10 were faster)",
        },
        "hours",
    )
    return weekly_axis(fig, trend.height)


def sla_per_week(trend: pl.DataFrame) -> go.Figure:
    """Share of tickets that met the resolution SLA, per week (`weekly_trend` frame)."""
    fig = px.line(
        trend,
        x="week",
        y="sla_met_rate",
        markers=trend.height <= 12,
        labels={"week": "", "sla_met_rate": "met the SLA"},
    )
    fig.update_yaxes(tickformat=".0%", range=[0, 1.02])
    return weekly_axis(tidy(fig), trend.height)


def reactive_share(shift: pl.DataFrame, height: int = 340) -> go.Figure:
    """Reactive share per department and quarter (`reactive_shift` frame); departments
    that turned reactive are drawn thick."""
    flagged = set(shift.filter(pl.col("flagged"))["requester_department"].to_list())
    fig = px.line(
        shift,
        x="quarter_start",
        y="reactive_share",
        color="requester_department",
        labels={"quarter_start": "", "reactive_share": "reactive share"},
    )
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    fig.update_xaxes(tickformat="Q%q %Y", dtick="M3")
    for trace in fig.data:
        trace.line.width = 4 if trace.name in flagged else 1
    return tidy(fig, height)


def person_history(history: pl.DataFrame, height: int = 300) -> go.Figure:
    """One person's tickets per month, stacked by service team (`person_history` frame):
    where they stopped and where they kept filing."""
    fig = px.bar(
        history,
        x="month",
        y="tickets",
        color="service_team",
        labels={"month": "", "tickets": "tickets", "service_team": ""},
    )
    return tidy(fig, height)


SCALES = {
    "csat_mean": ("CSAT (1–5)", 1, 5.05, 1),
    "nps": ("NPS", -100, 100, 50),
    "ces_mean": ("CES (1–7)", 1, 7.05, 1),
}


def score_per_period(
    trend: pl.DataFrame, column: str = "csat_mean", height: int = 300
) -> go.Figure:
    """A survey score per period over its whole scale (`surveys.trend` frame; suppressed
    periods are gaps): CSAT 1–5, NPS −100..100, CES 1–7."""
    label, lo, hi, step = SCALES[column]
    fig = px.line(
        trend, x="period_start", y=column, markers=True, labels={"period_start": "", column: label}
    )
    fig.update_yaxes(range=[lo, hi], dtick=step)
    fig.update_xaxes(tickformat="%b %Y", dtick="M1" if trend.height <= 12 else None)
    return tidy(fig, height)


STATUS_ORDER = ("new", "open", "pending", "on_hold", "solved", "closed", "cancelled")


def status_share(status_time: pl.DataFrame, height: int = 320) -> go.Figure:
    """Share of each team's tracked time per status, stacked (`flow.status_time`)."""
    fig = px.bar(
        status_time.with_columns(  # the legend says "On hold", not on_hold
            pl.col("status").map_elements(status_label, return_dtype=pl.String)
        ),
        x="share",
        y="service_team",
        color="status",
        orientation="h",
        # teams top to bottom in natural order ("Group 2" before "Group 10")
        category_orders={
            "status": [status_label(s) for s in STATUS_ORDER],
            "service_team": natural_sorted(status_time["service_team"]),
        },
        labels={"share": "", "service_team": ""},
        hover_data=["median_minutes", "tickets"],
    )
    fig.update_xaxes(tickformat=".0%")
    teams = status_time["service_team"].n_unique()
    return tidy(fig, max(height, 100 + 18 * teams))  # every team's name readable


def waits(frame: pl.DataFrame, height: int = 360) -> go.Figure:
    """Total hours per holding team and tool status, waiting ones coloured (`flow.waits`)."""
    data = frame.with_columns(
        (pl.col("service_team") + " · " + pl.col("vendor_status").fill_null("")).alias("where"),
        pl.when(pl.col("waiting"))
        .then(pl.lit("waiting on requester / third party"))
        .otherwise(pl.lit("with the team"))
        .alias("who"),
    )
    fig = px.bar(
        data.reverse(),
        x="total_hours",
        y="where",
        color="who",
        orientation="h",
        labels={"total_hours": "hours", "where": "", "who": ""},
    )
    return tidy(fig, height)


def backlog_by_team(frame: pl.DataFrame, height: int = 320, most: int = 12) -> go.Figure:
    """Open tickets at each day's end, one line per team (`flow.backlog_by_team`); past
    `most` teams only those with the highest peak (hundreds of lines, as in a real
    ServiceNow log, are a tangle with a legend taller than the chart), and the legend
    says how many are shown."""
    frame = frame.with_columns(pl.col("service_team").fill_null("(no team)"))
    peaks = (
        frame.group_by("service_team")
        .agg(pl.col("open").max())
        .sort(["open", "service_team"], descending=[True, False])
    )
    shown = frame.filter(pl.col("service_team").is_in(peaks["service_team"].head(most).to_list()))
    fig = px.line(
        shown,
        x="day",
        y="open",
        color="service_team",
        labels={"day": "", "open": "open tickets", "service_team": ""},
    )
    tidy(fig, height)
    if peaks.height > most:
        fig.update_layout(legend_title_text=f"{most} of {peaks.height} teams, largest peak:")
    return fig


def heatmap_cells(
    heat: pl.DataFrame, x: str, y: str, value: str, value_label: str, height: int = 460
) -> go.Figure:
    """A heatmap whose cells can be clicked: a colour grid plus one nearly transparent
    square marker per cell (Plotly reports selections on markers, never on heatmap
    cells), carrying the value and ticket count in its hover."""
    xs = natural_sorted(heat[x])
    ys = natural_sorted(heat[y])[::-1]  # drawn bottom-up: the first name on top
    grid = heat.pivot(on=x, index=y, values=value)
    grid = pl.DataFrame({y: ys}).join(grid, on=y, how="left")
    z = grid.select([c if c in grid.columns else pl.lit(None).alias(c) for c in xs]).to_numpy()
    # a cell with tickets but no value (an export without the field) reads "n/a", not
    # blank: a blank column looks like a drawing fault; cells without tickets stay empty
    has = {(r[x], r[y]) for r in heat.select(x, y).iter_rows(named=True)}
    text = [
        [
            ("n/a" if (cx, cy) in has else "") if v is None or v != v else f"{v:.1f}"
            for cx, v in zip(xs, row, strict=True)
        ]
        for cy, row in zip(ys, z.tolist(), strict=True)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=xs,
            y=ys,
            text=text,
            colorscale="Blues",
            colorbar={"title": value_label},
            texttemplate="%{text}",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=heat[x].to_list(),
            y=heat[y].to_list(),
            mode="markers",
            marker={"size": 28, "symbol": "square", "opacity": 0.01, "color": "#000"},
            customdata=[
                ["n/a" if v is None else f"{v:.1f}", n]
                for v, n in zip(heat[value].fill_nan(None), heat["tickets"], strict=True)
            ],
            hovertemplate=f"%{{y}} → %{{x}}<br>{value_label}: %{{customdata[0]}}"
            "<br>tickets: %{customdata[1]:,}<extra>click to list them</extra>",
            showlegend=False,
        )
    )
    fig.update_layout(clickmode="event+select", dragmode=False)
    fig.update_xaxes(side="top")
    return tidy(fig, height)


def spread(frame: pl.DataFrame, height: int = 320) -> go.Figure:
    """Resolution time spread per team (`resolution_spread` frame): a thin line from
    p10 to p90, a thick bar for the middle half (p25–p75) and a dot at the median, on a
    linear hours axis — what a box plot shows, with exact percentiles."""
    teams = frame["service_team"].to_list()
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=teams,
            x=(frame["p90_hours"] - frame["p10_hours"]).to_list(),
            base=frame["p10_hours"].to_list(),
            orientation="h",
            width=0.08,
            marker_color=GREY,
            name="p10–p90 (8 in 10 tickets)",
            hovertemplate="p10 %{base:.1f} h – p90 %{x:.1f} h<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=teams,
            x=(frame["p75_hours"] - frame["p25_hours"]).to_list(),
            base=frame["p25_hours"].to_list(),
            orientation="h",
            width=0.5,
            marker_color="#93c5fd",
            name="p25–p75 (the middle half)",
            customdata=frame.select("p25_hours", "p75_hours").to_numpy(),
            hovertemplate="p25 %{customdata[0]:.1f} h – p75 %{customdata[1]:.1f} h<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            y=teams,
            x=frame["median_hours"].to_list(),
            mode="markers",
            marker={"color": "#1d4ed8", "size": 10},
            name="median",
            hovertemplate="median %{x:.1f} h<extra></extra>",
        )
    )
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(title="hours", rangemode="tozero")
    fig.update_yaxes(autorange="reversed")
    row = 40 if len(teams) <= 12 else 22  # dozens of teams (a real ServiceNow) stay legible
    tidy(fig, max(height, 120 + row * len(teams)))
    # above the plot: under a tall one, the legend's relative offset lands far below it
    fig.update_layout(legend={"y": 1.0, "yanchor": "bottom"})
    return fig


def backlog_area(backlog: pl.DataFrame, height: int = 320) -> go.Figure:
    """Open tickets at the end of each day (`backlog` frame)."""
    fig = px.area(backlog, x="day", y="open", labels={"day": "", "open": "open tickets"})
    fig.update_yaxes(rangemode="tozero")
    fig.update_xaxes(tickformat="%d %b")
    return tidy(fig, height)


def age_bars(ages: pl.DataFrame, height: int = 280) -> go.Figure:
    """Open tickets per age band (`backlog_age` frame), youngest first."""
    fig = px.bar(ages, x="age", y="tickets", labels={"age": "", "tickets": "open tickets"})
    return tidy(fig, height)


def channel_bars(channels: pl.DataFrame, height: int = 280) -> go.Figure:
    """First-contact channel share per team, stacked to 100 % (`channel_mix` frame);
    a segment can be clicked."""
    fig = px.bar(
        channels,
        x="service_team",
        y="share",
        color="channel",
        custom_data=["channel", "tickets"],
        labels={"service_team": "", "share": ""},
    )
    fig.update_traces(
        hovertemplate="%{x} · %{customdata[0]}: %{y:.0%} (%{customdata[1]:,} tickets)"
        "<extra>click to list them</extra>"
    )
    fig.update_yaxes(tickformat=".0%", range=[0, 1])
    teams = channels["service_team"].unique(maintain_order=True).to_list()
    if len(teams) > 8:  # too many to write level: slanted, as Plotly cannot wrap them
        fig.update_xaxes(tickangle=-45, automargin=True)
    else:  # "Finance & Payroll" ran into "HR Operations": two lines where long
        fig.update_xaxes(
            tickangle=0,
            automargin=True,
            tickvals=teams,
            ticktext=[wrap_label(t) for t in teams],
        )
    fig.update_layout(clickmode="event+select")
    tidy(fig, height)
    # above the plot: below it, the legend covered the second line of the team names
    fig.update_layout(legend={"y": 1.02, "yanchor": "bottom"})
    return fig


def wrap_label(text: str, width: int = 12) -> str:
    """A category label broken onto lines of about `width` characters (Plotly's `<br>`)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def cohort_grid(cohorts: pl.DataFrame, height: int = 340) -> go.Figure:
    """Share of each first-ticket month still filing N months later (`cohort_retention`)."""
    grid = cohorts.pivot(
        on="months_since", index="cohort_month", values="share_active", sort_columns=True
    )
    cols = [c for c in grid.columns if c != "cohort_month"]
    fig = go.Figure(
        go.Heatmap(
            z=grid.select(cols).to_numpy(),
            x=[int(c) for c in cols],
            y=[d.strftime("%b %Y") for d in grid["cohort_month"].to_list()],
            colorscale="Blues",
            zmin=0,
            zmax=1,
            colorbar={"title": "still filing", "tickformat": ".0%"},
            hovertemplate="first ticket %{y}, month %{x}: %{z:.0%} still filing<extra></extra>",
        )
    )
    fig.update_xaxes(title="months since the first ticket")
    fig.update_yaxes(autorange="reversed")
    return tidy(fig, height)


def driver_bars(top: pl.DataFrame, height: int = 300) -> go.Figure:
    """CSAT difference per ticket factor with its 95 % interval (`survey_drivers` rows
    plus a readable `what` column); red where it goes with lower scores."""
    fig = go.Figure(
        go.Bar(
            x=top["effect"].to_list(),
            y=top["what"].to_list(),
            orientation="h",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": (top["ci_high"] - top["effect"]).to_list(),
                "arrayminus": (top["effect"] - top["ci_low"]).to_list(),
            },
            marker_color=[RED if e < 0 else GREEN for e in top["effect"]],
            hovertemplate="%{y}: %{x:+.2f} points<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(title="CSAT points (1–5) against the rest", zeroline=True)
    return tidy(fig, height)


def term_bars(terms: pl.DataFrame, height: int = 260) -> go.Figure:
    """Comments per frequent phrase (`comment_keywords` rows of one band)."""
    fig = px.bar(
        terms,
        x="comments",
        y="term",
        orientation="h",
        labels={"term": "", "comments": "comments using it"},
    )
    fig.update_yaxes(autorange="reversed")
    return tidy(fig, height)


def scorecard(
    z: Sequence[Sequence[float]], text: Sequence[Sequence[str]], x: list[str], y: list[str]
) -> go.Figure:
    """Best rank correlation per internal × external pair, coloured only where
    significant (grey otherwise), the value and lead written in each cell."""
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=x,
            y=y,
            text=text,
            texttemplate="%{text}",
            zmin=-1,
            zmax=1,
            colorscale="RdBu",
            colorbar={"title": "ρ"},
            hovertemplate="%{y} → %{x}: %{text}<extra></extra>",
        )
    )
    return tidy(fig, 360)


def pair_trend(pair: pl.DataFrame, internal: str, external: str) -> go.Figure:
    """The internal series (already shifted by the lag) and the external one, each on
    its own axis (`alignment.pair_series` frame); `internal` and `external` title the
    axes, units included. The right axis picks its own round ticks: synced to the
    left one's grid it read 1.879, 2.09, 2.301."""
    from plotly.subplots import make_subplots

    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Scatter(x=pair["period_start"], y=pair["internal"], name=internal), secondary_y=False
    )
    fig.add_trace(
        go.Scatter(x=pair["period_start"], y=pair["external"], name=external), secondary_y=True
    )
    fig.update_yaxes(title_text=internal, secondary_y=False)
    fig.update_yaxes(title_text=external, secondary_y=True, tickmode="auto", showgrid=False)
    return tidy(fig)


def pair_scatter(
    pair: pl.DataFrame, fit: tuple[float, float] | None, internal: str, external: str
) -> go.Figure:
    """Changes against changes with the least-squares line (`pair_series`, `pair_fit`)."""
    changes = pair.drop_nulls(["internal_change", "external_change"])
    fig = px.scatter(
        changes,
        x="internal_change",
        y="external_change",
        labels={
            "internal_change": f"change in {internal}",
            "external_change": f"change in {external}",
        },
    )
    if fit is not None:
        lo, hi = changes["internal_change"].min(), changes["internal_change"].max()
        fig.add_trace(
            go.Scatter(
                x=[lo, hi],
                y=[fit[0] * lo + fit[1], fit[0] * hi + fit[1]],
                mode="lines",
                name="least-squares line",
            )
        )
    return tidy(fig)
