"""`inward report`: its text against `inward metrics`/`inward surveys` for the same period
and filters, anonymity, a self-contained HTML file, a real PDF, and e-mail through a
real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from datetime import date, datetime
from email import message_from_bytes, policy
from html.parser import HTMLParser
from pathlib import Path

import pytest

from dashboard.cli import main
from dashboard.formatting import fmt
from dashboard.report.content import last_full_month
from tests.conftest import CHROMIUM, free_port

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")
needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext)"
)


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    capsys.readouterr()
    assert main([*args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def expected_period(files) -> tuple[date, date]:
    """The last full month before the newest ticket update, straight from the export."""
    newest = max(
        datetime.fromisoformat(row["updated_at"] or row["created_at"])
        for row in csv.DictReader(files.tickets[0].open(encoding="utf-8"))
    )
    return last_full_month(newest)


class Tables(HTMLParser):
    """Rows of every <table id=...> (cell text), and the text of every <section id=...>."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.sections: dict[str, str] = {}
        self._table: str | None = None
        self._section: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id")
            self.tables[self._table or ""] = []
        elif tag == "section":
            self._section.append(a.get("id") or "")
            self.sections.setdefault(self._section[-1], "")
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "section" and self._section:
            self._section.pop()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        for s in self._section:
            self.sections[s] += data


def parse(path: Path) -> Tables:
    t = Tables()
    t.feed(path.read_text(encoding="utf-8"))
    return t


def hours(minutes: float | None) -> str:
    return "–" if minutes is None else f"{minutes / 60:,.1f}"


def pct(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.1f}"


@pytest.fixture(scope="module")
def html_report(demo_wh, tmp_path_factory) -> Path:
    """Default period, no filters, with charts."""
    if not CHROMIUM.exists():
        pytest.skip("needs Debian chromium")
    out = tmp_path_factory.mktemp("report") / "report.html"
    assert main(["report", "--db", str(demo_wh.db), "--out", str(out)]) == 0
    return out


def test_default_period_is_last_full_month_of_the_data(demo_wh, html_report) -> None:
    lo, hi = expected_period(demo_wh.files)
    text = parse(html_report).sections["headline"]
    assert f"{lo:%-d %b %Y} – {hi:%-d %b %Y}" in html_report.read_text(encoding="utf-8")
    assert text.strip()


def test_html_numbers_are_the_clis(demo_wh, html_report, capsys) -> None:
    lo, hi = expected_period(demo_wh.files)
    period = ["--db", str(demo_wh.db), "--from", lo.isoformat(), "--to", hi.isoformat()]
    total = cli_json(capsys, "metrics", *period)[0]
    teams = cli_json(capsys, "metrics", *period, "--by", "team")
    page = parse(html_report)
    assert f"Tickets{fmt(total['tickets'], '')}" in page.sections["headline"].replace("\n", "")
    rows = {r[0]: r for r in page.tables["teams"][1:]}
    assert set(rows) == {t["service_team"] for t in teams}
    for t in teams:
        r = rows[t["service_team"]]
        assert r[1] == f"{t['tickets']:,}"
        assert r[3] == hours(t["median_first_response_minutes"])
        assert r[4] == hours(t["median_resolution_minutes"])
        assert r[5] == hours(t["p90_resolution_minutes"])
        assert r[6] == pct(t["sla_resolution_met_rate"])
        assert r[8] == pct(t["sla_first_response_met_rate"])


def test_html_is_self_contained(html_report) -> None:
    text = html_report.read_text(encoding="utf-8")
    assert text.count("<svg") >= 4  # the weekly charts, inline
    assert "<script" not in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", text)
    assert "@import" not in text


@needs_chromium
@needs_poppler
def test_pdf_text_matches_cli_for_filters_on_letter(demo_wh, tmp_path, capsys) -> None:
    args = ["--from", "2026-03-01", "--to", "2026-04-15", "--team", "Legal", "--team", "Facilities"]
    out = tmp_path / "r.pdf"
    assert (
        main(["report", "--db", str(demo_wh.db), *args, "--paper", "letter", "--out", str(out)])
        == 0
    )
    assert out.read_bytes().startswith(b"%PDF")
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True).stdout
    assert "612 x 792" in info  # Letter
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    teams = cli_json(capsys, "metrics", "--db", str(demo_wh.db), *args, "--by", "team")
    total = cli_json(capsys, "metrics", "--db", str(demo_wh.db), *args)[0]
    assert {t["service_team"] for t in teams} == {"Legal", "Facilities"}
    assert fmt(total["tickets"], "") in text
    for t in teams:
        line = next(x for x in text.splitlines() if x.strip().startswith(t["service_team"]))
        cells = line.split()
        want = [
            f"{t['tickets']:,}",
            hours(t["median_first_response_minutes"]),
            hours(t["median_resolution_minutes"]),
            pct(t["sla_resolution_met_rate"]),
        ]
        positions = [cells.index(v) for v in want]  # each present, in the table's order
        assert positions == sorted(positions), (line, want)


