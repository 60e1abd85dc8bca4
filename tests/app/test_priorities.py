"""The "What matters here?" page under AppTest, on the committed snapshot and a fresh SQLite database:
a resident submits once per place, the page says how many more responses a place needs, shows community
weights once there are enough, the good-growth page can score with them, the rate limit refuses the
next response, and public mode offers no export or moderation and writes nothing but the database."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from tests.support.apptest import assert_clean, texts

from data_sources.settings import get_settings
from indicators.priorities import MIN_RESPONSES, ResponseStore, THEMES, migrate
from indicators.priorities.store import submission
from indicators.priorities.weights import ECONOMY, SERVICES

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGE, GOOD_GROWTH = "app_pages/priorities.py", "app_pages/good_growth.py"
TIMEOUT = 180
LEEDS, YORK = "E08000035", "E06000014"
POISON = '<img src=x onerror="alert(1)"> [click](javascript:alert(1))'


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fresh SQLite database in a temporary folder, named by GOOD_GROWTH_DATABASE_URL."""
    url = f"sqlite:///{tmp_path / 'db' / 'priorities.db'}"
    monkeypatch.setenv("GOOD_GROWTH_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def seed(url: str, areacd: str, n: int, economy: int = 8, services: int = 4) -> None:
    migrate(url)
    store = ResponseStore(url)
    for i in range(n):
        r = {**{t: economy for t in ECONOMY}, **{t: services for t in SERVICES}, "environment": 5}
        store.submit(submission(areacd=areacd, session_token=f"seeded-session-{i:06d}", ratings=r,
                                free_text=f"Answer {i}" if i < 3 else None))
    store.dispose()


def open_page(page: str, params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(params)
    at.run()
    at.switch_page(page)
    at.run()
    return at




def submit(at: AppTest, text: str = "", **ratings: int) -> AppTest:
    for theme, value in ratings.items():
        at.slider(key=f"prio_{theme}").set_value(value)
    if text:
        at.text_area(key="prio_text").input(text)
    button = next(b for b in at.button if b.label == "Submit my priorities")
    return button.click().run()


def test_a_resident_submits_once_and_the_page_counts_down_to_the_minimum(db, caplog):
    at = open_page(PAGE, {"place": LEEDS})
    assert_clean(at, caplog)
    assert [t.value for t in at.title] == ["What matters here?"]
    assert f"at least {MIN_RESPONSES} responses: **{MIN_RESPONSES} more** are needed" in texts(at)
    assert len(at.slider) == len(THEMES)
    at = submit(at, text=POISON, health=9, jobs=2)
    assert_clean(at, caplog)
    assert any("saved" in s.value for s in at.success)
    store = ResponseStore(db)
    frame = store.ratings(LEEDS)
    assert len(frame) == 1 and frame["health"].iloc[0] == 9 and frame["jobs"].iloc[0] == 2
    assert store.free_text(LEEDS)["text"].tolist() == [POISON]
    at.run()  # the same session sees its thanks, not the form again
    assert not any(b.label == "Submit my priorities" for b in at.button)
    assert f"**{MIN_RESPONSES - 1} more** are needed" in texts(at)
    # the poisoned answer is shown as escaped Markdown text: no HTML tag, no link
    shown = [m.value for m in at.markdown if "onerror" in m.value]
    assert shown and all("<img" not in v and "](javascript" not in v for v in shown)
    store.dispose()


def test_an_outcode_in_several_districts_asks_which_one_as_the_home_page_does(db, caplog):
    """The residents' form reads a search as the home page does (app_pages.common.choose_place): an
    outcode across council areas starts on the area with most of its postcodes and offers the others,
    so a resident is never filed under a neighbouring council without seeing it."""
    at = open_page(PAGE, {})
    at.text_input(key="priorities_search").input("SW1A").run()
    assert_clean(at, caplog)
    assert "Postcodes starting **SW1A** lie in more than one council area" in texts(at)
    assert next(b for b in at.button if "Westminster" in b.label).proto.type == "primary"
    next(b for b in at.button if "Wandsworth" in b.label).click().run()
    assert_clean(at, caplog)
    assert at.query_params["place"] == "E09000032"


def test_privacy_note_says_what_is_stored(db):
    at = open_page(PAGE, {})
    note = texts(at)
    for words in ("What is stored", "random code", "no name, e-mail, address, IP address",
                  "keyed hash; the address itself is never stored", "deleted once it is 1 hour old"):
        assert words in note


def test_enough_responses_show_community_weights_and_score_the_good_growth_page(db, caplog):
    seed(db, LEEDS, MIN_RESPONSES)
    at = open_page(PAGE, {"place": LEEDS})
    assert_clean(at, caplog)
    text = texts(at)
    assert f"**{MIN_RESPONSES} responses** between" in text
    assert "Weight on the economy from residents' priorities: **67%**" in text  # 8 / (8 + 4)
    assert len(at.dataframe) == 1
    at = open_page(GOOD_GROWTH, {"place": LEEDS, "residents": "1"})
    assert_clean(at, caplog)
    assert at.toggle(key="use_residents").value is True
    assert f"Scored with Leeds residents' priorities, n = {MIN_RESPONSES}: 67% of the weight on the economy" in texts(at)


def test_good_growth_page_offers_no_toggle_below_the_minimum_and_creates_no_database(db, caplog):
    at = open_page(GOOD_GROWTH, {"place": LEEDS, "residents": "1"})
    assert_clean(at, caplog)
    assert not [t for t in at.toggle if t.key == "use_residents"]
    assert not Path(db.removeprefix("sqlite:///")).exists()


def test_the_rate_limit_refuses_the_next_response(db, monkeypatch, caplog):
    monkeypatch.setenv("GOOD_GROWTH_PRIORITIES_RATE_LIMIT", "1/hour")
    get_settings.cache_clear()
    at = submit(open_page(PAGE, {"place": LEEDS}))
    assert any("saved" in s.value for s in at.success)
    at.text_input(key="priorities_search").input(YORK).run()
    at = submit(at)
    assert_clean(at, caplog)
    assert any("not saved: too many responses" in w.value for w in at.warning), texts(at)
    assert ResponseStore(db).count(YORK) == 0


def test_the_rate_limit_holds_when_another_replica_took_the_budget(db, monkeypatch, caplog):
    """The limit lives in the database: with this process's memory emptied (as on a second replica),
    the next response from the same client is still refused, and only a keyed hash of it is stored."""
    from app_pages import residents

    monkeypatch.setenv("GOOD_GROWTH_PRIORITIES_RATE_LIMIT", "1/hour")
    get_settings.cache_clear()
    at = submit(open_page(PAGE, {"place": LEEDS}))
    assert any("saved" in s.value for s in at.success)
    residents._limiter.clear()  # the per-process first line forgets: only the database remembers
    at.text_input(key="priorities_search").input(YORK).run()
    at = submit(at)
    assert_clean(at, caplog)
    assert any("not saved: too many responses" in w.value for w in at.warning), texts(at)
    store = ResponseStore(db)
    assert store.count(YORK) == 0
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT client_hash FROM submission_events")).scalars().all()
    assert len(stored) == 1 and len(stored[0]) == 64 and "session:" not in stored[0]
    store.dispose()


def test_local_mode_can_hide_an_answer_and_export(db, caplog):
    seed(db, LEEDS, 3)
    at = open_page(PAGE, {"place": LEEDS})
    assert any(e.label.startswith("Moderate and export") for e in at.expander)
    assert any(d.proto.label == "Download this place's responses (CSV)" for d in at.get("download_button"))
    next(b for b in at.button if b.key == "prio_mod_1").click().run()
    assert_clean(at, caplog)
    assert "Answer 0" not in ResponseStore(db).free_text(LEEDS)["text"].tolist()


def _files(root: Path) -> dict[str, float]:
    skip = {".git", "__pycache__", ".pytest_cache", "test-output", ".hypothesis", "node_modules", ".venv"}
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in skip]
        for f in filenames:
            p = Path(dirpath) / f
            out[str(p)] = p.stat().st_mtime
    return out


def test_public_mode_offers_no_export_or_moderation_and_writes_only_the_database(db, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("GOOD_GROWTH_PUBLIC_MODE", "true")
    get_settings.cache_clear()
    seed(db, LEEDS, 2)
    before_repo, before_tmp = _files(ROOT), _files(tmp_path)
    at = submit(open_page(PAGE, {"place": LEEDS}), text="Cleaner air")
    assert_clean(at, caplog)
    assert any("saved" in s.value for s in at.success)
    assert not any(e.label.startswith("Moderate and export") for e in at.expander)
    assert not list(at.get("download_button"))
    assert _files(ROOT) == before_repo
    changed = {p for p, m in _files(tmp_path).items() if before_tmp.get(p) != m}
    assert {Path(p).name for p in changed} <= {"priorities.db", "priorities.db-wal", "priorities.db-shm"}
    assert ResponseStore(db).count(LEEDS) == 3


def test_an_unreachable_database_gets_one_plain_message_and_good_growth_still_works(monkeypatch, caplog):
    url = "postgresql+psycopg://someone:hunter2@127.0.0.1:1/nowhere"  # nothing listens on port 1
    monkeypatch.setenv("GOOD_GROWTH_DATABASE_URL", url)
    monkeypatch.setenv("GOOD_GROWTH_PUBLIC_MODE", "true")
    get_settings.cache_clear()
    try:
        at = open_page(PAGE, {"place": LEEDS})
        assert_clean(at, caplog)
        shown = texts(at)
        assert "cannot be reached just now" in shown
        assert "127.0.0.1" not in shown and "hunter2" not in shown and "nowhere" not in shown
        at = open_page(GOOD_GROWTH, {"place": LEEDS, "residents": "1"})
        assert_clean(at, caplog)
        assert not [t for t in at.toggle if t.key == "use_residents"]
    finally:
        get_settings.cache_clear()
