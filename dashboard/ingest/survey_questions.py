"""Which survey question is CSAT, NPS or CES — shared by the survey vendor adapters.

Survey tools export one column per question, headed by the question text (or a
code such as `Q1` with the text elsewhere). The warehouse wants one row per
(response, metric) on the contract's scales, so each adapter's `prepare` hook
lists its questions (`Question`) and calls `prepare_survey`, which

1. decides which question is csat / nps / ces: by **wording and scale**, unless
   `[survey_questions]` in inward.toml says otherwise (see `configured`);
2. turns choice text ("Very satisfied", "10 - Extremely likely") into numbers;
3. renames the chosen columns to `csat` / `nps` / `ces`, and the columns that
   carry the response id, time, respondent, department, service team, ticket
   and comment to their canonical names, so the generic survey shaping
   (`shape.surveys`) melts, validates and loads them like any wide survey file.

Why wording *and* scale: wording alone mistakes "How satisfied are you with your
salary (free text)" or a 1–10 satisfaction item for CSAT; scale alone turns every
1–5 item ("how much do you enjoy R") into CSAT. Both must agree, and anything that
only half matches is reported back so the user can override it.

Detection rules (case-insensitive; a few other languages' stems included because
real exports are localised):

- csat: worded satisf… (satisfied, satisfaction, dissatisfied, satisfecho…),
  zufrieden, soddisf…; answers whole numbers 1–5 or satisfaction labels.
- nps: worded recommend… (recomiendes, empfehlen…) or "likely"/"likelihood";
  answers whole numbers 0–10 that go beyond a 1–5 range (a 0 or a value above 5,
  unless the text says "0-10"), or "0 - Not at all likely"-style labels.
- ces: worded easy / easier / ease / effort (fácil, einfach, facile…); answers
  whole numbers 1–7, or ease / agreement labels.

At least 80 % of a question's non-empty answers must be on the scale; the rest
are rejected row by row with a reason. When several questions qualify for one
metric the first (in column order) wins and the others are named in the ingest
message: the key (source, response_id, metric) holds one score per metric, and
averaging, say, "recommend R" with "recommend Python" would be meaningless.

A survey with no qualifying question is refused, with the questions it has and
the near misses, rather than loaded as nothing.

Config override, `[survey_questions]` in inward.toml (applies to the qualtrics,
surveymonkey, google_forms and ms_forms adapters; generic files name their
columns csat/nps/ces directly):

```toml
[survey_questions]
"How easy was it to get your issue resolved?" = "ces"     # full question text
"how_likely_are_you_to_recommend_python_to_a_colleague_friend_or_family_member" = "nps"
Q7 = "csat"                                               # Qualtrics column / QID
"How likely are you to recommend R to a colleague, friend, or family member?" = "ignore"
```

- A key matches a question when it equals the question text ignoring case and
  runs of spaces, or its normalised form (`normalise()`: lower-case, non-alphanumerics
  to `_`), or the column name / Qualtrics code (`Q7`, `QID7`). For SurveyMonkey
  matrix or multi-column questions the text is `Question - Option`.
- `csat` / `nps` / `ces`: that question *is* the metric, whatever its wording or
  answers; auto-detection then skips that metric for the file. Choice text is still
  turned into numbers; answers off the contract scale (csat 1–5, nps 0–10, ces 1–7)
  are rejected row by row with a reason, never rescaled.
- `ignore`: never use that question as a metric (auto-detection then considers the
  next candidate, if any).
- Two keys that map questions of the same file to the same metric refuse the file
  (one score per response and metric). Keys that match no question are fine (one
  table serves many surveys). Any other value is a config error naming the key.

Why one file of ~680 lines: question detection, scale inference and the reshaping
to one row per (response, metric) share one notion of a question; every survey
adapter goes through it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import duckdb

from dashboard.config import parse_survey_questions
from dashboard.ingest.base import Adapter, own_names
from dashboard.ingest.staged import ParseReject, RefusedFile, Staged, normalise
from dashboard.sql import quote_ident, quote_literal

METRICS = ("csat", "nps", "ces")
SCALES: dict[str, tuple[int, int]] = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}
METRIC_NAMES = {
    "csat": "satisfaction (CSAT, 1–5)",
    "nps": "recommendation (NPS, 0–10)",
    "ces": "effort (CES, 1–7)",
}
MIN_SHARE = 0.8  # share of non-empty answers that must be on the scale (small surveys: 1 in 5 off)
MAX_LABELS = 200  # more distinct answers than this is free text, not a scale

WORDING: dict[str, re.Pattern[str]] = {
    "csat": re.compile(r"satisf|zufrieden|soddisf|tevreden|nöjd|tilfreds"),
    "nps": re.compile(
        r"recommend|recomend|recomiend|recommand|raccomand|empfehl|aanbevel|anbefal|rekommend"
        r"|\blikely\b|\blikelihood\b|\bprobable\b|wahrscheinlich"
    ),
    "ces": re.compile(
        r"\beasy\b|\beasier\b|\bease\b|\beasily\b|effort|\bfácil|\bfacil\b|\bfacile\b"
        r"|\beinfach|\bmühe|\baufwand|\bsforzo"
    ),
}

# Choice text → score. Keys are lower-cased with single spaces.
_CSAT_BIPOLAR = {
    "very satisfied": 5,
    "extremely satisfied": 5,
    "completely satisfied": 5,
    "totally satisfied": 5,
    "satisfied": 4,
    "somewhat satisfied": 4,
    "moderately satisfied": 4,
    "mostly satisfied": 4,
    "fairly satisfied": 4,
    "neither satisfied nor dissatisfied": 3,
    "neither satisfied or dissatisfied": 3,
    "neutral": 3,
    "dissatisfied": 2,
    "somewhat dissatisfied": 2,
    "moderately dissatisfied": 2,
    "unsatisfied": 2,
    "very dissatisfied": 1,
    "extremely dissatisfied": 1,
    "completely dissatisfied": 1,
    "very unsatisfied": 1,
}
# Unipolar wording ("not at all … extremely satisfied"): "moderately" is the middle here.
_CSAT_UNIPOLAR = {
    "not at all satisfied": 1,
    "slightly satisfied": 2,
    "moderately satisfied": 3,
    "very satisfied": 4,
    "extremely satisfied": 5,
}
_NPS_LABELS = {
    "not at all likely": 0,
    "extremely unlikely": 0,
    "very unlikely": 0,
    "extremely likely": 10,
    "very likely": 10,
}
# Ease on the CES 1–7 positions; a 5-point ease scale lands on the symmetric
# positions (difficult 2, neutral 4, easy 6) so its midpoint stays the midpoint.
_CES_LABELS = {
    "very difficult": 1,
    "extremely difficult": 1,
    "difficult": 2,
    "somewhat difficult": 3,
    "neither easy nor difficult": 4,
    "neither difficult nor easy": 4,
    "neutral": 4,
    "somewhat easy": 5,
    "easy": 6,
    "very easy": 7,
    "extremely easy": 7,
    "strongly disagree": 1,
    "disagree": 2,
    "somewhat disagree": 3,
    "neither agree nor disagree": 4,
    "somewhat agree": 5,
    "agree": 6,
    "strongly agree": 7,
    "very low effort": 1,
    "low effort": 2,
    "high effort": 6,
    "very high effort": 7,
}
LABELS: dict[str, list[dict[str, int]]] = {
    "csat": [_CSAT_BIPOLAR, _CSAT_UNIPOLAR],
    "nps": [_NPS_LABELS],
    "ces": [_CES_LABELS],
}
_LEADING_NUMBER = re.compile(r"^\s*(\d{1,2})(?:\s*[-–—=:.)(]|\s+[^\d\s])")
_NUMBER = re.compile(r"^\s*[+-]?\d+(?:[.,]0+)?\s*$")

# Roles other than metrics: canonical survey column -> header patterns.
ROLE_NAMES: dict[str, tuple[str, ...]] = {
    "ticket_id": (
        "ticket_id",
        "ticket",
        "ticketid",
        "ticket_number",
        "ticket_no",
        "ticket_ref",
        "ticket_reference",
        "incident_id",
        "incident_number",
        "case_id",
        "case_number",
        "request_id",
        "request_number",
    ),
    "service_team": (
        "service_team",
        "team",
        "team_name",
        "support_team",
        "group",
        "assignment_group",
        "queue",
    ),
    "respondent_department": (
        "respondent_department",
        "requester_department",
        "department",
        "dept",
        "division",
    ),
}
ROLE_WORDING: dict[str, re.Pattern[str]] = {
    "ticket_id": re.compile(
        r"\bticket\b|\b(case|incident|request|reference)\s*(number|no\b|#|id\b|ref)"
    ),
    "service_team": re.compile(
        r"\b(which|what)\b[^?]*\b(team|desk|group|department|service)\b[^?]*"
        r"\b(handled?|helped|help|served|supported|support|resolved|assisted)\b"
    ),
    "respondent_department": re.compile(
        r"^\s*(your\s+)?(department|dept|division)\b|\b(your|you work in|you belong to)\b"
        r"[^?]*\b(department|dept|division|business unit)\b"
    ),
    # Deliberately narrow: "the choices below are only suggestions" must not qualify.
    "comment": re.compile(
        r"\bcomments?\b|\bfeedback\b|anything else|\btell us\b|\bexplain\b"
        r"|\b(what|how) (could|can|should) we\b|\bdone better\b|\bcomentarios?\b"
        r"|\bkommentar|\banmerkung"
    ),
}

_OVERRIDES: ContextVar[Mapping[str, str] | None] = ContextVar(
    "inward_survey_questions", default=None
)


@contextmanager
def configured(overrides: Mapping[str, str]) -> Iterator[None]:
    """Apply `[survey_questions]` to the survey adapters for the duration of the block.

    The adapter's `prepare(con, staged)` hook has no config argument; a context
    variable (set by `ingest_paths`) reaches it without changing the adapter
    interface, and, unlike a module global, stays per thread/task when the app
    ingests uploads concurrently.
    """
    token = _OVERRIDES.set(parse_survey_questions(overrides))
    try:
        yield
    finally:
        _OVERRIDES.reset(token)


def current_overrides() -> Mapping[str, str]:
    """The `[survey_questions]` in force (empty outside `configured`)."""
    return _OVERRIDES.get() or {}


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


@dataclass
class Question:
    """One answer column of a survey, as the adapter sees it."""

    column: str  # staged (normalised) column name
    text: str  # the question as people read it; matched by wording and config keys
    free_text: bool = False  # the vendor says it is an open-ended answer
    keys: tuple[str, ...] = ()  # extra names a config key may use (Qualtrics Q1, QID1)
    group: str = ""  # the question a multi-column answer belongs to (for listing it once)


@dataclass
class _Stats:
    nonempty: int = 0
    values: dict[str, int] = field(default_factory=dict)  # distinct trimmed value -> count
    many: bool = False  # more than MAX_LABELS distinct values


@dataclass
class Plan:
    """What `prepare_survey` decided; kept for notes, refusals and tests."""

    metrics: dict[str, Question] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)  # canonical -> staged column
    notes: list[str] = field(default_factory=list)
    near_misses: list[str] = field(default_factory=list)


def _stats(con: duckdb.DuckDBPyConnection, table: str, column: str) -> _Stats:
    col = quote_ident(column)
    rows = con.sql(
        f"SELECT trim({col}) AS v, count(*) FROM {table} "
        f"WHERE {col} IS NOT NULL AND trim({col}) <> '' GROUP BY 1 "
        f"ORDER BY 2 DESC LIMIT {MAX_LABELS + 1}"
    ).fetchall()
    st = _Stats()
    st.values = {str(v): int(n) for v, n in rows[:MAX_LABELS]}
    st.many = len(rows) > MAX_LABELS
    st.nonempty = con.sql(
        f"SELECT count(*) FROM {table} WHERE {col} IS NOT NULL AND trim({col}) <> ''"
    ).fetchall()[0][0]
    return st


def score_of(value: str, metric: str) -> float | None:
    """The number a raw answer stands for on `metric`'s scale, or None."""
    v = value.strip()
    if _NUMBER.match(v):
        return float(v.replace(",", "."))
    m = _LEADING_NUMBER.match(v)
    if m:
        return float(m.group(1))
    key = _squash(re.sub(r"[.!]+$", "", v))
    for table in LABELS[metric]:
        if key in table:
            return float(table[key])
    return None


