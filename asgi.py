"""The dashboard as an ASGI application: Streamlit's app (app.py) behind the profile's first paint
(app_pages.web.first_paint). `python -m app_pages.server` runs it with `streamlit run asgi.py`."""
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from streamlit import config

from app_pages.web.first_paint import FirstPaintMiddleware

app = st.App(Path(__file__).resolve().parent / "app.py",
             middleware=[Middleware(FirstPaintMiddleware, base_url_path=config.get_option("server.baseUrlPath") or "")])
