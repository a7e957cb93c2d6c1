"""`[access]`: validation, who gets which scope (deny by default), and the CLI's
`--as-user` showing exactly that scope."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from dashboard import pseudonyms
from dashboard.access import OPEN, Scope
from dashboard.cli import main
from dashboard.config import ConfigError, parse_config
from tests.conftest import stored_values

ACCESS = """
[access]
mode = "login"
[access.users."alice@example.com"]
departments = ["Sales"]
[access.users."lead@example.com"]
teams = ["Legal"]
[access.users."cfo@example.com"]
all = true
[access.users."dpo@example.com"]
all = true
raw = true
[access.groups."inward-admins"]
all = true
[access.groups."hr-partners"]
departments = ["People"]
"""


def _access(text: str = ACCESS):
    import tomllib

    return parse_config(tomllib.loads(text)).access


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[access]\nmode = "sso"', "access.mode"),
        ('[access]\nmodes = "login"', "unknown config key access.modes"),
        (
            '[access.users."a@x.org"]\ndepartment = ["Sales"]',
            'unknown config key access.users."a@x.org".department',
        ),
        ('[access.users."a@x.org"]\nall = "yes"', "expected true or false"),
        ('[access.users."a@x.org"]\nteams = "Legal"', "expected a list of names"),
        ('[access.users."a@x.org"]\nraw = true', "grants nothing"),
        ('[access.users."alice"]\nall = true', "users are e-mail addresses"),
        ("[access]\nusers = 3", "access.users"),
    ],
)
def test_bad_access_config_is_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace('"', '"')):
        _access(text)


def test_grants_map_users_and_groups_to_scopes() -> None:
    access = _access()
    assert access.scope_for("Alice@Example.com") == Scope(
        departments=("Sales",), who="alice@example.com"
    )
    assert access.scope_for("lead@example.com").teams == ("Legal",)
    assert access.scope_for("cfo@example.com") == Scope(all=True, who="cfo@example.com")
    assert access.scope_for("dpo@example.com").raw
    # groups from the token add up with the user's own grant
    both = access.scope_for("alice@example.com", ["hr-partners"])
    assert both.departments == ("People", "Sales") and not both.all
    assert access.scope_for("nobody@example.com", ["inward-admins"]).all
    # deny by default: unknown user, unknown group, no e-mail
    assert access.scope_for("nobody@example.com") is None
    assert access.scope_for("nobody@example.com", ["guests"]) is None
    assert access.scope_for(None) is None


def test_open_mode_gives_everyone_all_rows_but_never_raw_ids() -> None:
    access = _access(
        '[access]\nmode = "open"\n[access.users."dpo@example.com"]\nall = true\nraw = true'
    )
    assert access.scope_for("dpo@example.com") == OPEN
    assert access.scope_for(None) == OPEN and not OPEN.raw


@pytest.fixture(scope="module")
def wh(demo_wh, tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("access")
    db = root / "inward.duckdb"
    shutil.copy(demo_wh.db, db)
    cfg = root / "inward.toml"
    cfg.write_text(ACCESS, encoding="utf-8")
    return db, cfg


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def run_as(
    capsys, wh: tuple[Path, Path], user: str, command: str, *args: str
) -> tuple[int, str, str]:
    """`inward --config CFG COMMAND --db DB ARGS --as-user USER`: every scoped run here
    differs only in the command, its options and who asks."""
    db, cfg = wh
    return run(capsys, "--config", str(cfg), command, "--db", str(db), *args, "--as-user", user)


def test_metrics_as_a_department_user_shows_only_that_department(wh, capsys) -> None:
    db, _ = wh
    code, out, _ = run_as(
        capsys, wh, "alice@example.com", "metrics", "--by", "department", "--format", "json"
    )
    assert code == 0
    rows = json.loads(out)
    assert [r["requester_department"] for r in rows] == ["Sales"]
    con = duckdb.connect(str(db), read_only=True)
    want = con.sql("SELECT count(*) FROM tickets WHERE requester_department = 'Sales'").fetchall()[
        0
    ][0]
    con.close()
    assert rows[0]["tickets"] == want
    # asking for another department explicitly does not widen the scope
    code, out, _ = run_as(
        capsys,
        wh,
        "alice@example.com",
        "metrics",
        "--department",
        "Engineering",
        "--format",
        "json",
    )
    assert code == 0 and json.loads(out)[0]["tickets"] == 0


def test_engagement_as_a_team_lead_is_scoped_and_pseudonymised(wh, capsys) -> None:
    db, _ = wh
    code, out, _ = run_as(capsys, wh, "lead@example.com", "engagement", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert rows and {r["service_team"] for r in rows} == {"Legal"}
    key = pseudonyms.load_key(db)
    raw = stored_values(
        db, "SELECT requester_id FROM requester_engagement WHERE service_team = 'Legal'"
    )
    assert {r["requester_id"] for r in rows} == {pseudonyms.pseudonym(key, v) for v in raw}
    # the operator (no --as-user) sees ids as stored; a raw grant too
    code, out, _ = run(capsys, "engagement", "--db", str(db), "--format", "json")
    assert raw <= {r["requester_id"] for r in json.loads(out)}
    code, out, _ = run_as(capsys, wh, "dpo@example.com", "engagement", "--format", "json")
    assert raw <= {r["requester_id"] for r in json.loads(out)}


def test_surveys_as_a_department_user_cover_only_that_department(wh, capsys) -> None:
    code, out, _ = run_as(
        capsys, wh, "alice@example.com", "surveys", "--by", "department", "--format", "json"
    )
    assert code == 0
    assert {r["department"] for r in json.loads(out)} == {"Sales"}


def test_a_user_without_a_grant_gets_exit_1_and_one_line(wh, capsys) -> None:
    db, _ = wh
    for command in ("metrics", "engagement", "surveys", "alignment"):
        code, out, err = run_as(capsys, wh, "mallory@example.com", command)
        assert code == 1 and out == ""
        assert len(err.strip().splitlines()) == 1 and "no access" in err
    code, _, err = run(capsys, "metrics", "--db", str(db), "--as-group", "inward-admins")
    assert code == 2 and "--as-group needs --as-user" in err


def test_report_as_a_team_lead_holds_only_that_team(wh, capsys, tmp_path) -> None:
    """`inward report --as-user` reads through the scoped connection: the teams table
    of a Legal lead's report names Legal only, the operator's names the others too."""
    db, cfg = wh
    teams = [r[0] for r in duckdb.connect(str(db), read_only=True).sql(
        "SELECT DISTINCT service_team FROM tickets").fetchall()]  # fmt: skip
    seen = {}
    for who in ("lead@example.com", None):
        out = tmp_path / f"{who or 'operator'}.html"
        args = ["--config", str(cfg), "report", "--db", str(db), "--no-charts", "--out", str(out)]
        code, _, err = run(capsys, *args, *(["--as-user", who] if who else []))
        assert code == 0, err
        html = out.read_text(encoding="utf-8")
        seen[who] = {t for t in teams if f">{t}<" in html}
    assert seen["lead@example.com"] == {"Legal"}
    assert len(seen[None]) > 1  # the check above can fail


def test_as_user_runs_are_in_the_audit_trail(wh, capsys) -> None:
    from dashboard import audit

    db, cfg = wh
    before = len(audit.read(db))
    run(capsys, "--config", str(cfg), "metrics", "--db", str(db), "--as-user", "lead@example.com")
    run(capsys, "--config", str(cfg), "surveys", "--db", str(db), "--as-user", "eve@example.com")
    new = audit.read(db)[before:]
    assert [(e["event"], e["who"], e["command"]) for e in new] == [
        ("cli", "lead@example.com", "metrics"),
        ("denied", "eve@example.com", "surveys"),
    ]
    assert new[0]["scope"] == "teams Legal · pseudonymised ids"
    assert audit.log_path(db).stat().st_mode & 0o077 == 0  # private to the operator


class _Served(BaseException):  # main() turns any Exception into one line
    """Raised by the stand-in for os.execve: the command `inward serve` would become."""


@pytest.mark.parametrize(
    ("argv", "address", "warned"),
    [([], "127.0.0.1", False), (["--address", "0.0.0.0"], "0.0.0.0", True)],
    ids=["default", "opened"],
)
def test_serve_listens_on_this_machine_unless_told(
    fresh_db, monkeypatch, capsys, argv, address, warned
) -> None:
    import os

    def execve(path, cmd, env):
        raise _Served(cmd)

    monkeypatch.setattr(os, "execve", execve)
    monkeypatch.setenv("INWARD_CONFIG", "")
    with pytest.raises(_Served) as served:
        main(["serve", "--db", str(fresh_db), *argv])
    cmd = served.value.args[0]
    assert cmd[cmd.index("--server.address") + 1] == address
    err = capsys.readouterr().err
    assert ("anyone who can reach this port" in err) is warned
