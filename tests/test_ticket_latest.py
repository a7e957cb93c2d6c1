"""`ticket_latest` (one row per ticket id, its newest version across sources) against a
brute-force reference computed in Python.

The view ranks only ids that more than one source stored; the reference ranks every
id. Random tickets spread over four sources with many shared ids, ties in
`updated_at`, missing `updated_at` and missing `ingest_id`, so each step of the
order (updated_at desc nulls last, ingest_id desc nulls last, source) decides some.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dashboard import warehouse
from dashboard.config import Config
from dashboard.ingest import ingest_paths

SOURCES = ("generic", "jira", "servicenow", "zendesk")


def _rows(seed: int) -> list[tuple]:
    rng = random.Random(seed)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(400):
        # a third of the ids come from one source only, the rest from up to four
        k = 1 if i % 3 == 0 else rng.randint(1, 4)
        for source in rng.sample(SOURCES, k):
            created = base + timedelta(hours=i)
            updated = (
                None if rng.random() < 0.2 else created + timedelta(days=rng.choice([1, 1, 2]))
            )
            ingest = None if rng.random() < 0.15 else rng.randint(1, 3)
            rows.append((f"T{i}", source, created, updated, ingest, f"{source}:{i}"))
    return rows


def _newest(rows: list[tuple]) -> dict[str, str]:
    """ticket_id → source of its newest version, by the contract's rule; rows are
    (ticket_id, source, created, updated, ingest_id, ...)."""
    best: dict[str, tuple] = {}
    for r in rows:
        _, source, _, updated, ingest = r[:5]
        # sort key: larger wins; NULLs lose to any value
        key = (
            updated is not None,
            updated or datetime.min.replace(tzinfo=UTC),
            ingest is not None,
            ingest or 0,
            tuple(-ord(c) for c in source),  # ascending source: smaller name wins
        )
        if r[0] not in best or key > best[r[0]][0]:
            best[r[0]] = (key, source)
    return {tid: source for tid, (_, source) in best.items()}


def test_ticket_latest_matches_brute_force(tmp_path: Path) -> None:
    rows = _rows(16)
    with warehouse.writer(tmp_path / "wh.duckdb") as con:
        con.executemany(
            "INSERT INTO tickets (ticket_id, source, created_at, updated_at, ingest_id, subject) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        warehouse.mark_superseded(con)
        got = con.sql("SELECT ticket_id, source, subject FROM ticket_latest").fetchall()
        columns = {r[0] for r in con.sql("DESCRIBE ticket_latest").fetchall()}
        times = {r[0] for r in con.sql("DESCRIBE ticket_times").fetchall()}
    expected = _newest(rows)
    assert len(got) == len(expected)  # one row per id
    assert {tid: source for tid, source, _ in got} == expected
    # the whole row is that version's (not a mix of versions)
    assert all(subject == f"{source}:{tid[1:]}" for tid, source, subject in got)
    assert columns == times
    # the planted data exercises both paths: single-source ids and shared ones
    counts: dict[str, int] = {}
    for r in rows:
        counts[r[0]] = counts.get(r[0], 0) + 1
    assert 0 < sum(n > 1 for n in counts.values()) < len(counts)


def _latest_and_reference(db: Path) -> tuple[dict[str, str], dict[str, str]]:
    with warehouse.reader(db) as con:
        rows = con.sql(
            "SELECT ticket_id, source, created_at, updated_at, ingest_id FROM tickets"
        ).fetchall()
        got = con.sql("SELECT ticket_id, source FROM ticket_latest").fetchall()
    assert len(got) == len({r[0] for r in rows})
    return dict(got), _newest(rows)


def test_ticket_latest_follows_ingests(tmp_path: Path) -> None:
    """Through the real ingest path: a Zendesk export and a plain CSV share ids; a later
    plain export updates some of them, so the newest version moves between sources."""
    zd = [
        "Id,Requester id,Requester email,Via,Ticket type,Group,Subject,Status,Priority,"
        "Created at,Updated at"
    ]
    generic = ["ticket_id,service_team,subject,status,created_at,updated_at"]
    later = list(generic)
    for i in range(40):
        day = f"2025-03-{1 + i % 20:02d}"
        zd.append(
            f"{i},7,ann@example.com,Mail,Incident,IT,zd {i},Open,Normal,{day} 09:00:00,"
            f"{day} 12:00:00"
        )
        if i % 2:  # odd ids also in the plain CSV, updated earlier or later than in Zendesk
            hour = "11" if i % 4 == 1 else "13"
            generic.append(f"{i},IT,csv {i},open,{day} 09:00:00,{day} {hour}:00:00")
        if i % 8 == 1:  # a later plain export: these now win over Zendesk
            later.append(f"{i},IT,csv {i},solved,{day} 09:00:00,{day} 18:00:00")
    files = []
    for name, lines in (("zendesk.csv", zd), ("plain.csv", generic), ("plain_later.csv", later)):
        (tmp_path / name).write_text("\n".join(lines) + "\n")
        files.append(tmp_path / name)
    db = tmp_path / "wh.duckdb"
    results = ingest_paths(db, files[:2], Config())
    assert all(r.status == "loaded" for r in results)
    got, expected = _latest_and_reference(db)
    assert got == expected
    assert set(got.values()) == {"zendesk", "generic"}
    before = got
    [result] = ingest_paths(db, files[2:], Config())
    assert result.status == "loaded"
    got, expected = _latest_and_reference(db)
    assert got == expected
    assert {t for t in got if got[t] != before[t]} == {str(i) for i in range(1, 40, 8)}
