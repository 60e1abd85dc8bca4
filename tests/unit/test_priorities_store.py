"""The residents' priorities store on both databases it supports: SQLite (a file) and a real
PostgreSQL server started for the test session (tests/support/postgres.py). The same tests run on
each: Alembic upgrade from empty, the one-response-per-session rule kept by the database, moderation,
export, and concurrent writes from two separate processes, each response stored once."""
from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from indicators import csv_export
from indicators.priorities import (AlreadyAnswered, InvalidResponse, RateLimited, ResponseStore, THEMES,
                                   migrate)
from indicators.priorities.models import Base
from indicators.priorities.store import alembic_config, submission
from tests.support.postgres import postgres_server  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[2]
LEEDS, YORK = "E08000035", "E06000014"
POISON = '<script>window.__xss=1</script> <img src=x onerror="window.__xss=1"> [click](javascript:alert(1))'


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind (no tables yet)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nested' / 'priorities.db'}"
    return request.getfixturevalue("postgres_server").create_database()


@pytest.fixture
def store(db_url: str):
    migrate(db_url)
    s = ResponseStore(db_url)
    yield s
    s.dispose()


def ratings(value: int = 5, **overrides: int) -> dict[str, int]:
    return {t: overrides.get(t, value) for t in THEMES}


def answer(areacd: str = LEEDS, token: str = "token-aaaaaaaaaaaaaaaa", text: str | None = None, **r: int):
    return submission(areacd=areacd, session_token=token, ratings=ratings(**r), free_text=text)


def test_alembic_upgrade_from_empty_builds_the_schema_the_models_describe(db_url):
    migrate(db_url)
    s = ResponseStore(db_url)
    try:
        tables = set(inspect(s.engine).get_table_names())
        assert {"responses", "submission_events", "rate_limit_key"} <= tables
        with s.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            key = conn.execute(text("SELECT key FROM rate_limit_key")).scalars().all()
        assert diff == [], f"models and migrations disagree: {diff}"
        assert len(key) == 1 and len(key[0]) == 64  # one random key, made by the migration
        migrate(db_url)  # a second start changes nothing
        command.downgrade(alembic_config(db_url), "0001_responses")
        assert "submission_events" not in inspect(s.engine).get_table_names()
        command.downgrade(alembic_config(db_url), "base")
        assert "responses" not in inspect(s.engine).get_table_names()
    finally:
        s.dispose()