def _label_table(values: Mapping[str, int], metric: str) -> dict[str, int]:
    """The label scale that covers the most answers (bipolar vs unipolar satisfaction)."""
    best: dict[str, int] = LABELS[metric][0]
    best_n = -1
    for table in LABELS[metric]:
        n = sum(c for v, c in values.items() if _squash(v) in table)
        if n > best_n:
            best, best_n = table, n
    return best


def _mapping(st: _Stats, metric: str) -> dict[str, float | None]:
    """Raw answer -> score for every distinct answer, using the best-fitting label scale."""
    table = _label_table(st.values, metric)
    out: dict[str, float | None] = {}
    for v in st.values:
        s = score_of(v, metric)
        key = _squash(re.sub(r"[.!]+$", "", v))
        if key in table:
            s = float(table[key])
        out[v] = s
    return out


def _fits(q: Question, st: _Stats, metric: str) -> tuple[bool, str]:
    """Whether the answers are on `metric`'s scale; else a short reason."""
    lo, hi = SCALES[metric]
    if st.nonempty == 0:
        return False, "it has no answers"
    if st.many:
        return False, "its answers are free text"
    scores = _mapping(st, metric)
    ok = sum(
        c
        for v, c in st.values.items()
        if (s := scores[v]) is not None and lo <= s <= hi and s == int(s)
    )
    if ok / st.nonempty < MIN_SHARE:
        sample = ", ".join(repr(v) for v in list(st.values)[:4])
        return False, f"its answers ({sample}…) are not on the {lo}–{hi} scale"
    if metric == "nps":
        nums = [s for v in st.values if (s := scores[v]) is not None]
        hinted = re.search(r"\b0\s*(-|–|to|a|bis|al)\s*10\b", q.text.lower())
        if nums and min(nums) >= 1 and max(nums) <= 5 and not hinted:
            return False, "its answers stay within 1–5, which looks like a 5-point item, not 0–10"
    return True, ""


