"""axe-core (from node_modules, pinned in package.json) on every page and every tab: no critical or
serious violations."""
from __future__ import annotations

import json

import pytest

from tests.support.browser import OUTPUT, describe_violations, open_app, run_axe, wait_settled

pytestmark = pytest.mark.browser

PAGES = [
    ("home", "/"),
    ("home-leeds", "/?place=E08000035"),
    ("map", "/map"),
    ("map-utla-pay", "/map?indicator=gross-median-weekly-pay&level=utla&place=E08000035"),
    ("profile-empty", "/profile"),
    ("profile-leeds", "/profile?place=E08000035&benchmark=region"),
    ("compare", "/compare?places=E08000035,E06000053,E09000001"),
    ("good-growth", "/good-growth?place=E08000035"),
    ("plan", "/plan"),
    ("plan-manchester", "/plan?example=greater-manchester-illustrative.yaml"),
    ("data", "/data"),
]
BLOCKING = {"critical", "serious"}

# Streamlit 1.67's light theme draws st.caption text at 3.88:1 contrast (WCAG AA needs 4.5:1);
# .streamlit/config.toml sets a darker textColor, and this check holds every caption to AA with the rest.


def blocking(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in BLOCKING]


def _check_every_tab(page) -> list[tuple[str, list[dict]]]:
    found = [("(as loaded)", run_axe(page))]
    tabs = page.get_by_role("tab")
    for i in range(tabs.count()):
        tab = tabs.nth(i)
        label = tab.inner_text().strip()
        tab.click()
        page.wait_for_timeout(400)
        wait_settled(page)
        found.append((f"tab {label!r}", run_axe(page)))
    return found


@pytest.mark.parametrize(("name", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_no_serious_accessibility_violations(page, app_url, name, path):
    open_app(page, app_url + path)
    problems = []
    found = _check_every_tab(page)
    # Every violation, whatever its impact, for people to read: test-output/axe/<name>.json
    (OUTPUT / "axe").mkdir(parents=True, exist_ok=True)
    (OUTPUT / "axe" / f"{name}.json").write_text(json.dumps({"path": path, "checks": dict(found)}, indent=1))
    for where, violations in found:
        bad = blocking(violations)
        if bad:
            problems.append(f"{where}:\n{describe_violations(bad)}")
    assert not problems, f"axe-core on {path}:\n" + "\n".join(problems)