def test_alembic_command_line_uses_the_projects_setting(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {"GOOD_GROWTH_DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "cli.db").exists()


def test_a_response_is_stored_once_per_session_and_place(store):
    first = store.submit(answer(text=POISON, health=9))
    assert isinstance(first, int)
    with pytest.raises(AlreadyAnswered, match="already shared"):
        store.submit(answer(health=1))
    store.submit(answer(areacd=YORK))  # the same session may answer for another place
    store.submit(answer(token="token-bbbbbbbbbbbbbbbb"))  # and another session for the same place
    assert store.count() == 3 and store.count(LEEDS) == 2
    assert store.has_answered(LEEDS, "token-aaaaaaaaaaaaaaaa")
    frame = store.ratings(LEEDS)
    assert sorted(frame["health"]) == [5, 9]
    # free text is stored as the text it was, never cleaned into something else
    assert store.free_text(LEEDS)["text"].tolist() == [POISON]


def test_hidden_text_leaves_display_and_export_but_the_ratings_still_count(store):
    rid = store.submit(answer(text="=HYPERLINK(\"http://evil.example\")"))
    store.submit(answer(token="token-cccccccccccccccc", text="More buses"))
    export = store.export(LEEDS)
    assert "session_token" not in export.columns
    assert csv_export.to_csv(export).count("'=HYPERLINK") == 1  # a spreadsheet reads it as text
    assert store.set_text_hidden(rid)
    assert store.free_text(LEEDS)["text"].tolist() == ["More buses"]
    assert len(store.free_text(LEEDS, include_hidden=True)) == 2
    assert pd.isna(store.export(LEEDS).set_index("id").loc[rid, "free_text"])
    assert store.community(LEEDS).n == 2
    assert not store.set_text_hidden(99_999)


@pytest.mark.parametrize("fields, message", [
    ({"areacd": "Leeds"}, "areacd"),
    ({"ratings": ratings(health=11)}, "ratings.health"),
    ({"ratings": ratings(health=-1)}, "ratings.health"),
    ({"ratings": {t: 5 for t in THEMES[:-1]}}, "missing: Environment"),
    ({"ratings": {**ratings(), "parking": 5}}, "unknown: parking"),
    ({"free_text": "x" * 501}, "at most 500"),
    ({"session_token": "short"}, "session_token"),
    ({"email": "a@b.example"}, "email"),
])
def test_bad_input_is_refused_with_the_field_named(fields, message):
    base = {"areacd": LEEDS, "session_token": "token-aaaaaaaaaaaaaaaa", "ratings": ratings()}
    with pytest.raises(InvalidResponse, match=message):
        submission(**{**base, **fields})


def test_text_is_bounded_after_trimming_and_empty_text_is_none():
    assert submission(areacd=LEEDS, session_token="t" * 16, ratings=ratings(), free_text="  ").free_text is None
    assert len(submission(areacd=LEEDS, session_token="t" * 16, ratings=ratings(),
                          free_text=" " + "y" * 500 + "\x00 ").free_text) == 500


def test_two_processes_writing_at_once_store_every_response_once(store, db_url):
    """Two app processes, 60 responses each plus 40 session tokens both try: 160 rows, no error."""
    cmd = [sys.executable, "-m", "tests.support.priorities_worker", db_url, LEEDS]
    procs = [subprocess.Popen([*cmd, name, "60", "40"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for name in ("one", "two")]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    stored = [int(out.split()[0].split("=")[1]) for out, _ in outs]
    dupes = [int(out.split()[1].split("=")[1]) for out, _ in outs]
    assert sum(stored) == 160 and sum(dupes) == 40
    frame = store.export(LEEDS)
    assert len(frame) == 160
    assert store.count(LEEDS) == 160


def test_the_database_aggregates_the_same_community_weights_as_pandas(store):
    import numpy as np
    from indicators.priorities.weights import summarise

    rng = np.random.default_rng(7)
    for i in range(40):
        areacd = (LEEDS, YORK)[i % 2]
        r = {t: int(v) for t, v in zip(THEMES, rng.integers(0, 11, len(THEMES)))}
        if i == 5:
            r = {t: 0 for t in THEMES}  # no economy/public-services split: left out of the share only
        store.submit(submission(areacd=areacd, session_token=f"agg-session-{i:04d}", ratings=r))
    in_db, in_pandas = store.summary(), summarise(store.ratings())
    pd.testing.assert_frame_equal(in_db.drop(columns=["first", "last"]), in_pandas.drop(columns=["first", "last"]),
                                  check_dtype=False, check_index_type=False, rtol=1e-9)
    assert (in_db["first"] == in_pandas["first"]).all() and (in_db["last"] == in_pandas["last"]).all()
    assert store.community(LEEDS).n == 20 and store.summary(YORK).index.tolist() == [YORK]


# ------------------------------------------------------------------ the rate limit every process shares

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
CLIENTS = ",".join(f"198.51.100.{i}" for i in range(10))


@pytest.fixture
def limited(db_url: str):
    """A store that enforces 2 a minute and 3 an hour per client."""
    migrate(db_url)
    s = ResponseStore(db_url, rate_limit="2/minute;3/hour")
    yield s
    s.dispose()


def events(store: ResponseStore) -> pd.DataFrame:
    with store.engine.connect() as conn:
        return pd.DataFrame(conn.execute(text("SELECT client_hash, created_at FROM submission_events")).all(),
                            columns=["client_hash", "created_at"])


def test_the_shared_limit_counts_each_window_and_forgets_past_the_longest(limited):
    def send(i: int, client: str, seconds: float) -> int:
        return limited.submit(answer(token=f"limit-session-{i:06d}"), T0 + timedelta(seconds=seconds), client=client)

    send(1, "192.0.2.1", 0)
    send(2, "192.0.2.1", 1)
    with pytest.raises(RateLimited, match="at most 2 per 1 minute"):
        send(3, "192.0.2.1", 2)
    send(4, "192.0.2.2", 2)  # another client has its own budget
    send(5, "192.0.2.1", 61)  # a minute on: the minute's window has room, the hour's third
    with pytest.raises(RateLimited, match="at most 3 per 1 hour"):
        send(6, "192.0.2.1", 122)
    assert limited.count(LEEDS) == 4 and len(events(limited)) == 4  # refused attempts record nothing
    send(7, "192.0.2.1", 3601)  # the first response is an hour old: room again, and old events go
    ev = events(limited)
    assert len(ev) == 3 and limited.count(LEEDS) == 5
    # only a keyed hash of the address is stored: never the address, and not a plain hash of it
    assert not ev["client_hash"].str.contains("192.0.2").any()
    assert set(ev["client_hash"].str.len()) == {64}
    assert hashlib.sha256(b"192.0.2.1").hexdigest() not in set(ev["client_hash"])
    with limited.engine.connect() as conn:
        key = conn.execute(text("SELECT key FROM rate_limit_key")).scalar_one().encode()
    assert hmac.new(key, b"192.0.2.1", hashlib.sha256).hexdigest() in set(ev["client_hash"])


def test_a_refused_response_uses_none_of_the_budget(limited):
    limited.submit(answer(), T0, client="192.0.2.9")
    with pytest.raises(AlreadyAnswered):
        limited.submit(answer(), T0 + timedelta(seconds=1), client="192.0.2.9")
    limited.submit(answer(token="token-dddddddddddddddd"), T0 + timedelta(seconds=2), client="192.0.2.9")
    assert len(events(limited)) == 2


def test_without_a_client_or_a_limit_nothing_is_counted(store, limited):
    for i in range(4):
        limited.submit(answer(token=f"no-client-session-{i:04d}"), T0)
        store.submit(answer(areacd=YORK, token=f"no-limit-session-{i:04d}"), T0, client="192.0.2.3")
    assert store.count() == 8 and events(store).empty


def test_two_processes_share_one_rate_limit(store, db_url):
    """Two app processes send 60 responses each, in turn from the same ten clients, under 3 an hour per
    client: 30 are stored in all (3 per client, not 3 per client per process) and the other 90 refused.
    Ten clients make ten moments where both processes reach a client's last allowance together."""
    cmd = [sys.executable, "-m", "tests.support.priorities_worker", db_url, LEEDS]
    env = {**os.environ, "PRIORITIES_WORKER_START_AT": str(time.time() + 8)}  # both write from one moment
    procs = [subprocess.Popen([*cmd, name, "60", "0", CLIENTS, "3/hour"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for name in ("one", "two")]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err
    counts = [dict(part.split("=") for part in out.split()) for out, _ in outs]
    assert sum(int(c["stored"]) for c in counts) == 30
    assert sum(int(c["limited"]) for c in counts) == 90
    assert store.count(LEEDS) == 30 and len(events(store)) == 30
    assert (events(store).groupby("client_hash").size() == 3).all()