def _short(text: str, n: int = 70) -> str:
    text = re.sub(r"\s+", " ", re.sub(r"<br\s*/?>", " ", text, flags=re.I)).strip()
    return text if len(text) <= n else text[: n - 1] + "…"


def _override_for(q: Question, overrides: Mapping[str, str]) -> str | None:
    """The `[survey_questions]` value for this question: key = question text (spaces and
    case ignored), its normalised name, or the column/code name (`Q1`, `QID1`)."""
    if not overrides:
        return None
    names = {_squash(q.text), normalise(q.text), q.column, *(k.lower() for k in q.keys)}
    for key, value in overrides.items():
        if _squash(key) in names or normalise(key) in names:
            return value
    return None


def choose_metrics(
    con: duckdb.DuckDBPyConnection,
    table: str,
    questions: list[Question],
    overrides: Mapping[str, str] | None = None,
) -> tuple[Plan, dict[str, _Stats]]:
    """Decide which question is which metric (config first, then wording + scale)."""
    overrides = (_OVERRIDES.get() or {}) if overrides is None else parse_survey_questions(overrides)
    plan = Plan()
    stats: dict[str, _Stats] = {}
    forced: dict[str, list[Question]] = {m: [] for m in METRICS}
    ignored: set[str] = set()
    for q in questions:
        o = _override_for(q, overrides)
        if o == "ignore":
            ignored.add(q.column)
        elif o in METRICS:
            forced[o].append(q)
    for m, qs in forced.items():
        if len(qs) > 1:
            listed = "; ".join(f"'{_short(q.text)}'" for q in qs)
            raise RefusedFile(
                f"[survey_questions] maps {len(qs)} questions of this file to {m} ({listed}); "
                f"one score per metric and response is kept, so map one and set the others "
                f'to "ignore"'
            )
        if qs:
            plan.metrics[m] = qs[0]
            plan.notes.append(f"{m} = '{_short(qs[0].text)}' (set in [survey_questions])")
    taken = {q.column for q in plan.metrics.values()}
    extra: dict[str, list[str]] = {m: [] for m in METRICS}
    for q in questions:
        if q.column in ignored or q.column in taken or q.free_text:
            continue
        text = q.text.lower()
        for m in METRICS:
            if not WORDING[m].search(text):
                continue
            if q.column not in stats:
                stats[q.column] = _stats(con, table, q.column)
            fits, why = _fits(q, stats[q.column], m)
            if not fits:
                plan.near_misses.append(f"'{_short(q.text)}' is worded like {m} but {why}")
                continue
            if m in plan.metrics:
                if plan.metrics[m].column != q.column:
                    extra[m].append(_short(q.text, 50))
                continue
            plan.metrics[m] = q
            taken.add(q.column)
            lo, hi = SCALES[m]
            plan.notes.append(f"{m} = '{_short(q.text)}' ({lo}–{hi})")
            break
    for m, texts in extra.items():
        if texts:
            plan.notes.append(
                f"also {m}-like but not loaded (one {m} per response; choose in "
                f"[survey_questions]): " + "; ".join(f"'{t}'" for t in texts)
            )
    for q in plan.metrics.values():
        if q.column not in stats:
            stats[q.column] = _stats(con, table, q.column)
    return plan, stats


