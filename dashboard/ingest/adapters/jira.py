"""Jira Service Management: the Issues CSV export, English or localised UI.

Layout in docs/vendor-formats.md §2 and §10. Jira writes headers, status names
and month abbreviations in the exporting user's language; `HEADERS` holds the
English, Spanish, German and French names of every column read (one adapter per
locale, told apart by its header signature), and the value maps carry each
language's status, category, priority and month names.

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
from dashboard.ingest.read import Staged
from dashboard.sql import quote_literal

# Normalised header names per locale: en, es, de, fr (docs/vendor-formats.md §10).
# The German row is Jira Cloud's own export header (seen); French and the German
# names not in that header follow Atlassian's UI translations (believed).
HEADERS: dict[str, tuple[str, ...]] = {
    "summary": ("summary", "resumen", "zusammenfassung", "résumé"),
    "issue_key": ("issue_key", "clave_de_incidencia", "vorgangsschlüssel", "clé_de_ticket"),
    "issue_type": ("issue_type", "tipo_de_incidencia", "vorgangstyp", "type_de_ticket"),
    "status": ("status", "estado", "état", "statut"),
    "project_name": ("project_name", "nombre_del_proyecto", "projektname", "nom_du_projet"),
    "priority": ("priority", "prioridad", "priorität", "priorité"),
    "reporter": ("reporter", "informador", "autor", "rapporteur"),
    "reporter_id": ("reporter_id", "id_del_informador", "id_des_autors", "id_du_rapporteur"),
    "created": ("created", "creada", "erstellt", "création"),
    "updated": ("updated", "actualizada", "aktualisiert", "mise_à_jour"),
    "resolved": ("resolved", "resuelta", "erledigt", "résolue"),
    "status_category": (
        "status_category",
        "categoría_de_estado",
        "statuskategorie",
        "catégorie_d_état",
    ),
    "status_category_changed": (
        "status_category_changed",
        "categoría_de_estado_cambiada",
        "statuskategorie_geändert",
        "catégorie_d_état_modifiée",
    ),
    "components": ("component_s", "components", "componentes", "komponenten", "composants"),
}
# `Custom field (X)` and `Comment`, repeated per value, in each locale.
CUSTOM_FIELD = (
    "custom_field",
    "campo_personalizado",
    "benutzerdefinierte_felder",
    "champ_personnalisé",
)
COMMENT = ("comment", "comentario", "kommentar", "commentaire")


def custom(*names: str) -> tuple[str, ...]:
    """`Custom field (name)` in every locale, for each name (names stay untranslated)."""
    return tuple(f"{prefix}_{n}" for n in names for prefix in CUSTOM_FIELD)


# Localised month abbreviations → English: es, de and fr as Jira (Java) writes them,
# pt/it because they are cheap and unambiguous. Longer spellings first so `sept` is
# not read as `sep` + `t`.
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
    "märz": "Mar",
    "mrz": "Mar",
    "mars": "Mar",
    "juni": "Jun",
    "juli": "Jul",
    "fév": "Feb",
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
    # German UI
    "zu erledigen": "new",
    "offen": "open",
    "wieder geöffnet": "open",
    "warten auf support": "open",
    "in arbeit": "open",
    "eskaliert": "open",
    "warten auf kunden": "pending",
    "warten auf genehmigung": "pending",
    "ausstehend": "on_hold",
    "angehalten": "on_hold",
    "gelöst": "solved",
    "fertig": "closed",
    "erledigt": "closed",
    "geschlossen": "closed",
    "abgebrochen": "cancelled",
    "storniert": "cancelled",
    "abgelehnt": "cancelled",
    # French UI
    "à faire": "new",
    "ouvert": "open",
    "rouvert": "open",
    "en attente de l'assistance": "open",
    "en attente du support": "open",
    "en cours": "open",
    "escaladé": "open",
    "en attente du client": "pending",
    "en attente d'approbation": "pending",
    "en attente": "on_hold",
    "résolu": "solved",
    "terminé": "closed",
    "terminé(e)": "closed",
    "fermé": "closed",
    "annulé": "cancelled",
    "refusé": "cancelled",
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
    "zu erledigen": "new",
    "in arbeit": "open",
    "fertig": "closed",
    "à faire": "new",
    "terminé": "closed",
}
DONE_CATEGORIES = ("done", "listo", "hecho", "fertig", "terminé")
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
    "höchste": "urgent",
    "hoch": "high",
    "mittel": "normal",
    "niedrig": "low",
    "niedrigste": "low",
    "la plus haute": "urgent",
    "très haute": "urgent",
    "haute": "high",
    "moyenne": "normal",
    "basse": "low",
    "la plus basse": "low",
    "très basse": "low",
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
    "vorfall": "incident",
    "[system] vorfall": "incident",
    "[system] serviceanfrage": "request",
    "[system] änderung": "change",
    "[system] demande de service": "request",
    "[system] problème": "problem",
    "[system] changement": "change",
    "serviceanfrage": "request",
    "änderung": "change",
    "demande de service": "request",
    "problème": "problem",
    "changement": "change",
}
# Keyword rules for (custom) issue types, first match wins; `problem` alone is the
# ITIL problem type, but "Network Problem" is a user reporting a fault.
TYPE_KEYWORDS: tuple[tuple[str, str], ...] = (
    (r"post.incident", "other"),
    (r"^(\[system\] )?(problem(a)?|problème)$", "problem"),
    (
        r"incident|incidencia|issue|fault|failure|outage|error|broken|problem|bug|avería"
        r"|vorfall|störung|fehler|panne",
        "incident",
    ),
    (r"request|solicitud|petición|access|acceso|order|pedido|anfrage|antrag|demande", "request"),
    (r"change|cambio|änderung|changement", "change"),
    (r"question|inquiry|enquiry|consulta|pregunta|ask|frage", "question"),
)


def _translate(expr: str) -> str:
    """SQL: localised month names and a.m./p.m. → English, so strptime %b/%p can read it."""
    out = expr
    for foreign in sorted(MONTHS, key=len, reverse=True):
        out = f"regexp_replace({out}, '/{foreign}\\.?/', '/{MONTHS[foreign]}/', 'i')"
    # CLDR abbreviations end in a period where they shorten a word (`oct.`, `nov.`)
    out = f"regexp_replace({out}, '/([A-Za-z]{{3,4}})\\./', '/\\1/')"
    out = f"regexp_replace({out}, '\\s*a\\.\\s?m\\.', ' AM', 'i')"
    return f"regexp_replace({out}, '\\s*p\\.\\s?m\\.', ' PM', 'i')"


_JIRA_TS = ["%d/%b/%y %I:%M %p", "%d/%b/%Y %I:%M %p", "%d/%b/%y %H:%M", "%d/%b/%Y %H:%M"]


def _comment_time(c: str, reporter: str) -> str:
    """SQL: a comment's (`date;accountId;body`) time when its author is not the reporter."""
    stamp = _translate(f"split_part({c}, ';', 1)")
    fmts = "[" + ", ".join(quote_literal(f) for f in _JIRA_TS) + "]"
    return (
        f"CASE WHEN {c} IS NOT NULL AND split_part({c}, ';', 2) IS DISTINCT FROM {reporter} "
        f"THEN coalesce(try_cast(split_part({c}, ';', 1) AS TIMESTAMP), "
        f"try_strptime({stamp}, {fmts})) END"
    )


