"""Sign-in end to end: a real OIDC provider (oidc-provider-mock) on localhost, a real
`inward serve` with `[access] mode = "login"`, and Debian's chromium.

One provider and one server for the module; each user gets a fresh browser context
(its own cookies). What each user sees is compared with the same metric functions
run on a connection scoped for that user, so the test fails if the page shows rows
outside the grant (or fails to show the grant's rows).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboard import audit, scoped
from dashboard.access import Scope
from dashboard.filters import Filters
from dashboard.metrics.date_range import default_range
from dashboard.metrics.engagement import retention
from dashboard.metrics.response_times import kpis
from tests.conftest import CHROMIUM, free_port, inward_serve

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian chromium: sudo apt-get install -y chromium"
    ),
]
ROOT = Path(__file__).resolve().parents[1]
DEPT_USER = "dept.lead@example.com"
ADMIN = "boss@example.com"
NOBODY = "nobody@example.com"


@dataclass
class Served:
    url: str
    db: Path
    department: str


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    from oidc_provider_mock import User, run_server_in_thread

    users = [
        User(sub="dept", claims={"email": DEPT_USER}),
        User(sub="admin", claims={"email": ADMIN, "groups": ["inward-admins"]}),
        User(sub="nobody", claims={"email": NOBODY}),
    ]
    with run_server_in_thread(port=free_port(), user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="module")
def served(demo_wh, provider, tmp_path_factory) -> Iterator[Served]:
    """`inward serve` in login mode on a copy of the demo warehouse."""
    import duckdb

    home = tmp_path_factory.mktemp("signin")
    db = home / "served.duckdb"
    shutil.copy(demo_wh.db, db)
    con = duckdb.connect(str(db), read_only=True)
    dept = con.sql(
        "SELECT requester_department FROM tickets WHERE requester_department IS NOT NULL "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchall()[0][0]
    con.close()
    port = free_port()
    (home / "inward.toml").write_text(
        f"""[access]
mode = "login"
[access.users."{DEPT_USER}"]
departments = ["{dept}"]
[access.groups."inward-admins"]
all = true
""",
        encoding="utf-8",
    )
    (home / ".streamlit").mkdir()
    (home / ".streamlit" / "secrets.toml").write_text(
        f"""[auth]
redirect_uri = "http://localhost:{port}/oauth2callback"
cookie_secret = "test-cookie-secret-0123456789abcdef"
client_id = "inward"
client_secret = "inward-secret"
server_metadata_url = "{provider}/.well-known/openid-configuration"
""",
        encoding="utf-8",
    )
    env = {**os.environ, "INWARD_QUERIES": str(ROOT / "queries")}
    for name in ("INWARD_CONFIG", audit.LOG_ENV):  # inward.toml here; trail beside the db
        env.pop(name, None)
    # Streamlit reads .streamlit/secrets.toml from `home`, inward.toml too
    with inward_serve(db, port, home, env, host="localhost") as url:
        yield Served(url, db, dept)


def sign_in(page, served: Served, sub: str) -> None:
    page.goto(served.url)
    page.get_by_role("button", name="Sign in").click(timeout=60_000)
    page.get_by_role("button", name=sub, exact=True).click(timeout=30_000)  # the provider
    page.wait_for_url(f"{served.url}/**", timeout=60_000)


def metric(page, label: str) -> int:
    tile = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    text = tile.locator('[data-testid="stMetricValue"]').inner_text(timeout=90_000)
    return int(text.replace(",", ""))


def expected(served: Served, scope: Scope) -> dict[str, int]:
    """The Overview's ticket tile and the Engagement page's regulars for `scope`, from
    the functions the pages call, on a connection scoped like the page's."""
    with scoped.reader(served.db, scope) as con:
        span = default_range(con)  # the sidebar's default, on the scoped rows
        start, end = span.date_from, span.date_to
        tiles = kpis(con, Filters(date_from=start, date_to=end))
        quiet = retention.quiet_by_quarter(con)
    tickets = next(k for k in tiles if k.label == "Tickets").value
    return {"tickets": int(tickets or 0), "regulars": int(quiet["regular_requesters"].sum())}


def query_download(page, served: Served) -> list[dict[str, str]]:
    page.goto(f"{served.url}/q-demand-repeat-requesters")
    page.get_by_role("heading", name="Repeat requesters").wait_for(timeout=90_000)
    button = page.get_by_role("button", name="Download CSV")
    button.wait_for(timeout=90_000)
    with page.expect_download(timeout=60_000) as info:
        button.click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def see(page, served: Served, scope: Scope) -> tuple[dict[str, int], list[dict[str, str]]]:
    """What the signed-in user sees: Overview and Engagement numbers, query rows."""
    want = expected(served, scope)
    page.get_by_text("Signed in as").first.wait_for(timeout=90_000)
    got = {"tickets": metric(page, "Tickets")}
    assert page.locator('[data-testid="stException"]').count() == 0
    page.goto(f"{served.url}/engagement")
    got["regulars"] = metric(page, "Regular requesters")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert got == want
    return got, query_download(page, served)


def test_department_user_and_admin_see_their_scope(served, page, browser) -> None:
    sign_in(page, served, "dept")
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text(DEPT_USER).wait_for(timeout=90_000)
    assert f"departments {served.department}" in sidebar.inner_text()
    dept_seen, dept_rows = see(page, served, Scope(departments=(served.department,)))
    assert dept_rows, "the query page showed no rows: the check below could not fail"
    assert {r["requester_department"] for r in dept_rows} == {served.department}
    assert all(r["requester"].startswith("R-") for r in dept_rows)  # pseudonymised

    admin = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        apage = admin.new_page()
        sign_in(apage, served, "admin")
        admin_seen, admin_rows = see(apage, served, Scope(all=True))
        assert admin_seen["tickets"] > dept_seen["tickets"]
        assert len({r["requester_department"] for r in admin_rows}) > 1
        assert all(r["requester"].startswith("R-") for r in admin_rows)  # no raw grant
        apage.get_by_role("button", name="Sign out").click()
        # the provider's end-session page (RP-initiated logout), then back to the app
        apage.get_by_role("button", name="End session").click(timeout=60_000)
        apage.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
        assert apage.locator('[data-testid="stMetric"]').count() == 0
    finally:
        admin.close()

    events = audit.read(served.db)
    signed_in = {e["who"] for e in events if e["event"] == "sign_in"}
    assert {DEPT_USER, ADMIN} <= signed_in
    assert any(
        e["event"] == "query" and e["who"] == DEPT_USER and e["query"] == "demand/repeat_requesters"
        for e in events
    )
    assert any(e["event"] == "page" and e["page"] == "engagement" for e in events)


def test_a_user_without_a_grant_sees_no_access(served, page) -> None:
    sign_in(page, served, "nobody")
    page.get_by_role("heading", name="No access").wait_for(timeout=90_000)
    assert NOBODY in page.locator("body").inner_text()
    for path in ("", "engagement", "q-demand-repeat-requesters"):
        page.goto(f"{served.url}/{path}")
        page.get_by_role("heading", name="No access").wait_for(timeout=90_000)
        assert page.locator('[data-testid="stMetric"]').count() == 0
        assert page.get_by_role("button", name="Download CSV").count() == 0
    events = audit.read(served.db)
    assert any(e["event"] == "denied" and e["who"] == NOBODY for e in events)