def refusal(file_label: str, questions: list[Question], plan: Plan) -> RefusedFile:
    """Why a survey with no CSAT/NPS/CES question is not loaded, and what it asks instead."""
    asked = list(dict.fromkeys(q.group or q.text for q in questions))
    shown = [f"'{_short(t, 60)}'" for t in asked[:12]]
    more = f" (+{len(asked) - 12} more)" if len(asked) > 12 else ""
    near = (" Near misses: " + "; ".join(plan.near_misses[:5]) + ".") if plan.near_misses else ""
    topic = (
        "The questions here are about other topics, so there is nothing to load "
        "into survey_responses."
        if not plan.near_misses
        else "Nothing here is on a service-survey scale, so there is nothing to load."
    )
    return RefusedFile(
        f"no satisfaction (CSAT), recommendation (NPS) or effort (CES) question in this "
        f"{file_label}. Inward looks for questions worded 'satisfied/satisfaction' "
        f"(answers 1–5 or satisfaction labels), 'recommend/likely' (0–10) or 'easy/effort' "
        f"(1–7). {topic}{near} Questions seen ({len(asked)}): {', '.join(shown)}{more}. "
        f"If one of them is a service score after all, map it in inward.toml under "
        f'[survey_questions], e.g. "<question text as in the file>" = "csat" (or nps, ces).'
    )


