"""The compose deployment wires the residents' priorities to one PostgreSQL database shared by the
replicas, and the image carries the migrations the replicas run at first use."""
from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]


def test_replicas_share_a_healthy_postgres_with_a_volume():
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    db = compose["services"]["db"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    volume = db["volumes"][0].split(":")
    assert volume[1] == "/var/lib/postgresql/data" and volume[0] in compose["volumes"]
    assert "ports" not in db, "only the replicas reach the database"
    for name in ("app1", "app2"):
        svc = compose["services"][name]
        url = make_url(svc["environment"]["GOOD_GROWTH_DATABASE_URL"].replace(
            "${GOOD_GROWTH_DB_PASSWORD:?set GOOD_GROWTH_DB_PASSWORD}", "secret"))
        assert url.drivername == "postgresql+psycopg" and url.host == "db" and url.database == "goodgrowth"
        assert svc["depends_on"]["db"]["condition"] == "service_healthy"


def test_the_image_carries_the_migrations():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY alembic/ alembic/" in dockerfile and "alembic.ini" in dockerfile
    assert (ROOT / "alembic" / "versions").is_dir()
