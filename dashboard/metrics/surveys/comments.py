"""Survey comments: excerpts of one score band, every comment the Voice page could show,
and the words and phrases that set low-score comments apart from high ones."""

from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise
from typing import Literal

import duckdb
import numpy as np
import polars as pl

from dashboard.config import Config
from dashboard.filters import Filters
from dashboard.metrics.surveys.answers import load_rows
from dashboard.metrics.surveys.parts import published_parts

_STOPWORD_TEXT = """
a about after again all also am an and any are as at be because been before being but by can
could did do does doing don't for from get got had has have having he her here him his how i
i'm if in into is it it's its just me more my no not of on once only or other our out over
own same she should so some than that the their them then there these they this those to too
under until up very was we were what when where which while who why will with would you your
"""
STOPWORDS: frozenset[str] = frozenset(_STOPWORD_TEXT.split())
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE = re.compile(r"\+?\d[\d ()/-]{6,}\d")


def tokenize(text: str) -> list[str]:
    """Lower-case letter runs (any alphabet, apostrophes kept inside words), length ≥ 2."""
    return [t for t in _TOKEN.findall(text.lower()) if len(t) > 1]


def terms(text: str) -> set[str]:
    """Unigrams and adjacent bigrams without stopwords: 'password reset' survives,
    'the password' does not (a bigram is never bridged over a removed word)."""
    toks = tokenize(text)
    out = {t for t in toks if t not in STOPWORDS}
    for x, y in pairwise(toks):
        if x not in STOPWORDS and y not in STOPWORDS:
            out.add(f"{x} {y}")
    return out


def _comment_rows(con: duckdb.DuckDBPyConnection, config: Config, filters: Filters) -> pl.DataFrame:
    """One row per commented response in the selection, with its band, only from
    (month, team, department) parts that are shown under these filters."""
    rows = load_rows(con, filters)
    _, sel = published_parts(
        rows, ("service_team", "department"), filters.survey_selection(), config.anonymity_min_group
    )
    code = {"low": -1, "middle": 0, "high": 1}
    per = sel.with_columns(
        pl.when(pl.col("s_csat").is_not_null())
        .then(pl.col("band").replace_strict(code, default=None, return_dtype=pl.Int8))
        .alias("_csat_band"),
        pl.when(pl.col("s_nps").is_not_null())
        .then(pl.col("band").replace_strict(code, default=None, return_dtype=pl.Int8))
        .alias("_nps_band"),
    )
    per = per.group_by("response_key").agg(
        pl.col("respondent").first(),
        pl.col("service_team").first(),
        pl.col("department").first(),
        pl.col("survey").first(),
        pl.col("submitted_at").first(),
        pl.col("comment").filter(pl.col("comment").str.strip_chars() != "").first(),
        pl.col("_csat_band").drop_nulls().first(),
        pl.col("_nps_band").drop_nulls().first(),
    )
    band = pl.coalesce("_csat_band", "_nps_band")
    return per.filter(pl.col("comment").is_not_null()).with_columns(
        pl.when(band == -1).then(pl.lit("low")).when(band == 1).then(pl.lit("high")).alias("band")
    )


def comment_excerpts(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    filters: Filters | None = None,
    band: Literal["low", "high"] = "low",
    search: str | None = None,
    limit: int = 20,
) -> pl.DataFrame:
    """Recent comments of one score band, newest first, for reading in context.

    Only groups (service team × department) that are shown under these filters
    contribute; no respondent or response id is returned, the date is cut to the
    month, and e-mail addresses and phone numbers are masked in the text.
    """
    if band not in ("low", "high"):
        raise ValueError("band must be 'low' or 'high'")
    filters = filters or Filters()
    c = _comment_rows(con, config, filters).filter(pl.col("band") == band)
    if search:
        c = c.filter(
            pl.col("comment").str.to_lowercase().str.contains(search.lower(), literal=True)
        )
    return _excerpts(c.sort("submitted_at", descending=True).head(limit))


def _excerpts(c: pl.DataFrame) -> pl.DataFrame:
    """What may be shown of comment rows: no ids, the month only, contacts masked."""
    texts = [_PHONE.sub("[phone]", _EMAIL.sub("[email]", t)) for t in c["comment"].to_list()]
    return c.select(
        "service_team",
        "department",
        "survey",
        pl.col("submitted_at")
        .dt.convert_time_zone("UTC")
        .dt.date()
        .dt.month_start()
        .alias("submitted_month"),
        "band",
    ).with_columns(pl.Series("comment", texts, dtype=pl.String))


