"""Without the offline copy of the sources, the tests that need it skip with one reason on a
contributor's machine, and fail under CI (CI=true), where the copy must be present."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NEEDS_COPY = "tests/integration/test_build_mirror.py::test_built_copy_matches_the_offline_copy"


def _run(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["GOOD_GROWTH_MIRROR_ROOT"] = str(tmp_path / "no-copy-here")
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", NEEDS_COPY, "-q", "-rs", "-p", "no:cacheprovider"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("ci", [None, "false"])
def test_skipped_with_one_reason_outside_ci(tmp_path, ci):
    done = _run(tmp_path, ci)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "1 skipped" in done.stdout
    assert "needs the offline copy of the sources" in done.stdout and "make mirror" in done.stdout


def test_an_error_under_ci(tmp_path):
    done = _run(tmp_path, "true")
    assert done.returncode != 0
    assert "1 error" in done.stdout and "needs the offline copy of the sources" in done.stdout
