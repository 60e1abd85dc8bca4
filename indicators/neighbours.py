"""Comparing a place with places like it: ONS nearest neighbours, clusters and a difference-in-differences.

Why peers: a raw change over time mixes what happened in a place with what happened to every
place like it (a national recession, a new survey method). Comparing with statistically
similar areas separates the two. The peer sets are the ONS "nearest neighbours" and the ONS
local authority clusters (ONS, "Clustering similar local authorities in the UK", 2024), shipped
in the snapshot as ``neighbours.parquet`` (areacd, kind, rank, neighbour_areacd) and
``clusters.parquet`` (areacd, areanm, kind, cluster, description). A reader may also supply their
own peers (:func:`custom_peers`).

Why a difference-in-differences: "did this place improve more than its peers after date X?" is
the textbook two-way fixed-effects DiD (Angrist & Pischke, *Mostly Harmless Econometrics*, 2009,
ch. 5): area and period fixed effects absorb level differences and common shocks, and the
coefficient on treated*post is the place's change beyond its peers'. Its caveats (one treated
area, few clusters, parallel trends) are stated in every result, not hidden.

Pure functions over DataFrames: no I/O, no streamlit.
"""
from __future__ import annotations

import datetime as _dt
import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

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
]

# The three ONS neighbour/cluster sets: on all variables, on economic ones, on demographic ones.
NEIGHBOUR_KINDS = ("global", "economic", "demographic")
POLARITIES = ("higher_is_better", "lower_is_better", "neutral")
# The place needs at least this many periods with data before the treatment date: with one,
# the place's pre-period level is a single (possibly noisy) observation and nothing at all
# speaks to whether it was trending like its peers.
MIN_PRE_PERIODS = 2
MIN_PEERS = 2

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
    if rows.empty:
        raise UnknownAreaError(f"no ONS {kind} nearest neighbours for area {areacd!r}: the ONS publishes "
                               "them for local authorities (and some counties and combined authorities) only")
    rows = rows.sort_values("rank", kind="stable")
    return [str(c) for c in rows["neighbour_areacd"].head(n)]


def cluster_of(clusters: pd.DataFrame, areacd: str, kind: str = "global") -> dict[str, Any] | None:
    """The ONS cluster of `areacd`: {cluster, description, members}, or None if it has none.

    Why: the cluster is the broader "places like this" group (a handful of clusters over all
    local authorities; ONS, "Clustering similar local authorities in the UK", 2024) whose
    published description tells a reader in words what the place is like. `members` lists
    every area of the cluster (the place included), sorted by code. None when the area is not
    in the table or its cluster is blank (a few areas are left unclustered by the ONS).
    """
    _check_kind(kind)
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

    `estimate` is the place's change after the treatment date beyond its peers' change, in the
    indicator's units; `lci`/`uci` its (1-alpha) interval. `pre_periods`/`post_periods` count the
    place's own periods with data either side of the treatment date; `n_areas`/`n_periods` what
    the regression used. `note` says in plain English what was compared and the caveats.
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
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return pd.Timestamp(int(value), 1, 1)
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return pd.Timestamp(value.year, value.month, value.day)
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts


