"""Survey analytics: scores vs brute force, intervals vs references, anonymity under attack,
a planted driver and a planted complaint phrase.

The world is synthetic and fully known: every score is generated here, so each
number the module reports is checked against a computation done in plain Python
on the generating records, never against the module itself.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from itertools import combinations

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from dashboard.config import Config
from dashboard.filters import Filters
from dashboard.metrics.stats import wilson_interval
from dashboard.metrics.surveys.anonymity import suppress
from dashboard.metrics.surveys.answers import parse_by
from dashboard.metrics.surveys.comments import comment_excerpts, comment_keywords
from dashboard.metrics.surveys.drivers import survey_drivers
from dashboard.metrics.surveys.scores import nps_bootstrap_interval
from dashboard.metrics.surveys.summary import survey_summary, trend
from dashboard.warehouse import migrate

K = 5
CFG = Config(anonymity_min_group=K)
TEAMS = ("IT Service Desk", "HR Ops", "Finance Ops")
# people per department: Legal (3) and Facilities (2) are below the threshold by design
DEPARTMENTS = {"Sales": 150, "Engineering": 150, "Marketing": 12, "Legal": 3, "Facilities": 2}
CSAT_SCALE = {"IT Service Desk": (1, 5), "HR Ops": (1, 5), "Finance Ops": (1, 7)}
REOPEN_EFFECT = -1.2  # planted: reopened tickets score 1.2 points lower (1–5 scale)
LOW_FILLER = ("still waiting", "nobody answered", "slow again", "had to chase twice")
HIGH_FILLER = ("quick and friendly", "great help thanks", "solved fast", "very kind agent")


def _world(seed: int = 7) -> dict[str, list[dict]]:
    """People, tickets and survey rows with known truths (see module constants)."""
    rng = random.Random(seed)
    people, tickets, surveys = [], [], []
    pid = 0
    for dept, size in DEPARTMENTS.items():
        for _ in range(size):
            pid += 1
            r = rng.random()
            ptype = "employee" if r < 0.8 else ("contractor" if r < 0.95 else "vendor")
            people.append(
                {
                    "person_id": f"P{pid}",
                    "department": dept,
                    "person_type": ptype,
                    "active_from": date(2020, 1, 1),
                    "active_to": None,
                }
            )
    start = datetime(2025, 1, 1, tzinfo=UTC)
    tid = rid = 0
    for p in people:
        for _ in range(rng.randint(1, 3)):
            tid += 1
            team = rng.choice(TEAMS)
            # whole months of answers (Jan–May): no near-empty edge month
            created = start + timedelta(days=rng.randint(0, 148), minutes=rng.randint(0, 600))
            reopened = rng.random() < 0.25
            frm = rng.expovariate(1 / 120)
            res = frm + rng.expovariate(1 / 2000)
            tickets.append(
                {
                    "ticket_id": f"T{tid}",
                    "source": "zendesk",
                    "service_team": team,
                    "requester_id": p["person_id"],
                    "requester_department": p["department"],
                    "requester_type": p["person_type"],
                    "channel": rng.choice(("email", "portal", "chat")),
                    "category": rng.choice(("access", "hardware", "payroll")),
                    "priority": rng.choice(("low", "normal", "high")),
                    "ticket_type": "request",
                    "status": "solved",
                    "created_at": created,
                    "updated_at": created,
                    "first_response_at": created + timedelta(minutes=frm),
                    "resolved_at": created + timedelta(minutes=res),
                    "reopen_count": 1 if reopened else 0,
                    "subject": "x",
                    "ingest_id": 1,
                }
            )
            if rng.random() < 0.15:  # resolved but never surveyed: response rate < 1
                continue
            rid += 1
            lo, hi = CSAT_SCALE[team]
            latent = 4.1 + (REOPEN_EFFECT if reopened else 0.0) + rng.gauss(0, 0.8)
            s5 = min(5.0, max(1.0, latent))
            csat = round(lo + (s5 - 1) / 4 * (hi - lo))
            low = csat <= lo + 1
            if low:
                text = rng.choice(LOW_FILLER) + (
                    ", the password reset took days" if rng.random() < 0.7 else ""
                )
            else:
                text = rng.choice(HIGH_FILLER)
            if p["department"] == "Legal":
                text = "zebra quokka unique phrase " + text
            dept_field = p["department"] if rng.random() < 0.8 else None  # fallback to people
            when = created + timedelta(days=2)
            base = {
                "response_id": f"R{rid}",
                "source": "qualtrics",
                "survey": "after-ticket",
                "submitted_at": when,
                "respondent_id": p["person_id"],
                "respondent_department": dept_field,
                "service_team": team,
                "ticket_id": f"T{tid}",
                "comment": text if rng.random() < 0.9 else None,
                "ingest_id": 2,
            }
            surveys.append(
                {
                    **base,
                    "metric": "csat",
                    "score": float(csat),
                    "scale_min": float(lo),
                    "scale_max": float(hi),
                }
            )
            if rng.random() < 0.6:
                nps = min(10, max(0, round(rng.gauss(7.5 if not reopened else 5.5, 2.2))))
                surveys.append(
                    {
                        **base,
                        "metric": "nps",
                        "score": float(nps),
                        "scale_min": 0.0,
                        "scale_max": 10.0,
                    }
                )
            if rng.random() < 0.5:
                surveys.append(
                    {
                        **base,
                        "metric": "ces",
                        "score": float(rng.randint(1, 7)),
                        "scale_min": 1.0,
                        "scale_max": 7.0,
                    }
                )
    return {"people": people, "tickets": tickets, "survey_responses": surveys}


def _load(world: dict[str, list[dict]]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    migrate(con)
    for table, records in world.items():
        df = pl.DataFrame(records, infer_schema_length=None)
        con.register("_src", df.to_arrow())
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _src")
        con.unregister("_src")
    return con


@pytest.fixture(scope="module")
def world() -> dict[str, list[dict]]:
    return _world()


@pytest.fixture(scope="module")
def con(world: dict[str, list[dict]]) -> duckdb.DuckDBPyConnection:
    return _load(world)


# ----------------------------------------------------------------- brute force reference


def _records(world: dict[str, list[dict]]) -> list[dict]:
    """Survey rows with the group columns resolved the way the contract says."""
    person = {p["person_id"]: p for p in world["people"]}
    out = []
    for r in world["survey_responses"]:
        p = person[r["respondent_id"]]
        out.append(
            {
                **r,
                "department": r["respondent_department"] or p["department"],
                "requester_type": p["person_type"],
            }
        )
    return out


def _brute(records: list[dict]) -> dict[str, float | int | None]:
    """CSAT/NPS/CES of a list of rows, computed the textbook way."""
    csat = [r for r in records if r["metric"] == "csat"]
    nps = [r["score"] for r in records if r["metric"] == "nps"]
    ces = [r for r in records if r["metric"] == "ces"]

    def norm(r: dict, top: float) -> float:
        return 1 + (top - 1) * (r["score"] - r["scale_min"]) / (r["scale_max"] - r["scale_min"])

    return {
        "responses": len({r["response_id"] for r in records}),
        "respondents": len({r["respondent_id"] for r in records}),
        "csat_mean": sum(norm(r, 5) for r in csat) / len(csat) if csat else None,
        "csat_top2_share": (
            sum(r["score"] >= r["scale_max"] - 1 for r in csat) / len(csat) if csat else None
        ),
        "csat_responses": len(csat),
        "nps": (
            100 * (sum(s >= 9 for s in nps) - sum(s <= 6 for s in nps)) / len(nps) if nps else None
        ),
        "ces_mean": sum(norm(r, 7) for r in ces) / len(ces) if ces else None,
    }


def _group(records: list[dict], by: tuple[str, ...]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        groups[tuple(r[c] for c in by)].append(r)
    return groups


def _month(r: dict) -> date:
    return r["submitted_at"].astimezone(UTC).date().replace(day=1)


def _shown_parts(con, by: tuple[str, ...], f: Filters, cfg: Config = CFG) -> set[tuple]:
    """(month, *group) parts whose CSAT a view over several months adds up: those the
    same view shows month by month (rule 6: a range is the sum of its shown months)."""
    out = trend(con, cfg, "month", f, by=by)
    return {
        (r["period_start"], *(r[d] for d in by))
        for r in out.filter(pl.col("csat_mean").is_not_null()).iter_rows(named=True)
    }


def _covered(
    recs: list[dict],
    con,
    by: tuple[str, ...],
    f: Filters,
    row: dict,
    parts: set[tuple] | None = None,
) -> list[dict]:
    """The CSAT answers a published row is made of, per the module's documented rule
    (checked against the row's own count, so a wrong model fails loudly)."""
    parts = _shown_parts(con, by, f) if parts is None else parts
    sel = f.survey_selection()
    got = [
        r
        for r in recs
        if r["metric"] == "csat"
        and all(r[d] == row[d] for d in by)
        and all(r[d] in vals for d, vals in sel.items())
        and (_month(r), *(r[d] for d in by)) in parts
    ]
    assert len(got) == row["csat_responses"], (by, f, row)
    return got


# ----------------------------------------------------------------- scores


@pytest.mark.parametrize(
    "by", [("service_team",), ("service_team", "department"), ("requester_type",)]
)
def test_scores_match_brute_force(con, world, by) -> None:
    """With the threshold at 1 nothing is hidden, so every number must equal the reference."""
    got = survey_summary(con, Config(anonymity_min_group=1), by)
    truth = _group(_records(world), by)
    assert got.height == len(truth)
    # the contract's leading columns, restated (not imported) so that a rename fails here
    assert got.columns[: len(by) + 7] == [
        *by, "responses", "respondents", "csat_mean", "csat_top2_share", "nps", "ces_mean",
        "suppressed",
    ]  # fmt: skip
    for row in got.iter_rows(named=True):
        ref = _brute(truth[tuple(row[c] for c in by)])
        assert not row["suppressed"]
        for col, want in ref.items():
            if want is None:
                assert row[col] is None
            else:
                assert row[col] == pytest.approx(want, rel=1e-12, abs=1e-12), col


def test_top2_is_taken_on_each_scale(con, world) -> None:
    """Finance Ops asks CSAT on 1–7: its top-2 box is 6–7, not 4–5."""
    got = survey_summary(con, Config(anonymity_min_group=1), ("service_team",))
    fin = got.filter(pl.col("service_team") == "Finance Ops").row(0, named=True)
    scores = [
        r["score"]
        for r in world["survey_responses"]
        if r["service_team"] == "Finance Ops" and r["metric"] == "csat"
    ]
    assert fin["csat_top2_share"] == pytest.approx(sum(s >= 6 for s in scores) / len(scores))
    assert fin["csat_top2_share"] != pytest.approx(sum(s >= 4 for s in scores) / len(scores))


def test_date_filter_is_inclusive_and_filters_apply(con, world) -> None:
    f = Filters(
        date_from=date(2025, 2, 1),
        date_to=date(2025, 3, 31),
        teams=("HR Ops",),
        requester_types=("employee",),
    )
    got = survey_summary(con, Config(anonymity_min_group=1), (), f)
    recs = [
        r
        for r in _records(world)
        if date(2025, 2, 1) <= r["submitted_at"].date() <= date(2025, 3, 31)
        and r["service_team"] == "HR Ops"
        and r["requester_type"] == "employee"
    ]
    ref = _brute(recs)
    row = got.row(0, named=True)
    assert row["responses"] == ref["responses"]
    assert row["csat_mean"] == pytest.approx(ref["csat_mean"])
    assert row["nps"] == pytest.approx(ref["nps"])


def test_response_rate_is_responses_per_resolved_ticket(con, world) -> None:
    got = survey_summary(con, Config(anonymity_min_group=1), ("service_team",))
    for row in got.iter_rows(named=True):
        resolved = sum(t["service_team"] == row["service_team"] for t in world["tickets"])
        assert row["resolved_tickets"] == resolved
        assert row["response_rate"] == pytest.approx(row["responses"] / resolved)
        assert 0.7 < row["response_rate"] < 0.95  # 15 % of tickets were never surveyed


# ----------------------------------------------------------------- intervals


def _wilson_reference(x: int, n: int) -> tuple[float, float]:
    z = 1.959963984540054
    p = x / n
    return (
        (2 * n * p + z**2 - z * math.sqrt(z**2 + 4 * n * p * (1 - p))) / (2 * (n + z**2)),
        (2 * n * p + z**2 + z * math.sqrt(z**2 + 4 * n * p * (1 - p))) / (2 * (n + z**2)),
    )


@pytest.mark.parametrize(("x", "n"), [(0, 5), (5, 5), (3, 10), (47, 60), (1, 1000)])
def test_wilson_matches_reference_and_scipy(x: int, n: int) -> None:
    lo, hi = wilson_interval(x, n)
    ref = _wilson_reference(x, n)
    sp = stats.binomtest(x, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert (lo, hi) == pytest.approx(ref, abs=1e-12)
    assert (lo, hi) == pytest.approx((sp.low, sp.high), abs=1e-9)


def test_summary_ci_columns_are_wilson_of_the_counts(con) -> None:
    got = survey_summary(con, CFG, ("service_team",))
    for row in got.iter_rows(named=True):
        x = round(row["csat_top2_share"] * row["csat_responses"])
        assert (row["csat_top2_ci_low"], row["csat_top2_ci_high"]) == pytest.approx(
            _wilson_reference(x, row["csat_responses"])
        )
        assert row["nps_ci_low"] < row["nps"] < row["nps_ci_high"]


def test_nps_bootstrap_matches_normal_approximation_and_is_seeded() -> None:
    pro, pas, det = 120, 50, 30
    n = pro + pas + det
    lo, hi = nps_bootstrap_interval(pro, pas, det)
    assert (lo, hi) == nps_bootstrap_interval(pro, pas, det)  # deterministic
    p, q = pro / n, det / n
    se = 100 * math.sqrt((p + q - (p - q) ** 2) / n)
    centre = 100 * (p - q)
    assert lo < centre < hi
    assert (hi - lo) == pytest.approx(2 * 1.96 * se, rel=0.1)
    assert (lo + hi) / 2 == pytest.approx(centre, abs=0.3 * se)


# ----------------------------------------------------------------- the suppress primitive


def test_suppress_primary_and_complementary_1d() -> None:
    f = pl.DataFrame(
        {
            "department": ["a", "b", "c", "d"],
            "respondents": [10, 3, 12, 20],
            "csat_mean": [4.0, 2.0, 3.0, 4.5],
        }
    )
    out = suppress(f, 5, ids_col=None)
    assert out["suppressed"].to_list() == [True, True, False, False]  # b primary, a next-smallest
    assert out.filter(pl.col("suppressed"))["csat_mean"].null_count() == 2
    assert out.filter(pl.col("suppressed"))["respondents"].null_count() == 2


def test_suppress_two_small_hidden_groups_are_not_enough() -> None:
    """Two hidden groups of 1 and 2 people: total − visible is a group of 3 < k."""
    f = pl.DataFrame({"department": list("abcd"), "respondents": [1, 2, 30, 40]})
    assert suppress(f, 5, ids_col=None)["suppressed"].to_list() == [True, True, True, False]


_cells = st.lists(st.integers(0, 12), min_size=1, max_size=20)


@settings(max_examples=150, deadline=None)
@given(counts=_cells, k=st.integers(2, 6), width=st.integers(1, 4))
def test_suppress_margins_never_isolate_one_group(counts: list[int], k: int, width: int) -> None:
    """Property: in every margin (rows, columns, total) the hidden groups are none, or
    ≥ 2 with ≥ k respondents together, or nothing visible is left to hide."""
    rows = [(f"t{i // width}", f"d{i % width}", c) for i, c in enumerate(counts) if c > 0]
    if not rows:
        return
    f = pl.DataFrame(rows, schema=["service_team", "department", "respondents"], orient="row")
    hidden = suppress(f, k, ids_col=None)["suppressed"].to_list()
    assert all(h for (_, _, c), h in zip(rows, hidden, strict=True) if c < k)
    for key in (lambda r: r[0], lambda r: r[1], lambda r: ()):
        groups: dict = defaultdict(list)
        for r, h in zip(rows, hidden, strict=True):
            groups[key(r)].append((r[2], h))
        for members in groups.values():
            hid = [c for c, h in members if h]
            if hid and not all(h for _, h in members):
                assert len(hid) >= 2 and sum(hid) >= k, members


# ----------------------------------------------------------------- anonymity on real tables


def test_small_groups_are_hidden_with_every_number(con) -> None:
    got = survey_summary(con, CFG, ("department",))
    for dept in ("Legal", "Facilities"):
        row = got.filter(pl.col("department") == dept).row(0, named=True)
        assert row["suppressed"]
        assert all(row[c] is None for c in got.columns if c not in ("department", "suppressed"))
    shown = got.filter(~pl.col("suppressed"))
    assert shown["respondents"].min() >= K


def _sum(row: dict) -> tuple[float, int]:
    return row["csat_mean"] * row["csat_responses"], row["csat_responses"]


def test_total_minus_visible_departments_is_not_one_group(con, world) -> None:
    """The attack: overall total − visible departments = what is hidden. It must be a
    blend of ≥ 2 groups with ≥ k people, never one department's score."""
    total = survey_summary(con, CFG, ()).row(0, named=True)
    depts = survey_summary(con, CFG, ("department",))
    visible = depts.filter(~pl.col("suppressed")).iter_rows(named=True)
    s, n = _sum(total)
    for row in visible:
        ds, dn = _sum(row)
        s, n = s - ds, n - dn
    hidden = depts.filter(pl.col("suppressed"))["department"].to_list()
    truth = _group(_records(world), ("department",))
    assert len(hidden) >= 2
    assert n > 0  # something is left over: the attack has something to work with
    for d in hidden:
        alone = _brute(truth[(d,)])
        assert n != alone["csat_responses"]


def test_filter_differencing_all_departments_vs_all_but_one(con, world) -> None:
    """'All departments' per team minus 'all but Legal' per team would be Legal's cell."""
    others = tuple(d for d in DEPARTMENTS if d != "Legal")
    full = survey_summary(con, CFG, ("service_team",))
    part = survey_summary(con, CFG, ("service_team",), Filters(departments=others))
    truth = _group(_records(world), ("service_team", "department"))
    leaked = 0
    for a, b in zip(full.iter_rows(named=True), part.iter_rows(named=True), strict=True):
        legal = truth.get((a["service_team"], "Legal"), [])
        if not legal or a["suppressed"] or b["suppressed"]:
            continue
        if _sum(a)[1] - _sum(b)[1] == _brute(legal)["csat_responses"]:
            leaked += 1
    assert leaked == 0
    # and the filter must actually bite: at least one team row lost a part to it
    assert (part["suppressed"] | part["partial"]).sum() >= 1


VIEW_BYS = [
    (),
    ("service_team",),
    ("department",),
    ("requester_type",),
    ("service_team", "department"),
    ("service_team", "requester_type"),
    ("department", "requester_type"),
    ("service_team", "department", "requester_type"),
]


def _views(world: dict) -> list[Filters]:
    recs = _records(world)
    vals = {
        d: sorted({r[d] for r in recs}) for d in ("service_team", "department", "requester_type")
    }
    field = {
        "service_team": "teams",
        "department": "departments",
        "requester_type": "requester_types",
    }
    out = [Filters()]
    for d, vs in vals.items():
        for v in vs:
            out.append(Filters(**{field[d]: (v,)}))
            out.append(Filters(**{field[d]: tuple(x for x in vs if x != v)}))
    return out


def test_no_small_group_is_a_linear_combination_of_published_numbers(con, world) -> None:
    """The strongest attacker: collect every CSAT sum and count published by 8 groupings ×
    23 filters (one value / all but one value of each dimension; a filter on a grouped
    dimension only drops rows, so those pairs are skipped), over the whole range and
    month by month, and solve linear equations. A small group (all-time, or of one
    month) is disclosed iff its indicator over the finest cells (month × team ×
    department × type) lies in the row space of what was published."""
    recs = _records(world)
    dims = ("service_team", "department", "requester_type")
    cells = sorted({(_month(r), *(r[d] for d in dims)) for r in recs})
    index = {c: i for i, c in enumerate(cells)}
    rows = []
    for f in _views(world):
        sel = f.survey_selection()
        # a filter on a grouped dimension only picks rows of the unfiltered table
        for by in [b for b in VIEW_BYS if not set(b) & set(sel)]:
            parts = _shown_parts(con, by, f)
            out = survey_summary(con, CFG, by, f)
            published = [
                (r, parts)
                for r in out.filter(pl.col("csat_mean").is_not_null()).iter_rows(named=True)
            ]
            for r in (
                trend(con, CFG, "month", f, by=by)
                .filter(pl.col("csat_mean").is_not_null())
                .iter_rows(named=True)
            ):
                published.append((r, {(r["period_start"], *(r[d] for d in by))}))
            for r, shown in published:
                v = np.zeros(len(cells))
                for a in _covered(recs, con, by, f, r, shown):
                    v[index[(_month(a), *(a[d] for d in dims))]] = 1
                rows.append(v)
    a = np.unique(np.array(rows), axis=0)
    rank = np.linalg.matrix_rank(a)
    targets = 0
    for with_month in (False, True):
        for size in (0, 1, 2, 3) if with_month else (1, 2, 3):
            for by in combinations(dims, size):
                key_of = (
                    (lambda r, by=by: (_month(r), *(r[d] for d in by)))
                    if with_month
                    else (lambda r, by=by: tuple(r[d] for d in by))
                )
                groups: dict = defaultdict(set)
                for r in recs:
                    if r["metric"] == "csat":
                        groups[key_of(r)].add(r["respondent_id"])
                for key, people in groups.items():
                    if not 0 < len(people) < K:
                        continue
                    t = np.zeros(len(cells))
                    for c in cells:
                        probe = {
                            "submitted_at": datetime.combine(c[0], datetime.min.time(), UTC),
                            **dict(zip(dims, c[1:], strict=True)),
                        }
                        if key_of(probe) == key:
                            t[index[c]] = 1
                    targets += 1
                    assert np.linalg.matrix_rank(np.vstack([a, t])) > rank, (by, key)
    assert targets > 10  # the world does contain many small groups to protect


def _tiny(nps_a: int, nps_b: int) -> duckdb.DuckDBPyConnection:
    """Two teams of 12 respondents each; only the first `nps_*` of them answered NPS."""
    rows = []
    when = datetime(2025, 3, 3, tzinfo=UTC)
    for team, n_nps in (("A", nps_a), ("B", nps_b)):
        for i in range(12):
            base = {
                "response_id": f"{team}{i}",
                "source": "forms",
                "survey": "s",
                "submitted_at": when,
                "respondent_id": f"{team}-p{i}",
                "respondent_department": "Ops",
                "service_team": team,
                "ticket_id": None,
                "comment": None,
                "ingest_id": 1,
            }
            rows.append(
                {
                    **base,
                    "metric": "csat",
                    "score": float(1 + i % 5),
                    "scale_min": 1.0,
                    "scale_max": 5.0,
                }
            )
            if i < n_nps:
                rows.append(
                    {
                        **base,
                        "metric": "nps",
                        "score": float(i % 11),
                        "scale_min": 0.0,
                        "scale_max": 10.0,
                    }
                )
    return _load({"survey_responses": rows})


def test_per_metric_suppression_and_its_complement() -> None:
    """Team A: 12 respondents, 3 of them answered NPS. CSAT is shown, NPS is not; and
    team B's NPS must go too, or overall NPS − B's NPS would be A's three people."""
    con = _tiny(3, 10)
    got = survey_summary(con, CFG, ("service_team",))
    assert not got["suppressed"].any()
    assert got["csat_mean"].null_count() == 0
    assert got["nps"].null_count() == 2 and got["nps_responses"].null_count() == 2
    total = survey_summary(con, CFG, ()).row(0, named=True)
    assert total["nps"] is not None  # 13 NPS respondents overall: fine to show
    # with enough NPS answers on both sides, both are shown
    both = survey_summary(_tiny(6, 10), CFG, ("service_team",))
    assert both["nps"].null_count() == 0


def test_empty_warehouse_gives_empty_frames() -> None:
    con = _load({})
    assert survey_summary(con, CFG, ("service_team",)).is_empty()
    assert trend(con, CFG, "month").is_empty()
    assert survey_drivers(con, CFG).is_empty()
    assert comment_keywords(con, CFG).is_empty()
    assert comment_excerpts(con, CFG).is_empty()


# ----------------------------------------------------------------- trend


def test_trend_matches_brute_force_and_hides_small_periods(con, world) -> None:
    recs = _records(world)
    by_month = _group([{**r, "m": r["submitted_at"].date().replace(day=1)} for r in recs], ("m",))
    got = trend(con, Config(anonymity_min_group=1), "month")
    assert got["period_start"].to_list() == sorted(k[0] for k in by_month)
    for row in got.iter_rows(named=True):
        ref = _brute(by_month[(row["period_start"],)])
        assert row["csat_mean"] == pytest.approx(ref["csat_mean"])
        assert row["nps"] == pytest.approx(ref["nps"])
    # with a threshold above the smallest month that month is hidden, and the range
    # total leaves exactly it out (rule 6) rather than giving it back
    people = {m: len({r["respondent_id"] for r in v}) for (m,), v in by_month.items()}
    big_k = Config(anonymity_min_group=min(people.values()) + 1)
    hid = trend(con, big_k, "month").filter(pl.col("suppressed"))
    small = [m for m, n in people.items() if n < big_k.anonymity_min_group]
    assert small and set(small) <= set(hid["period_start"].to_list())
    assert hid["csat_mean"].null_count() == hid.height
    total = survey_summary(con, big_k, ()).row(0, named=True)
    kept = [r for (m,), v in by_month.items() if m not in hid["period_start"].to_list() for r in v]
    assert total["partial"] and total["csat_mean"] == pytest.approx(_brute(kept)["csat_mean"])


# ----------------------------------------------------------------- drivers


def test_planted_reopen_driver_is_found_first(con, world) -> None:
    d = survey_drivers(con, CFG)
    top = d.row(0, named=True)
    assert (top["factor"], top["level"]) == ("reopened", "yes")
    assert top["ci_high"] < 0
    assert -1.6 < top["effect"] < -0.8
    assert "Reopened tickets score" in top["label"] and "lower" in top["label"]
    # reference: Welch from scipy on the generating records (CSAT mapped to 1–5)
    reopened = {t["ticket_id"] for t in world["tickets"] if t["reopen_count"]}
    a, b = [], []
    for r in world["survey_responses"]:
        if r["metric"] == "csat":
            s = 1 + 4 * (r["score"] - r["scale_min"]) / (r["scale_max"] - r["scale_min"])
            (a if r["ticket_id"] in reopened else b).append(s)
    ref = stats.ttest_ind(a, b, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert top["effect"] == pytest.approx(np.mean(a) - np.mean(b))
    assert (top["ci_low"], top["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert top["p_value"] == pytest.approx(ref.pvalue, rel=1e-6)
    assert top["n"] == len(a)
    # ranked by absolute effect; unplanted factors are not "significant" on the whole
    assert d["effect"].abs().to_list() == sorted(d["effect"].abs().to_list(), reverse=True)
    noise = d.filter(pl.col("factor").is_in(["channel", "priority"]))
    assert (noise["effect"].abs() < 0.4).all()
    # adjusted for the other factors the planted effect stays, and holds its CI
    assert top["adjusted_ci_high"] < 0 and -1.6 < top["effect_adjusted"] < -0.8
    assert top["adjusted_ci_low"] < top["effect_adjusted"] < top["adjusted_ci_high"]


def test_an_unknown_reopen_count_is_left_out_of_the_reopen_driver() -> None:
    """A third of the tickets come from a tool without reopen counts: their answers are
    on neither side of "reopened" (counted as "not reopened" they would join the rest)."""
    world = _world(seed=7)
    unknown = {t["ticket_id"] for i, t in enumerate(world["tickets"]) if i % 3 == 0}
    for t in world["tickets"]:
        if t["ticket_id"] in unknown:
            t["reopen_count"] = None
    top = (
        survey_drivers(_load(world), CFG).filter(pl.col("factor") == "reopened").row(0, named=True)
    )
    reopened = {t["ticket_id"] for t in world["tickets"] if t["reopen_count"]}
    a, b = [], []
    for r in world["survey_responses"]:
        if r["metric"] == "csat" and r["ticket_id"] not in unknown:
            s = 1 + 4 * (r["score"] - r["scale_min"]) / (r["scale_max"] - r["scale_min"])
            (a if r["ticket_id"] in reopened else b).append(s)
    assert (top["n"], top["n_rest"]) == (len(a), len(b))
    assert top["effect"] == pytest.approx(np.mean(a) - np.mean(b))


def test_adjusted_effect_removes_confounding() -> None:
    """Plant a pure confounder: slow first responses get reopened far more often, but
    slowness itself does nothing. The marginal difference blames slowness; the
    adjusted one must not."""
    world = _world(seed=11)
    rng = random.Random(5)
    for t in world["tickets"]:
        slow = (t["first_response_at"] - t["created_at"]) > timedelta(minutes=83)
        t["reopen_count"] = int(rng.random() < (0.5 if slow else 0.05))
    reopened = {t["ticket_id"] for t in world["tickets"] if t["reopen_count"]}
    for r in world["survey_responses"]:
        if r["metric"] == "csat":
            lo, hi = r["scale_min"], r["scale_max"]
            s5 = min(
                5.0, max(1.0, 4.1 + (-1.2 if r["ticket_id"] in reopened else 0) + rng.gauss(0, 0.8))
            )
            r["score"] = float(round(lo + (s5 - 1) / 4 * (hi - lo)))
    d = survey_drivers(_load(world), CFG)
    slow = d.filter(pl.col("factor") == "first_response_slow").row(0, named=True)
    assert slow["ci_high"] < 0  # marginal: looks harmful
    assert slow["adjusted_ci_low"] < 0 < slow["adjusted_ci_high"]  # adjusted: no effect
    assert abs(slow["effect_adjusted"]) < abs(slow["effect"]) / 2


def test_drivers_respect_threshold_and_hidden_selections(con) -> None:
    d = survey_drivers(con, CFG)
    assert (d["respondents"] >= K).all()
    # a selection that is itself below the threshold gets no drivers at all
    assert survey_drivers(con, CFG, Filters(departments=("Legal",))).is_empty()


# ----------------------------------------------------------------- comments


def test_keywords_find_the_planted_complaint(con) -> None:
    kw = comment_keywords(con, CFG)
    low = kw.filter(pl.col("band") == "low")["term"].to_list()
    high = kw.filter(pl.col("band") == "high")["term"].to_list()
    assert "password reset" in low[:3]
    assert "password reset" not in high
    assert any(t in high for t in ("quick", "friendly", "thanks", "great help"))
    assert (kw["respondents"] >= K).all()
    assert not any("quokka" in t for t in low + high)  # Legal's phrase: too few people


def test_excerpts_come_only_from_visible_groups(con) -> None:
    ex = comment_excerpts(con, CFG, band="low", search="password", limit=500)
    assert ex.height >= 3
    assert ex["comment"].str.to_lowercase().str.contains("password").all()
    assert not ex["comment"].str.contains("quokka").any()  # Legal is below the threshold
    assert not any("respondent" in c or c == "response_id" for c in ex.columns)
    assert set(ex["band"].to_list()) == {"low"}
    high = comment_excerpts(con, CFG, band="high", limit=5)
    assert high.height == 5 and not high["comment"].str.contains("password").any()


def test_excerpts_mask_contact_details() -> None:
    world = _world(seed=3)
    world["survey_responses"] = [
        {**r, "comment": "mail me at jane.doe@corp.example or +49 170 1234567"}
        if r["metric"] == "csat"
        else r
        for r in world["survey_responses"]
    ]
    ex = comment_excerpts(_load(world), CFG, band="high", limit=3)
    assert ex["comment"].to_list() == ["mail me at [email] or [phone]"] * 3


def test_parse_by_aliases() -> None:
    assert parse_by("team,department") == ("service_team", "department")
    assert parse_by("requester_type") == ("requester_type",)
    with pytest.raises(ValueError, match="unknown survey grouping"):
        parse_by("colour")


def test_config_threshold_is_honoured(con) -> None:
    strict = replace(CFG, anonymity_min_group=100)
    got = survey_summary(con, strict, ("department",))
    assert got["suppressed"].all()


def test_trend_views_do_not_disclose_small_team_months(con, world) -> None:
    """Same linear attack on the trend: monthly totals, monthly per team, and monthly
    totals filtered to one team / all but one team, with the overall and per-team
    summaries, must not pin down a small (month, team) group or a small month."""
    recs = [{**r, "m": r["submitted_at"].date().replace(day=1)} for r in _records(world)]
    groups = _group(recs, ("m", "service_team"))
    cells = sorted(groups)
    # a threshold that makes a few (month, team) groups small in this world
    sizes = sorted(
        len({r["respondent_id"] for r in v if r["metric"] == "csat"}) for v in groups.values()
    )
    k = sizes[3] + 1
    cfg = Config(anonymity_min_group=k)
    index = {c: i for i, c in enumerate(cells)}
    views: list[tuple[tuple[str, ...], Filters]] = [((), Filters()), (("service_team",), Filters())]
    for team in TEAMS:
        views.append(((), Filters(teams=(team,))))
        views.append(((), Filters(teams=tuple(t for t in TEAMS if t != team))))
    rows = []
    for by, f in views:
        out = trend(con, cfg, "month", f, by=by)
        allowed = set(f.teams) or set(TEAMS)
        for r in out.filter(pl.col("csat_mean").is_not_null()).iter_rows(named=True):
            v = np.zeros(len(cells))
            for c in cells:
                if (
                    c[0] == r["period_start"]
                    and c[1] in allowed
                    and (not by or c[1] == r["service_team"])
                ):
                    v[index[c]] = 1
            rows.append(v)
    # plus the overall and per-team summaries of the same date range: the sum of the
    # months each of them shows (rule 6)
    team_parts = _shown_parts(con, ("service_team",), Filters(), cfg)
    for r in survey_summary(con, cfg, ("service_team",)).iter_rows(named=True):
        if r["csat_mean"] is not None:
            rows.append(
                np.array(
                    [1.0 if c[1] == r["service_team"] and c in team_parts else 0.0 for c in cells]
                )
            )
    month_parts = {p[0] for p in _shown_parts(con, (), Filters(), cfg)}
    if survey_summary(con, cfg, ())["csat_mean"][0] is not None:
        rows.append(np.array([1.0 if c[0] in month_parts else 0.0 for c in cells]))
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    targets = 0
    for by in (("m",), ("m", "service_team")):
        for key, members in _group(recs, by).items():
            if not 0 < len({r["respondent_id"] for r in members if r["metric"] == "csat"}) < k:
                continue
            t = np.array([1.0 if c[: len(key)] == key else 0.0 for c in cells])
            targets += 1
            assert np.linalg.matrix_rank(np.vstack([a, t])) > rank, key
    assert targets >= 3
