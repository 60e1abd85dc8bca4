"""The Local data page under AppTest: an upload is checked, refused with one line per problem or
kept (in the session on the public site, in the local folder otherwise), appears on the map marked
as local data, is listed with a delete action, and a poisoned label is shown as text."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from data_sources.settings import get_settings
from tests.app.test_pages import APP, MAP, ROOT, assert_clean, svg_maps, texts

PAGE = "app_pages/local_data.py"
DATA_PAGE = "app_pages/data_methods.py"
LEEDS = "E08000035"
META = {"label": "Residents satisfied with their area", "unit": "%", "polarity": "higher_is_better",
        "polarity_reason": "More satisfied residents is the aim", "pillar": "public_services", "theme": "wellbeing",
        "source": "Leeds residents' survey", "licence": "OGL v3", "minimum": 0, "maximum": 100}
GOOD = f"areacd,period,value\n{LEEDS},2022/23,55\n{LEEDS},2023/24,56\n".encode()


@pytest.fixture
def mode(monkeypatch, tmp_path):
    """Point the app at a private local folder, in public or local mode."""
    def set_mode(public: bool) -> Path:
        monkeypatch.setenv("GOOD_GROWTH_LOCAL_DATA_DIR", str(tmp_path / "local"))
        monkeypatch.setenv("GOOD_GROWTH_PUBLIC_MODE", "true" if public else "false")
        get_settings.cache_clear()
        return tmp_path / "local"
    yield set_mode
    get_settings.cache_clear()


def files_under(*folders: Path) -> dict[str, tuple[int, int]]:
    """Every file with its size and modification time (caches of the test run itself left out)."""
    skip = {"__pycache__", ".pytest_cache", ".git", ".hypothesis", "test-output"}
    out = {}
    for folder in folders:
        if folder.exists():
            for p in folder.rglob("*"):
                if p.is_file() and not skip & set(p.parts):
                    s = p.stat()
                    out[str(p)] = (s.st_size, s.st_mtime_ns)
    return out


def upload(body: bytes, meta: dict | bytes, name: str = "leeds.csv") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page(PAGE).run()
    at.file_uploader(key="local_file").set_value((name, body, "text/csv"))
    sidecar = meta if isinstance(meta, bytes) else yaml.safe_dump(meta).encode()
    at.file_uploader(key="local_meta").set_value(("leeds.yaml", sidecar, "application/x-yaml"))
    at.button(key="local_submit").click().run()
    return at


def open_map(at: AppTest, indicator: str) -> AppTest:
    at.query_params["indicator"] = indicator
    at.switch_page(MAP).run()
    return at


LOCAL_ID = "local-residents-satisfied-with-their-area"


def test_public_mode_keeps_an_upload_in_the_session_and_writes_nothing(mode, caplog):
    local = mode(public=True)
    before = files_under(ROOT, local)
    at = upload(GOOD, META)
    assert_clean(at, caplog)
    assert at.success and "Added Residents satisfied with their area (2 rows)" in at.success[0].value.replace("\\", "")
    assert "never saved" in texts(at)
    open_map(at, LOCAL_ID)
    assert_clean(at, caplog)
    assert at.selectbox(key="indicator_select").value == LOCAL_ID
    shown = texts(at)
    assert "Residents satisfied with their area (local data)" in shown
    assert "Local data: Leeds residents' survey" in shown and "Local data**: " in shown.replace("\\", "")
    (drawing,) = svg_maps(at)
    assert "<title>Leeds: 56" in drawing
    assert files_under(ROOT, local) == before and not local.exists()
    # another visitor (a new session) does not see it
    fresh = AppTest.from_file(APP, default_timeout=180)
    fresh.run()
    open_map(fresh, LOCAL_ID)
    assert fresh.selectbox(key="indicator_select").value != LOCAL_ID


def test_local_mode_saves_an_upload_lists_it_and_deletes_it(mode, caplog):
    local = mode(public=False)
    at = upload(GOOD, META)
    assert_clean(at, caplog)
    assert [p.name for p in local.iterdir()] == [f"{LOCAL_ID}.parquet"]
    at.switch_page(DATA_PAGE).run()
    assert_clean(at, caplog)
    assert "Leeds residents' survey" in texts(at) and "not scored" in texts(at)
    at.button(key=f"local_delete_{LOCAL_ID}").click().run()
    assert_clean(at, caplog)
    assert not any(local.iterdir())
    assert "No local data has been added" in texts(at)


def test_a_bad_upload_is_refused_line_by_line_and_nothing_is_kept(mode, caplog):
    local = mode(public=False)
    body = f"areacd,period,value\nE99999999,2023,5\n{LEEDS},2023-24,x\n".encode()
    at = upload(body, META)
    assert_clean(at, caplog)
    (error,) = at.error
    text = error.value.replace("\\", "")
    assert "nothing was saved" in text
    assert "row 2: unknown area code 'E99999999' (not an area in the data snapshot)" in text
    assert "row 3: period '2023-24' is not in a recognised form" in text
    assert "row 3: value 'x' is not a number" in text
    assert not local.exists()
    bad_meta = upload(GOOD, {**META, "polarity": "sideways"})
    assert "metadata field 'polarity'" in bad_meta.error[0].value.replace("\\", "")


def test_an_oversized_upload_is_refused_by_size(mode, caplog):
    mode(public=True)
    at = upload(b"areacd,period,value\n" + b"E08000035,2023,5\n" * 70_000, META)
    assert_clean(at, caplog)
    assert "limited to 1,000,000 bytes" in at.error[0].value


def test_a_poisoned_label_is_shown_as_text(mode, caplog):
    mode(public=True)
    label = "<script>alert(1)</script> see www.evil.example"
    at = upload(GOOD, {**META, "label": label, "source": "<img src=x onerror=alert(1)>"})
    assert_clean(at, caplog)
    poisoned_id = "local-script-alert-1-script-see-www-evil-example"
    open_map(at, poisoned_id)
    assert_clean(at, caplog)
    assert at.selectbox(key="indicator_select").value == poisoned_id
    for element in [*at.markdown, *at.caption, *at.success, *at.info]:
        value = str(element.value)
        links = value.count("<a ") - value.count('<a href="/profile?place=')  # the map's own area links
        assert "<script>" not in value and "<img" not in value and links == 0
        if not value.startswith("<"):  # Markdown (an HTML block such as the legend is never autolinked)
            assert "www.evil.example" not in value or "`www.evil.example`" in value  # a code span, never a link
    assert "&lt;script&gt;" in texts(at)


def test_profile_and_compare_mark_the_upload_as_local_data(mode, caplog):
    mode(public=True)
    at = upload(GOOD, META)
    at.switch_page("app_pages/place_profile.py").run()
    at.selectbox(key="place_select").set_value(LEEDS).run()
    assert_clean(at, caplog)
    assert "Local data: Residents satisfied with their area (local data) comes from Leeds residents' survey" \
        in texts(at).replace("*", "")
    at.query_params["places"] = LEEDS
    at.query_params["indicators"] = LOCAL_ID
    at.switch_page("app_pages/compare.py").run()
    assert_clean(at, caplog)
    assert at.multiselect(key="compare_indicators").value == [LOCAL_ID]
    assert "comes from Leeds residents' survey" in texts(at)


def test_an_opted_in_upload_is_used_on_the_good_growth_page(mode, caplog):
    import numpy as np
    from indicators import query
    mode(public=True)
    codes = [a for a in query.current_areas(query.context(), "ltla")["areacd"] if a.startswith("E")]
    values = np.random.default_rng(3).uniform(20, 80, len(codes))
    body = ("areacd,period,value\n" + "".join(f"{a},2023,{v:.1f}\n" for a, v in zip(codes, values))).encode()
    at = upload(body, {**META, "score": True})
    assert_clean(at, caplog)
    at.switch_page("app_pages/good_growth.py").run()
    assert_clean(at, caplog)
    at.switch_page(DATA_PAGE).run()
    assert_clean(at, caplog)
    assert "Leeds residents' survey · scored" in texts(at)


def test_the_metadata_form_stands_in_for_a_sidecar_file(mode, caplog):
    mode(public=True)
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page(PAGE).run()
    at.file_uploader(key="local_file").set_value(("leeds.csv", GOOD, "text/csv"))
    for key, value in {"lm_label": "Parks visited weekly", "lm_reason": "More use of parks is the aim",
                       "lm_theme": "environment", "lm_source": "Parks survey", "lm_licence": "OGL v3",
                       "lm_max": "100"}.items():
        at.text_input(key=key).set_value(value)
    at.selectbox(key="lm_pillar").set_value("environment")
    at.button(key="local_submit").click().run()
    assert_clean(at, caplog)
    assert at.success and "Added Parks visited weekly (2 rows)" in at.success[0].value.replace("\\", "")
    assert "Parks survey" in texts(at)
    at.text_input(key="lm_max").set_value("50")
    at.file_uploader(key="local_file").set_value(("leeds.csv", GOOD, "text/csv"))
    at.button(key="local_submit").click().run()
    assert "row 2: value 55 is above the declared maximum 50" in at.error[0].value.replace("\\", "")
