"""Local data: upload a place's own indicator (CSV or XLSX plus its metadata), see it checked,
and use it on the map, the profile, the compare table and in plans beside the national data."""
from __future__ import annotations

import streamlit as st

from indicators.catalogue import PILLAR_LABELS
from indicators.local_data import LocalDataError, parse, parse_upload, read_meta, template_csv, template_yaml
from app_pages import common as ui
from app_pages import local_state

POLARITIES = {"higher_is_better": "Higher is better", "lower_is_better": "Lower is better", "neutral": "Neither"}
FLASH = "local_data_flash"


def main() -> None:
    ui.sidebar()
    c = ui.ctx()
    st.title("Local data")
    st.caption("Add an indicator your place collects itself: one row per area and period. It is checked "
               "strictly, shown on every page marked **local data** with its source, can be tracked in a "
               "plan, and moves a score only if you tick *Use it when scoring places*. Areas without a "
               "value show as no data, never zero.")
    if local_state.public():
        st.info("On this public site an upload stays in your browser session only: it is never saved, "
                "and nobody else can see it.")
    else:
        st.caption("Uploads are kept in the local data folder beside the snapshot; refreshing the "
                   "national data never changes them.")
    flash = st.session_state.pop(FLASH, None)
    if flash:
        st.success(ui.md(flash))
    left, right = st.columns(2)
    left.download_button("Download a template (CSV)", template_csv(), "local-data-template.csv", "text/csv")
    right.download_button("Download a metadata template (YAML)", template_yaml(), "local-data-template.yaml",
                          "application/x-yaml")
    _upload_form(c)
    st.header("Local indicators")
    local_state.render_list(c)


def _upload_form(c) -> None:
    with st.form("local_upload"):
        data = st.file_uploader("Data file (CSV or XLSX, up to 1 MB)", type=["csv", "xlsx"], key="local_file")
        sidecar = st.file_uploader("Metadata (YAML; leave empty to use the fields below)", type=["yaml", "yml"],
                                   key="local_meta")
        st.markdown("**Metadata** (used when no YAML file is given)")
        a, b = st.columns(2)
        form = {"label": a.text_input("Label", key="lm_label"), "unit": b.text_input("Unit", "%", key="lm_unit"),
                "polarity": a.selectbox("Direction", list(POLARITIES), format_func=POLARITIES.get, key="lm_polarity"),
                "polarity_reason": b.text_input("Why that direction", key="lm_reason"),
                "pillar": a.selectbox("Pillar", list(PILLAR_LABELS), format_func=PILLAR_LABELS.get, key="lm_pillar"),
                "theme": b.text_input("Theme (lower case, e.g. wellbeing)", key="lm_theme"),
                "source": a.text_input("Source", key="lm_source"), "licence": b.text_input("Licence", key="lm_licence"),
                "minimum": a.text_input("Lowest possible value (optional)", key="lm_min"),
                "maximum": b.text_input("Highest possible value (optional)", key="lm_max"),
                "score": st.checkbox("Use it when scoring places", key="lm_score")}
        submitted = st.form_submit_button("Check and add", key="local_submit")
    if not submitted:
        return
    if data is None:
        st.error("Choose a data file first.")
        return
    if data.size > parse.MAX_BYTES:
        st.error(f"That file is {data.size:,} bytes; local data files are limited to {parse.MAX_BYTES:,} bytes.")
        return
    try:
        meta = read_meta(sidecar.getvalue() if sidecar is not None else form)
        ind = parse_upload(data.getvalue(), data.name, meta, c.areas["areacd"])
        local_state.keep(ind)
    except LocalDataError as exc:
        st.error("The upload could not be used; nothing was saved:\n\n"
                 + "\n".join(f"- {ui.md(line)}" for line in exc.problems))
        return
    st.session_state[FLASH] = (f"Added {ind.meta.label} ({len(ind.rows)} rows). Choose it under Indicator on the "
                               "map, profile, compare and plan pages.")
    st.rerun()


with ui.friendly_errors():
    main()
ui.footer()
