"""Keyed pseudonyms for the ids of people (requesters, respondents, the people file).

A pseudonym is `R-` + the first 12 hex digits of HMAC-SHA256(key, id). Why keyed:
an unsalted hash of a guessable id (an e-mail, an employee number) is reversed by
hashing the company directory; with a secret key nobody can link a pseudonym to a
person without the key, *even with the warehouse file in hand*, because the key
is never stored in it. 48 bits keep collisions negligible (≈ 2·10⁻⁵ for 100 000
people) while staying short enough to read out in a meeting.

The key, per warehouse (first that exists):
1. `$INWARD_PSEUDONYM_KEY` (at least 16 characters; its UTF-8 bytes are the key) —
   for deployments where the warehouse folder is read-only or secrets come from
   a vault;
2. the file `<warehouse>.key` next to the warehouse (e.g. `data/inward.duckdb.key`),
   created on first use with 32 random bytes and mode 0600.

Pseudonyms are stable as long as the key is: back the key file up with the
warehouse. A copy of the warehouse without its key gets a new key and therefore
new pseudonyms; deleting the key is how to break every previously shared
pseudonym at once.

In SQL the key is installed per connection (`install`): a temp table holds the
HMAC pads and a temp macro `inward_id(x)` computes the pseudonym, so no view or
macro text ever contains key material, and only trusted product code runs on
such connections (analyst SQL runs on a mart that holds finished pseudonyms and
no key, see `dashboard.mart`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

import duckdb
import polars as pl

KEY_ENV = "INWARD_PSEUDONYM_KEY"
PREFIX = "R-"
HEX_DIGITS = 12
_BLOCK = 64  # SHA-256 block size: the HMAC pads are key ⊕ 0x36 / 0x5c over one block


class PseudonymKeyError(RuntimeError):
    """The pseudonym key cannot be read or created; the message says how to fix it."""


def key_path(db: str | os.PathLike[str]) -> Path:
    """Where the key file of warehouse `db` lives (beside it, never inside it)."""
    return Path(str(db) + ".key")


def load_key(db: str | os.PathLike[str]) -> bytes:
    """The warehouse's key: from the environment, else its key file (created if missing)."""
    env = os.environ.get(KEY_ENV)
    if env is not None:
        if len(env) < 16:
            raise PseudonymKeyError(f"${KEY_ENV} must be at least 16 characters long")
        return env.encode()
    path = key_path(db)
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return _read(path)
    except OSError as exc:
        raise PseudonymKeyError(
            f"cannot create the pseudonym key {path} ({exc.strerror}); make the folder "
            f"writable or set ${KEY_ENV}"
        ) from exc
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return _read(path)


def _read(path: Path) -> bytes:
    text = path.read_text(encoding="utf-8").strip()
    if len(text) < 16:
        raise PseudonymKeyError(
            f"the pseudonym key {path} is empty or too short; delete it to make a new one"
        )
    return text.encode()


def _pads(key: bytes) -> tuple[bytes, bytes]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    block = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def pseudonym(key: bytes, value: str | None) -> str | None:
    """The pseudonym of one id (None stays None); the same as SQL `inward_id`."""
    if value is None:
        return None
    digest = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:HEX_DIGITS]


def install(con: duckdb.DuckDBPyConnection, key: bytes | None) -> None:
    """Define `inward_id(x)` on this connection: the pseudonym of x, or x itself when
    `key` is None (a raw grant or the operator).

    HMAC-SHA256 is computed with DuckDB's own sha256 on BLOBs:
    sha256(opad ‖ sha256(ipad ‖ x)); the pads live in a temp table, read once per
    query (an uncorrelated scalar subquery), never in the macro's text.
    """
    if key is None:
        con.execute("CREATE OR REPLACE TEMP MACRO inward_id(x) AS x")
        return
    ipad, opad = _pads(key)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _inward_pads AS SELECT $i::BLOB AS ipad, $o::BLOB AS opad",
        {"i": ipad, "o": opad},
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP MACRO inward_id(x) AS CASE WHEN x IS NULL THEN NULL
        ELSE '{PREFIX}' || substr(sha256((SELECT opad FROM _inward_pads)
            || unhex(sha256((SELECT ipad FROM _inward_pads) || encode(CAST(x AS VARCHAR))))),
            1, {HEX_DIGITS}) END"""
    )


def ids(
    con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, columns: Iterable[str]
) -> pl.DataFrame:
    """`frame` with each id column passed through the connection's `inward_id`: for ids
    that were computed in Python (a model's per-requester rows) rather than selected."""
    cols = [c for c in columns if c in frame.columns]
    if not cols or frame.is_empty():
        return frame
    replace = ", ".join(f'inward_id("{c}") AS "{c}"' for c in cols)
    return con.from_arrow(frame.to_arrow()).project(f"* REPLACE ({replace})").pl()
