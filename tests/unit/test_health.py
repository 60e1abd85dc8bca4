"""`python -m data_sources health`: the container's health check fails when the snapshot is unusable,
which Streamlit's own /_stcore/health cannot see."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from data_sources.health import problems
from tests.support.mirror import Mirror
from tests.support.snapshots import copy_of_shipped, tamper, truncate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    return copy_of_shipped(tmp_path / "data")


@pytest.fixture(scope="module")
def health_url(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("app")
    (root / "health").write_text("ok")
    with Mirror(root) as m:
        yield m.url + "health"


def health(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "data_sources", "health", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_intact_snapshot_is_healthy(snapshot: Path) -> None:
    assert problems(snapshot) == []
    proc = health("--snapshot", str(snapshot))
    assert proc.returncode == 0 and "healthy" in proc.stdout, proc.stderr


def test_truncated_observations_make_the_server_unhealthy_in_one_clear_line_each(snapshot: Path) -> None:
    truncate(snapshot)
    proc = health("--snapshot", str(snapshot))
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert lines and all(line.startswith("unhealthy: ") for line in lines), proc.stderr
    assert any("observations.parquet" in line and "sha256" in line for line in lines)
    assert "Traceback" not in proc.stderr


def test_tampered_but_valid_parquet_is_unhealthy(snapshot: Path) -> None:
    tamper(snapshot)
    found = problems(snapshot)
    assert any("observations.parquet" in p and "sha256 differs" in p for p in found), found


def test_missing_snapshot_is_unhealthy(tmp_path: Path) -> None:
    found = problems(tmp_path / "nothing-here")
    assert len(found) == 1 and "no snapshot here" in found[0]


def test_health_reads_and_never_writes(snapshot: Path) -> None:
    truncate(snapshot)
    before = {p.name: p.read_bytes() for p in snapshot.iterdir()}
    problems(snapshot)
    assert {p.name: p.read_bytes() for p in snapshot.iterdir()} == before


def test_url_must_answer_200_too(snapshot: Path, health_url: str) -> None:
    assert problems(snapshot, health_url) == []
    found = problems(snapshot, health_url.replace("/health", "/missing"))
    assert len(found) == 1 and "404" in found[0]
    proc = health("--snapshot", str(snapshot), "--url", "http://127.0.0.1:9/_stcore/health")
    assert proc.returncode == 1 and "no answer" in proc.stderr