@pytest.fixture
def strict_config(demo_wh, tmp_path, capsys) -> tuple[Path, list[dict], list[dict]]:
    """A threshold between the smallest and the largest team's respondents this month, so
    the report must hide some teams and show others; returns (config, hidden, shown)."""
    lo, hi = expected_period(demo_wh.files)
    period = ["--db", str(demo_wh.db), "--from", lo.isoformat(), "--to", hi.isoformat()]
    counts = sorted(r["respondents"] for r in cli_json(capsys, "surveys", *period, "--by", "team"))
    k = counts[len(counts) // 2]
    config = tmp_path / "inward.toml"
    config.write_text(f"anonymity_min_group = {k}\n", encoding="utf-8")
    rows = cli_json(capsys, "--config", str(config), "surveys", *period, "--by", "team")
    hidden = [r for r in rows if r["suppressed"]]
    shown = [r for r in rows if not r["suppressed"]]
    assert hidden and shown
    return config, hidden, shown


def test_small_survey_groups_never_appear(demo_wh, strict_config, tmp_path) -> None:
    config, hidden, shown = strict_config
    out = tmp_path / "r.html"
    assert (
        main(
            [
                "--config",
                str(config),
                "report",
                "--db",
                str(demo_wh.db),
                "--no-charts",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    page = parse(out)
    voice = page.sections["voice"]
    for r in hidden:
        assert r["service_team"] not in voice
    rows = {r[0]: r for r in page.tables["voice-teams"][1:]}
    assert set(rows) == {r["service_team"] for r in shown}
    for r in shown:
        assert rows[r["service_team"]][1] == f"{r['respondents']:,}"
        assert rows[r["service_team"]][2] == f"{r['csat_mean']:.2f}"
    assert f"{len(hidden)} team(s) hidden" in voice


def html_only(db: Path, out: Path, *extra: str) -> int:
    """`inward report` to an HTML file without charts (no browser: the fast path)."""
    return main(["report", "--db", str(db), "--no-charts", "--out", str(out), *extra])


def test_email_through_a_real_smtp_server(demo_wh, tmp_path) -> None:
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self) -> None:
            self.messages: list[tuple[str, list[str], bytes]] = []

        async def handle_DATA(self, server, session, envelope):  # aiosmtpd hook name
            self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
            return "250 OK"

    inbox = Inbox()
    port = free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        out = tmp_path / "weekly.html"
        code = html_only(
            demo_wh.db,
            out,
            *("--email", "cio@example.com", "--email", "coo@example.com"),
            *("--smtp", f"127.0.0.1:{port}", "--sender", "inward@example.com"),
        )
    finally:
        smtp.stop()
    assert code == 0
    assert len(inbox.messages) == 1
    sender, rcpts, raw = inbox.messages[0]
    assert sender == "inward@example.com"
    assert sorted(rcpts) == ["cio@example.com", "coo@example.com"]
    msg = message_from_bytes(raw, policy=policy.default)
    headline = parse(out).sections["headline"].strip().splitlines()[0]
    assert headline in msg["Subject"]
    attachment = next(msg.iter_attachments())
    assert attachment.get_filename() == "weekly.html"
    assert attachment.get_content_type() == "text/html"
    assert attachment.get_content_charset() == "utf-8"
    sent = attachment.get_content().replace("\r\n", "\n")  # text travels with CRLF
    assert sent == out.read_text(encoding="utf-8")


def test_unreachable_smtp_is_exit_1_and_keeps_the_file(demo_wh, tmp_path, capsys) -> None:
    out = tmp_path / "r.html"
    code = html_only(
        demo_wh.db, out, "--email", "a@example.com", "--smtp", f"127.0.0.1:{free_port()}"
    )
    assert code == 1
    assert out.is_file()
    assert "could not send" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["--out", "r.txt"],
        ["--out", "r.html", "--email", "a@example.com"],
        ["--out", "r.html", "--smtp", "host:notaport"],
        ["--out", "r.html", "--from", "2026-02-01", "--to", "2026-01-01"],
        ["--out", "r.pdf", "--no-charts"],
    ],
)
def test_bad_usage_is_exit_2(demo_wh, tmp_path, args) -> None:
    assert main(["report", "--db", str(demo_wh.db), *args]) == 2


def test_empty_warehouse_is_exit_1(fresh_db, tmp_path) -> None:
    assert main(["report", "--db", str(fresh_db), "--out", str(tmp_path / "r.html")]) == 1


@pytest.mark.parametrize(
    ("as_of", "month"),
    [
        (datetime(2026, 3, 15, 12), (date(2026, 2, 1), date(2026, 2, 28))),
        (datetime(2026, 3, 1, 0, 5), (date(2026, 2, 1), date(2026, 2, 28))),
        (date(2024, 3, 31), (date(2024, 2, 1), date(2024, 2, 29))),
        (date(2026, 1, 10), (date(2025, 12, 1), date(2025, 12, 31))),
    ],
)
def test_last_full_month(as_of, month) -> None:
    assert last_full_month(as_of) == month
