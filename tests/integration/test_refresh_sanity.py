"""Sources that answer 200 with valid-looking data that is still wrong: cut short, from another
host, or trickling for ever. The previous rows survive, and a failed refresh leaves data/ byte-identical."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from data_sources.refresh import RefreshFailed, refresh
from data_sources.store import read_manifest, read_table, verify
from tests.conftest import ROOT, checksums, mirror_settings
from tests.support.mirror import Fault, Mirror, cli_flags

SLUG = "claimant-count"
CSV_PATH = f"/ons-local-stats/{SLUG}/{SLUG}.csv"
OTHER = "cigarette-smokers"


@pytest.fixture
def faulty(mirror):
    installed: list[str] = []

    def install(path: str, fault: Fault) -> None:
        mirror.state.faults[path] = fault
        mirror.state.hits.pop(path, None)
        installed.append(path)

    yield install
    for path in installed:
        mirror.state.faults.pop(path, None)


@pytest.fixture
def foreign(shared_data: Path, tmp_path: Path):
    """Another server (another port) holding the claimant count with every value ×100."""
    real = (shared_data / "ons-local-stats" / SLUG / f"{SLUG}.csv").read_text(encoding="utf-8-sig")
    lines = real.splitlines()
    header = lines[0].split(",")
    col = header.index("observation")
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        try:
            cells[col] = repr(float(cells[col]) * 100)
        except ValueError:
            pass
        out.append(",".join(cells))
    folder = tmp_path / "foreign" / "ons-local-stats" / SLUG
    folder.mkdir(parents=True)
    (folder / f"{SLUG}.csv").write_text("\n".join(out) + "\n", encoding="utf-8")
    with Mirror(tmp_path / "foreign") as m:
        yield m


def test_shrunken_csv_alone_fails_the_refresh_and_leaves_data_byte_identical(snapshot_copy, mirror, faulty):
    faulty(CSV_PATH, Fault("shrink", rows=3))
    before = checksums(snapshot_copy)
    with pytest.raises(RefreshFailed) as err:
        refresh(mirror_settings(mirror, snapshot_copy), [SLUG])
    message = str(err.value)
    assert SLUG in message and "rows fell from" in message and "--accept-shrink" in message, message
    assert checksums(snapshot_copy) == before
    assert not list(snapshot_copy.parent.glob(".snapshot-*"))


def test_shrunken_csv_keeps_its_previous_rows_marked_stale_with_the_reason(snapshot_copy, mirror, faulty):
    before = read_table(snapshot_copy, "observations")
    old_rows = read_manifest(snapshot_copy)["datasets"][SLUG]["rows"]
    faulty(CSV_PATH, Fault("shrink", rows=3))
    result = refresh(mirror_settings(mirror, snapshot_copy), [SLUG, OTHER])
    statuses = {o.slug: o.status for o in result.outcomes}
    assert statuses[SLUG] == "stale" and statuses[OTHER] in {"ok", "not_modified"}
    entry = read_manifest(snapshot_copy)["datasets"][SLUG]
    assert entry["status"] == "stale" and entry["rows"] == old_rows > 1000
    assert "rows fell from" in entry["error"] and "published period(s) disappeared" in entry["error"]
    after = read_table(snapshot_copy, "observations")
    old = before.loc[before["dataset"] == SLUG].reset_index(drop=True)
    new = after.loc[after["dataset"] == SLUG].reset_index(drop=True)
    assert new.equals(old)
    assert verify(snapshot_copy) == []


def test_accept_shrink_lets_a_withdrawn_dataset_shrink_and_says_so(snapshot_copy, mirror, faulty):
    faulty(CSV_PATH, Fault("shrink", rows=3))
    result = refresh(mirror_settings(mirror, snapshot_copy), [SLUG], accept_shrink=True)
    assert {o.slug: o.status for o in result.outcomes}[SLUG] == "ok"
    entry = read_manifest(snapshot_copy)["datasets"][SLUG]
    assert entry["rows"] == 3 and "accepted with --accept-shrink" in entry["note"]


def test_shrink_within_the_limit_is_accepted(snapshot_copy, mirror, faulty, shared_data):
    """Dropping a twentieth of the rows of the latest period stays inside a 10% limit on every measure."""
    lines = (shared_data / "ons-local-stats" / SLUG / f"{SLUG}.csv").read_bytes().splitlines(keepends=True)
    kept = [lines[0], *(line for i, line in enumerate(lines[1:]) if i % 20)]
    faulty(CSV_PATH, Fault("body", body=b"".join(kept)))
    result = refresh(mirror_settings(mirror, snapshot_copy, max_shrink=0.10), [SLUG])
    assert {o.slug: o.status for o in result.outcomes}[SLUG] == "ok"


def test_redirect_to_a_foreign_host_is_refused_and_the_snapshot_survives(snapshot_copy, mirror, faulty, foreign):
    faulty(CSV_PATH, Fault("redirect", location=foreign.url + CSV_PATH.lstrip("/")))
    before = checksums(snapshot_copy)
    with pytest.raises(RefreshFailed) as err:
        refresh(mirror_settings(mirror, snapshot_copy), [SLUG])
    assert "refused a redirect to another host" in str(err.value)
    assert foreign.state.hits == {}
    assert checksums(snapshot_copy) == before


def test_redirect_to_an_allowed_host_records_the_final_url(snapshot_copy, mirror, faulty, foreign):
    port = foreign.server.server_address[1]
    faulty(CSV_PATH, Fault("redirect", location=foreign.url + CSV_PATH.lstrip("/")))
    settings = mirror_settings(mirror, snapshot_copy, redirect_allowed_hosts=[f"127.0.0.1:{port}"])
    refresh(settings, [SLUG])
    sources = read_manifest(snapshot_copy)["datasets"][SLUG]["sources"]
    csv = next(s for s in sources if s["url"].endswith(".csv"))
    assert csv["url"] == mirror.url + CSV_PATH.lstrip("/")
    assert csv["final_url"] == foreign.url + CSV_PATH.lstrip("/")
    values = read_table(snapshot_copy, "observations")
    assert values.loc[values["dataset"] == SLUG, "value"].max() > 1000  # the ×100 copy, credited honestly


def _head(shared_data: Path, lines: int = 200) -> bytes:
    """The first lines of the real CSV: small enough that a refresh without deadlines finishes the
    trickle in seconds (and the test fails there instead of hanging)."""
    real = (shared_data / "ons-local-stats" / SLUG / f"{SLUG}.csv").read_bytes()
    return b"".join(real.splitlines(keepends=True)[:lines])


def test_trickling_source_ends_at_the_refresh_deadline_and_leaves_data_byte_identical(snapshot_copy, mirror,
                                                                                       faulty, shared_data):
    faulty(CSV_PATH, Fault("trickle", body=_head(shared_data), step=64, delay=0.05))
    before = checksums(snapshot_copy)
    settings = mirror_settings(mirror, snapshot_copy, http_read_timeout=5.0, refresh_deadline=3.0)
    started = time.monotonic()
    with pytest.raises(RefreshFailed, match="deadline") as err:
        refresh(settings, [OTHER, SLUG])
    assert time.monotonic() - started < 15
    assert "GOOD_GROWTH_REFRESH_DEADLINE" in str(err.value)
    assert checksums(snapshot_copy) == before
    assert not list(snapshot_copy.parent.glob(".snapshot-*"))


def test_trickling_download_past_its_own_deadline_marks_only_that_dataset_stale(snapshot_copy, mirror, faulty,
                                                                                 shared_data):
    faulty(CSV_PATH, Fault("trickle", body=_head(shared_data), step=64, delay=0.05))
    settings = mirror_settings(mirror, snapshot_copy, download_deadline=1.5)
    result = refresh(settings, [OTHER, SLUG])
    statuses = {o.slug: o.status for o in result.outcomes}
    assert statuses[SLUG] == "stale" and statuses[OTHER] in {"ok", "not_modified"}
    assert "deadline" in read_manifest(snapshot_copy)["datasets"][SLUG]["error"]


def test_cli_names_the_shrink_and_the_flag_that_accepts_it(snapshot_copy, mirror, faulty):
    faulty(CSV_PATH, Fault("shrink", rows=3))
    before = checksums(snapshot_copy)
    cmd = [sys.executable, "-m", "data_sources", "refresh", *cli_flags(mirror.url), "--only", SLUG,
           "--snapshot", str(snapshot_copy), "--quiet"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "rows fell from" in errors[0] and "--accept-shrink" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr and checksums(snapshot_copy) == before
    proc = subprocess.run([*cmd, "--accept-shrink"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert read_manifest(snapshot_copy)["datasets"][SLUG]["rows"] == 3
