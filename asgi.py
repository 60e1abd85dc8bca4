"""The dashboard as an ASGI application: Streamlit's app (app.py) behind two middlewares of ours,
the profile's first paint (app_pages.web.first_paint) and Brotli-compressed static assets
(app_pages.web.compressed_assets). `python -m app_pages.server` runs it with `streamlit run asgi.py`."""
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from streamlit import config

from app_pages.web.compressed_assets import CompressedAssetsMiddleware
from app_pages.web.first_paint import FirstPaintMiddleware

BASE_URL_PATH = config.get_option("server.baseUrlPath") or ""

app = st.App(Path(__file__).resolve().parent / "app.py",
             middleware=[Middleware(FirstPaintMiddleware, base_url_path=BASE_URL_PATH),
                         Middleware(CompressedAssetsMiddleware, base_url_path=BASE_URL_PATH)])
