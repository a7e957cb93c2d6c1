"""Jira Service Management: the Issues CSV export, English or localised UI.

Layout in docs/vendor-formats.md §2. Jira writes headers, status names and month
abbreviations in the exporting user's language, so this adapter carries the
English and Spanish header aliases (other locales: add aliases and months).

The `prepare` hook derives what the export does not give directly:

* dates: localised month abbreviations (`18/jul/26`, `ene`, `ago`, `sept`…) and
  `a. m.`/`p. m.` are translated to English before canonical parses
  `%d/%b/%y %I:%M %p`;
* resolved_at = `Resolved`, else — when the status category is Done (`Listo`) —
  `Status Category Changed` (the real Spanish export leaves `Resuelta` empty on
  finished tickets);
* first_response_at = `Custom field ([CHART] Date of First Response)` when the
  export has it, else the earliest comment written by someone other than the
  reporter (comments are `date;accountId;body`). The SLA `Time to first
  response` field is *remaining* time, not elapsed, and is never used;
* status = the workflow status when recognised, else the status category
  (To Do → new, In Progress → open, Done → closed); the original status is kept
  in `inward_status__raw` so the mapping report still shows it;
* ticket type by keyword, because JSM types are often custom (`Network Problem`,
  `HR Inquiry`); the original stays in `inward_issue_type__raw`.
"""

from __future__ import annotations

import duckdb

from dashboard.ingest.adapters._derive import add_derived, txt
from dashboard.ingest.base import Adapter
from dashboard.ingest.canonical import _lit
from dashboard.ingest.read import Staged

# Localised month abbreviations → English (es required; pt/fr/de/it are cheap and
# unambiguous). Longer spellings first so `sept` is not read as `sep` + `t`.
MONTHS: dict[str, str] = {
    "ene": "Jan",
    "enero": "Jan",
    "febr": "Feb",
    "fev": "Feb",
    "févr": "Feb",
    "abr": "Apr",
    "avr": "Apr",
    "mai": "May",
    "mag": "May",
    "juin": "Jun",
    "giu": "Jun",
    "juil": "Jul",
    "lug": "Jul",
    "ago": "Aug",
    "août": "Aug",
    "aout": "Aug",
    "sept": "Sep",
    "set": "Sep",
    "okt": "Oct",
    "out": "Oct",
    "ott": "Oct",
    "dic": "Dec",
    "dez": "Dec",
    "déc": "Dec",
    "gen": "Jan",
    "janv": "Jan",
    "mär": "Mar",
    "mrz": "Mar",
}

