"""Benchmark: do district aggregates reproduce the values published for CAs and regions?

Prints, for every rate and count indicator where ONS publishes both district and higher-level
values, n compared of n published, the share strictly within 1%, the extra share within the
published rounding only, and what is left out and why; then the same by level and by indicator.

    python bench/aggregation.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from indicators import aggregate, query  # noqa: E402


def _by(table: pd.DataFrame, key: str) -> pd.DataFrame:
    return (table.groupby(key)
            .agg(published=("compared", "size"), compared=("compared", "sum"),
                 strict=("strict", "sum"), rounding_only=("rounding_only", "sum"),
                 median_rel_diff=("relative_difference", "median"))
            .assign(strict_share=lambda f: f["strict"] / f["compared"].where(f["compared"] > 0))
            .sort_values("strict_share"))


def main() -> None:
    ctx = query.context()
    t = time.perf_counter()
    table = aggregate.agreement(ctx)
    took = time.perf_counter() - t
    pd.set_option("display.width", 180)
    pd.set_option("display.max_rows", 300)
    print(f"{len(table)} published values of {table['indicator_id'].nunique()} indicators in {took:.1f} s")
    for line in aggregate.summarise(table).lines():
        print(line)
    print()
    print(_by(table, "level").to_string(float_format="{:.3f}".format))
    print()
    print(_by(table, "indicator_id").to_string(float_format="{:.3f}".format))
    print("\nleft out, by indicator:")
    gone = table.loc[~table["compared"]]
    print(gone.groupby(["reason", "indicator_id"]).size().rename("values").to_string())


if __name__ == "__main__":
    main()
