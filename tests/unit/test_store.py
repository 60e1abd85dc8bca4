"""Unit tests for data_sources.store: staging, atomic swap, verification, locking and recovery on tmp_path."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from data_sources import store
from data_sources.errors import RefreshLockedError, SnapshotError

ROOT = Path(__file__).resolve().parents[2]


def frames(version: int) -> dict[str, pd.DataFrame]:
    """One tiny DataFrame per snapshot table; `version` changes every table's content and row count."""
    n = 2 + version
    out = {
        name: pd.DataFrame({
            "key": [f"{name}-{version}-{i}" for i in range(n)],
            "value": [float(i * version) for i in range(n)],
        })
        for name in store.TABLES
    }
    out["observations"] = pd.DataFrame({
        "areacd": [f"E0600000{i}" for i in range(n)],
        "period": ["2021"] * n,
        "value": [10.0 * version + i for i in range(n)],
    })
    out["geometry"] = pd.DataFrame({"areacd": [f"E0600000{i}" for i in range(n)], "wkb": [b"\x01"] * n})
    return out


def write_all(stage: store.Staged, version: int, created_at: str) -> dict[str, int]:
    rows = {name: stage.write_table(name, frame)["rows"] for name, frame in frames(version).items()}
    stage.write_manifest({"created_at": created_at}, rows)
    return rows


def build(target: Path, version: int = 1, created_at: str = "x") -> dict[str, int]:
    with store.staged(target) as stage:
        rows = write_all(stage, version, created_at)
        stage.commit()
    return rows


def checksums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def leftovers(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.glob(".snapshot-*"))


@pytest.fixture
def target(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def snapshot(target: Path) -> Path:
    build(target, version=1, created_at="first")
    return target


# --------------------------------------------------------------------------
# staging and committing
# --------------------------------------------------------------------------


def test_nothing_is_visible_until_commit(target: Path) -> None:
    with store.staged(target) as stage:
        write_all(stage, 1, "x")
        assert stage.path.parent == target.parent
        assert stage.path.name.startswith(".snapshot-data.stage-")
        assert not target.exists()
        assert not store.has_snapshot(target)
        stage.commit()
    assert store.has_snapshot(target)


def test_committed_snapshot_is_visible_and_verifies_clean(target: Path) -> None:
    rows = build(target)
    manifest = store.read_manifest(target)
    assert manifest["created_at"] == "x"
    assert manifest["format"] == store.FORMAT_VERSION
    assert set(manifest["files"]) == {f"{name}.parquet" for name in store.TABLES}
    assert {name: manifest["files"][f"{name}.parquet"]["rows"] for name in store.TABLES} == rows
    assert store.verify(target) == []
    assert leftovers(target) == []


def test_read_table_returns_what_was_written(snapshot: Path) -> None:
    frame = store.read_table(snapshot, "observations")
    expected = frames(1)["observations"]
    assert list(frame.columns) == list(expected.columns)
    for column in expected.columns:
        assert frame[column].tolist() == expected[column].tolist()


def test_read_table_returns_text_columns_as_categoricals(snapshot: Path) -> None:
    frame = store.read_table(snapshot, "observations")
    assert isinstance(frame["areacd"].dtype, pd.CategoricalDtype)
    assert isinstance(frame["period"].dtype, pd.CategoricalDtype)
    assert frame["value"].dtype == "float64"


def test_read_table_can_select_a_subset_of_columns(snapshot: Path) -> None:
    frame = store.read_table(snapshot, "observations", columns=["value"])
    assert list(frame.columns) == ["value"]
    assert frame["value"].tolist() == frames(1)["observations"]["value"].tolist()
    frame = store.read_table(snapshot, "observations", columns=["areacd"])
    assert frame["areacd"].tolist() == frames(1)["observations"]["areacd"].tolist()


def test_reading_a_table_absent_from_the_snapshot_raises(snapshot: Path) -> None:
    with pytest.raises(SnapshotError, match="table missing"):
        store.read_table(snapshot, "no_such_table")


def test_second_commit_replaces_the_snapshot_completely(snapshot: Path) -> None:
    first = checksums(snapshot)
    (snapshot / "only-in-first.txt").write_text("stale", encoding="utf-8")
    with store.staged(snapshot) as stage:
        write_all(stage, 2, "second")
        staged_sums = checksums(stage.path)
        stage.commit()
    after = checksums(snapshot)
    assert after == staged_sums
    assert "only-in-first.txt" not in after
    assert all(after[name] != first[name] for name in first if name.endswith(".parquet"))
    assert store.read_manifest(snapshot)["created_at"] == "second"
    assert store.verify(snapshot) == []
    assert leftovers(snapshot) == []
    assert sorted(p.name for p in snapshot.parent.iterdir()) == ["data"]


def test_failed_refresh_leaves_the_live_snapshot_byte_identical(snapshot: Path) -> None:
    before = checksums(snapshot)
    with pytest.raises(RuntimeError, match="source broke"):
        with store.staged(snapshot) as stage:
            write_all(stage, 2, "never")
            staging = stage.path
            raise RuntimeError("source broke")
    assert checksums(snapshot) == before
    assert not staging.exists()
    assert leftovers(snapshot) == []
    assert store.verify(snapshot) == []


def test_staging_without_commit_is_discarded(snapshot: Path) -> None:
    before = checksums(snapshot)
    with store.staged(snapshot) as stage:
        write_all(stage, 2, "never")
    assert checksums(snapshot) == before
    assert leftovers(snapshot) == []


def test_discard_removes_the_staging_directory(target: Path) -> None:
    with store.staged(target) as stage:
        write_all(stage, 1, "x")
        stage.discard()
        assert not stage.path.exists()
    assert not target.exists()


# --------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------


def test_verify_reports_a_tampered_file(snapshot: Path) -> None:
    path = snapshot / "observations.parquet"
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle] ^= 0xFF
    path.write_bytes(bytes(data))
    problems = store.verify(snapshot)
    assert len(problems) == 1
    assert problems[0].startswith("observations.parquet:")
    assert "sha256" in problems[0]


