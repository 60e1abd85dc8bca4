"""Good Growth: is this place's growth good growth?

For now the app shows what the shipped snapshot holds; the map, profile, comparison,
good-growth and plan pages are built on the scoring engine in indicators/.
"""
from __future__ import annotations

import logging

import streamlit as st

from data_sources.errors import DataSourceError
from indicators import snapshot

log = logging.getLogger("good_growth.app")

st.set_page_config(page_title="Good Growth", page_icon=":seedling:", layout="wide")


@st.cache_resource(show_spinner="Loading the data snapshot…")
def _snapshot(created_at: str) -> snapshot.Snapshot:
    return snapshot.load()


def main() -> None:
    st.title("Good Growth")
    st.caption("Local growth judged by what it does for people: public service outcomes next to the economy.")
    try:
        manifest = snapshot.load().manifest
        snap = _snapshot(manifest["created_at"])
    except (DataSourceError, OSError) as exc:
        log.exception("snapshot could not be loaded")
        st.error(f"The data snapshot could not be loaded: {exc}. "
                 "Run `make refresh` (or `python -m data_sources refresh`) to rebuild it.")
        return
    counts = snap.manifest["counts"]
    cols = st.columns(5)
    cols[0].metric("Datasets with data", counts["datasets_with_data"], help="of %d listed" % counts["datasets_listed"])
    cols[1].metric("Indicators", counts["indicators"])
    cols[2].metric("Observations", f"{counts['observations']:,}")
    cols[3].metric("Districts with values", counts["ltla_with_values"])
    cols[4].metric("Areas", counts["areas"])
    st.write(f"Snapshot built {snap.manifest['created_at']} from `{snap.manifest['source_base_url']}`.")
    if snap.manifest.get("source_note"):
        st.caption(f"Source: {snap.manifest['source_note']}")

    st.subheader("Datasets")
    st.dataframe(snapshot.dataset_summary(snap), hide_index=True, use_container_width=True)
    st.subheader("Areas with data, by level")
    st.dataframe(snapshot.level_summary(snap), hide_index=True)
    st.subheader("Indicators")
    st.dataframe(snapshot.catalogue_view(snap), hide_index=True, use_container_width=True)
    missing = snap.manifest["geography"]["districts_without_boundary"]
    if missing:
        st.info("Districts in the data with no boundary to draw (old or pseudo codes): " + ", ".join(missing))
    st.divider()
    for line in snap.manifest.get("attribution", []):
        st.caption(line)


main()
