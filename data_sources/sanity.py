"""Checks a freshly parsed dataset against the rows it would replace.

Why: a source that still answers 200 with valid CSV can still be wrong — cut short by a
broken export, or swapped for a different file. Parsing cannot tell; the previous snapshot
can. A dataset may not lose more than a stated share of its rows, areas or periods, and no
(indicator, period) it published may vanish, unless the person refreshing says so
(`--accept-shrink`). When a rule trips, refresh keeps the previous rows marked `stale`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Shape:
    """What a dataset covers: enough to notice it shrinking."""

    rows: int
    areas: int
    periods: int
    published: frozenset[tuple[str, str]]  # (indicator_id, period_code) pairs with at least one value

    @classmethod
    def of(cls, obs: pd.DataFrame) -> "Shape":
        valued = obs.loc[obs["value"].notna(), ["indicator_id", "period_code"]].astype(str).drop_duplicates()
        return cls(rows=len(obs), areas=int(obs["areacd"].nunique()), periods=int(obs["period_code"].nunique()),
                   published=frozenset(map(tuple, valued.to_numpy().tolist())))


def shrink_limits(path: Path | None = None) -> dict[str, float]:
    """Per-dataset limits from datasets.yaml's `shrink_limits` (slug: share); the rest use the setting."""
    raw = yaml.safe_load((path or HERE / "datasets.yaml").read_text(encoding="utf-8")) or {}
    limits = raw.get("shrink_limits") or {}
    bad = {k: v for k, v in limits.items() if not isinstance(v, (int, float)) or not 0 <= v <= 1}
    if bad:
        raise ValueError(f"datasets.yaml shrink_limits must be shares between 0 and 1: {bad}")
    return {str(k): float(v) for k, v in limits.items()}


def shrinkage(old: Shape, new: Shape, limit: float) -> list[str]:
    """Every way `new` falls short of `old` beyond `limit` (a share), in words; empty if none."""
    problems = []
    for what, before, after in (("rows", old.rows, new.rows), ("areas", old.areas, new.areas),
                                ("periods", old.periods, new.periods)):
        if before and after < before * (1 - limit):
            problems.append(f"{what} fell from {before:,} to {after:,} ({(before - after) / before:.0%}, "
                            f"limit {limit:.0%})")
    gone = sorted(old.published - new.published)
    if gone:
        shown = ", ".join(f"{ind} {period}" for ind, period in gone[:5])
        more = f" and {len(gone) - 5} more" if len(gone) > 5 else ""
        problems.append(f"{len(gone)} published period(s) disappeared: {shown}{more}")
    return problems
