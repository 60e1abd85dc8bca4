"""Community weights: the mean rating of each theme over a place's responses, with 95% intervals.

Method (indicators/methods.md, "Resident priorities"):
- per theme, the mean of the 0–10 ratings with a Student-t interval, mean ± t(0.975, n−1)·s/√n — the
  textbook interval for a mean, checkable by hand, and close to exact here because a mean of 30 or more
  bounded ratings is near normal;
- the economy share: for each resident, the mean of their economy ratings (jobs, pay, productivity)
  divided by that plus the mean of their public-service ratings (health, education, housing, poverty,
  crime and safety, wellbeing). Means, not sums, so a resident who rates every theme alike gives 50%,
  the default weight; one resident one voice, whatever the spread of their scale. Residents who rate
  all nine of those themes 0 have no split and are left out of the share (not of the theme means).
  Its interval is the t interval of those per-resident shares.
All places are summarised at once with a group-by: no loop over places.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .errors import PrioritiesError
from .themes import MIN_RESPONSES, PILLAR_OF, THEME_LABELS, THEMES

LEVEL = 0.95
ECONOMY = [t for t in THEMES if PILLAR_OF[t] == "economy"]
SERVICES = [t for t in THEMES if PILLAR_OF[t] == "public_services"]


def _economy_share(frame: pd.DataFrame) -> pd.Series:
    econ = frame[ECONOMY].mean(axis=1)
    services = frame[SERVICES].mean(axis=1)
    total = econ + services
    return (econ / total).where(total > 0)


VALUES = [*THEMES, "economy_share"]
COLUMNS = ["n", "first", "last"] + [f"{v}_{k}" for v in VALUES for k in ("mean", "lo", "hi")]


def from_moments(m: pd.DataFrame, level: float = LEVEL) -> pd.DataFrame:
    """Means and t intervals from per-place moments: `m` indexed by areacd with n, first, last and,
    for each value v (the themes and economy_share), v_count, v_sum and v_sumsq. The database can
    compute those moments itself (ResponseStore.summary), so 100,000 responses never cross the wire;
    s² = (Σx² − (Σx)²/k) / (k − 1). Intervals need k ≥ 2 (NaN otherwise)."""
    out = pd.DataFrame(index=m.index)
    out["n"] = m["n"].astype(int)
    out["first"], out["last"] = m["first"], m["last"]
    for v in VALUES:
        k = m[f"{v}_count"].astype("float64")
        total, squares = m[f"{v}_sum"].astype("float64"), m[f"{v}_sumsq"].astype("float64")
        mean = total / k.where(k > 0)
        var = ((squares - total * total / k.where(k > 0)) / (k - 1).where(k >= 2)).clip(lower=0)
        half = stats.t.ppf(0.5 + level / 2, np.maximum(k - 1, 1)) * np.sqrt(var / k)
        out[f"{v}_mean"], out[f"{v}_lo"], out[f"{v}_hi"] = mean, mean - half, mean + half
    return out[COLUMNS]


def summarise(frame: pd.DataFrame, level: float = LEVEL) -> pd.DataFrame:
    """One row per place: n, first, last, and for each theme and for `economy_share` the mean, lo, hi.

    `frame` is one row per response (areacd, created_at, one column per theme), as the store's
    `ratings()` gives it; the same numbers as the store's `summary()`, computed in pandas."""
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS, index=pd.Index([], name="areacd"))
    data = frame[["areacd", *THEMES]].astype({t: "float64" for t in THEMES})
    data["economy_share"] = _economy_share(data)
    squares = (data[VALUES] ** 2).add_suffix("_sq")
    g = pd.concat([data, squares], axis=1).groupby("areacd", sort=True)
    m = pd.DataFrame({"n": g.size()})
    times = frame.groupby("areacd", sort=True)["created_at"]
    m["first"], m["last"] = times.min(), times.max()
    counts, sums, sumsq = g[VALUES].count(), g[VALUES].sum(), g[[f"{v}_sq" for v in VALUES]].sum()
    for v in VALUES:
        m[f"{v}_count"], m[f"{v}_sum"], m[f"{v}_sumsq"] = counts[v], sums[v], sumsq[f"{v}_sq"]
    return from_moments(m, level)


@dataclass(frozen=True)
class CommunityWeights:
    """What a place's residents said, and whether there are enough of them to weight a score."""

    areacd: str
    n: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    themes: pd.DataFrame  # theme, label, mean, lo, hi
    economy_share: float
    economy_share_lo: float
    economy_share_hi: float
    minimum: int = MIN_RESPONSES

    @property
    def enough(self) -> bool:
        return self.n >= self.minimum

    @property
    def needed(self) -> int:
        """How many more responses before the weights can be used."""
        return max(self.minimum - self.n, 0)


def community_weights(frame: pd.DataFrame, areacd: str, minimum: int = MIN_RESPONSES) -> CommunityWeights:
    """The place's community weights from its responses (the store's `ratings(areacd)` frame)."""
    return from_summary(summarise(frame.loc[frame["areacd"] == areacd]), areacd, minimum)


def from_summary(summary: pd.DataFrame, areacd: str, minimum: int = MIN_RESPONSES) -> CommunityWeights:
    """The place's community weights from a summary frame (summarise() or ResponseStore.summary())."""
    rows = summary.loc[summary.index == areacd]
    if rows.empty:
        empty = pd.DataFrame({"theme": list(THEMES), "label": [THEME_LABELS[t] for t in THEMES],
                              "mean": np.nan, "lo": np.nan, "hi": np.nan})
        return CommunityWeights(areacd, 0, None, None, empty, np.nan, np.nan, np.nan, minimum)
    r = rows.iloc[0]
    themes = pd.DataFrame({"theme": list(THEMES), "label": [THEME_LABELS[t] for t in THEMES],
                           "mean": [r[f"{t}_mean"] for t in THEMES], "lo": [r[f"{t}_lo"] for t in THEMES],
                           "hi": [r[f"{t}_hi"] for t in THEMES]})
    return CommunityWeights(areacd, int(r["n"]), r["first"], r["last"], themes, float(r["economy_share_mean"]),
                            float(r["economy_share_lo"]), float(r["economy_share_hi"]), minimum)


def pillar_weights(cw: CommunityWeights) -> tuple[tuple[str, float], ...]:
    """The scoring engine's pillar weights (scoring.Options.weights) from a place's community weights,
    rounded to a whole per cent so cached scores are shared between places with the same split."""
    if not cw.enough or not np.isfinite(cw.economy_share):
        raise PrioritiesError(f"{cw.areacd} has {cw.n} responses; community weights need at least {cw.minimum}")
    economy = round(float(cw.economy_share), 2)
    return (("economy", economy), ("public_services", round(1 - economy, 2)))
