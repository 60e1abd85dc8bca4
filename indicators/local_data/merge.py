"""Merge a local layer into the query context: catalogue entries, metadata rows and observations.

Why at context-build time and beside the snapshot's table: every page and method already asks
the context for slices, catalogue rows and source metadata, so a local indicator added there
appears on the map, the profile, the compare table and in plans without page-specific code,
while the snapshot's own table is shared, not copied (the pattern of derived indicators).
An area without a local value simply has no row: it is "no data", never zero.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pandas as pd

from .. import catalogue as catalogue_mod
from ..cache import BoundedCache
from .model import LOCAL_MARK, LocalIndicator, LocalLayer

if TYPE_CHECKING:
    from ..query import Context

OBS_COLUMNS = ["indicator_id", "areacd", "areanm", "level", "period_code", "period_label", "period_start",
               "period_end", "value", "lci", "uci", "status", "unit", "measure", "dataset", "notes", "source_line"]
_STR = ["indicator_id", "areacd", "areanm", "level", "period_code", "period_label", "status", "unit", "measure",
        "dataset", "notes"]


def catalogue_entry(ind: LocalIndicator, nations: list[str]) -> catalogue_mod.Indicator:
    """The catalogue judgement for an upload. Scored (kind outcome, its weight) only when the
    uploader opted in; otherwise it is shown beside the scored ones as context, weight 0."""
    m = ind.meta
    return catalogue_mod.Indicator(
        id=ind.id, label=f"{m.label} ({LOCAL_MARK})", dataset=ind.id, pillar=m.pillar, theme=m.theme,
        polarity=m.polarity, unit=m.unit, aggregation="not_aggregable", weight=m.weight if m.score else 0.0,
        nations=nations or ["E"], kind="outcome" if m.score else "context",
        note=f"Local data from {m.source} ({m.licence}). Polarity: {m.polarity_reason}")


def observations(ind: LocalIndicator, areas: pd.DataFrame) -> pd.DataFrame:
    """The upload's rows at every level each area belongs to (a unitary is both utla and ltla)."""
    levels = areas[["areacd", "areanm", "level"]].drop_duplicates(["areacd", "level"])
    rows = ind.rows.merge(levels, on="areacd", how="inner")
    rows = rows.assign(indicator_id=ind.id, unit=ind.meta.unit, measure=ind.meta.unit, dataset=ind.id,
                       notes=f"{LOCAL_MARK}: {ind.meta.source}", source_line=-1)
    for c in ("period_start", "period_end"):
        rows[c] = pd.to_datetime(rows[c].astype(str)).dt.date
    return rows[OBS_COLUMNS]


def metadata_row(ind: LocalIndicator, obs: pd.DataFrame, columns: pd.Index) -> dict:
    """A row of the snapshot's catalogue table for the upload: our source, its dates, its CI."""
    m = ind.meta
    starts = pd.to_datetime(obs["period_start"].astype(str)) if len(obs) else pd.Series([], dtype="datetime64[ns]")
    row = {c: None for c in columns}
    row.update({
        "indicator_id": ind.id, "indicator": m.label, "label": f"{m.label} ({LOCAL_MARK})",
        "subtitle": f"{m.label} ({LOCAL_MARK})", "description": f"Uploaded local data. {m.polarity_reason}",
        "caveats": f"Local data: not checked by the ONS. Licence: {m.licence}.",
        "source_org": f"Local data: {m.source}", "source_url": m.source_url, "source_date": None,
        "source_date_text": None, "unit": m.unit, "measure": m.unit, "decimal_places": 1,
        "experimental": False, "standardised": False, "dataset": ind.id,
        "nations": ",".join(sorted({a[0] for a in obs["areacd"] if a[:1] in "ENSW"})) or "E",
        "levels": ",".join(sorted(obs["level"].astype(str).unique())) if len(obs) else "",
        "has_ci": bool(ind.rows["lci"].notna().any()), "rows": len(obs), "from_fallback": False, "status": "ok",
        "first_period": starts.min().date() if len(obs) else None,
        "last_period": starts.max().date() if len(obs) else None,
    })
    return row


def merge(ctx: "Context", layer: LocalLayer) -> "Context":
    """A context that is `ctx` plus the layer's indicators; `ctx` itself is left as it was."""
    from ..query import _slices  # the query module imports this one lazily: no cycle at import time
    if not layer:
        return ctx
    known = set(ctx.catalogue.ids())
    entries, obs_parts, meta_rows = [], [], []
    for ind in layer.indicators:
        if ind.id in known:  # never shadow a national indicator
            continue
        obs = observations(ind, ctx.areas)
        nations = sorted({a[0] for a in obs["areacd"] if a[:1] in ("E", "N", "S", "W")})
        entries.append(catalogue_entry(ind, nations))
        obs_parts.append(obs)
        meta_rows.append(metadata_row(ind, obs, ctx.snapshot.catalogue.columns))
    if not entries:
        return ctx
    obs = pd.concat(obs_parts, ignore_index=True).astype({c: str for c in _STR})
    obs = obs.sort_values(["indicator_id", "level", "areacd", "period_start"], kind="stable", ignore_index=True)
    slices = dict(ctx._slices)
    slices.update(_slices(obs.astype({"indicator_id": "category", "level": "category"})))
    cat = catalogue_mod.Catalogue.model_construct(indicators=[*ctx.catalogue.indicators, *entries])
    local_frame = catalogue_mod.Catalogue.model_construct(indicators=entries).frame()
    sources = {i.id: i.meta.source for i in layer.indicators}
    local_frame = local_frame.assign(local=True, local_source=local_frame["id"].map(sources))
    base = ctx.cat if "local" in ctx.cat else ctx.cat.assign(local=False, local_source=None)
    frame = pd.concat([base, local_frame[base.columns]])
    snap_cat = pd.concat([ctx.snapshot.catalogue, pd.DataFrame(meta_rows)], ignore_index=True)
    derived = pd.concat([ctx.derived, obs], ignore_index=True) if len(ctx.derived) else obs
    return replace(ctx, snapshot=replace(ctx.snapshot, catalogue=snap_cat), catalogue=cat, cat=frame,
                   _slices=slices, _cache=BoundedCache(_cache_limits()), derived=derived,
                   _derived_by_area=None, local_fingerprint=layer.fingerprint)


def _cache_limits() -> dict[str, int]:
    """The shared context's limits, with far fewer per-area splits: a merged context serves one
    visitor (public mode) or one folder, and several may be alive at once."""
    from ..query import CACHE_LIMITS
    return {**CACHE_LIMITS, "area_ind": 8}


def local_ids(ctx: "Context") -> list[str]:
    """Ids of the local indicators in a context (none for the snapshot's own)."""
    return ctx.cat.index[ctx.cat["local"].astype(bool)].tolist() if "local" in ctx.cat else []
