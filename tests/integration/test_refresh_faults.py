"""Faults injected by the test server: each gives a clear message and the live snapshot survives intact."""
from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from data_sources.refresh import RefreshFailed, refresh
from data_sources.store import read_manifest, read_table, verify
from tests.conftest import ROOT, checksums, mirror_settings
from tests.support.mirror import Fault, cli_flags

SLUG = "cigarette-smokers"
CSV_PATH = f"/ons-local-stats/{SLUG}/{SLUG}.csv"


@pytest.fixture
def faulty(mirror):
    """Install faults for one test and remove them afterwards."""
    installed: list[str] = []

    def install(path: str, fault: Fault) -> None:
        mirror.state.faults[path] = fault
        mirror.state.hits.pop(path, None)
        installed.append(path)

    yield install
    for path in installed:
        mirror.state.faults.pop(path, None)


def _real_csv(shared_data: Path) -> bytes:
    return (shared_data / "ons-local-stats" / SLUG / f"{SLUG}.csv").read_bytes()


def _conflicting_duplicate(shared_data: Path) -> bytes:
    lines = _real_csv(shared_data).decode("utf-8-sig").splitlines()
    first = lines[1].split(",")
    first[5] = str(float(first[5]) + 1.0)
    return ("\n".join([*lines, ",".join(first)]) + "\n").encode()


FAULTS = {
    "404": lambda d: Fault("status", status=404),
    "500": lambda d: Fault("status", status=500),
    "timeout": lambda d: Fault("timeout", delay=3.0),
    "truncated": lambda d: Fault("truncate", body=_real_csv(d)[:5000]),
    "html-as-csv": lambda d: Fault("html"),
    "renamed-columns": lambda d: Fault("body", body=_real_csv(d).replace(b"observation", b"value", 1)),
    "garbage": lambda d: Fault("body", body=random.Random(7).randbytes(4096)),
    "conflicting-duplicate": lambda d: Fault("body", body=_conflicting_duplicate(d)),
}
EXPECTED = {
    "404": "404", "500": "500", "timeout": "timed out", "truncated": "truncated", "html-as-csv": "HTML page",
    "renamed-columns": "missing column(s) observation", "garbage": "binary",
    "conflicting-duplicate": "conflicting duplicate rows",
}


@pytest.mark.parametrize("kind", sorted(FAULTS))
def test_fault_leaves_previous_snapshot_byte_identical(kind, snapshot_copy, mirror, shared_data, faulty):
    faulty(CSV_PATH, FAULTS[kind](shared_data))
    before = checksums(snapshot_copy)
    settings = mirror_settings(mirror, snapshot_copy, http_read_timeout=1.0)
    with pytest.raises(RefreshFailed) as err:
        refresh(settings, [SLUG])
    message = str(err.value)
    assert SLUG in message and EXPECTED[kind] in message, message
    assert checksums(snapshot_copy) == before
    assert not list(snapshot_copy.parent.glob(".snapshot-*"))


def test_server_error_then_recovery_succeeds_through_retries(snapshot_copy, mirror, faulty):
    faulty(CSV_PATH, Fault("flaky", status=503, times=2))
    result = refresh(mirror_settings(mirror, snapshot_copy, http_retries=3), [SLUG])
    assert {o.slug: o.status for o in result.outcomes}[SLUG] in {"ok", "not_modified"}
    assert mirror.state.hits[CSV_PATH] == 3
    assert verify(snapshot_copy) == []


def test_one_failing_dataset_keeps_its_previous_rows_marked_stale(snapshot_copy, mirror, faulty):
    before = read_table(snapshot_copy, "observations")
    faulty(CSV_PATH, Fault("status", status=500))
    result = refresh(mirror_settings(mirror, snapshot_copy), [SLUG, "claimant-count"])
    statuses = {o.slug: o.status for o in result.outcomes}
    assert statuses[SLUG] == "stale" and statuses["claimant-count"] in {"ok", "not_modified"}
    entry = read_manifest(snapshot_copy)["datasets"][SLUG]
    assert entry["status"] == "stale" and "500" in entry["error"]
    after = read_table(snapshot_copy, "observations")
    old = before.loc[before["dataset"] == SLUG].reset_index(drop=True)
    new = after.loc[after["dataset"] == SLUG].reset_index(drop=True)
    assert new.equals(old)
    assert verify(snapshot_copy) == []


def test_cli_failure_is_one_clear_line_and_non_zero(snapshot_copy, mirror, faulty):
    faulty(CSV_PATH, Fault("html"))
    before = checksums(snapshot_copy)
    proc = subprocess.run(
        [sys.executable, "-m", "data_sources", "refresh", *cli_flags(mirror.url), "--only", SLUG,
         "--snapshot", str(snapshot_copy), "--quiet"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "HTML page" in errors[0] and "snapshot unchanged" in errors[0]
    assert "Traceback" not in proc.stderr
    assert checksums(snapshot_copy) == before


def test_unknown_dataset_is_refused_before_anything_is_fetched(snapshot_copy, mirror):
    with pytest.raises(RefreshFailed, match="unknown dataset"):
        refresh(mirror_settings(mirror, snapshot_copy), ["no-such-dataset"])