STATUS = {
    "to do": "new",
    "open": "open",
    "reopened": "open",
    "waiting for support": "open",
    "in progress": "open",
    "work in progress": "open",
    "escalated": "open",
    "under review": "open",
    "waiting for customer": "pending",
    "awaiting approval": "pending",
    "waiting for approval": "pending",
    "pending": "on_hold",
    "on hold": "on_hold",
    "waiting for third party": "on_hold",
    "resolved": "solved",
    "done": "closed",
    "closed": "closed",
    "canceled": "cancelled",
    "cancelled": "cancelled",
    "declined": "cancelled",
    "won't do": "cancelled",
    "rejected": "cancelled",
    # Spanish UI
    "tareas por hacer": "new",
    "por hacer": "new",
    "abierta": "open",
    "abierto": "open",
    "reabierta": "open",
    "esperando soporte": "open",
    "esperando asistencia": "open",
    "en curso": "open",
    "en progreso": "open",
    "escalada": "open",
    "escalado": "open",
    "esperando al cliente": "pending",
    "esperando respuesta del cliente": "pending",
    "esperando aprobación": "pending",
    "pendiente": "on_hold",
    "en espera": "on_hold",
    "resuelta": "solved",
    "resuelto": "solved",
    "completado": "closed",
    "completada": "closed",
    "listo": "closed",
    "cerrada": "closed",
    "cerrado": "closed",
    "cancelada": "cancelled",
    "cancelado": "cancelled",
    "rechazada": "cancelled",
    "rechazado": "cancelled",
}
# Status category (the three workflow buckets every Jira status belongs to).
CATEGORY = {
    "to do": "new",
    "por hacer": "new",
    "in progress": "open",
    "en curso": "open",
    "done": "closed",
    "listo": "closed",
    "hecho": "closed",
}
DONE_CATEGORIES = ("done", "listo", "hecho")
PRIORITY = {
    "highest": "urgent",
    "high": "high",
    "medium": "normal",
    "low": "low",
    "lowest": "low",
    "más alta": "urgent",
    "muy alta": "urgent",
    "alta": "high",
    "media": "normal",
    "baja": "low",
    "más baja": "low",
    "muy baja": "low",
}
CHANNEL = {
    "portal": "portal",
    "customer portal": "portal",
    "email": "email",
    "e-mail": "email",
    "correo electrónico": "email",
    "chat": "chat",
    "slack": "chat",
    "microsoft teams": "chat",
    "msteams": "chat",
    "phone": "phone",
    "teléfono": "phone",
    "api": "api",
    "jira": "other",
}
# Keys are the *original* issue types (for the mapping report's `recognised`
# flag); the derived column already holds the contract value.
TICKET_TYPE = {
    "incident": "incident",
    "request": "request",
    "problem": "problem",
    "change": "change",
    "question": "question",
    "other": "other",
    "[system] incident": "incident",
    "[system] service request": "request",
    "[system] service request with approvals": "request",
    "[system] problem": "problem",
    "[system] change": "change",
    "[system] post-incident review": "other",
    "service request": "request",
    "incidente": "incident",
    "solicitud de servicio": "request",
    "problema": "problem",
    "cambio": "change",
}
# Keyword rules for (custom) issue types, first match wins; `problem` alone is the
# ITIL problem type, but "Network Problem" is a user reporting a fault.
TYPE_KEYWORDS: tuple[tuple[str, str], ...] = (
    (r"post.incident", "other"),
    (r"^(\[system\] )?problem(a)?$", "problem"),
    (r"incident|incidencia|issue|fault|failure|outage|error|broken|problem|bug|avería", "incident"),
    (r"request|solicitud|petición|access|acceso|order|pedido", "request"),
    (r"change|cambio", "change"),
    (r"question|inquiry|enquiry|consulta|pregunta|ask", "question"),
)


def _translate(expr: str) -> str:
    """SQL: localised month names and a.m./p.m. → English, so strptime %b/%p can read it."""
    out = expr
    for foreign in sorted(MONTHS, key=len, reverse=True):
        out = f"regexp_replace({out}, '/{foreign}\\.?/', '/{MONTHS[foreign]}/', 'i')"
    out = f"regexp_replace({out}, '\\s*a\\.\\s?m\\.', ' AM', 'i')"
    return f"regexp_replace({out}, '\\s*p\\.\\s?m\\.', ' PM', 'i')"


_JIRA_TS = ["%d/%b/%y %I:%M %p", "%d/%b/%Y %I:%M %p", "%d/%b/%y %H:%M", "%d/%b/%Y %H:%M"]


def _comment_time(c: str, reporter: str) -> str:
    """SQL: a comment's (`date;accountId;body`) time when its author is not the reporter."""
    stamp = _translate(f"split_part({c}, ';', 1)")
    fmts = "[" + ", ".join(_lit(f) for f in _JIRA_TS) + "]"
    return (
        f"CASE WHEN {c} IS NOT NULL AND split_part({c}, ';', 2) IS DISTINCT FROM {reporter} "
        f"THEN coalesce(try_cast(split_part({c}, ';', 1) AS TIMESTAMP), "
        f"try_strptime({stamp}, {fmts})) END"
    )


_DEPARTMENT_FIELDS = (
    "custom_field_department",
    "campo_personalizado_department",
    "campo_personalizado_departamento",
    "custom_field_organizations",
    "campo_personalizado_organizations",
    "campo_personalizado_organizaciones",
)