def _rename(con: duckdb.DuckDBPyConnection, staged: Staged, old: str, new: str) -> None:
    if old == new:
        return
    if new in staged.columns:  # a column already has the canonical name: move it aside
        aside = f"{new}__orig"
        n = 2
        while aside in staged.columns:
            aside, n = f"{new}__orig{n}", n + 1
        _rename(con, staged, new, aside)
    con.execute(
        f"ALTER TABLE {staged.table} RENAME COLUMN {quote_ident(old)} TO {quote_ident(new)}"
    )
    staged.columns[staged.columns.index(old)] = new


def _write_scores(
    con: duckdb.DuckDBPyConnection, table: str, column: str, st: _Stats, metric: str
) -> None:
    """Replace choice text by its score in place; unknown text stays (and is rejected later
    by the shaping step with 'could not read … as a number')."""
    changes = {
        v: s for v, s in _mapping(st, metric).items() if s is not None and not _NUMBER.match(v)
    }
    if not changes:
        return
    col = quote_ident(column)
    whens = " ".join(
        f"WHEN {quote_literal(v)} THEN {quote_literal(str(int(s)) if s == int(s) else str(s))}"
        for v, s in changes.items()
    )
    con.execute(f"UPDATE {table} SET {col} = CASE trim({col}) {whens} ELSE {col} END")


