"""Configuration: `inward.toml`, resolved against the built-in defaults.

Every key is optional. A key the product does not know, or a value of the wrong
kind, is a `ConfigError` that names the key: a typo such as `anonimity_min_group`
silently falling back to the default would expose small survey groups, so we
refuse rather than guess.

Resolution order for the file (CONTRACT): `--config PATH`, env `INWARD_CONFIG`,
`./inward.toml` when present, else defaults only.
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dashboard.access import AccessConfig, AccessError, parse_access

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRIORITIES = ("urgent", "high", "normal", "low")


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the offending key."""


@dataclass(frozen=True)
class Calendar:
    """Business hours of one service team, in its own time zone."""

    timezone: str = "UTC"
    workdays: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    start: time = time(9, 0)
    end: time = time(17, 0)
    holidays: tuple[date, ...] = ()

    @property
    def weekday_numbers(self) -> tuple[int, ...]:
        """ISO weekday numbers (Monday = 1) of the workdays."""
        return tuple(WEEKDAYS.index(d) + 1 for d in self.workdays)

    @property
    def minutes_per_day(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)


@dataclass(frozen=True)
class SlaTargets:
    """Minutes allowed per priority; measured in business minutes when `business`."""

    first_response: dict[str, int] = field(
        default_factory=lambda: {"urgent": 60, "high": 240, "normal": 480, "low": 1440}
    )
    resolution: dict[str, int] = field(
        default_factory=lambda: {"urgent": 480, "high": 1440, "normal": 4320, "low": 10080}
    )
    business: bool = True


@dataclass(frozen=True)
class EngagementSettings:
    """Knobs of the repeat-avoidance model (see dashboard/metrics/engagement/model.py)."""

    gap_multiplier: float = 3.0  # k: silent for more than k x typical gap => flagged
    min_tickets: int = 4  # fewer tickets than this => status "new"
    at_risk_p_alive: float = 0.5
    gone_quiet_p_alive: float = 0.2


@dataclass(frozen=True)
class QuerySettings:
    """Guard rails for analyst SQL in queries/ (enforced by dashboard/analyst/sandbox.py)."""

    time_limit_seconds: float = 10.0
    row_cap: int = 10_000
    memory_limit_mb: int = 1024  # per running query: DuckDB's limit and the worker's cap
    result_limit_mb: int = 50  # a result is cut (like the row cap) to fit in this
    max_concurrent: int = 2  # queries running at once; others wait within their time limit


@dataclass(frozen=True)
class Goal:
    """A corporate goal shown as an attainment tile: metric, target and which way is good."""

    metric: str
    target: float
    direction: str = "higher"  # "higher" or "lower" is better
    label: str = ""


@dataclass(frozen=True)
class Config:
    timezone: str = "UTC"
    as_of: datetime | None = None  # UTC; None = each source's newest ticket update
    anonymity_min_group: int = 5
    alignment_min_periods: int = 12
    calendars: dict[str, Calendar] = field(default_factory=lambda: {"default": Calendar()})
    slas: dict[str, SlaTargets] = field(default_factory=lambda: {"default": SlaTargets()})
    engagement: EngagementSettings = field(default_factory=EngagementSettings)
    queries: QuerySettings = field(default_factory=QuerySettings)
    mapping: dict[str, dict[str, str]] = field(default_factory=dict)
    survey_questions: dict[str, str] = field(default_factory=dict)
    goals: tuple[Goal, ...] = ()
    # Per-agent flow tables (agents are people too): off unless asked for.
    show_agents: bool = False
    access: AccessConfig = field(default_factory=AccessConfig)
    source: Path | None = None

    def calendar_for(self, team: str | None) -> Calendar:
        """The team's calendar, else the default one."""
        return self.calendars.get(team or "", self.calendars["default"])

    def sla_for(self, team: str | None) -> SlaTargets:
        """The team's SLA targets, else the default ones."""
        return self.slas.get(team or "", self.slas["default"])