def prepare(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """Translate dates, fall back for resolved/first response/status, classify types."""
    created = _translate(txt(staged, "created", "creada"))
    updated = _translate(txt(staged, "updated", "actualizada"))
    resolved = _translate(txt(staged, "resolved", "resuelta"))
    category = txt(staged, "status_category", "categoría_de_estado")
    changed = _translate(txt(staged, "status_category_changed", "categoría_de_estado_cambiada"))
    done = ", ".join(_lit(d) for d in DONE_CATEGORIES)
    chart = txt(
        staged,
        "custom_field_chart_date_of_first_response",
        "campo_personalizado_chart_date_of_first_response",
    )
    reporter = txt(staged, "reporter_id", "id_del_informador")
    comments = [
        c
        for c in staged.columns
        if c == "comment" or c.startswith("comment_") or c.startswith("comentario")
    ]
    times = ", ".join(_comment_time(txt(staged, c), reporter) for c in comments)
    first_comment = f"strftime(least({times}), '%Y-%m-%d %H:%M:%S')" if comments else "NULL"
    status = txt(staged, "status", "estado")
    known = ", ".join(_lit(k) for k in STATUS)
    issue_type = txt(staged, "issue_type", "tipo_de_incidencia")
    type_case = (
        "CASE "
        + " ".join(
            f"WHEN regexp_matches(lower({issue_type}), {_lit(rx)}) THEN {_lit(t)}"
            for rx, t in TYPE_KEYWORDS
        )
        + f" WHEN {issue_type} IS NOT NULL THEN 'other' END"
    )
    # JSM has no requester department field; accounts add a `Department` custom field
    # or group customers into organizations named after departments. Both can repeat
    # (multi-value fields export one column per value): the first value wins.
    depts = [
        txt(staged, c)
        for prefix in _DEPARTMENT_FIELDS
        for c in staged.columns
        if c == prefix or (c.startswith(prefix + "_") and c[len(prefix) + 1 :].isdigit())
    ]
    return add_derived(
        con,
        staged,
        {
            "inward_department": f"coalesce({', '.join(depts)})" if depts else "NULL",
            "inward_created": created,
            "inward_updated": updated,
            "inward_resolved_at": f"coalesce({resolved}, CASE WHEN lower({category}) IN ({done}) "
            f"THEN {changed} END)",
            "inward_first_response_at": f"coalesce({chart}, {first_comment})",
            "inward_status": f"CASE WHEN lower({status}) IN ({known}) OR {category} IS NULL "
            f"THEN {status} ELSE {category} END",
            "inward_status__raw": status,
            "inward_issue_type": type_case,
            "inward_issue_type__raw": issue_type,
        },
    )


STATUS_WITH_CATEGORY = {**CATEGORY, **STATUS}

ALIASES: dict[str, tuple[str, ...]] = {
    "ticket_id": ("issue_key", "clave_de_incidencia"),
    "service_team": ("project_name", "nombre_del_proyecto"),
    # Reporter is the display name (an e-mail for some portal customers), Reporter Id
    # the Atlassian account id; `Reporter (Email)` appears in some exports
    "requester_id": ("reporter_id", "id_del_informador"),
    "requester_name": ("reporter", "informador"),
    "requester_email": ("reporter_email",),
    "requester_department": ("inward_department",),
    "channel": ("custom_field_source", "campo_personalizado_source"),
    "category": (
        "custom_field_request_type",
        "campo_personalizado_request_type",
        "campo_personalizado_tipo_de_solicitud",
        "component_s",
        "components",
        "componentes",
    ),
    "priority": ("priority", "prioridad"),
    "ticket_type": ("inward_issue_type",),
    "status": ("inward_status",),
    "created_at": ("inward_created",),
    "updated_at": ("inward_updated",),
    "first_response_at": ("inward_first_response_at",),
    "resolved_at": ("inward_resolved_at",),
    "subject": ("summary", "resumen"),
}
VALUE_MAPS = {
    "status": STATUS_WITH_CATEGORY,
    "priority": PRIORITY,
    "channel": CHANNEL,
    "ticket_type": TICKET_TYPE,
}

ENGLISH = Adapter(
    name="jira",
    kind="tickets",
    source="jira",
    aliases=ALIASES,
    # Issue id is left out: "current fields" exports may not carry it.
    signature=frozenset({"issue_key", "issue_type", "created"}),
    value_maps=VALUE_MAPS,
    prepare=prepare,
)
SPANISH = Adapter(
    name="jira",
    kind="tickets",
    source="jira",
    aliases=ALIASES,
    signature=frozenset({"clave_de_incidencia", "tipo_de_incidencia", "creada"}),
    value_maps=VALUE_MAPS,
    prepare=prepare,
)

ADAPTERS = (ENGLISH, SPANISH)