def published_comments(con: duckdb.DuckDBPyConnection, config: Config) -> pl.DataFrame:
    """Every comment the Voice page could show: from shown (month, team, department)
    parts, without ids, cut to the month, contacts masked; band low / high / null."""
    # sorted by content, not by time: the order must not hint at who answered when
    return _excerpts(_comment_rows(con, config, Filters())).sort(
        "submitted_month", "service_team", "department", "band", "comment", nulls_last=True
    )


def comment_keywords(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    filters: Filters | None = None,
    top: int = 20,
    min_comments: int = 3,
) -> pl.DataFrame:
    """Words and two-word phrases that set low-score comments apart from high ones.

    Weighted log-odds ratio with a Dirichlet prior (Monroe, Colaresi & Quinn
    2008), prior = 0.1 × the pooled counts: unlike raw frequency it does not
    crown "ticket" in both bands, and unlike plain log-odds it does not crown a
    word said once. Counts are per comment (document frequency); a word that
    occurs inside one listed phrase in ≥ 80 % of its comments is left to the
    phrase ("password reset", not also "password" and "reset"). A term is only
    listed when at least anonymity_min_group distinct respondents used it, since
    a rare phrasing can identify its author.
    """
    filters = filters or Filters()
    k = config.anonymity_min_group
    schema = {
        "band": pl.String,
        "term": pl.String,
        "ngram": pl.Int64,
        "comments": pl.Int64,
        "other_band_comments": pl.Int64,
        "respondents": pl.Int64,
        "log_odds": pl.Float64,
        "z": pl.Float64,
    }
    c = _comment_rows(con, config, filters).filter(pl.col("band").is_not_null())
    counts: dict[str, Counter[str]] = {"low": Counter(), "high": Counter()}
    who: dict[tuple[str, str], set[str]] = {}
    for b, text, person in c.select("band", "comment", "respondent").iter_rows():
        for t in terms(text):
            counts[b][t] += 1
            who.setdefault((b, t), set()).add(person)
    n_low, n_high = sum(counts["low"].values()), sum(counts["high"].values())
    if n_low == 0 or n_high == 0:
        return pl.DataFrame(schema=schema)
    vocab = sorted(set(counts["low"]) | set(counts["high"]))
    y_lo = np.array([counts["low"][t] for t in vocab], dtype=float)
    y_hi = np.array([counts["high"][t] for t in vocab], dtype=float)
    alpha = 0.1 * (y_lo + y_hi)
    a0 = float(alpha.sum())
    delta = np.log((y_lo + alpha) / (n_low + a0 - y_lo - alpha)) - np.log(
        (y_hi + alpha) / (n_high + a0 - y_hi - alpha)
    )
    z = delta / np.sqrt(1 / (y_lo + alpha) + 1 / (y_hi + alpha))
    pos = {t: i for i, t in enumerate(vocab)}
    # a word that almost always comes inside one phrase is said by the phrase
    covered: dict[str, set[str]] = {"low": set(), "high": set()}
    for b, own in (("low", y_lo), ("high", y_hi)):
        for t in vocab:
            if " " in t:
                for w in t.split(" "):
                    if own[pos[t]] >= 0.8 * own[pos[w]]:
                        covered[b].add(w)
    out: list[dict[str, object]] = []
    for b, sign, own, other in (("low", 1.0, y_lo, y_hi), ("high", -1.0, y_hi, y_lo)):
        listed = 0
        for i in np.argsort(-sign * z, kind="stable"):
            if sign * z[i] <= 0 or listed >= top:
                break
            t = vocab[i]
            people = len(who.get((b, t), ()))
            if own[i] < min_comments or people < k or t in covered[b]:
                continue
            out.append(
                {
                    "band": b,
                    "term": t,
                    "ngram": 1 + t.count(" "),
                    "comments": int(own[i]),
                    "other_band_comments": int(other[i]),
                    "respondents": people,
                    "log_odds": float(sign * delta[i]),
                    "z": float(sign * z[i]),
                }
            )
            listed += 1
    return pl.DataFrame(out, schema=schema)
