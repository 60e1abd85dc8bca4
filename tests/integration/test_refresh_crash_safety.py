"""A refresh killed at any moment leaves a complete snapshot: the old one or the new one, never a mix.

Each refresh runs as a real `python -m data_sources refresh` process against the HTTP mirror
and is SIGKILLed at seeded points spread over its whole run; afterwards `python -m
data_sources verify` must pass and the manifest must be the previous one or a newer one.
Where each kill landed is read from what it left behind (staging folder and its files,
the live manifest, the mirror's hit counter) and printed as a table (`pytest -s`).
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from data_sources.store import MANIFEST, TABLES, read_manifest, read_table, swap_into_place
from tests.conftest import ROOT
from tests.support.mirror import Fault, Mirror, cli_flags
from tests.support.snapshots import altered_copy

pytestmark = pytest.mark.integration

# three small datasets and a mid-size one (housing-affordability-ratio, ~1 MB of CSV)
SLUGS = ["cigarette-smokers", "claimant-count", "healthy-life-expectancy", "housing-affordability-ratio"]
KILLS = 20
SEED = 20261125
CHANGED = "cigarette-smokers"


def _cmd(snapshot: Path, mirror_url: str, slugs: list[str] = SLUGS) -> list[str]:
    return [sys.executable, "-m", "data_sources", "refresh", "--only", *slugs, "--snapshot", str(snapshot),
            "--quiet", *cli_flags(mirror_url)]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("GOOD_GROWTH_PUBLIC_MODE", None)  # refresh is refused in public mode
    return env


def _start(snapshot: Path, mirror_url: str) -> subprocess.Popen:
    return subprocess.Popen(_cmd(snapshot, mirror_url), cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def _verify(snapshot: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "data_sources", "verify", "--snapshot", str(snapshot)], cwd=ROOT,
                          env=_env(), capture_output=True, text=True, timeout=120)


def _created_at(snapshot: Path) -> datetime:
    return datetime.fromisoformat(json.loads((snapshot / MANIFEST).read_text(encoding="utf-8"))["created_at"])


def _stages(snapshot: Path) -> set[Path]:
    return set(snapshot.parent.glob(f".snapshot-{snapshot.name}.stage-*"))


def _fetch_started(mirror: Mirror) -> bool:
    return any(f"/{slug}/" in path for path in mirror.state.hits for slug in SLUGS)


def _phase(snapshot: Path, leftovers: set[Path], mirror: Mirror, previous: datetime) -> str:
    """Where the refresh was when it died, read from what it left on disk and asked of the mirror."""
    stages = _stages(snapshot)
    own = stages - leftovers
    if not (snapshot / MANIFEST).exists():
        return "NO LIVE MANIFEST"
    if _created_at(snapshot) > previous:
        return "swapped, removing the old copy" if own else "swapped, exiting"
    if own:
        files = {p.name for stage in own for p in stage.iterdir()}
        if MANIFEST in files:
            return "staged and complete, before the swap"
        return f"writing the staged tables ({len(files)}/{len(TABLES)} files)"
    if _fetch_started(mirror):
        return "fetching, parsing and merging"
    if stages & leftovers:
        return "starting, before leftovers were cleaned"
    return "starting"


def _run_to_completion(snapshot: Path, shared_data: Path) -> tuple[float, subprocess.CompletedProcess]:
    with Mirror(shared_data) as mirror:  # a fresh server, so every dataset is downloaded in full
        started = time.monotonic()
        done = subprocess.run(_cmd(snapshot, mirror.url), cwd=ROOT, env=_env(), capture_output=True, text=True,
                              timeout=600)
        return time.monotonic() - started, done


def test_refresh_killed_at_twenty_points_leaves_a_complete_snapshot(snapshot_copy: Path, shared_data: Path):
    snapshot = snapshot_copy
    initial = _created_at(snapshot)

    took, done = _run_to_completion(snapshot, shared_data)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _verify(snapshot).returncode == 0
    previous = _created_at(snapshot)
    assert previous > initial, "an uninterrupted refresh swaps in a newer snapshot"

    rng = random.Random(SEED)
    low, high = 0.05, 1.1 * took
    width = (high - low) / KILLS
    delays = [low + (i + rng.random()) * width for i in range(KILLS)]  # one point in each twentieth of the run
    rng.shuffle(delays)

    report = [f"uninterrupted refresh of {len(SLUGS)} datasets: {took:.2f}s; kill delays in [{low}, {high:.2f}]s"]
    phases: list[str] = []
    for n, delay in enumerate(delays, 1):
        leftovers = _stages(snapshot)
        with Mirror(shared_data) as mirror:
            proc = _start(snapshot, mirror.url)
            time.sleep(delay)
            finished_first = proc.poll() is not None
            if not finished_first:
                os.kill(proc.pid, signal.SIGKILL)
            rc = proc.wait(timeout=60)
            stderr = proc.stderr.read() if proc.stderr else ""
            phase = "finished before the kill" if finished_first else _phase(snapshot, leftovers, mirror, previous)
        assert rc in (0, -signal.SIGKILL), f"kill {n} at {delay:.2f}s: refresh exited {rc}: {stderr[-2000:]}"

        checked = _verify(snapshot)
        assert checked.returncode == 0, f"kill {n} at {delay:.2f}s ({phase}): {checked.stderr}"
        now = _created_at(snapshot)  # never missing: the live manifest is always there
        assert now >= previous, f"kill {n} at {delay:.2f}s ({phase}): manifest went back from {previous} to {now}"
        swapped = now > previous
        assert swapped == (phase.startswith("swapped") or phase == "finished before the kill"), (n, phase, now)
        phases.append(phase)
        report.append(f"kill {n:2d} at {delay:5.2f}s ({delay / took:4.0%} of the run): {phase}; "
                      f"snapshot {'new ' + now.isoformat() if swapped else 'previous'}")
        previous = now

    took_last, last = _run_to_completion(snapshot, shared_data)
    assert last.returncode == 0, last.stderr[-2000:]
    assert _verify(snapshot).returncode == 0
    assert _created_at(snapshot) > previous
    assert not _stages(snapshot), "staging folders left by killed refreshes are cleaned by the next refresh"
    assert not list(snapshot.parent.glob(".snapshot-*")), sorted(p.name for p in snapshot.parent.iterdir())
    report.append(f"final refresh to completion: {took_last:.2f}s, no staging folders left")
    print("\n" + "\n".join(report))

    # the seeded delays spread across the run: both long phases were hit
    assert any(p == "fetching, parsing and merging" for p in phases), phases
    assert any(p.startswith("writing the staged tables") for p in phases), phases


def _wait_for(condition, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"refresh ended (exit {proc.returncode}) before the moment under test: "
                        f"{proc.stderr.read() if proc.stderr else ''}")
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for the refresh")
        time.sleep(0.01)


def test_a_second_refresh_is_refused_while_one_runs(snapshot_copy: Path, shared_data: Path):
    snapshot = snapshot_copy
    with Mirror(shared_data) as mirror:
        first = _start(snapshot, mirror.url)
        try:
            # the first holds the lock and has a staging folder the second must not touch
            _wait_for(lambda: bool(_stages(snapshot)), first)
            stage = next(iter(_stages(snapshot)))
            started = time.monotonic()
            second = subprocess.run(_cmd(snapshot, mirror.url), cwd=ROOT, env=_env(), capture_output=True,
                                    text=True, timeout=120)
            took = time.monotonic() - started
            assert first.poll() is None, "the second refresh should be refused while the first still runs"
            assert stage.exists(), "the refused refresh must not clean the running one's staging folder"
            assert second.returncode == 1, (second.returncode, second.stderr)
            lines = second.stderr.strip().splitlines()
            assert len(lines) == 1, second.stderr
            assert lines[0].startswith("error: ") and "another refresh is running" in lines[0], lines[0]
            assert second.stdout == ""
            assert took < 30, f"refused only after {took:.1f}s"
            assert first.wait(timeout=300) == 0, first.stderr.read() if first.stderr else ""
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
    assert _verify(snapshot).returncode == 0
    assert not _stages(snapshot)


def _changed_csv(shared_data: Path) -> bytes:
    """The CSV of CHANGED with its first value raised by 1, so old and new snapshots can be told apart."""
    lines = (shared_data / "ons-local-stats" / CHANGED / f"{CHANGED}.csv").read_bytes().decode("utf-8-sig")
    rows = lines.splitlines()
    first = rows[1].split(",")
    first[5] = str(float(first[5]) + 1.0)
    rows[1] = ",".join(first)
    return ("\n".join(rows) + "\n").encode()


def _changed_total(snap) -> float:
    obs = snap.observations
    return float(obs.loc[obs["dataset"] == CHANGED, "value"].sum())


def test_the_app_keeps_reading_the_previous_snapshot_until_the_swap(snapshot_copy: Path, shared_data: Path):
    from indicators import snapshot as snapshot_mod

    snapshot = snapshot_copy
    before = snapshot_mod.load(snapshot)
    old_created = before.manifest["created_at"]
    old_total, old_rows = _changed_total(before), len(before.observations)

    seen: list[tuple[str, float]] = []
    with Mirror(shared_data) as mirror:
        mirror.state.faults[f"/ons-local-stats/{CHANGED}/{CHANGED}.csv"] = Fault("body", body=_changed_csv(shared_data))
        proc = subprocess.Popen(_cmd(snapshot, mirror.url, [CHANGED]), cwd=ROOT, env=_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            while proc.poll() is None:  # the app's loader, called as each page render calls it
                snap = snapshot_mod.load(snapshot)
                if not seen or seen[-1][0] != snap.manifest["created_at"]:
                    seen.append((snap.manifest["created_at"], _changed_total(snap)))
                time.sleep(0.02)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.wait() == 0, proc.stderr.read() if proc.stderr else ""

    after = snapshot_mod.load(snapshot)
    new_created = after.manifest["created_at"]
    assert new_created > old_created
    # until the swap every load returned the previous snapshot, then only the new one
    created = [c for c, _ in seen]
    assert created[0] == old_created and set(created) <= {old_created, new_created}, seen
    assert created == sorted(created), f"the loader went back to the previous snapshot: {seen}"
    for created_at, total in seen:
        expected = old_total if created_at == old_created else old_total + 1.0
        assert total == pytest.approx(expected), (created_at, total)
    assert _changed_total(after) == pytest.approx(old_total + 1.0)

    # what was loaded before the swap is still whole and usable afterwards
    assert before.manifest["created_at"] == old_created
    assert len(before.observations) == old_rows and _changed_total(before) == pytest.approx(old_total)
    assert set(before.observations["areacd"].astype(str)) <= set(before.areas["areacd"].astype(str))
    assert before.catalogue["indicator_id"].nunique() == before.manifest["counts"]["indicators"]
    assert snapshot_mod.dataset_summary(before)["rows"].sum() == old_rows


def test_a_load_that_straddles_the_swap_never_mixes_two_snapshots(snapshot_copy: Path, monkeypatch):
    from indicators import snapshot as snapshot_mod

    snapshot = snapshot_copy
    staged = snapshot.parent / f".snapshot-{snapshot.name}.stage-straddle"
    old_created = read_manifest(snapshot)["created_at"]
    new_created, row = altered_copy(snapshot, staged)
    old_value = float(read_table(snapshot, "observations")["value"].iloc[row])
    real_read_table = snapshot_mod.read_table
    swapped: list[bool] = []

    def read_table_after_a_swap(path, name, *args, **kwargs):
        if not swapped:  # a refresh commits just after the loader has read the manifest
            swap_into_place(staged, snapshot)
            swapped.append(True)
        return real_read_table(path, name, *args, **kwargs)

    monkeypatch.setattr(snapshot_mod, "read_table", read_table_after_a_swap)
    snap = snapshot_mod.load(snapshot)
    assert swapped
    value = float(snap.observations["value"].iloc[row])
    consistent = ((snap.manifest["created_at"] == old_created and value == old_value)
                  or (snap.manifest["created_at"] == new_created and value == old_value + 1.0))
    assert consistent, (f"manifest created_at {snap.manifest['created_at']} served with the observations "
                        f"of the other snapshot (value {value}, previous {old_value})")
