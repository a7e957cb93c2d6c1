"""`inward metrics` against brute-force Python on the same generated data."""

from __future__ import annotations

import csv
import json
import statistics
from collections import defaultdict
from datetime import date, datetime

import pytest

from dashboard.cli import main


def exact_median(values: list[float]) -> float:
    return statistics.median(values)


def brute_force(
    files, team: str | None = None, since: date | None = None
) -> dict[str, dict[str, float]]:
    """Median first response / resolution minutes per team straight from the CSV."""
    fr: dict[str, list[float]] = defaultdict(list)
    res: dict[str, list[float]] = defaultdict(list)
    count: dict[str, int] = defaultdict(int)
    with files.tickets[0].open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            created = datetime.fromisoformat(row["created_at"])
            if team and row["service_team"] != team:
                continue
            if since and created.date() < since:
                continue
            t = row["service_team"]
            count[t] += 1
            if row["first_response_at"]:
                fr[t].append(
                    (datetime.fromisoformat(row["first_response_at"]) - created).total_seconds()
                    / 60
                )
            if row["resolved_at"]:
                res[t].append(
                    (datetime.fromisoformat(row["resolved_at"]) - created).total_seconds() / 60
                )
    return {
        t: {"tickets": count[t], "fr": exact_median(fr[t]), "res": exact_median(res[t])}
        for t in count
    }


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    code = main(["metrics", *args, "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)


def test_metrics_by_team_match_brute_force(demo_wh, capsys) -> None:
    rows = run_json(capsys, "--db", str(demo_wh.db), "--by", "team")
    expected = brute_force(demo_wh.files)
    assert {r["service_team"] for r in rows} == set(expected)
    for r in rows:
        e = expected[r["service_team"]]
        assert r["tickets"] == e["tickets"]
        assert r["median_first_response_minutes"] == pytest.approx(e["fr"], abs=1e-6)
        assert r["median_resolution_minutes"] == pytest.approx(e["res"], abs=1e-6)


def test_metrics_filters_match_brute_force(demo_wh, capsys) -> None:
    since = date(2026, 3, 1)
    rows = run_json(capsys, "--db", str(demo_wh.db), "--team", "Legal", "--from", since.isoformat())
    e = brute_force(demo_wh.files, team="Legal", since=since)["Legal"]
    assert len(rows) == 1
    assert rows[0]["tickets"] == e["tickets"]
    assert rows[0]["median_resolution_minutes"] == pytest.approx(e["res"], abs=1e-6)


def test_metrics_json_has_contract_columns(demo_wh, capsys) -> None:
    rows = run_json(capsys, "--db", str(demo_wh.db), "--by", "team,department")
    # the CONTRACT, restated (not imported from response_times.SUMMARY_COLUMNS) so that
    # renaming or reordering a column there fails here
    assert list(rows[0]) == [
        "service_team", "requester_department", "tickets",
        "median_first_response_minutes", "p90_first_response_minutes",
        "median_resolution_minutes", "p90_resolution_minutes",
        "median_first_response_business_minutes", "median_resolution_business_minutes",
        "sla_first_response_met_rate", "sla_resolution_met_rate", "reopen_rate",
        "median_resolution_excluding_waiting_minutes",
    ]  # fmt: skip


def test_exit_codes_and_one_line_errors(tmp_path, capsys) -> None:
    assert main(["metrics", "--db", str(tmp_path / "none.duckdb")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no warehouse" in err
    with pytest.raises(SystemExit) as exc:
        main(["metrics", "--by", "team", "--from", "yesterday"])
    assert exc.value.code == 2
    assert main(["ingest", str(tmp_path / "missing.csv"), "--db", str(tmp_path / "w.duckdb")]) == 1
    bad = tmp_path / "odd.csv"
    bad.write_text("colour,size\nred,3\n")
    assert main(["ingest", str(bad), "--db", str(tmp_path / "w.duckdb")]) == 1
    assert "cannot tell what this file holds" in capsys.readouterr().out
