"""The Prevention value page under AppTest on the committed snapshot: each example, an uploaded model,
hostile uploads refused with a reason, and the caveat that the result is only as good as the assumptions."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.support.apptest import assert_clean

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
PAGE = "app_pages/prevention.py"
EXAMPLES = sorted(p.name for p in (ROOT / "plans" / "examples" / "prevention").glob("*.prevention.yaml"))


def open_page(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params.update(params or {})
    at.run()
    at.switch_page(PAGE)
    at.run()
    return at



def assert_valued(at: AppTest) -> None:
    assert [t.value for t in at.title] == ["Prevention value"]
    assert any("only as good as the assumptions" in w.value for w in at.warning)
    assert [m.label for m in at.metric] == ["Net present value", "Benefit–cost ratio", "Break-even year"]
    subheaders = [s.value for s in at.subheader]
    assert "Which assumption matters most" in subheaders and "Every assumption and its source" in subheaders
    assert len(at.get("vega_lite_chart")) == 1  # the tornado
    assert "Download" in [h.value for h in at.header]


@pytest.mark.parametrize("example", EXAMPLES)
def test_each_example_is_valued(example, caplog):
    at = open_page({"model": example})
    assert_clean(at, caplog)
    assert at.selectbox(key="prevent_example").value == example
    assert_valued(at)


def _upload(body: bytes, name: str) -> AppTest:
    at = open_page()
    at.radio(key="prevent_source").set_value("Upload a model (YAML)").run()
    at.file_uploader(key="prevent_upload").set_value((name, body, "application/x-yaml")).run()
    return at


def test_an_uploaded_model_is_valued(caplog):
    at = _upload((ROOT / "plans" / "examples" / "prevention" / EXAMPLES[0]).read_bytes(), "mine.prevention.yaml")
    assert_clean(at, caplog)
    assert not at.error
    assert_valued(at)


@pytest.mark.parametrize("body", [b"a: &x 1\nb: *x\n", b"? [a]\n: 1\n", b"title: [", b"years: 99999999999999999999",
                                  b"\x00\xff"], ids=["alias", "complex-key", "broken", "huge-int", "binary"])
def test_a_hostile_upload_is_refused_with_a_reason(body, caplog):
    at = _upload(body, "bad.yaml")
    assert_clean(at, caplog)
    assert at.error and "could not be used" in at.error[0].value
    assert not at.metric


def test_an_oversized_upload_is_refused_by_size(caplog):
    at = _upload(b"title: " + b"a" * 1_100_000, "huge.yaml")
    assert_clean(at, caplog)
    assert at.error and "limited to" in at.error[0].value
