# Good Growth: the public dashboard as one container (read-only snapshot baked in).
#
#   docker build -t good-growth .
#   docker run --rm -p 8501:8501 good-growth        # then open http://localhost:8501
#
# The code runs from /app, not from site-packages: indicators/ and data_sources/ find
# methods.md, plans/ and data/ beside themselves (paths relative to __file__), which a
# wheel install of the project would not carry. So only the dependencies are pip-installed.

# ---------------------------------------------------------------- sources, with sane modes
FROM python:3.11-slim AS src
WORKDIR /src
COPY app.py asgi.py alembic.ini ./
COPY alembic/ alembic/
COPY .streamlit/ .streamlit/
COPY app_pages/ app_pages/
COPY data_sources/ data_sources/
COPY indicators/ indicators/
COPY plans/ plans/
COPY data/ data/
# A refreshed data/ is mode 0700 (it was a mkdtemp staging folder); make everything readable
# by the unprivileged runtime user and writable by nobody but root.
RUN chmod -R u=rwX,go=rX /src

# ---------------------------------------------------------------- runtime
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN groupadd --system --gid 10001 goodgrowth \
 && useradd --system --uid 10001 --gid 10001 --home-dir /home/goodgrowth --create-home \
        --shell /usr/sbin/nologin goodgrowth

WORKDIR /app

# Dependencies first, from the same hash-checked lock file as `make install` (requirements.lock,
# generated from pyproject.toml by `make lock`): this layer is rebuilt only when the lock changes.
COPY requirements.lock /tmp/build/
RUN pip install --no-cache-dir --require-hashes -r /tmp/build/requirements.lock \
 && rm -rf /tmp/build

COPY --from=src /src /app
# Public mode: refresh is refused and visitors see no tracebacks. Other Streamlit settings
# (XSRF, upload limit, toolbar) come from .streamlit/config.toml; env vars here win over it.
ENV PYTHONPATH=/app \
    HOME=/home/goodgrowth \
    GOOD_GROWTH_PUBLIC_MODE=true \
    GOOD_GROWTH_SNAPSHOT_DIR=/app/data \
    STREAMLIT_CLIENT_SHOW_ERROR_DETAILS=none \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

# Byte-compile once (the root filesystem is read-only at run time) and refuse to build an
# image whose baked snapshot does not match its manifest.
RUN python -m compileall -q /app/data_sources /app/indicators \
 && python -m data_sources verify --snapshot /app/data

USER 10001:10001
EXPOSE 8501

# Healthy = Streamlit answers AND the snapshot still matches its manifest's checksums: Streamlit's
# own /_stcore/health stays `ok` while a damaged snapshot makes every page fail.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "data_sources", "health", "--url", "http://127.0.0.1:8501/_stcore/health"]

# app_pages.server loads the snapshot before Streamlit listens, so no visitor waits for it.
CMD ["python", "-m", "app_pages.server", \
     "--server.address", "0.0.0.0", "--server.port", "8501", \
     "--server.headless", "true", "--server.enableXsrfProtection", "true"]
