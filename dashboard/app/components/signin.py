"""The sign-in gate: decides the viewer's scope before any page reads a row.

`mode = "open"`: no sign-in, everyone gets the open scope (all rows, ids
pseudonymised). `mode = "login"`: Streamlit's `st.login` (OIDC; the provider is
`[auth]` in `.streamlit/secrets.toml`), then `[access]` maps the token's `email`
and `groups` claims to a scope. Deny by default: nobody signed in sees the sign-in
page only, and a signed-in user no grant names sees "No access" only — the gate
stops the script before navigation runs, so no page, download or query can be
reached around it. Every decision goes to the audit trail (`dashboard.audit`).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard import audit
from dashboard.access import OPEN, Scope
from dashboard.app import data


def _claims() -> tuple[str, list[str]]:
    """The signed-in user's e-mail and groups, from the identity token's claims."""
    email = str(st.user.get("email") or "").strip().lower()
    groups: Any = st.user.get("groups") or []
    if isinstance(groups, str):  # some providers send one group as a string
        groups = [groups]
    return email, [str(g) for g in groups]


def _auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # no secrets.toml at all
        return False


def gate() -> Scope:
    """The viewer's scope (also in `st.session_state["scope"]`); stops the script with
    a sign-in or "no access" page when there is none."""
    access = data.config().access
    if access.mode == "open":
        st.session_state["scope"] = OPEN
        return OPEN
    st.session_state.pop("scope", None)
    if not _auth_configured():
        st.error(
            '[access] mode = "login" needs an OIDC provider: add an [auth] section to '
            ".streamlit/secrets.toml (see README, Sign-in).",
            icon=":material/lock:",
        )
        st.stop()
    if not st.user.is_logged_in:
        st.title("Inward")
        st.write("Sign in to see the service desk numbers you have access to.")
        st.button("Sign in", on_click=st.login, type="primary", icon=":material/login:")
        st.stop()
    email, groups = _claims()
    scope = access.scope_for(email, groups)
    if scope is None:
        if st.session_state.get("_audited_denied") != email:
            audit.record(data.db_path(), "denied", email, groups=groups)
            st.session_state["_audited_denied"] = email
        st.title("No access")
        st.write(
            f"You are signed in as **{email or 'an account without an e-mail'}**, but no "
            "[access] grant in inward.toml names this e-mail or one of its groups. Ask "
            "whoever runs Inward to add you."
        )
        st.button("Sign out", on_click=st.logout, icon=":material/logout:")
        st.stop()
    st.session_state["scope"] = scope
    if st.session_state.get("_audited_sign_in") != email:
        audit.record(data.db_path(), "sign_in", email, scope, groups=groups)
        st.session_state["_audited_sign_in"] = email
    with st.sidebar, st.container(border=True):
        st.markdown(f"Signed in as **{email}**")
        st.caption(f"Sees {scope.describe()}")
        st.button("Sign out", on_click=st.logout, icon=":material/logout:", key="sign_out")
    return scope


def audit_page(page: str) -> None:
    """Record the page a signed-in viewer opened (once per visit, not per rerun)."""
    scope = st.session_state.get("scope")
    if data.config().access.mode != "login" or not isinstance(scope, Scope):
        return
    if st.session_state.get("_audited_page") != page:
        audit.record(data.db_path(), "page", scope.who, scope, page=page)
        st.session_state["_audited_page"] = page


def audit_query(name: str, values: dict[str, Any]) -> None:
    """Record an analyst query run by a signed-in viewer, with its parameters."""
    scope = st.session_state.get("scope")
    if data.config().access.mode != "login" or not isinstance(scope, Scope):
        return
    ran = (name, tuple(sorted((k, str(v)) for k, v in values.items())))
    if st.session_state.get("_audited_query") != ran:
        audit.record(data.db_path(), "query", scope.who, scope, query=name, params=values)
        st.session_state["_audited_query"] = ran
