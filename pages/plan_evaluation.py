"""Placeholder while the page is built."""
import streamlit as st
from pages import common as ui
ui.sidebar()
st.title("plan_evaluation")
ui.footer()