def check_zone(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(
            f"{key}: expected a time zone name such as 'Europe/Berlin', got {value!r}"
        )
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{key}: unknown time zone {value!r}") from exc
    return value


def parse_as_of(key: str, value: Any, timezone: str) -> datetime | None:
    """`as_of`: "" (the default) means "the data's own time"; otherwise an ISO 8601
    instant (`2025-03-24T18:00:00Z`, an offset, or naive = wall clock in
    `timezone`) or a date, meaning the end of that day (midnight after it) in
    `timezone`. TOML's own date and datetime values are accepted too.

    Returned in UTC, so every comparison downstream is between instants."""
    if value == "" or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | date):
        raise ConfigError(
            f'{key}: expected an ISO date/time such as "2025-03-24T18:00:00Z", got {value!r}'
        )
    moment: date | datetime = value  # type: ignore[assignment]
    if isinstance(value, str):
        text = value.strip()
        try:
            moment = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError as exc:
            raise ConfigError(
                f'{key}: expected an ISO date/time such as "2025-03-24T18:00:00Z" or '
                f'"2025-03-24", got {value!r}'
            ) from exc
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment + timedelta(days=1), time())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    moment = moment.astimezone(UTC)
    if moment.year < 1970:
        raise ConfigError(f"{key}: {value!r} is before 1970")
    return moment


