"""Which adapter (and so which kind) a file is, from its header.

Vendor adapters declare a header `signature`; the first vendor whose signature
is present wins. Otherwise the generic adapter of the first kind whose required
columns resolve through the alias table is used. A file that fits nothing is
refused with the columns it has and the ones we would need.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from dashboard.ingest import adapters as adapters_pkg
from dashboard.ingest.adapters import generic
from dashboard.ingest.base import Adapter
from dashboard.ingest.read import RefusedFile

# kind -> (required canonical columns, any-of canonical columns) for generic detection
REQUIRED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "outcomes": (("period_start", "business_unit"), ()),
    "tickets": (("ticket_id", "created_at"), ()),
    "surveys": ((), ("csat", "nps", "ces", "score")),
    "people": (
        ("person_id",),
        ("person_type", "active_from", "active_to", "email", "name", "employee_id", "aliases"),
    ),
    "org": (("department", "business_unit"), ()),
    "events": (("ticket_id", "event_at"), ("status", "service_team", "assignee", "kind")),
}


def vendor_adapters() -> list[Adapter]:
    """Every `ADAPTER` (or `ADAPTERS`) declared by a module in dashboard/ingest/adapters/."""
    found: list[Adapter] = []
    for info in sorted(pkgutil.iter_modules(adapters_pkg.__path__), key=lambda m: m.name):
        if info.name == "generic":
            continue
        module = importlib.import_module(f"{adapters_pkg.__name__}.{info.name}")
        found.extend(getattr(module, "ADAPTERS", ()))
        if hasattr(module, "ADAPTER"):
            found.append(module.ADAPTER)
    return found


def formats() -> list[str]:
    """Format names accepted by --format."""
    return ["auto", "generic", *sorted({a.name for a in vendor_adapters()})]


def fits(adapter: Adapter, columns: list[str]) -> bool:
    required, any_of = REQUIRED[adapter.kind]
    mapped = adapter.resolve(columns)
    return all(r in mapped for r in required) and (not any_of or any(a in mapped for a in any_of))


def choose(
    columns: list[str],
    kind: str | None,
    fmt: str,
    file_name: str,
    accepts: Callable[[Adapter], bool] = lambda a: True,
) -> Adapter:
    """Pick the adapter for a staged header (normalised column names); `accepts` runs
    an adapter's own content test (`Adapter.accepts`) where its header matches."""
    if fmt not in ("auto", "generic"):
        # `--format servicenow` also covers its variants (`servicenow_event_log`).
        candidates = [
            a
            for a in vendor_adapters()
            if (a.name == fmt or a.name.startswith(fmt + "_"))
            and (kind is None or a.kind == kind)
            and (not a.matches(columns) or accepts(a))
        ]
        if not candidates:
            raise RefusedFile(f"{file_name}: no {fmt} adapter for kind {kind or 'any'}")
        return max(candidates, key=lambda a: len(a.signature & set(columns)))
    if fmt == "auto":
        for a in vendor_adapters():
            if (kind is None or a.kind == kind) and a.matches(columns) and accepts(a):
                return a
    kinds = [kind] if kind else list(REQUIRED)
    for k in kinds:
        a = generic.BY_KIND[k]
        if fits(a, columns):
            return a
    needs = "; ".join(
        f"{k}: {' + '.join(REQUIRED[k][0]) or 'any'}"
        + (f" and one of {'/'.join(REQUIRED[k][1])}" if REQUIRED[k][1] else "")
        for k in kinds
    )
    # names only, each cut short: a refused file's "header" may be any first line
    shown = ", ".join(c if len(c) <= 40 else c[:39] + "…" for c in columns[:30]) + (
        " …" if len(columns) > 30 else ""
    )
    raise RefusedFile(
        f"{file_name}: cannot tell what this file holds. Columns seen: {shown}. "
        f"Needed ({needs}); rename columns or add a [mapping] table in inward.toml"
    )