_DEPARTMENT_FIELDS = (
    *custom("department", "departamento", "abteilung", "département"),
    *custom("organizations", "organizaciones", "organisationen"),
)


def prepare(con: duckdb.DuckDBPyConnection, staged: Staged) -> Staged:
    """Translate dates, fall back for resolved/first response/status, classify types."""
    created = _translate(txt(staged, *HEADERS["created"]))
    updated = _translate(txt(staged, *HEADERS["updated"]))
    resolved = _translate(txt(staged, *HEADERS["resolved"]))
    category = txt(staged, *HEADERS["status_category"])
    changed = _translate(txt(staged, *HEADERS["status_category_changed"]))
    done = ", ".join(quote_literal(d) for d in DONE_CATEGORIES)
    chart = txt(staged, *custom("chart_date_of_first_response"))
    reporter = txt(staged, *HEADERS["reporter_id"])
    comments = [
        c
        for c in staged.columns
        if c in COMMENT or any(c.startswith(p + "_") and c[len(p) + 1 :].isdigit() for p in COMMENT)
    ]
    times = ", ".join(_comment_time(txt(staged, c), reporter) for c in comments)
    first_comment = f"strftime(least({times}), '%Y-%m-%d %H:%M:%S')" if comments else "NULL"
    status = txt(staged, *HEADERS["status"])
    known = ", ".join(quote_literal(k) for k in STATUS)
    issue_type = txt(staged, *HEADERS["issue_type"])
    type_case = (
        "CASE "
        + " ".join(
            f"WHEN regexp_matches(lower({issue_type}), {quote_literal(rx)}) THEN {quote_literal(t)}"
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
    "ticket_id": HEADERS["issue_key"],
    "service_team": HEADERS["project_name"],
    # Reporter is the display name (an e-mail for some portal customers), Reporter Id
    # the Atlassian account id; `Reporter (Email)` appears in some exports
    "requester_id": HEADERS["reporter_id"],
    "requester_name": HEADERS["reporter"],
    "requester_email": ("reporter_email",),
    "requester_department": ("inward_department",),
    "channel": custom("source"),
    "category": (
        *custom("request_type", "tipo_de_solicitud", "anfragetyp", "type_de_demande"),
        *HEADERS["components"],
    ),
    "priority": HEADERS["priority"],
    "ticket_type": ("inward_issue_type",),
    "status": ("inward_status",),
    "created_at": ("inward_created",),
    "updated_at": ("inward_updated",),
    "first_response_at": ("inward_first_response_at",),
    "resolved_at": ("inward_resolved_at",),
    "subject": HEADERS["summary"],
}
VALUE_MAPS = {
    "status": STATUS_WITH_CATEGORY,
    "priority": PRIORITY,
    "channel": CHANNEL,
    "ticket_type": TICKET_TYPE,
}


def _adapter(locale: int) -> Adapter:
    """The adapter of one UI language (`HEADERS` column `locale`): the same aliases and
    value maps, told apart by the issue key, issue type and created headers."""
    return Adapter(
        name="jira",
        kind="tickets",
        source="jira",
        aliases=ALIASES,
        # Issue id is left out: "current fields" exports may not carry it.
        signature=frozenset(HEADERS[k][locale] for k in ("issue_key", "issue_type", "created")),
        value_maps=VALUE_MAPS,
        prepare=prepare,
    )


ENGLISH, SPANISH, GERMAN, FRENCH = (_adapter(i) for i in range(4))
ADAPTERS = (ENGLISH, SPANISH, GERMAN, FRENCH)
