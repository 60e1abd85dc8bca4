"""The Plan evaluation page shows, beside each linked target's status, what meeting it is worth by the
objective's prevention model, and nothing of the kind for a plan that links no model; and it names the
rural–urban class a plan chose as its peers."""
from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.support.apptest import assert_clean, texts

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGE = "app_pages/plan_evaluation.py"
LINKED = "leeds-prevention-linked-illustrative.yaml"
UNLINKED = "cambridge-housing-illustrative.yaml"


def open_plan(example: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update({"example": example})
    at.run()
    at.switch_page(PAGE)
    at.run()
    return at


def test_a_linked_plan_shows_the_value_if_met_beside_each_linked_target(caplog):
    at = open_plan(LINKED)
    assert_clean(at, caplog)
    values = [i.value.replace("\\", "") for i in at.info if "If this target is met" in i.value]
    assert len(values) == 3  # two smoking targets and one cardiovascular target; the employment one links none
    assert all("net present value" in v and "90% interval" in v for v in values)
    assert any("leeds-stop-smoking-illustrative.prevention.yaml" in v for v in values)
    assert any("leeds-cardiovascular-prevention-illustrative.prevention.yaml" in v for v in values)
    assert not [w for w in at.warning if "not valued" in w.value]


def test_a_plan_without_links_shows_no_prevention_value(caplog):
    at = open_plan(UNLINKED)
    assert_clean(at, caplog)
    shown = texts(at)
    assert "If this target is met" not in shown and "prevention model" not in shown


def upload(body: bytes) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page(PAGE)
    at.run()
    at.radio(key="plan_source").set_value("Upload a plan (YAML)").run()
    at.file_uploader(key="plan_upload").set_value(("plan.yaml", body, "application/x-yaml")).run()
    return at


def test_a_model_that_cannot_be_used_is_a_plain_warning(caplog):
    body = (ROOT / "plans" / "examples" / LINKED).read_bytes().replace(
        b"leeds-cardiovascular-prevention-illustrative.prevention.yaml", b"nowhere.prevention.yaml")
    at = upload(body)
    assert_clean(at, caplog)
    warnings = [w.value.replace("\\", "") for w in at.warning if "Not valued" in w.value]
    assert len(warnings) == 1 and "nowhere.prevention.yaml" in warnings[0] and "could not be used" in warnings[0]
    assert len([i for i in at.info if "If this target is met" in i.value]) == 2


def test_a_plan_with_rural_urban_peers_names_their_class(caplog):
    body = (ROOT / "plans" / "examples" / UNLINKED).read_bytes()
    body = body.replace(b"set: economic", b"set: rural_urban")
    at = upload(body)
    assert_clean(at, caplog)
    assert not at.error
    captions = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "other districts of its 2021 rural–urban class (" in captions


def test_rollup_shares_read_as_percentages_never_none(caplog):
    """A horizon with no judged target says so in words; the data grid would otherwise show 'None'."""
    at = open_plan("leeds-prevention-linked-illustrative.yaml")
    assert_clean(at, caplog)
    shares = [v for df in at.dataframe[:2] for v in df.value["share_met_or_on_track"]]
    assert shares and all(s == "none judged yet" or s.endswith("%") for s in shares)
    assert "none judged yet" in shares