def test_verify_reports_a_file_whose_size_changed(snapshot: Path) -> None:
    with (snapshot / "areas.parquet").open("ab") as fh:
        fh.write(b"junk")
    problems = store.verify(snapshot)
    assert any(p.startswith("areas.parquet:") and "bytes" in p for p in problems)
    assert any(p.startswith("areas.parquet:") and "sha256" in p for p in problems)


def test_verify_reports_a_deleted_file(snapshot: Path) -> None:
    (snapshot / "catalogue.parquet").unlink()
    problems = store.verify(snapshot)
    assert problems == ["catalogue.parquet: listed in the manifest but missing"]


def test_verify_reports_an_extra_parquet_file(snapshot: Path) -> None:
    shutil.copy(snapshot / "areas.parquet", snapshot / "stray.parquet")
    problems = store.verify(snapshot)
    assert problems == ["stray.parquet: present but not in the manifest"]


def test_verify_reports_a_table_left_out_of_the_manifest(target: Path) -> None:
    with store.staged(target) as stage:
        rows = write_all(stage, 1, "x")
        rows.pop("clusters")
        stage.write_manifest({"created_at": "x"}, rows)
        stage.commit()
    problems = store.verify(target)
    assert "clusters.parquet: not listed in the manifest" in problems
    assert "clusters.parquet: present but not in the manifest" in problems


def test_verify_reports_a_row_count_that_disagrees_with_the_manifest(target: Path) -> None:
    with store.staged(target) as stage:
        rows = write_all(stage, 1, "x")
        stage.write_manifest({"created_at": "x"}, {**rows, "areas": rows["areas"] + 5})
        stage.commit()
    problems = store.verify(target)
    assert problems == [f"areas.parquet: {rows['areas']} rows, manifest says {rows['areas'] + 5}"]


# --------------------------------------------------------------------------
# manifest reading
# --------------------------------------------------------------------------


def test_reading_an_empty_folder_says_there_is_no_snapshot(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SnapshotError, match="no snapshot"):
        store.read_manifest(empty)
    assert not store.has_snapshot(empty)


def test_reading_a_missing_folder_says_there_is_no_snapshot(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="no snapshot"):
        store.read_manifest(tmp_path / "never-built")


