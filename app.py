"""Good Growth: is this place's growth good growth?

The app shell: navigation over the pages, the shared footer, and logging. Each page asks
indicators/ for its numbers and draws them.
"""
from __future__ import annotations

import logging

import streamlit as st

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

st.set_page_config(page_title="Good Growth", page_icon=":seedling:", layout="wide")

PAGES = [
    st.Page("pages/map_explorer.py", title="Map explorer", icon=":material/map:", url_path="map", default=True),
    st.Page("pages/place_profile.py", title="Place profile", icon=":material/location_on:", url_path="profile"),
    st.Page("pages/compare.py", title="Compare places", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("pages/good_growth.py", title="Good growth", icon=":material/trending_up:", url_path="good-growth"),
    st.Page("pages/plan_evaluation.py", title="Plan evaluation", icon=":material/checklist:", url_path="plan"),
    st.Page("pages/data_methods.py", title="Data & methods", icon=":material/description:", url_path="data"),
]

st.navigation(PAGES, position="sidebar").run()