def roles_by_name(columns: list[str], taken: set[str]) -> dict[str, str]:
    """Embedded data / custom variables / hidden fields named like ticket, team, department."""
    out: dict[str, str] = {}
    for role, names in ROLE_NAMES.items():
        for n in names:
            if n in columns and n not in taken:
                out[role] = n
                taken.add(n)
                break
    return out


def roles_by_wording(questions: list[Question], taken: set[str]) -> dict[str, str]:
    """Questions that ask for the ticket number, the team that helped, the respondent's
    department, or a comment (open-ended answers preferred for the comment)."""
    out: dict[str, str] = {}
    free = [q for q in questions if q.column not in taken]
    for role in ("ticket_id", "respondent_department", "service_team"):
        for q in free:
            if q.column not in taken and ROLE_WORDING[role].search(q.text.lower()):
                out[role] = q.column
                taken.add(q.column)
                break
    candidates = [q for q in free if q.column not in taken]
    worded = [q for q in candidates if ROLE_WORDING["comment"].search(q.text.lower())]
    pick = next((q for q in worded if q.free_text), None) or next(iter(worded), None)
    pick = pick or next((q for q in candidates if q.free_text), None)
    if pick is not None:
        out["comment"] = pick.column
        taken.add(pick.column)
    return out


def prepare_survey(
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    questions: list[Question],
    roles: Mapping[str, str],
    file_label: str,
) -> Staged:
    """Choose metrics, score choice text, rename columns to canonical names.

    `roles` are the adapter's own metadata columns (canonical name -> staged column:
    response_id, submitted_at, respondent_id …); embedded data named like a ticket,
    team or department, and questions worded like one, fill the roles still empty.
    """
    plan, stats = choose_metrics(con, staged.table, questions)
    if not plan.metrics:
        raise refusal(file_label, questions, plan)
    for m, q in plan.metrics.items():
        _write_scores(con, staged.table, q.column, stats[q.column], m)
    chosen = {q.column for q in plan.metrics.values()}
    final = dict(roles)
    taken = chosen | set(final.values())
    for role, col in roles_by_name(staged.columns, set(taken)).items():
        final.setdefault(role, col)
    rest = [q for q in questions if q.column not in chosen]
    for role, col in roles_by_wording(rest, set(taken) | set(final.values())).items():
        final.setdefault(role, col)
    for role in RESPONDENT_ROLES:  # anonymous responses carry a placeholder, not a person
        if role in final:
            col = quote_ident(final[role])
            con.execute(
                f"UPDATE {staged.table} SET {col} = NULL "
                f"WHERE lower(trim({col})) IN ('anonymous', 'anonym', 'anonyme', 'anónimo')"
            )
    plan.roles = final
    targets = {q.column: m for m, q in plan.metrics.items()} | {v: k for k, v in final.items()}
    header = dict(zip(staged.columns, staged.headers, strict=True))
    assigned = ", ".join(
        f"{k} = {json.dumps(_short(header.get(v, v), 40), ensure_ascii=False)}"
        for k, v in final.items()
    )
    # two phases, so a source column that already bears another target's name is safe
    temps = {}
    for i, (old, new) in enumerate(targets.items()):
        if old != new:
            _rename(con, staged, old, f"__inward_tmp_{i}")
            temps[f"__inward_tmp_{i}"] = new
    for tmp, new in temps.items():
        _rename(con, staged, tmp, new)
    staged.notes.extend(plan.notes)
    staged.notes.extend(f"not used: {m}" for m in plan.near_misses[:5])
    if assigned:
        staged.notes.append(f"columns used: {assigned}")
    return staged


