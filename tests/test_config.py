"""Config: defaults, per-team inheritance, and unknown keys refused by name."""

from __future__ import annotations

from datetime import time

import pytest

from dashboard.config import ConfigError, load_config, parse_config


def test_defaults_without_a_file(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INWARD_CONFIG", raising=False)
    c = load_config()
    assert c.anonymity_min_group == 5 and c.alignment_min_periods == 12
    assert c.calendar_for("anything").start == time(9, 0)
    assert c.sla_for("x").first_response["urgent"] == 60


def test_team_calendar_inherits_default() -> None:
    c = parse_config(
        {
            "calendar": {
                "default": {"hours": ["08:00", "16:00"]},
                "IT Service Desk": {"timezone": "Europe/Berlin"},
            }
        }
    )
    it = c.calendar_for("IT Service Desk")
    assert it.timezone == "Europe/Berlin" and it.start == time(8, 0)
    assert c.calendar_for("HR").timezone == "UTC"


@pytest.mark.parametrize(
    "raw, needle",
    [
        ({"anonimity_min_group": 3}, "anonimity_min_group"),
        ({"calendar": {"default": {"hour": ["9:00", "17:00"]}}}, "calendar.default.hour"),
        ({"sla": {"default": {"first_response": {"critical": 5}}}}, "critical"),
        ({"timezone": "Mars/Olympus"}, "Mars/Olympus"),
        ({"anonymity_min_group": "five"}, "anonymity_min_group"),
    ],
)
def test_bad_config_names_the_key(raw, needle) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_config(raw)


def test_file_from_env(tmp_path, monkeypatch) -> None:
    f = tmp_path / "c.toml"
    f.write_text("anonymity_min_group = 8\n")
    monkeypatch.setenv("INWARD_CONFIG", str(f))
    assert load_config().anonymity_min_group == 8


@pytest.mark.parametrize(
    "raw, needle",
    [
        ({"queries": {"time_limit_seconds": float("nan")}}, "queries.time_limit_seconds"),
        ({"queries": {"time_limit_seconds": float("inf")}}, "queries.time_limit_seconds"),
        ({"queries": {"time_limit_seconds": 100_000}}, "queries.time_limit_seconds"),
        ({"engagement": {"gap_multiplier": float("inf")}}, "engagement.gap_multiplier"),
        ({"engagement": {"at_risk_p_alive": 5.0}}, "engagement.at_risk_p_alive"),
        ({"engagement": {"gone_quiet_p_alive": 0.7}}, "gone_quiet_p_alive.*at_risk_p_alive"),
        ({"anonymity_min_group": 1}, "anonymity_min_group"),
        ({"calendar": {"default": {"workdays": []}}}, "calendar.default.workdays"),
        ({"goals": [{"metric": "x", "target": float("nan")}]}, r"goals\[0\].target"),
    ],
)
def test_values_that_disable_a_guard_are_refused(raw, needle) -> None:
    """Each of these was accepted and silently turned a limit or a rule off (issue 17)."""
    with pytest.raises(ConfigError, match=needle):
        parse_config(raw)


def test_nan_from_a_toml_file_is_refused(tmp_path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[queries]\ntime_limit_seconds = nan\n")
    with pytest.raises(ConfigError, match=r"time_limit_seconds.*nan"):
        load_config(f)
