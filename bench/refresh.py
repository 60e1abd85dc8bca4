"""Benchmark: a full refresh from a local HTTP mirror, and loading the snapshot for the app.

Prints wall time and peak resident memory of each, measured in a fresh child process so
one does not inflate the other. Targets (2-core machine): refresh ≤ 30 s and ≤ 1.5 GB;
snapshot load ≤ 1 s and ≤ 300 MB.

    python bench/refresh.py [--mirror-root ../shared/data]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.mirror import Mirror, url_overrides  # noqa: E402

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
exec(sys.argv[1])
wall = time.perf_counter() - t0
print(json.dumps({"wall_s": wall, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

REFRESH = """
from data_sources.refresh import refresh
from data_sources.settings import Settings
import json, os
refresh(Settings(**json.loads(os.environ["BENCH_SETTINGS"])))
"""

LOAD = """
from indicators import snapshot
snap = snapshot.load()
assert len(snap.observations) > 0
"""


def run(code: str, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, code], cwd=ROOT, env={**os.environ, **env},
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror-root", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with Mirror(args.mirror_root) as mirror, tempfile.TemporaryDirectory() as tmp:
        snapshot = Path(tmp) / "data"
        settings = {**url_overrides(mirror.url), "snapshot_dir": str(snapshot)}
        for i in range(args.repeat):
            # A fresh directory each time, so every run downloads and parses everything.
            target = snapshot.with_name(f"data{i}")
            env = {"BENCH_SETTINGS": json.dumps({**settings, "snapshot_dir": str(target)})}
            r = run(REFRESH, env)
            print(f"full refresh from local HTTP   run {i + 1}: {r['wall_s']:6.2f} s   peak {r['peak_mb']:7.1f} MB"
                  f"   (targets ≤ 30 s, ≤ 1536 MB)")
        size = sum(p.stat().st_size for p in target.iterdir()) / 1e6
        print(f"snapshot size: {size:.1f} MB")
        for i in range(args.repeat):
            r = run(LOAD, {"GOOD_GROWTH_SNAPSHOT_DIR": str(ROOT / "data")})
            print(f"load snapshot for the app      run {i + 1}: {r['wall_s']:6.2f} s   peak {r['peak_mb']:7.1f} MB"
                  f"   (targets ≤ 1 s, ≤ 300 MB)")


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"benchmark finished in {time.perf_counter() - t:.0f} s")
