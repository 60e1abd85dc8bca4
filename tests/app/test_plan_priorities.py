"""The plan page under AppTest with residents' priorities: on a fresh SQLite store holding enough
responses for the plan's place, the page offers "Use residents' priorities" and, once on, rolls the plan
up with them and says so (n and dates); below the minimum it says how many more are needed and makes no
database; a footprint plan says it keeps its own weights."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from indicators.priorities import MIN_RESPONSES
from tests.app.test_priorities import db, seed  # noqa: F401 (db is a fixture used by name)
from tests.support.apptest import assert_clean, texts

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGE = "app_pages/plan_evaluation.py"
GM_PLAN, GM = "greater-manchester-illustrative.yaml", "E47000001"  # 0.5 economy, 0.5 public services
FOOTPRINT_PLAN = "fylde-coast-footprint-illustrative.yaml"


def open_plan(params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params.update(params)
    at.run()
    at.switch_page(PAGE)
    at.run()
    return at


def test_enough_responses_let_the_plan_roll_up_with_residents_priorities(db, caplog):
    seed(db, GM, MIN_RESPONSES)
    at = open_plan({"example": GM_PLAN})
    assert_clean(at, caplog)
    toggle = at.toggle(key="plan_use_residents")
    assert toggle.value is False
    assert "Roll-up weighted by the plan's own objective weights." in texts(at)
    at = toggle.set_value(True).run()
    assert_clean(at, caplog)
    shown = texts(at)
    assert (f"Scored with Greater Manchester residents' priorities, n = {MIN_RESPONSES}, " in shown
            and "67% of the weight on economic objectives and 33% on public-service ones" in shown), shown
    assert at.query_params.get("residents") == "1"
    # a shared link with residents=1 opens with the toggle on
    again = open_plan({"example": GM_PLAN, "residents": "1"})
    assert again.toggle(key="plan_use_residents").value is True
    assert "n = 30" in texts(again)


def test_below_the_minimum_the_plan_page_says_how_many_more_and_makes_no_database(db, caplog):
    at = open_plan({"example": GM_PLAN, "residents": "1"})
    assert_clean(at, caplog)
    assert not [t for t in at.toggle if t.key == "plan_use_residents"]
    assert (f"can weight this roll-up once Greater Manchester has {MIN_RESPONSES} responses; it has 0, so "
            f"{MIN_RESPONSES} more are needed") in texts(at)
    assert "Roll-up weighted by the plan's own objective weights." in texts(at)
    assert not Path(db.removeprefix("sqlite:///")).exists()


def test_a_footprint_plan_keeps_its_own_weights(db, caplog):
    at = open_plan({"example": FOOTPRINT_PLAN})
    assert_clean(at, caplog)
    assert not [t for t in at.toggle if t.key == "plan_use_residents"]
    assert "a plan for a footprint of several districts is rolled up with its own objective weights" in texts(at)