def reject_rows(con: duckdb.DuckDBPyConnection, staged: Staged, where: str, reason: str) -> int:
    """Move rows matching SQL `where` out of the staged table into `staged.rejects`, with
    SQL text expression `reason`: they are counted as read and rejected (with the row as
    JSON), never silently dropped, and the rest of the pipeline does not see them."""
    raw = (
        "to_json({"
        + ", ".join(
            f"{quote_literal(h)}: {quote_ident(c)}"
            for h, c in zip(staged.headers, staged.columns, strict=True)
        )
        + "})"
    )
    rows = con.sql(
        f"SELECT __row, {reason}, CAST({raw} AS VARCHAR) FROM {staged.table} "
        f"WHERE {where} ORDER BY __row"
    ).fetchall()
    if not rows:
        return 0
    con.execute(f"DELETE FROM {staged.table} WHERE {where}")
    staged.rejects.extend(ParseReject(int(r), str(why), str(js)) for r, why, js in rows)
    staged.rows -= len(rows)
    return len(rows)


def zone_to_utc_text(con: duckdb.DuckDBPyConnection, table: str, column: str, zone: str) -> None:
    """Rewrite naive `YYYY-MM-DD HH:MM:SS` values read in `zone` as UTC with an explicit
    `+00:00`, so the canonical step keeps them whatever --timezone says (Qualtrics states
    the survey's zone in its ImportId header row; the file's own statement wins)."""
    col = quote_ident(column)
    con.execute(
        f"UPDATE {table} SET {col} = strftime(timezone('UTC', timezone({quote_literal(zone)}, "
        f"try_cast(trim({col}) AS TIMESTAMP))), '%Y-%m-%d %H:%M:%S') || '+00:00' "
        f"WHERE try_cast(trim({col}) AS TIMESTAMP) IS NOT NULL"
    )


def header_row(con: duckdb.DuckDBPyConnection, staged: Staged, n: int) -> list[str]:
    """Data row `n` of the staged table as text ('' for empty): the 2nd/3rd header rows of
    Qualtrics and SurveyMonkey exports, read before they are dropped."""
    cols = ", ".join(quote_ident(c) for c in staged.columns)
    rows = con.sql(f"SELECT {cols} FROM {staged.table} WHERE __row = {n}").fetchall()
    if not rows:
        return [""] * len(staged.columns)
    return ["" if v is None else str(v) for v in rows[0]]


# What identifies the respondent (see dashboard.identity): the tool's id, e-mail,
# name and employee number, as roles a survey adapter fills from its own columns.
RESPONDENT_ROLES = (
    "respondent_id",
    "respondent_email",
    "respondent_name",
    "respondent_employee_id",
)


def full_name(
    con: duckdb.DuckDBPyConnection, staged: Staged, first: str | None, last: str | None
) -> str | None:
    """Add a `respondent_full_name` column joining first and last name (Qualtrics
    RecipientFirstName/LastName, SurveyMonkey First/Last Name); returns its name."""
    parts = [quote_ident(c) for c in (first, last) if c]
    if not parts:
        return None
    name = "respondent_full_name"
    con.execute(f"ALTER TABLE {staged.table} ADD COLUMN {name} VARCHAR")
    con.execute(
        f"UPDATE {staged.table} SET {name} = "
        f"nullif(trim(concat_ws(' ', {', '.join(f'trim({p})' for p in parts)})), '')"
    )
    staged.columns.append(name)
    staged.headers.append(name)
    return name


def survey_aliases() -> dict[str, tuple[str, ...]]:
    """Adapter aliases for prepared survey files: only the canonical names `prepare_survey`
    writes, so a leftover column that merely looks like one (say `email`) is never used."""
    names = (
        "response_id",
        "survey",
        "submitted_at",
        *RESPONDENT_ROLES,
        "respondent_department",
        "service_team",
        "ticket_id",
        "comment",
        *METRICS,
    )
    return own_names(*names)


def survey_adapter(
    tool: str,
    signature: set[str],
    prepare: Callable[[duckdb.DuckDBPyConnection, Staged], Staged],
    cls: type[Adapter] = Adapter,
) -> Adapter:
    """A vendor's survey export: its questions are columns that `prepare` turns into
    answer rows through `prepare_survey`, so the tool names and sources it and only the
    canonical names `prepare_survey` writes are aliases (`cls`: a layout whose `matches`
    is its own)."""
    return cls(
        name=tool,
        kind="surveys",
        source=tool,
        aliases=survey_aliases(),
        signature=frozenset(signature),
        prepare=prepare,
    )
