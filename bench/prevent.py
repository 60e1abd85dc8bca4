"""Benchmark: valuing each example prevention model with 10,000 Monte Carlo draws.

Prints, after the snapshot is loaded once, for every model in plans/examples/prevention: the cold first
run and the median of 5 further runs of load + validate + snapshot inputs, the evaluation itself
(10,000 beta-PERT draws, the tornado, by-horizon and who-gains tables) and each report format.
Target: ≤ 1 s for the evaluation of each model.

    python bench/prevent.py [--draws N]
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indicators import query  # noqa: E402
from indicators.prevention import evaluate, inputs, model, report  # noqa: E402

RUNS = 5
TARGET_S = 1.0


def timed(fn: Callable[[], object], runs: int = RUNS) -> tuple[float, float, object]:
    t = time.perf_counter()
    out = fn()
    cold = time.perf_counter() - t
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return cold, statistics.median(times), out


def main(argv: list[str]) -> int:
    draws = int(argv[argv.index("--draws") + 1]) if "--draws" in argv else evaluate.DEFAULT_DRAWS
    t = time.perf_counter()
    ctx = query.context()
    print(f"snapshot loaded in {time.perf_counter() - t:.2f} s; {draws:,} draws per evaluation")
    for name in model.example_names():
        body = model.read_example(name)
        ids, areas = set(ctx.catalogue.ids()), set(ctx.names.index)
        cold, med, m = timed(lambda: model.load_model(body, name, ids, areas))
        print(f"{name}\n  load + validate        cold {cold:.3f} s, median {med:.3f} s")
        cold, med, (place, pops, scales) = timed(lambda: inputs.resolve(ctx, m))
        print(f"  snapshot inputs        cold {cold:.3f} s, median {med:.3f} s")
        cold, med, r = timed(lambda: evaluate.evaluate(m, pops, scales, place, draws))
        verdict = "within" if med <= TARGET_S else "OVER"
        print(f"  evaluate               cold {cold:.3f} s, median {med:.3f} s ({verdict} the {TARGET_S:g} s target)")
        for fmt, fn in (("html", report.to_html), ("csv", report.csv_text), ("json", report.to_json)):
            cold, med, _ = timed(lambda: fn(r))
            print(f"  report {fmt:<5}           cold {cold:.3f} s, median {med:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