def _verdict(estimate: float, lci: float, uci: float, polarity: str) -> str:
    if not (lci > 0 or uci < 0):
        return VERDICT_NO_DIFFERENCE
    up = estimate > 0
    if polarity == "neutral":
        return VERDICT_HIGHER if up else VERDICT_LOWER
    good = up if polarity == "higher_is_better" else not up
    return VERDICT_BETTER if good else VERDICT_WORSE


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def difference_in_differences(panel: pd.DataFrame, place: str, peers: list[str], treatment_start: Any,
                              polarity: str = "higher_is_better", alpha: float = 0.05) -> DiD:
    """Did `place` change more than its `peers` after `treatment_start`? A two-way fixed-effects DiD.

    Method (Angrist & Pischke 2009, ch. 5; Bertrand, Duflo & Mullainathan 2004 for clustering):
    keep the place's and peers' rows with a value; treated = the place, post = period_start >=
    treatment_start; fit OLS ``value ~ C(areacd) + C(period) + treated_post`` (area and period
    fixed effects) with standard errors clustered by area, and read the coefficient on
    treated_post. On a balanced panel it equals the textbook
    (ȳ_T,post − ȳ_T,pre) − (ȳ_C,post − ȳ_C,pre), with period means taken per period.

    Inference uses the t distribution with (areas − 1) degrees of freedom, the usual small-G
    choice (Cameron & Miller 2015), which is more cautious than the normal.

    Caveats, stated in `note`: (1) with a single treated area the cluster-robust SE rests on few
    clusters and only one of them treated; the place's own residuals drop out of it, so the
    interval reflects peer noise only and tends to be too narrow (Conley & Taber 2011;
    MacKinnon & Webb 2017). (2) It assumes the place would have moved in parallel with its
    peers without the treatment. Read the verdict as a screening signal, not proof.

    Verdict: 'better than peers' / 'worse than peers' only when the interval excludes 0, by
    `polarity` ('higher than peers' / 'lower than peers' when neutral); otherwise 'no
    significant difference'. 'too little data' when the place has fewer than two periods with
    data before the date, none after, or fewer than two peers have data both before and after.

    `panel` has columns areacd, period_start, value (others ignored). Raises ValueError for an
    unknown polarity or an alpha outside (0, 1).
    """
    if polarity not in POLARITIES:
        raise ValueError(f"unknown polarity {polarity!r}: expected one of {', '.join(POLARITIES)}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    start = _as_timestamp(treatment_start)
    peerset = {str(p) for p in peers} - {place}

    data = pd.DataFrame({
        "areacd": _text(panel["areacd"]).to_numpy(),
        "period_start": pd.to_datetime(pd.Series(panel["period_start"]).astype(object)).to_numpy(),
        "value": pd.to_numeric(panel["value"], errors="coerce").to_numpy(dtype=float),
    })
    data = data[(data["areacd"].eq(place) | data["areacd"].isin(peerset))
                & np.isfinite(data["value"]) & data["period_start"].notna()]
    # One value per area and period: a duplicated row would double-weight that observation.
    data = data.drop_duplicates(["areacd", "period_start"], keep="last").reset_index(drop=True)
    data["post"] = (data["period_start"] >= start).astype(int)
    data["treated"] = (data["areacd"] == place).astype(int)

    own = data[data["treated"] == 1]
    pre_n = int((own["post"] == 0).sum())
    post_n = int((own["post"] == 1).sum())
    peer_rows = data[data["treated"] == 0]
    sides = peer_rows.groupby("areacd")["post"].agg(["min", "max"])
    usable_peers = int(((sides["min"] == 0) & (sides["max"] == 1)).sum())
    n_areas = int(data["areacd"].nunique())
    n_periods = int(data["period_start"].nunique())
    when = start.date().isoformat()

    def too_little(reason: str) -> DiD:
        return DiD(None, None, None, None, None, n_areas, n_periods, pre_n, post_n, VERDICT_TOO_LITTLE,
                   f"Too little data to compare with peers: {reason}.")

    if pre_n < MIN_PRE_PERIODS:
        return too_little(f"the place has {_plural(pre_n, 'period')} with data before {when} "
                          f"(at least {MIN_PRE_PERIODS} needed)")
    if post_n == 0:
        return too_little(f"the place has no data from {when} on")
    if usable_peers < MIN_PEERS:
        return too_little(f"{_plural(usable_peers, 'peer')} of {len(peerset)} "
                          f"{'has' if usable_peers == 1 else 'have'} data both before and from {when} "
                          f"(at least {MIN_PEERS} needed)")

    import statsmodels.api as sm  # deferred: a heavy import only the DiD needs

    # Design matrix built directly (constant, area and period dummies, treated×post): the same
    # model as the formula value ~ C(areacd) + C(period) + treated_post, without formula parsing.
    area_dummies = pd.get_dummies(data["areacd"], drop_first=True, dtype=float)
    period_dummies = pd.get_dummies(data["period_start"], drop_first=True, dtype=float)
    exog = np.column_stack([np.ones(len(data)), area_dummies.to_numpy(), period_dummies.to_numpy(),
                            (data["treated"] * data["post"]).to_numpy(dtype=float)])
    groups = pd.factorize(data["areacd"])[0]
    try:
        with warnings.catch_warnings():
            # An exact fit (hand-built data) makes statsmodels warn about dividing by zero.
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = sm.OLS(data["value"].to_numpy(dtype=float), exog).fit(
                cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
            k = exog.shape[1] - 1
            estimate = float(fit.params[k])
            se = float(fit.bse[k])
            lci, uci = (float(x) for x in fit.conf_int(alpha=alpha)[k])
            p_value = float(fit.pvalues[k])
    except (ValueError, np.linalg.LinAlgError) as exc:  # pragma: no cover - defensive
        return too_little(f"the regression could not be fitted ({exc})")
    if not all(math.isfinite(x) for x in (estimate, se, lci, uci)):
        return too_little("the regression gave no usable estimate or interval")

    verdict = _verdict(estimate, lci, uci, polarity)
    level = round((1 - alpha) * 100, 1)
    note = (f"Change from {when} compared with {_plural(n_areas - 1, 'peer')} "
            f"({usable_peers} with data before and after) over {_plural(n_periods, 'period')}; "
            f"the place has {pre_n} before and {post_n} from then. {level:g}% interval with standard "
            f"errors clustered by area: {n_areas} clusters with a single treated area, so the interval "
            "is likely too narrow (Conley & Taber 2011). Assumes the place would otherwise have moved "
            "in parallel with its peers.")
    return DiD(estimate, lci, uci, se, None if math.isnan(p_value) else p_value, n_areas, n_periods,
               pre_n, post_n, verdict, note)


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
