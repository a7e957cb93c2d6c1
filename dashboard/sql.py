"""SQL literals and identifiers, for the places where Python composes SQL text.

Values a user or a file supplies are bound as parameters wherever DuckDB allows
it; these two cover what cannot be bound (a column named by a file's header, a
value inside a generated CASE, a path in COPY). One definition, so the escaping
rule cannot drift between copies. Imports nothing: the sandbox worker uses it.
"""

from __future__ import annotations


def quote_literal(value: object | None) -> str:
    """A SQL string literal (inner quotes doubled), or NULL for None."""
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


def quote_ident(name: object) -> str:
    """A SQL identifier in double quotes (inner quotes doubled), whatever it holds."""
    return '"' + str(name).replace('"', '""') + '"'
