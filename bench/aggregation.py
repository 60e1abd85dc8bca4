"""Benchmark: do population-weighted district aggregates reproduce published CA and region values?

Prints the agreement table (share within 1% or within the published rounding) by level and by
indicator, for every rate indicator where ONS publishes both district and higher-level values.

    python bench/aggregation.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indicators import aggregate, query  # noqa: E402


def main() -> None:
    ctx = query.context()
    t = time.perf_counter()
    table = aggregate.agreement(ctx)
    took = time.perf_counter() - t
    pd.set_option("display.width", 160)
    pd.set_option("display.max_rows", 200)
    print(f"{len(table)} comparisons of {table['indicator_id'].nunique()} rate indicators in {took:.1f} s")
    print(f"share within 1% (or the published rounding): {table['within_tolerance'].mean():.1%}\n")
    print(table.groupby("level")["within_tolerance"].agg(["mean", "size"]).rename(
        columns={"mean": "share within", "size": "comparisons"}).to_string(float_format="{:.1%}".format))
    print()
    by = (table.groupby("indicator_id").agg(share=("within_tolerance", "mean"), comparisons=("within_tolerance", "size"),
                                            median_rel_diff=("relative_difference", "median"))
          .sort_values("share"))
    print(by.to_string(float_format="{:.3f}".format))


if __name__ == "__main__":
    main()