def test_corrupt_manifest_raises_snapshot_error(snapshot: Path) -> None:
    (snapshot / store.MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(SnapshotError, match="not valid JSON"):
        store.read_manifest(snapshot)


def test_manifest_records_size_and_checksum_of_every_file(snapshot: Path) -> None:
    manifest = json.loads((snapshot / store.MANIFEST).read_text(encoding="utf-8"))
    for name, meta in manifest["files"].items():
        path = snapshot / name
        assert meta["bytes"] == path.stat().st_size
        assert meta["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------
# locking and leftovers
# --------------------------------------------------------------------------


def test_second_refresh_lock_on_the_same_snapshot_is_refused(target: Path) -> None:
    with store.refresh_lock(target):
        with pytest.raises(RefreshLockedError, match="another refresh is running"):
            with store.refresh_lock(target):
                pytest.fail("the second lock must not be granted")


def test_refresh_lock_is_free_again_after_release(target: Path) -> None:
    with store.refresh_lock(target):
        pass
    with store.refresh_lock(target):
        pass


def test_refresh_locks_on_different_snapshots_do_not_conflict(tmp_path: Path) -> None:
    with store.refresh_lock(tmp_path / "data"):
        with store.refresh_lock(tmp_path / "other"):
            pass


def test_refresh_lock_is_released_when_the_refresh_raises(target: Path) -> None:
    with pytest.raises(ValueError):
        with store.refresh_lock(target):
            raise ValueError("boom")
    with store.refresh_lock(target):
        pass


@contextmanager
def lock_held_elsewhere(target: Path, deadline: float | None = None):
    """Another process that takes the refresh lock and then hangs, as a stuck refresh would."""
    code = ("import sys, time; from pathlib import Path; from data_sources import store\n"
            "with store.refresh_lock(Path(sys.argv[1]), deadline_seconds=float(sys.argv[2]) or None):\n"
            "    print('locked', flush=True); time.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(target), str(deadline or 0)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def test_lock_left_by_a_killed_refresh_is_recovered_with_a_message(target: Path, caplog) -> None:
    with lock_held_elsewhere(target, deadline=600) as proc:
        proc.kill()
        proc.wait(10)
    with caplog.at_level(logging.WARNING, logger="data_sources.store"):
        with store.refresh_lock(target):
            pass
    assert f"pid {proc.pid}" in caplog.text and "ended without releasing its lock" in caplog.text


def test_busy_lock_message_names_the_running_refresh(target: Path) -> None:
    with lock_held_elsewhere(target, deadline=600) as proc:
        with pytest.raises(RefreshLockedError, match=f"another refresh is running.*pid {proc.pid}"):
            with store.refresh_lock(target):
                pytest.fail("the lock must not be granted")


def test_lock_held_past_its_deadline_is_reported_as_stuck_with_the_way_out(target: Path) -> None:
    with lock_held_elsewhere(target, deadline=0.2) as proc:
        time.sleep(0.4)
        with pytest.raises(RefreshLockedError, match=f"past its deadline.*kill {proc.pid}.*--break-stale-lock"):
            with store.refresh_lock(target):
                pytest.fail("the lock must not be granted")
        assert proc.poll() is None  # only reported, not stopped


def test_break_overdue_stops_a_stuck_refresh_and_takes_the_lock(target: Path) -> None:
    with lock_held_elsewhere(target, deadline=0.2) as proc:
        time.sleep(0.4)
        with store.refresh_lock(target, break_overdue=True):
            assert proc.wait(10) != 0


def test_break_overdue_leaves_a_refresh_within_its_deadline_alone(target: Path) -> None:
    with lock_held_elsewhere(target, deadline=600) as proc:
        with pytest.raises(RefreshLockedError):
            with store.refresh_lock(target, break_overdue=True):
                pytest.fail("the lock must not be granted")
        assert proc.poll() is None


def test_lock_still_held_after_its_taker_died_names_the_lock_file(target: Path) -> None:
    """The pid in the record is gone yet the lock is held: a child inherited it. Say where to look."""
    lock_path = target.with_name(f".{target.name}.lock")
    with lock_path.open("a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        fh.write(json.dumps({"pid": 2 ** 22 + 12345, "host": socket.gethostname(), "started_at": "then"}))
        fh.flush()
        with pytest.raises(RefreshLockedError, match=r"is gone but a process it started.*fuser"):
            with store.refresh_lock(target):
                pytest.fail("the lock must not be granted")


def test_clean_leftovers_removes_killed_staging_dirs_but_not_the_live_snapshot(snapshot: Path) -> None:
    before = checksums(snapshot)
    stale = snapshot.parent / ".snapshot-data.stage-abc"
    stale.mkdir()
    (stale / "observations.parquet").write_bytes(b"half written")
    removed = store.clean_leftovers(snapshot)
    assert removed == [stale]
    assert not stale.exists()
    assert checksums(snapshot) == before
    assert store.verify(snapshot) == []


def test_clean_leftovers_with_nothing_to_clean_returns_empty(tmp_path: Path) -> None:
    assert store.clean_leftovers(tmp_path / "data") == []
    assert store.clean_leftovers(tmp_path / "missing-parent" / "data") == []


def test_clean_leftovers_leaves_a_sibling_snapshots_staging_dir_alone(tmp_path: Path) -> None:
    target = tmp_path / "data"
    sibling_staging = tmp_path / (store._stage_prefix(tmp_path / "data-public") + "k3j2h1")
    sibling_staging.mkdir()
    store.clean_leftovers(target)
    assert sibling_staging.exists()


# --------------------------------------------------------------------------
# the swap and recovery
# --------------------------------------------------------------------------


def test_two_rename_fallback_installs_the_new_snapshot(snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def unavailable(a: Path, b: Path) -> bool:
        calls.append((a, b))
        return False

    monkeypatch.setattr(store, "_renameat2_exchange", unavailable)
    with store.staged(snapshot) as stage:
        write_all(stage, 2, "second")
        staged_sums = checksums(stage.path)
        stage.commit()
    assert calls, "the fallback must only be taken after the exchange was tried"
    assert checksums(snapshot) == staged_sums
    assert store.read_manifest(snapshot)["created_at"] == "second"
    assert store.verify(snapshot) == []
    assert leftovers(snapshot) == []


def test_two_rename_fallback_replaces_a_stale_aside_copy(snapshot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "_renameat2_exchange", lambda a, b: False)
    aside = snapshot.with_name(".snapshot-data.old")
    aside.mkdir()
    (aside / "junk.parquet").write_bytes(b"old")
    build(snapshot, version=2, created_at="second")
    assert store.read_manifest(snapshot)["created_at"] == "second"
    assert not aside.exists()


def test_swap_into_an_absent_target_is_a_plain_rename(tmp_path: Path) -> None:
    new = tmp_path / "new"
    new.mkdir()
    (new / "a.txt").write_text("a", encoding="utf-8")
    store.swap_into_place(new, tmp_path / "data")
    assert (tmp_path / "data" / "a.txt").read_text(encoding="utf-8") == "a"
    assert not new.exists()


def test_renameat2_exchange_swaps_two_directories_when_available(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "which").write_text("a", encoding="utf-8")
    (b / "which").write_text("b", encoding="utf-8")
    if not store._renameat2_exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available on this system")
    assert (a / "which").read_text(encoding="utf-8") == "b"
    assert (b / "which").read_text(encoding="utf-8") == "a"


def test_recover_restores_a_snapshot_left_aside_by_an_interrupted_swap(snapshot: Path) -> None:
    before = checksums(snapshot)
    aside = snapshot.with_name(".snapshot-data.old")
    snapshot.rename(aside)  # a crash between the fallback's two renames
    assert not snapshot.exists()
    assert store.read_manifest(snapshot)["created_at"] == "first"  # reading recovers
    assert not aside.exists()
    assert checksums(snapshot) == before
    assert store.verify(snapshot) == []


def test_recover_ignores_an_aside_copy_without_a_manifest(tmp_path: Path) -> None:
    target = tmp_path / "data"
    aside = tmp_path / ".snapshot-data.old"
    aside.mkdir()
    (aside / "observations.parquet").write_bytes(b"partial")
    store.recover(target)
    assert not target.exists()
    assert aside.exists()


def test_recover_leaves_a_live_snapshot_alone(snapshot: Path) -> None:
    aside = snapshot.with_name(".snapshot-data.old")
    shutil.copytree(snapshot, aside)
    before = checksums(snapshot)
    store.recover(snapshot)
    assert checksums(snapshot) == before
    assert aside.exists()


# --------------------------------------------------------------------------
# DuckDB
# --------------------------------------------------------------------------


def test_connect_exposes_every_table_as_a_duckdb_view(snapshot: Path) -> None:
    rows = {name: len(frame) for name, frame in frames(1).items()}
    con = store.connect(snapshot)
    try:
        assert con.execute("SELECT count(*) FROM observations").fetchone()[0] == rows["observations"]
        assert con.execute("SELECT sum(value) FROM observations").fetchone()[0] == pytest.approx(
            frames(1)["observations"]["value"].sum())
        for name in store.TABLES:
            assert con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] == rows[name]
    finally:
        con.close()


def test_connect_refuses_a_folder_without_a_snapshot(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="no snapshot"):
        store.connect(tmp_path)
