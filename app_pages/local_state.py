"""Where this visitor's local data lives: the local folder (local mode) or the session (public mode).

Why the split: a council running its own copy keeps its uploads across restarts, beside the
snapshot; on the public site an upload is the visitor's alone and is never written to disk,
so it disappears with the session and no visitor can see another's.
"""
from __future__ import annotations

import streamlit as st

from data_sources.settings import get_settings
from indicators.local_data import LocalIndicator, LocalLayer, store

SESSION_KEY = "local_data_layer"


def public() -> bool:
    return bool(get_settings().public_mode)


def current_layer() -> LocalLayer:
    if public():
        return st.session_state.get(SESSION_KEY) or LocalLayer()
    return store.configured()


def skipped_files() -> list[str]:
    """Files in the local folder that could not be read (local mode only)."""
    return [] if public() else store.load_cached(get_settings().local_data_dir)[1]


def keep(ind: LocalIndicator) -> None:
    """Keep a validated upload: in the session (public mode) or atomically on disk (local mode)."""
    if public():
        st.session_state[SESSION_KEY] = current_layer().with_indicator(ind)
    else:
        current_layer().with_indicator(ind)  # the same limit as a session's
        store.save(get_settings().local_data_dir, ind)


def remove(indicator_id: str) -> None:
    if public():
        st.session_state[SESSION_KEY] = current_layer().without(indicator_id)
    else:
        store.delete(get_settings().local_data_dir, indicator_id)


def render_list(c) -> None:
    """The local indicators in use, with their source and a delete button each."""
    from app_pages import common as ui
    local = c.cat.loc[c.cat["local"].astype(bool)]
    for line in skipped_files():
        st.warning(ui.md(line))
    if local.empty:
        st.caption("No local data has been added." + ("" if public() else " Add some on the Local data page."))
        return
    for ind_id, row in local.iterrows():
        text, button = st.columns([5, 1])
        scored = "scored" if bool(row["scored"]) else "not scored"
        text.markdown(f"**{ui.md(row['label'])}** · {ui.md(row['local_source'])} · {scored}  \n"
                      f"{ui.md(row['note'])}")
        if button.button("Delete", key=f"local_delete_{ind_id}"):
            remove(str(ind_id))
            st.rerun()
