"""Data & methods: the catalogue, sources with dates and licences, coverage by level, the snapshot
manifest, the methods text, and downloads of any map view as CSV and GeoJSON."""
from __future__ import annotations

import json

import streamlit as st

from indicators import geo, scoring, snapshot, views
from indicators.catalogue import KIND_LABELS, PILLAR_LABELS
from app_pages import common as ui
from app_pages import local_state


def main() -> None:
    sel = ui.sidebar()
    c = ui.ctx()
    st.title("Data & methods")
    tabs = st.tabs(["Indicators", "Sources and licences", "Coverage", "Methods", "Downloads", "Snapshot manifest"])
    with tabs[0]:
        _catalogue(c)
        with st.expander("Local data (uploaded here, not from the ONS)"):
            local_state.render_list(c)
    with tabs[1]:
        _sources(c)
    with tabs[2]:
        st.dataframe(snapshot.level_summary(c.snapshot), hide_index=True, width="stretch")
        st.caption("Areas with at least one value, indicators and values per level.")
    with tabs[3]:
        _effective_weights(sel)
        st.markdown(views.methods_text())
    with tabs[4]:
        _downloads(c, sel)
    with tabs[5]:
        m = c.snapshot.manifest
        st.markdown(ui.md(f"Built {m['created_at']} from {m.get('source_note') or m['source_base_url']}."))
        st.dataframe(snapshot.dataset_summary(c.snapshot), hide_index=True, width="stretch")
        missing = m["geography"]["districts_without_boundary"]
        if missing:
            st.caption(ui.md("District codes in the data with no boundary to draw: " + ", ".join(missing)))
        st.download_button("Download manifest.json", json.dumps(m, indent=2).encode("utf-8"), "manifest.json",
                           "application/json")
        _refresh_controls()


def _refresh_controls() -> None:
    """Local copies can pull new data; the public copy is read-only and shows no control at all."""
    if ui.public_mode():
        st.caption("This public copy is read-only: its data is updated when the site is redeployed.")
        return
    st.markdown("## Refresh the data")
    st.caption("Fetches every dataset from the configured source over the internet and swaps in the new "
               "snapshot only if it is complete; on failure the current data stays as it is.")
    if st.button("Refresh from the source now", key="refresh_now"):
        from data_sources.refresh import RefreshFailed, refresh
        from data_sources.settings import get_settings
        done: list[str] = []
        with st.status("Refreshing…", expanded=True) as status:
            bar = st.progress(0.0)
            def on_done(slug: str, state: str) -> None:
                done.append(slug)
                bar.progress(min(len(done) / 68, 1.0), text=f"{slug}: {state}")
            try:
                result = refresh(get_settings(), on_done=on_done)
            except RefreshFailed as exc:
                status.update(label="Refresh failed; the current data is unchanged", state="error")
                st.error(ui.md(exc))
                return
            counts = result.manifest["counts"]
            status.update(label=f"Refreshed: {counts['indicators']} indicators, {counts['datasets_with_data']} "
                                "datasets", state="complete")
        st.cache_data.clear()
        st.cache_resource.clear()


def _catalogue(c) -> None:
    cat = c.cat.reset_index(drop=True)
    meta = c.snapshot.catalogue.astype({"indicator_id": str}).set_index("indicator_id")
    cat = cat.join(meta[["source_org", "source_date_text", "first_period", "last_period", "levels"]], on="id")
    cols = st.columns([2, 1, 1, 1])
    query_text = cols[0].text_input("Search indicators", "", key="cat_search")
    pillars = cols[1].multiselect("Pillar", list(PILLAR_LABELS), format_func=PILLAR_LABELS.get, key="cat_pillar")
    kinds = cols[2].multiselect("Kind", list(KIND_LABELS), format_func=KIND_LABELS.get, key="cat_kind")
    themes = cols[3].multiselect("Theme", sorted(cat["theme"].unique()), key="cat_theme")
    view = cat
    if query_text:
        view = view.loc[view["label"].str.contains(query_text, case=False, regex=False)
                        | view["id"].str.contains(query_text, case=False, regex=False)]
    if pillars:
        view = view.loc[view["pillar"].isin(pillars)]
    if kinds:
        view = view.loc[view["kind"].isin(kinds)]
    if themes:
        view = view.loc[view["theme"].isin(themes)]
    view = view.assign(source=[views.sources_text(o, d) for o, d in zip(view["source_org"], view["source_date_text"])],
                       pillar=view["pillar"].map(lambda p: PILLAR_LABELS.get(p, p)),
                       polarity=view["polarity"].str.replace("_", " "),
                       kind=view["kind"].map(lambda k: KIND_LABELS.get(k, k)),
                       family=view["family"].fillna("").str.replace("_", " "),
                       aggregation=view["aggregation"].str.replace("_", " "))
    shown = view[["label", "pillar", "kind", "scored", "family", "theme", "polarity", "unit", "aggregation", "weight",
                  "nations", "source", "first_period", "last_period", "levels", "note", "id"]]
    st.dataframe(shown, hide_index=True, width="stretch", height=520, column_config={
        "label": "Indicator", "pillar": "Pillar", "kind": "Kind", "scored": "Scored",
        "family": "Family (shares one unit of weight)", "theme": "Theme", "polarity": "Polarity", "unit": "Unit",
        "aggregation": "Aggregation", "weight": "Weight", "nations": "Nations", "source": "Source and release date",
        "first_period": "First period", "last_period": "Latest period", "levels": "Levels",
        "note": "Why (where disputable) and source", "id": "Id"})
    st.caption(f"{len(view)} of {len(cat)} indicators. Only outcomes are scored: inputs (money, facilities, "
               "infrastructure), outputs (activity), context and neutral indicators are shown but never move a "
               "score. Overlapping measures in one family share one unit of weight; totals that grow with the "
               "size of a place are shown per head.")
    ui.download_csv(shown, "catalogue.csv", "Download the catalogue (CSV)")


