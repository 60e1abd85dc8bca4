"""Shared fixtures: the offline copy of the public sources served over real HTTP on 127.0.0.1."""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from data_sources.refresh import refresh
from data_sources.settings import Settings
from tests.support.mirror import Mirror

ROOT = Path(__file__).resolve().parent.parent
# The offline copy sits beside the checkout (../shared/data); CI lays it out the same way.
SHARED_DATA = Path(os.environ.get("GOOD_GROWTH_MIRROR_ROOT", ROOT.parent / "shared" / "data"))


MISSING_COPY = (f"needs the offline copy of the sources at {SHARED_DATA} (build it with `make mirror`, "
                "or set GOOD_GROWTH_MIRROR_ROOT to one)")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _have_copy() -> bool:
    return (SHARED_DATA / "ons-local-stats").is_dir()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without the offline copy, every test that needs it is skipped with one reason, on a
    contributor's machine; under CI (CI=true) the copy must be there, so they run and fail instead."""
    if _have_copy() or _in_ci():
        return
    skip = pytest.mark.skip(reason=MISSING_COPY)
    for item in items:
        if "shared_data" in getattr(item, "fixturenames", ()):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not _have_copy():
        pytest.fail(MISSING_COPY + ("; CI=true, so this is an error" if _in_ci() else ""))
    return SHARED_DATA


@pytest.fixture(scope="session")
def mirror(shared_data: Path):
    with Mirror(shared_data) as m:
        yield m


def mirror_settings(mirror: Mirror, snapshot: Path, **extra) -> Settings:
    options = {"http_retries": 2, "http_backoff": 0.0, "http_read_timeout": 5.0, **extra}
    return Settings(**mirror.settings_overrides(), snapshot_dir=snapshot, **options)


@pytest.fixture(scope="session")
def built_snapshot(mirror: Mirror, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One full refresh over HTTP, shared by the integration tests that only read it."""
    path = tmp_path_factory.mktemp("snapshot") / "data"
    refresh(mirror_settings(mirror, path))
    return path


@pytest.fixture
def snapshot_copy(built_snapshot: Path, tmp_path: Path) -> Path:
    """A private copy of the built snapshot for tests that refresh over it."""
    path = tmp_path / "data"
    shutil.copytree(built_snapshot, path)
    return path


def checksums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}
