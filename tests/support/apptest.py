"""What every AppTest of a page checks: nothing failed, and the text a reader sees."""
from __future__ import annotations

import logging

import pytest
from streamlit.testing.v1 import AppTest

SHOWN = ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success")


def texts(at: AppTest) -> str:
    """Every piece of text the page drew, Markdown escapes removed so it reads as shown."""
    parts = []
    for kind in SHOWN:
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts).replace("\\", "")


def assert_clean(at: AppTest, caplog: pytest.LogCaptureFixture) -> None:
    """No exception and no generic error box; on failure, the logged tracebacks say why."""
    problems = [str(e.value) for e in at.exception]
    problems += [e.value for e in at.error if "something went wrong" in e.value.lower()]
    if problems:
        logged = [logging.Formatter().formatException(r.exc_info) for r in caplog.records if r.exc_info]
        pytest.fail("page failed:\n" + "\n".join(problems) + "\n\nlogged:\n" + "\n\n".join(logged[-2:]))
