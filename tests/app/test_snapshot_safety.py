"""The app never serves a damaged or edited snapshot, says so in one banner (never a traceback),
and reads exactly one snapshot per page view even when a refresh swaps it mid-view."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import common
from data_sources.settings import get_settings
from data_sources.store import swap_into_place
from tests.support.snapshots import altered_copy, copy_of_shipped, tamper, truncate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def point_at(monkeypatch):
    """Point the app's settings at a snapshot folder (and optionally public mode) for one test."""

    def point(snapshot: Path, public: bool = False) -> None:
        monkeypatch.setenv("GOOD_GROWTH_SNAPSHOT_DIR", str(snapshot))
        if public:
            monkeypatch.setenv("GOOD_GROWTH_PUBLIC_MODE", "true")
        get_settings.cache_clear()

    yield point
    get_settings.cache_clear()


def run_app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()


DAMAGE = {"truncated": truncate, "tampered": tamper}


@pytest.mark.parametrize("public", [False, True], ids=["local", "public"])
@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damaged_snapshot_gets_one_banner_and_no_traceback(kind, public, tmp_path, point_at):
    snapshot = copy_of_shipped(tmp_path / "data")
    DAMAGE[kind](snapshot)
    point_at(snapshot, public)
    at = run_app()
    assert not at.exception
    assert len(at.error) == 1, [e.value for e in at.error]
    banner = at.error[0].value.replace("\\", "")  # Markdown escapes of the data's text
    assert "could not be loaded" in banner
    if public:
        assert str(snapshot) not in banner and "observations" not in banner  # no paths or files for visitors
    else:
        assert "observations.parquet" in banner and "python -m data_sources verify" in banner
    assert not at.title  # no page drawn from the damaged data
    assert any("Open Government Licence" in c.value for c in at.caption)


def test_intact_copy_of_the_snapshot_is_served(tmp_path, point_at):
    point_at(copy_of_shipped(tmp_path / "data"))
    at = run_app()
    assert not at.exception and not at.error
    assert at.title[0].value == "Good Growth"  # the home page is the landing route


def test_a_refresh_swapping_the_snapshot_mid_view_does_not_mix_two_snapshots(tmp_path, point_at, monkeypatch):
    snapshot = copy_of_shipped(tmp_path / "data")
    staged = tmp_path / ".snapshot-data.stage-midview"
    new_created, _ = altered_copy(snapshot, staged)
    point_at(snapshot)
    seen: list[str] = []
    real_ctx, real_sidebar = common.ctx, common.sidebar

    def recording_ctx():
        c = real_ctx()
        seen.append(c.snapshot.manifest["created_at"])
        return c

    def sidebar_then_swap():
        selection = real_sidebar()
        if staged.exists():  # the refresh commits just after the page has drawn its sidebar
            swap_into_place(staged, snapshot)
        return selection

    monkeypatch.setattr(common, "ctx", recording_ctx)
    monkeypatch.setattr(common, "sidebar", sidebar_then_swap)
    at = run_app()  # the home page draws no sidebar: nothing is swapped yet
    seen.clear()
    at.switch_page("app_pages/map_explorer.py")
    at.run()
    assert not staged.exists(), "the swap never happened"
    assert not at.exception
    assert len(seen) > 1 and len(set(seen)) == 1, f"one page view read two snapshots: {sorted(set(seen))}"
    assert new_created not in seen

    seen.clear()
    at.run()  # the next view reads the new snapshot, and only it
    assert set(seen) == {new_created}