@st.cache_data(show_spinner=False, max_entries=8)
def _weights(created_at: str, level: str):
    return scoring.weights_table(ui.ctx(), scoring.Options(level=level))


def _effective_weights(sel) -> None:
    """Nominal weights beside each indicator's real share of its pillar (OECD/JRC Handbook, Paruolo et al. 2013)."""
    st.markdown("## Effective weights")
    level = sel.level if sel.level in ("ltla", "utla", "combined_authority", "region") else "ltla"
    table = _weights(ui.created_at(), level)
    if table.empty:
        st.info("No indicator is scored at this level.")
        return
    shown = table.assign(pillar=table["pillar"].map(lambda p: PILLAR_LABELS.get(p, p)))
    st.dataframe(shown[["label", "pillar", "nominal_weight", "effective_weight", "ratio", "id"]], hide_index=True,
                 width="stretch", column_config={
                     "label": "Indicator", "pillar": "Pillar",
                     "nominal_weight": st.column_config.NumberColumn("Nominal weight", format="percent"),
                     "effective_weight": st.column_config.NumberColumn("Effective weight", format="percent"),
                     "ratio": st.column_config.NumberColumn("Effective ÷ nominal", format="%.2f"), "id": "Id"})
    st.caption("A weight says how much an indicator is meant to count; the effective weight is how much it does: its "
               "share of the pillar's variation across the ranked places (squared correlation with the pillar "
               "score, normalised). An indicator whose effective weight is far below its nominal one barely moves "
               "any rank, for example because it hardly varies or because it overlaps others.")


def _sources(c) -> None:
    meta = c.snapshot.catalogue
    src = (meta.groupby(["dataset", "source_org", "source_date_text", "source_url"], dropna=False)
           .size().reset_index(name="indicators"))
    status = {k: v["status"] for k, v in c.snapshot.manifest["datasets"].items()}
    src["status"] = src["dataset"].map(status)
    src["licence"] = "Open Government Licence v3.0"
    st.dataframe(src, hide_index=True, width="stretch", column_config={
        "source_url": st.column_config.LinkColumn("Source"), "source_date_text": "Released",
        "source_org": "Publisher"})
    for line in c.snapshot.manifest.get("attribution", []):
        st.caption(ui.md(line))
    from indicators import postcodes
    st.caption(ui.md(f"{postcodes.ATTRIBUTION} {postcodes.version()} (used by the home page's postcode search)."))


def _downloads(c, sel) -> None:
    st.markdown("Download any map view: pick an indicator and level (the sidebar's period and benchmark apply).")
    options = ui.indicator_options(c)
    chosen = ui.choice_param("indicator", options, options[0])
    ind = st.selectbox("Indicator", options, format_func=lambda i: ui.indicator_label(c, i), key="dl_indicator",
                       index=options.index(chosen))
    level = sel.level
    ui.note_benchmark_fallback(sel, sel.place)
    table, info = views.map_view(c, ind, level, ui.period_arg(sel), ui.benchmark_code(c, sel, sel.place) or "E92000001")
    stem = f"{ind}-{level}-{info['period_code'] or 'none'}".replace("/", "_")
    ui.download_csv(table, f"{stem}.csv", "CSV")
    gdf = geo.boundaries(c, level)
    props = table.drop(columns=["areanm"]).assign(indicator=ind, period=info["period_label"], unit=info["unit"])
    fc = geo.feature_collection(gdf, props)
    st.download_button("GeoJSON", json.dumps(fc).encode("utf-8"), f"{stem}.geojson", "application/geo+json")
    st.caption(f"{len(table)} areas; {int(table['value'].notna().sum())} with a value.")


with ui.friendly_errors():
    main()
ui.footer()