def _int(key: str, value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{key}: expected a whole number >= {minimum}, got {value!r}")
    return value


def _float(key: str, value: Any, minimum: float = 0.0, maximum: float | None = None) -> float:
    """A finite number in range: TOML allows `nan` and `inf`, and either would switch
    off the guard it configures (a time limit of inf, a multiplier no gap reaches)."""
    ok = (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and value >= minimum
        and (maximum is None or value <= maximum)
    )
    if not ok:
        span = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
        raise ConfigError(f"{key}: expected a finite number {span}, got {value!r}")
    return float(value)


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    return value


def _table(key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a table, got {value!r}")
    return value


def _check_keys(key: str, table: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        where = f"{key}." if key else ""
        raise ConfigError(
            f"unknown config key {where}{unknown[0]} (allowed here: {', '.join(sorted(allowed))})"
        )


def _clock(key: str, value: Any) -> time:
    try:
        hh, mm = str(value).split(":")
        return time(int(hh), int(mm))
    except ValueError as exc:
        raise ConfigError(f"{key}: expected 'HH:MM', got {value!r}") from exc


def _calendar(key: str, raw: dict[str, Any], base: Calendar) -> Calendar:
    _check_keys(key, raw, {"timezone", "workdays", "hours", "holidays"})
    cal = base
    if "timezone" in raw:
        cal = Calendar(
            check_zone(f"{key}.timezone", raw["timezone"]),
            cal.workdays,
            cal.start,
            cal.end,
            cal.holidays,
        )
    if "workdays" in raw:
        days = raw["workdays"]
        if (
            not isinstance(days, list)
            or not days  # no workday: every business duration would be zero or undefined
            or any(str(d).lower() not in WEEKDAYS for d in days)
        ):
            raise ConfigError(
                f"{key}.workdays: expected a non-empty list of {', '.join(WEEKDAYS)}, got {days!r}"
            )
        cal = Calendar(
            cal.timezone, tuple(str(d).lower() for d in days), cal.start, cal.end, cal.holidays
        )
    if "hours" in raw:
        hours = raw["hours"]
        if not isinstance(hours, list) or len(hours) != 2:
            raise ConfigError(f'{key}.hours: expected ["HH:MM", "HH:MM"], got {hours!r}')
        start, end = _clock(f"{key}.hours", hours[0]), _clock(f"{key}.hours", hours[1])
        if end <= start:
            raise ConfigError(f"{key}.hours: the end {hours[1]} must be after the start {hours[0]}")
        cal = Calendar(cal.timezone, cal.workdays, start, end, cal.holidays)
    if "holidays" in raw:
        hol = raw["holidays"]
        try:
            days = tuple(d if isinstance(d, date) else date.fromisoformat(str(d)) for d in hol)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{key}.holidays: expected a list of ISO dates, got {hol!r}") from exc
        cal = Calendar(cal.timezone, cal.workdays, cal.start, cal.end, days)
    return cal


def _targets(key: str, value: Any, base: dict[str, int]) -> dict[str, int]:
    table = _table(key, value)
    _check_keys(key, table, set(PRIORITIES))
    return {**base, **{p: _int(f"{key}.{p}", v) for p, v in table.items()}}


def _sla(key: str, raw: dict[str, Any], base: SlaTargets) -> SlaTargets:
    _check_keys(key, raw, {"first_response", "resolution", "business"})
    return SlaTargets(
        first_response=_targets(
            f"{key}.first_response", raw.get("first_response", {}), base.first_response
        ),
        resolution=_targets(f"{key}.resolution", raw.get("resolution", {}), base.resolution),
        business=_bool(f"{key}.business", raw.get("business", base.business)),
    )


def _per_team(key: str, raw: Any, parse: Any, default: Any) -> dict[str, Any]:
    """Parse `[key.default]` then `[key."Team"]` tables, teams inheriting from default."""
    table = _table(key, raw)
    base = parse(f"{key}.default", _table(f"{key}.default", table.get("default", {})), default)
    out = {"default": base}
    for team, sub in table.items():
        if team != "default":
            out[team] = parse(f'{key}."{team}"', _table(f'{key}."{team}"', sub), base)
    return out


SURVEY_QUESTION_VALUES = ("csat", "nps", "ces", "ignore")


def parse_survey_questions(raw: Any) -> dict[str, str]:
    """`[survey_questions]`: question text, normalised name or column id → metric.

    Checked here, at load time, so a typo fails `inward serve` as well as ingest."""
    out = {}
    for key, value in _str_map("survey_questions", raw).items():
        v = value.strip().lower()
        if v not in SURVEY_QUESTION_VALUES:
            raise ConfigError(
                f"survey_questions.{key!r}: expected one of "
                f"{', '.join(SURVEY_QUESTION_VALUES)}, got {value!r}"
            )
        out[key] = v
    return out


def _goals(raw: Any) -> tuple[Goal, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"goals: expected [[goals]] tables, got {raw!r}")
    goals = []
    for i, g in enumerate(raw):
        key = f"goals[{i}]"
        g = _table(key, g)
        _check_keys(key, g, {"metric", "target", "direction", "label"})
        if "metric" not in g or "target" not in g:
            raise ConfigError(f"{key}: needs both metric and target")
        direction = g.get("direction", "higher")
        if direction not in ("higher", "lower"):
            raise ConfigError(f"{key}.direction: expected 'higher' or 'lower', got {direction!r}")
        goals.append(
            Goal(
                str(g["metric"]),
                _float(f"{key}.target", g["target"], -1e18),
                direction,
                str(g.get("label", "")),
            )
        )
    return tuple(goals)


def _str_map(key: str, raw: Any) -> dict[str, str]:
    table = _table(key, raw)
    for k, v in table.items():
        if not isinstance(v, str):
            raise ConfigError(f"{key}.{k}: expected a text value, got {v!r}")
    return dict(table)


TOP_KEYS = {
    "timezone",
    "as_of",
    "anonymity_min_group",
    "alignment_min_periods",
    "calendar",
    "sla",
    "engagement",
    "queries",
    "mapping",
    "survey_questions",
    "goals",
    "show_agents",
    "access",
}


def parse_config(raw: dict[str, Any], source: Path | None = None) -> Config:
    """Validate a parsed TOML document into a `Config`."""
    _check_keys("", raw, TOP_KEYS)
    d = Config()
    eng_raw = _table("engagement", raw.get("engagement", {}))
    if "show_names" in eng_raw:
        raise ConfigError(
            "engagement.show_names is gone: raw requester ids are shown only to users with "
            "a raw = true grant under [access] (remove the key)"
        )
    _check_keys("engagement", eng_raw, set(EngagementSettings.__dataclass_fields__))
    ed = EngagementSettings()
    engagement = EngagementSettings(
        gap_multiplier=_float(
            "engagement.gap_multiplier", eng_raw.get("gap_multiplier", ed.gap_multiplier), 1.0
        ),
        min_tickets=_int("engagement.min_tickets", eng_raw.get("min_tickets", ed.min_tickets), 2),
        at_risk_p_alive=_float(
            "engagement.at_risk_p_alive",
            eng_raw.get("at_risk_p_alive", ed.at_risk_p_alive),
            0.0,
            1.0,
        ),
        gone_quiet_p_alive=_float(
            "engagement.gone_quiet_p_alive",
            eng_raw.get("gone_quiet_p_alive", ed.gone_quiet_p_alive),
            0.0,
            1.0,
        ),
    )
    if engagement.gone_quiet_p_alive > engagement.at_risk_p_alive:
        raise ConfigError(
            f"engagement.gone_quiet_p_alive ({engagement.gone_quiet_p_alive}) must not be above "
            f"engagement.at_risk_p_alive ({engagement.at_risk_p_alive}): gone quiet is the "
            "stronger signal"
        )
    q_raw = _table("queries", raw.get("queries", {}))
    _check_keys("queries", q_raw, set(QuerySettings.__dataclass_fields__))
    qd = QuerySettings()
    queries = QuerySettings(
        time_limit_seconds=_float(
            "queries.time_limit_seconds",
            q_raw.get("time_limit_seconds", qd.time_limit_seconds),
            0.1,
            3600.0,
        ),
        row_cap=_int("queries.row_cap", q_raw.get("row_cap", qd.row_cap), 1),
        memory_limit_mb=_int(
            "queries.memory_limit_mb", q_raw.get("memory_limit_mb", qd.memory_limit_mb), 64
        ),
        result_limit_mb=_int(
            "queries.result_limit_mb", q_raw.get("result_limit_mb", qd.result_limit_mb), 1
        ),
        max_concurrent=_int(
            "queries.max_concurrent", q_raw.get("max_concurrent", qd.max_concurrent), 1
        ),
    )
    mapping_raw = _table("mapping", raw.get("mapping", {}))
    try:
        access = parse_access(raw.get("access", {}))
    except AccessError as exc:
        raise ConfigError(str(exc)) from exc
    timezone = check_zone("timezone", raw.get("timezone", d.timezone))
    return Config(
        timezone=timezone,
        as_of=parse_as_of("as_of", raw.get("as_of", ""), timezone),
        # 1 would show every single respondent's score: no anonymity at all
        anonymity_min_group=_int(
            "anonymity_min_group", raw.get("anonymity_min_group", d.anonymity_min_group), 2
        ),
        alignment_min_periods=_int(
            "alignment_min_periods", raw.get("alignment_min_periods", d.alignment_min_periods), 3
        ),
        calendars=_per_team("calendar", raw.get("calendar", {}), _calendar, Calendar()),
        slas=_per_team("sla", raw.get("sla", {}), _sla, SlaTargets()),
        engagement=engagement,
        queries=queries,
        mapping={name: _str_map(f"mapping.{name}", m) for name, m in mapping_raw.items()},
        survey_questions=parse_survey_questions(raw.get("survey_questions", {})),
        goals=_goals(raw.get("goals", [])),
        show_agents=_bool("show_agents", raw.get("show_agents", d.show_agents)),
        access=access,
        source=source,
    )


_Otherwise = TypeVar("_Otherwise", Path, None)


def resolve_path(
    explicit: str | os.PathLike[str] | None, env_var: str, otherwise: _Otherwise
) -> Path | _Otherwise:
    """The CONTRACT order for every path Inward is given (warehouse, config, queries):
    the option, else the environment variable when set and not empty, else `otherwise`."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(env_var)
    return Path(env) if env else otherwise


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """Which config file applies (CONTRACT order), or None for built-in defaults."""
    local = Path("inward.toml")
    return resolve_path(explicit, "INWARD_CONFIG", local if local.is_file() else None)


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Load and validate the applicable config; defaults when there is no file."""
    path = config_path(explicit)
    if path is None:
        return Config()
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc
    try:
        return parse_config(raw, path)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
