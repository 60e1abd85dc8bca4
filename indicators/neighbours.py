"""Comparing a place with places like it: ONS nearest neighbours, clusters and a difference-in-differences.

Why peers: a raw change over time mixes what happened in a place with what happened to every
place like it (a national recession, a new survey method). Comparing with statistically
similar areas separates the two. The peer sets are the ONS "nearest neighbours" and the ONS
local authority clusters (ONS, "Clustering similar local authorities in the UK", 2024), shipped
in the snapshot as ``neighbours.parquet`` (areacd, kind, rank, neighbour_areacd) and
``clusters.parquet`` (areacd, areanm, kind, cluster, description). A reader may also supply their
own peers (:func:`custom_peers`).

Why a difference-in-differences: "did this place improve more than its peers after date X?" is
the textbook DiD (Angrist & Pischke, *Mostly Harmless Econometrics*, 2009, ch. 5). With one
treated place its inference is by placebos in space over the peers, never cluster-robust
standard errors (Conley & Taber 2011). It is the secondary line: the headline comparison is the
synthetic control in :mod:`indicators.counterfactual`, which shares its period and data rules.

Pure functions over DataFrames: no I/O, no streamlit.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import counterfactual as cf
from .errors import UnknownAreaError

__all__ = [
    "NEIGHBOUR_KINDS",
    "POLARITIES",
    "DiD",
    "UnknownAreaError",
    "cluster_of",
    "custom_peers",
    "difference_in_differences",
    "neighbour_mean",
    "neighbour_set",
    "peer_panel",
    "rural_urban_neighbours",
]

# The three ONS neighbour/cluster sets: on all variables, on economic ones, on demographic ones.
ONS_KINDS = ("global", "economic", "demographic")
# Besides them, districts of the same 2021 rural–urban class (see rural_urban_neighbours).
RURAL_URBAN = "rural_urban"
NEIGHBOUR_KINDS = (*ONS_KINDS, RURAL_URBAN)
POLARITIES = ("higher_is_better", "lower_is_better", "neutral")
# The minimum data for a comparison, shared with the synthetic control (see counterfactual).
MIN_PRE_PERIODS = cf.MIN_PRE_PERIODS
MIN_PEERS = cf.MIN_DONORS

VERDICT_BETTER = "better than peers"
VERDICT_WORSE = "worse than peers"
VERDICT_HIGHER = "higher than peers"
VERDICT_LOWER = "lower than peers"
VERDICT_NO_DIFFERENCE = "no significant difference"
VERDICT_TOO_LITTLE = "too little data"


def _check_kind(kind: str) -> None:
    if kind not in NEIGHBOUR_KINDS:
        raise ValueError(f"unknown neighbour kind {kind!r}: expected one of {', '.join(NEIGHBOUR_KINDS)}")


def _text(col: pd.Series) -> pd.Series:
    """Text column as plain str, whether it arrives as str, object or Categorical."""
    return col.astype(str)


def neighbour_set(neighbours: pd.DataFrame, areacd: str, kind: str = "global", n: int = 20) -> list[str]:
    """The ONS nearest neighbours of `areacd`, most similar first (at most `n`).

    Why rank order and not a set: the ONS publishes the 20 nearest in order of distance on
    standardised variables (ONS local authority nearest neighbours, 2024), so the first five
    are the closest peers and a caller asking for fewer should get those.

    Raises ValueError for an unknown `kind` or `n` < 1, and UnknownAreaError when the table
    has no neighbours of that kind for the area (e.g. a code from outside the ONS set).
    """
    _check_kind(kind)
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    rows = neighbours[(_text(neighbours["areacd"]) == areacd) & (_text(neighbours["kind"]) == kind)]
    if rows.empty and kind == RURAL_URBAN:
        raise UnknownAreaError(f"no districts of the same rural-urban class for area {areacd!r}: the 2021 "
                               "classification covers districts of England and Wales only")
    if rows.empty:
        raise UnknownAreaError(f"no ONS {kind} nearest neighbours for area {areacd!r}: the ONS publishes "
                               "them for local authorities (and some counties and combined authorities) only")
    rows = rows.sort_values("rank", kind="stable")
    return [str(c) for c in rows["neighbour_areacd"].head(n)]


def rural_urban_neighbours(rural_urban: pd.DataFrame, neighbours: pd.DataFrame) -> pd.DataFrame:
    """Rural–urban peers in the shape of the ONS neighbour table (areacd, kind, rank, neighbour_areacd).

    Why: "similar rural districts" is the comparison group rural places ask for, and the 2021
    rural–urban classification (ONS/Defra) puts every district of England and Wales in one of
    eight classes. A district's peers are the other districts of its class in its own nation
    (the classification is shared, but the data compared often is not); the ONS global
    neighbours among them come first in their ONS order, the rest follow by code, so a caller
    asking for the first 20 gets the most similar places of the same class."""
    ruc = pd.DataFrame({"areacd": _text(rural_urban["areacd"]), "ruc": _text(rural_urban["ruc21_code"])})
    ruc["nation"] = ruc["areacd"].str[0]
    pairs = ruc.merge(ruc, on=["ruc", "nation"], suffixes=("", "_peer"))
    pairs = pairs.loc[pairs["areacd"] != pairs["areacd_peer"], ["areacd", "areacd_peer"]]
    ons = neighbours.loc[_text(neighbours["kind"]) == "global", ["areacd", "neighbour_areacd", "rank"]]
    ons = ons.astype({"areacd": str, "neighbour_areacd": str}).rename(
        columns={"neighbour_areacd": "areacd_peer", "rank": "ons_rank"})
    pairs = pairs.merge(ons, on=["areacd", "areacd_peer"], how="left")
    pairs = pairs.sort_values(["areacd", "ons_rank", "areacd_peer"], na_position="last", kind="stable")
    return pd.DataFrame({
        "areacd": pairs["areacd"].to_numpy(),
        "kind": RURAL_URBAN,
        "rank": (pairs.groupby("areacd").cumcount() + 1).to_numpy(dtype="int64"),
        "neighbour_areacd": pairs["areacd_peer"].to_numpy(),
    })


def cluster_of(clusters: pd.DataFrame, areacd: str, kind: str = "global") -> dict[str, Any] | None:
    """The ONS cluster of `areacd`: {cluster, description, members}, or None if it has none.

    Why: the cluster is the broader "places like this" group (a handful of clusters over all
    local authorities; ONS, "Clustering similar local authorities in the UK", 2024) whose
    published description tells a reader in words what the place is like. `members` lists
    every area of the cluster (the place included), sorted by code. None when the area is not
    in the table or its cluster is blank (a few areas are left unclustered by the ONS).
    """
    if kind not in ONS_KINDS:
        raise ValueError(f"unknown cluster kind {kind!r}: expected one of {', '.join(ONS_KINDS)}")
    of_kind = clusters[_text(clusters["kind"]) == kind]
    codes = _text(of_kind["areacd"])
    row = of_kind[codes == areacd]
    if row.empty:
        return None
    cluster = row["cluster"].iloc[0]
    if cluster is None or pd.isna(cluster) or str(cluster).strip() == "":
        return None
    cluster = str(cluster)
    description = row["description"].iloc[0]
    members = sorted(codes[_text(of_kind["cluster"]) == cluster].unique().tolist())
    return {
        "cluster": cluster,
        "description": None if description is None or pd.isna(description) else str(description),
        "members": members,
    }


def custom_peers(codes: Iterable[str], known_codes: Iterable[str], areacd: str | None = None) -> list[str]:
    """Validate a reader's own peer list: stripped, de-duplicated in order, without the place itself.

    Why strict: a silently dropped typo would change the comparison without the reader
    knowing, so every unknown code is named in one UnknownAreaError (not just the first).
    Codes are not upper-cased: some pseudo-area codes are lower case.
    """
    known = {str(c) for c in known_codes}
    seen: set[str] = set()
    out: list[str] = []
    for raw in codes:
        code = str(raw).strip()
        if not code or code in seen or code == areacd:
            continue
        seen.add(code)
        out.append(code)
    unknown = [c for c in out if c not in known]
    if unknown:
        raise UnknownAreaError(f"unknown area code{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
    return out


def neighbour_mean(values: pd.Series, peers: list[str]) -> tuple[float | None, int]:
    """Mean of the peers' values (a Series indexed by areacd), ignoring missing ones, and how many had data.

    Why return the count: a "peer average" over 3 of 20 neighbours is a different claim from one
    over all 20, and the caller must be able to say so. An unweighted mean: each ONS neighbour is
    one comparator place, not a population share. (None, 0) when no peer has data.
    """
    peerset = {str(p) for p in peers}
    s = pd.to_numeric(pd.Series(np.asarray(values), index=values.index.astype(str)), errors="coerce")
    sel = s[s.index.isin(peerset)]
    if sel.index.duplicated().any():
        dup = sorted(set(sel.index[sel.index.duplicated()]))
        raise ValueError(f"values has more than one row for peer(s) {', '.join(dup)}")
    sel = sel.dropna()
    if sel.empty:
        return None, 0
    return float(sel.mean()), int(len(sel))


@dataclass(frozen=True)
class DiD:
    """A difference-in-differences result, with what it rests on.

    `estimate` is the place's change after the start date beyond its peers' change, in the
    indicator's units; `lci`/`uci` its (1-alpha) placebo range; `p_value` the placebo-in-space
    permutation p-value. `se` is always None: with one treated area there is no valid standard
    error (Conley & Taber 2011), and the field stays only so older readers of the shape work.
    `pre_periods`/`post_periods` count the place's non-overlapping periods wholly before and
    from the start date; `n_areas`/`n_periods` what was compared. `note` says it in words.
    """

    estimate: float | None
    lci: float | None
    uci: float | None
    se: float | None
    p_value: float | None
    n_areas: int
    n_periods: int
    pre_periods: int
    post_periods: int
    verdict: str
    note: str


def _as_timestamp(value: Any) -> pd.Timestamp:
    """A treatment date as a Timestamp; a bare year (int) means 1 January of that year."""
    return cf.as_timestamp(value)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def difference_in_differences(panel: pd.DataFrame, place: str, peers: list[str], treatment_start: Any,
                              polarity: str = "higher_is_better", alpha: float = 0.10) -> DiD:
    """Did `place` change more than its `peers` after `treatment_start`? A DiD with placebo inference.

    Estimate (Angrist & Pischke 2009, ch. 5): on the balanced panel of the place's
    non-overlapping periods wholly before the date and starting on or after it (a pooled period
    spanning the date is neither; see `counterfactual.select_periods`), with every peer that has
    all of them, (ȳ_T,post − ȳ_T,pre) − (ȳ_C,post − ȳ_C,pre) — which is what two-way fixed
    effects give on a balanced panel.

    Inference is by placebos in space, never cluster-robust standard errors: with one treated
    area those rest on the peers' noise only and were too narrow by half (Conley & Taber 2011;
    on the snapshot they called 62% of fits with a fake date and nothing treated). Every peer
    in turn is the "treated" area against the other peers; the p-value is the place's rank of
    |DiD| over its own pre-period departure from parallel (see `counterfactual.did_statistic`),
    and the interval is the estimate minus the spread of the peers' placebo estimates, each
    rescaled to the place's pre-period departure from parallel.

    Verdict: 'better than peers' / 'worse than peers' (by `polarity`; 'higher/lower than peers'
    when neutral) only when p ≤ 0.10; otherwise 'no significant difference'. 'too little
    data' with fewer than 3 pre periods, none after, or fewer than 9 peers with complete data
    (the smallest possible p-value is 1/(peers+1)).

    `panel` has columns areacd, period_start, value and optionally period_end (others
    ignored). Raises ValueError for an unknown polarity or an alpha outside (0, 1).
    """
    if polarity not in POLARITIES:
        raise ValueError(f"unknown polarity {polarity!r}: expected one of {', '.join(POLARITIES)}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    when = _as_timestamp(treatment_start).date().isoformat()
    bp = cf.balanced_panel(panel, place, list(peers), treatment_start)
    pre_n, post_n, usable = int(bp.pre.sum()), int(bp.post.sum()), len(bp.units) - 1
    n_areas, n_periods = len(bp.units), len(bp.period_starts)

    def too_little(reason: str) -> DiD:
        return DiD(None, None, None, None, None, n_areas, n_periods, pre_n, post_n, VERDICT_TOO_LITTLE,
                   f"Too little data to compare with peers: {reason}.")

    if pre_n < cf.MIN_PRE_PERIODS:
        return too_little(f"the place has {_plural(pre_n, 'separate period')} with data wholly before {when} "
                          f"(at least {cf.MIN_PRE_PERIODS} needed)")
    if post_n == 0:
        return too_little(f"the place has no data from {when} on")
    if usable < cf.MIN_DONORS:
        return too_little(f"{_plural(usable, 'peer')} of {bp.offered_donors} "
                          f"{'has' if usable == 1 else 'have'} data in every period the place has "
                          f"(at least {cf.MIN_DONORS} needed: with {usable} the smallest possible p-value "
                          f"is 1/{usable + 1})")

    pl = cf.placebo_in_space(bp.values, bp.pre, bp.post)
    floor = 1e-9 * max(1.0, float(np.nanmax(np.abs(bp.values))))
    p_value = cf.permutation_p(cf.did_statistic(pl, floor))
    estimate = float(pl.did[0])
    lci, uci = cf.placebo_interval(pl.did, np.maximum(pl.did_pre_rmse, floor), 1 - alpha)
    verdict = VERDICT_NO_DIFFERENCE
    if p_value <= cf.P_THRESHOLD:
        verdict = {cf.VERDICT_BETTER: VERDICT_BETTER, cf.VERDICT_WORSE: VERDICT_WORSE,
                   cf.VERDICT_HIGHER: VERDICT_HIGHER, cf.VERDICT_LOWER: VERDICT_LOWER}[
            cf.direction_verdict(estimate, polarity)]
    level = round((1 - alpha) * 100, 1)
    note = (f"Change from {when} compared with {_plural(usable, 'peer')} over {_plural(n_periods, 'period')} "
            f"({pre_n} wholly before, {post_n} from then"
            f"{'; ' + _plural(bp.straddling, 'period') + ' spanning the date left out' if bp.straddling else ''}). "
            f"Placebo p-value {p_value:.2f} from trying each of the {usable} peers as if it had been treated; "
            f"{level:g}% range from those placebos. Assumes the place would otherwise have moved in parallel "
            "with its peers.")
    return DiD(estimate, lci, uci, None, p_value, n_areas, n_periods, pre_n, post_n, verdict, note)


def peer_panel(observations: pd.DataFrame, indicator_id: str, level: str, codes: list[str]) -> pd.DataFrame:
    """Long-format rows [areacd, period_start, period_code, value] of one indicator at one level for `codes`.

    Why a helper: the DiD and the peer charts need the same slice, and text columns may arrive
    as Categoricals from the snapshot loader, so the comparison is done on plain str here once.
    Missing values are kept (as NaN): whether to drop them is the caller's judgement.
    """
    wanted = {str(c) for c in codes}
    rows = observations[(_text(observations["indicator_id"]) == indicator_id)
                        & (_text(observations["level"]) == level)
                        & _text(observations["areacd"]).isin(wanted)]
    rows = rows.reset_index(drop=True)
    out = pd.DataFrame({
        "areacd": _text(rows["areacd"]),
        "period_start": rows["period_start"],
        "period_code": _text(rows["period_code"]),
        "value": pd.to_numeric(rows["value"], errors="coerce").astype(float),
    })
    return out.sort_values(["areacd", "period_start"], kind="stable").reset_index(drop=True)
