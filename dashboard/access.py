"""Who may see what: `[access]` in inward.toml, and the `Scope` every reader runs under.

A `Scope` is the one description of a viewer's rights that the data layer
understands (`dashboard.scoped` turns it into a connection, `dashboard.mart` into
an analyst database). It is deliberately small:

- `all`: every ticket and survey row; else only rows whose service team is in
  `teams` *or* whose requester's (respondent's) department is in `departments`.
  Grants add up: a user listed by e-mail and in two groups gets the union.
- `raw`: requester ids, respondent ids and survey rows as stored. Without it every
  id is a keyed pseudonym and analyst SQL sees survey numbers only through the
  anonymity rules. `mode = "open"` never grants it (CONTRACT): a laptop demo
  shows pseudonyms like any wide-audience view.

The operator scope (`OPERATOR`) is the built-in CLI without `--as-user`: whoever
can read the warehouse file has the data already, so ids print as stored.

Deny by default: with `mode = "login"` a signed-in user that no grant names gets
`None` (no access), never an empty-but-working scope, so callers must decide to
show a "no access" page rather than accidentally showing an empty dashboard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MODES = ("open", "login")
GRANT_KEYS = ("departments", "teams", "all", "raw")


class AccessError(ValueError):
    """A bad `[access]` table; the message names the key (raised as a ConfigError)."""


@dataclass(frozen=True)
class Scope:
    """The rows and ids one viewer may see. Frozen: it keys caches and marts."""

    all: bool = False
    teams: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    raw: bool = False
    who: str = ""  # e-mail of the viewer ("" for the operator and open mode)

    @property
    def key(self) -> str:
        """What the rows depend on (not who asks): two users with the same grants share
        caches and analyst marts."""
        if self.all:
            rows = "all"
        else:
            rows = "t:" + "|".join(self.teams) + ";d:" + "|".join(self.departments)
        return f"{rows};raw={int(self.raw)}"

    def describe(self) -> str:
        """One line for the sidebar, captions and the audit log."""
        if self.all:
            rows = "all teams and departments"
        else:
            parts = []
            if self.teams:
                parts.append("teams " + ", ".join(self.teams))
            if self.departments:
                parts.append("departments " + ", ".join(self.departments))
            rows = " and ".join(parts) or "nothing"
        ids = "raw ids" if self.raw else "pseudonymised ids"
        return f"{rows} · {ids}"


OPERATOR = Scope(all=True, raw=True)  # the CLI without --as-user (CONTRACT)
OPEN = Scope(all=True, raw=False)  # mode = "open": everyone sees all, pseudonymised


@dataclass(frozen=True)
class AccessConfig:
    """`[access]`: each user (by e-mail) and group grant is a `Scope` without `who`."""

    mode: str = "open"
    users: Mapping[str, Scope] = field(default_factory=dict)
    groups: Mapping[str, Scope] = field(default_factory=dict)

    def scope_for(self, email: str | None, groups: Iterable[str] = ()) -> Scope | None:
        """The scope of a signed-in user (or `--as-user EMAIL`), None for no access.

        In open mode everyone gets `OPEN` (no raw ids, ever). In login mode the
        user's own grant (e-mail matched case-insensitively) and every grant of a
        group named in the token's `groups` claim are combined; nobody listed
        means no access.
        """
        if self.mode == "open":
            return OPEN
        who = (email or "").strip().lower()
        grants = [g for e, g in self.users.items() if who and e == who]
        wanted = {str(g) for g in groups}
        grants += [g for name, g in self.groups.items() if name in wanted]
        if not grants:
            return None
        if any(g.all for g in grants):
            return Scope(all=True, raw=any(g.raw for g in grants), who=who)
        teams = sorted({t for g in grants for t in g.teams})
        departments = sorted({d for g in grants for d in g.departments})
        if not teams and not departments:
            return None
        return Scope(
            teams=tuple(teams),
            departments=tuple(departments),
            raw=any(g.raw for g in grants),
            who=who,
        )


def _names(key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise AccessError(f"{key}: expected a list of names, got {value!r}")
    return tuple(v.strip() for v in value)


def _grant(key: str, raw: Any) -> Scope:
    if not isinstance(raw, dict):
        raise AccessError(f'{key}: expected a table such as {{ departments = ["Sales"] }}')
    unknown = sorted(set(raw) - set(GRANT_KEYS))
    if unknown:
        raise AccessError(
            f"unknown config key {key}.{unknown[0]} (allowed here: {', '.join(GRANT_KEYS)})"
        )
    for flag in ("all", "raw"):
        if flag in raw and not isinstance(raw[flag], bool):
            raise AccessError(f"{key}.{flag}: expected true or false, got {raw[flag]!r}")
    grant = Scope(
        all=raw.get("all", False),
        teams=_names(f"{key}.teams", raw.get("teams", [])),
        departments=_names(f"{key}.departments", raw.get("departments", [])),
        raw=raw.get("raw", False),
    )
    if not (grant.all or grant.teams or grant.departments):
        raise AccessError(f"{key}: grants nothing (give departments, teams or all = true)")
    if grant.all and (grant.teams or grant.departments):
        raise AccessError(f"{key}: all = true already covers its teams and departments")
    return grant


def parse_access(raw: Any) -> AccessConfig:
    """Validate `[access]`; unknown keys and bad values are errors naming the key."""
    if not isinstance(raw, dict):
        raise AccessError(f"access: expected a table, got {raw!r}")
    unknown = sorted(set(raw) - {"mode", "users", "groups"})
    if unknown:
        raise AccessError(
            f"unknown config key access.{unknown[0]} (allowed here: groups, mode, users)"
        )
    mode = raw.get("mode", "open")
    if mode not in MODES:
        raise AccessError(f"access.mode: expected 'open' or 'login', got {mode!r}")
    tables = {}
    for part in ("users", "groups"):
        sub = raw.get(part, {})
        if not isinstance(sub, dict):
            raise AccessError(f"access.{part}: expected a table of tables, got {sub!r}")
        tables[part] = {
            (name.strip().lower() if part == "users" else name): _grant(
                f'access.{part}."{name}"', g
            )
            for name, g in sub.items()
        }
    bad = [u for u in tables["users"] if "@" not in u]
    if bad:
        raise AccessError(f'access.users."{bad[0]}": users are e-mail addresses')
    return AccessConfig(mode=mode, users=tables["users"], groups=tables["groups"])
