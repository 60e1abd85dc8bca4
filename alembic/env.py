"""Alembic's entry point: migrate the priorities database named by the project's settings.

The URL is the one passed in by indicators.priorities.migrate (the app, the tests) or, from the
command line, GOOD_GROWTH_DATABASE_URL through data_sources.settings. On PostgreSQL an advisory lock
makes replicas that start together migrate one after the other instead of racing.
"""
from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import text

from data_sources.settings import get_settings
from indicators.priorities.models import Base
from indicators.priorities.store import make_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True) \
        and not config.get_main_option("sqlalchemy.url"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)  # the CLI only

URL = config.get_main_option("sqlalchemy.url") or get_settings().database_url
LOCK_ID = 7_413_001  # any constant shared by every replica


def run_offline() -> None:
    context.configure(url=URL, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    engine = make_engine(URL)
    try:
        with engine.connect() as conn:
            postgres = conn.dialect.name == "postgresql"
            if postgres:
                conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_ID})
                conn.commit()
            try:
                context.configure(connection=conn, target_metadata=Base.metadata,
                                  render_as_batch=conn.dialect.name == "sqlite")
                with context.begin_transaction():
                    context.run_migrations()
            finally:
                if postgres:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_ID})
                    conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
