"""Data: what has been loaded, what was rejected and why, and an uploader.

Uploads are ingested by a separate `inward ingest` process: the app's own
connections are read-only, and DuckDB refuses a read-write connection next to
read-only ones in the same process (docs/architecture.md), so the writer must be another
process — exactly like a CLI ingest while the app is open.
"""

from __future__ import annotations

import streamlit as st

from dashboard.app import data
from dashboard.app.components.tables import table
from dashboard.app.components.upload import ingest_uploads
from dashboard.ingest.mapping_report import mapping_report
from dashboard.metrics.identity import match_summary, unmatched_requesters
from dashboard.metrics.loads import ingests, rejected_rows, table_counts

st.title("Data")
st.caption(f"Warehouse: `{data.db_path()}`")

with st.container(border=True):
    st.markdown("**Load exports**")
    files = st.file_uploader(
        "Ticket, survey, outcome, people or org files (CSV, XLSX, JSON, Parquet)",
        accept_multiple_files=True,
        type=["csv", "tsv", "txt", "xlsx", "json", "jsonl", "parquet"],
    )
    if files and st.button("Ingest", type="primary", icon=":material/upload:"):
        with st.status("Ingesting…", expanded=True) as status:
            data.release_readers()  # the ingest process needs the write lock
            ok, lines = ingest_uploads(
                files, data.db_path(), on_phase=lambda line: status.update(label=line)
            )
            for line in lines:
                st.write(line)
            status.update(
                label="Done" if ok else "Some files were refused",
                state="complete" if ok else "error",
            )

if not data.db_path().is_file():
    st.info("No warehouse yet: load a file above or run `uv run inward demo`.")
    st.stop()

st.caption(
    ":material/filter_alt_off: The sidebar filters do not apply here: this page describes "
    "the whole warehouse, every file loaded into it."
)
counts = data.call(table_counts)
with st.container(horizontal=True):
    for name, n in counts.items():
        st.metric(name.replace("_", " ").capitalize(), f"{n:,}", border=True)

st.subheader("Ingests")
log = data.call(ingests)
table(log, "inward_ingests", empty="Nothing ingested yet.")

st.subheader("Rejected rows")
if log.is_empty():
    st.caption("Nothing ingested yet.")
else:
    choices = log.filter(log["rows_rejected"] > 0)["ingest_id"].to_list()
    if not choices:
        st.success("No rows were rejected.", icon=":material/check_circle:")
    else:
        pick = st.selectbox(
            "Ingest",
            choices,
            format_func=lambda i: f"#{i}: " + str(log.filter(log["ingest_id"] == i)["file"][0]),
        )
        rejected = data.call(rejected_rows, pick)
        table(rejected, f"rejected_{pick}")

st.subheader("Who the requesters are")
st.caption(
    "Each tool names a colleague its own way (an id, an e-mail, a display name). Inward "
    "matches them to the people file by e-mail, employee number, alias or an unambiguous "
    "name, so one person has one requester id in every tool. Unmatched requesters keep "
    "their e-mail, else `tool:id`; ambiguous ones (a name several people share) are never "
    "merged. Add `email`, `name`, `employee_id` or `aliases` columns to the people file "
    "to match more."
)
rates = data.call(match_summary)
if rates.is_empty():
    st.caption("No tickets or survey responses with a requester yet.")
else:
    with st.container(horizontal=True):
        for row in rates.iter_rows(named=True):
            st.metric(
                f"{row['source']} {row['kind']}",
                "—" if row["match_rate"] is None else f"{row['match_rate']:.0%}",
                border=True,
                help=f"{row['matched']:,} of {row['requesters']:,} requesters matched to the "
                f"people file; {row['ambiguous']:,} ambiguous, {row['unmatched']:,} unmatched.",
            )
    table(rates, "inward_requester_match")
    unmatched = data.call(unmatched_requesters)
    if unmatched.is_empty():
        st.success("Every requester was matched.", icon=":material/check_circle:")
    else:
        ids = "ids as stored" if data.scope().raw else "ids pseudonymised"
        st.markdown(f"**Not matched** (ambiguous first; {ids})")
        table(unmatched, "inward_unmatched_requesters", height=300)

st.subheader("Value mapping")
st.caption(
    "How each export's statuses, priorities, channels and types were mapped to Inward's "
    "values. Unrecognised values come first: they became empty (status, priority) or "
    "`other`/`unknown`. Extend the adapter's value map or rename them in the export."
)
report = data.call(mapping_report)
if report.is_empty():
    st.caption("Nothing recorded yet.")
else:
    unrecognised = report.filter(~report["recognised"])
    if unrecognised.is_empty():
        st.success("Every value in every export was recognised.", icon=":material/check_circle:")
    else:
        st.warning(f"{unrecognised.height} raw values were not recognised.", icon=":material/help:")
    table(report, "inward_value_mapping", height=300)
