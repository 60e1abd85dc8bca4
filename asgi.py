"""The dashboard as an ASGI application: Streamlit's app (app.py) behind three middlewares of ours:
smaller copies of Streamlit's fonts (app_pages.web.fonts), the profile's first paint
(app_pages.web.first_paint) and Brotli-compressed static assets (app_pages.web.compressed_assets).
`python -m app_pages.server` runs it with `streamlit run asgi.py`."""
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from streamlit import config

from app_pages.web.compressed_assets import CompressedAssetsMiddleware
from app_pages.web.first_paint import FirstPaintMiddleware
from app_pages.web.fonts import FontSubsetMiddleware

BASE_URL_PATH = config.get_option("server.baseUrlPath") or ""

app = st.App(Path(__file__).resolve().parent / "app.py",
             middleware=[Middleware(FontSubsetMiddleware, base_url_path=BASE_URL_PATH),
                         Middleware(FirstPaintMiddleware, base_url_path=BASE_URL_PATH),
                         Middleware(CompressedAssetsMiddleware, base_url_path=BASE_URL_PATH)])
