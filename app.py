"""Good Growth: is this place's growth good growth?

The app shell: navigation over the pages in app_pages/, and logging. Each page asks
indicators/ for its numbers and draws them.
"""
from __future__ import annotations

import logging

import streamlit as st

from app_pages import common

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

# The icon as the emoji itself, not its shortcode (":seedling:"): for a shortcode the browser first
# downloads Streamlit's emoji name table (260 kB of JavaScript) to look the name up.
st.set_page_config(page_title="Good Growth", page_icon="🌱", layout="wide")

# Pages live in app_pages/, not pages/: Streamlit treats a folder named pages/ as its older
# multipage mode, which breaks deep links such as /profile?place=E08000035 under st.navigation.
# Home is the landing route; it sends links made when the map was (/?indicator=…) on to /map.
PAGES = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", url_path="home", default=True),
    st.Page("app_pages/map_explorer.py", title="Map explorer", icon=":material/map:", url_path="map"),
    st.Page("app_pages/place_profile.py", title="Place profile", icon=":material/location_on:", url_path="profile"),
    st.Page("app_pages/compare.py", title="Compare places", icon=":material/compare_arrows:", url_path="compare"),
    st.Page("app_pages/good_growth.py", title="Good growth", icon=":material/trending_up:", url_path="good-growth"),
    st.Page("app_pages/plan_evaluation.py", title="Plan evaluation", icon=":material/checklist:", url_path="plan"),
    st.Page("app_pages/prevention.py", title="Prevention value", icon=":material/savings:", url_path="prevention"),
    st.Page("app_pages/local_data.py", title="Local data", icon=":material/upload_file:", url_path="local-data"),
    st.Page("app_pages/priorities.py", title="What matters here?", icon=":material/how_to_vote:",
            url_path="priorities"),
    st.Page("app_pages/data_methods.py", title="Data & methods", icon=":material/description:", url_path="data"),
]

# Every page of this run reads one snapshot; an unusable snapshot gets one banner, not a traceback.
with common.pinned_context():
    st.navigation(PAGES, position="sidebar").run()
