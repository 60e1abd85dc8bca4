"""Refresh: fetch every source over HTTP, parse, and swap in a new snapshot.

The rules that keep users' data safe live here:
- a dataset that fails while others succeed keeps its previous rows, marked `stale`;
- a refresh where nothing attempted succeeded, or a required source is unavailable,
  fails as a whole and the live snapshot is left byte-identical;
- an upstream file that has not changed (HTTP 304) is not downloaded again;
- a dataset that comes back much smaller than the rows it would replace, or without a period
  it used to publish, keeps its previous rows marked `stale` unless `accept_shrink` is given
  (see sanity.py);
- every download and the refresh as a whole end by a deadline; a refresh past its deadline
  fails as a whole.
"""
from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import requests

from . import deprivation, geography, oflog_asc, sanity
from .errors import DataSourceError, FetchError, NotFoundError, ValidationError
from .http import Fetched, fetch, make_session
from .ons_local_stats import (
    OBSERVATION_COLUMNS, DatasetSpec, Parsed, load_dataset_specs, parse_csv, parse_fallback, parse_metadata,
)
from .settings import Settings
from .store import clean_leftovers, has_snapshot, read_manifest, read_table, refresh_lock, staged
from .integrity import OPTIONAL_TABLES

log = logging.getLogger(__name__)

# Bump when parsing changes, so rows carried over on HTTP 304 are never from older parsing rules.
PARSER_VERSION = 1
GEOGRAPHY_TABLES = ("areas_hierarchy", "neighbours", "clusters", "boundary_changes", "geometry")
USABLE = {"ok", "fallback", "not_modified"}
# `--only deprivation` refreshes the deprivation, LSOA lookup and rural-urban tables alone.
DEPRIVATION = "deprivation"
CLUSTER_FILES = {
    "global": "global-neighbours.csv",
    "economic": "economic-neighbours.csv",
    "demographic": "demographic-neighbours.csv",
    "allocation": "cluster-allocation.csv",
    "descriptions": "cluster-descriptions.json",
}

OnBytes = Callable[[str, int, int | None], None]
OnDone = Callable[[str, str], None]


class RefreshFailed(DataSourceError):
    """Nothing usable could be fetched, or a required source failed; the snapshot was not touched."""


@dataclass
class Outcome:
    slug: str
    status: str  # ok | not_modified | fallback | missing | stale | failed | skipped
    sources: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    parsed: Parsed | None = None
    note: str | None = None


@dataclass
class RefreshResult:
    manifest: dict[str, Any]
    outcomes: list[Outcome]


def _source_entry(f: Fetched, status: str = "ok") -> dict[str, Any]:
    return {"url": f.url, "final_url": f.final_url or f.url, "status": status, "bytes": f.size,
            "sha256": f.sha256, "etag": f.etag, "last_modified": f.last_modified, "fetched_at": f.fetched_at}


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


class _Fetcher:
    """Fetch with shared settings, session and progress callback."""

    def __init__(self, settings: Settings, on_bytes: OnBytes | None) -> None:
        self.settings, self.on_bytes = settings, on_bytes
        self.session: requests.Session = make_session(settings)
        self.deadline = time.monotonic() + settings.refresh_deadline

    def get(self, url: str, expect: str, previous: dict[str, Any] | None = None) -> Fetched:
        validators = previous or {}
        return fetch(self.session, url, self.settings, expect=expect,  # type: ignore[arg-type]
                     etag=validators.get("etag"), last_modified=validators.get("last_modified"),
                     on_bytes=self.on_bytes, deadline=self.deadline)

    def check_deadline(self, doing: str) -> None:
        """Fail the whole refresh once its deadline has passed: carrying on would mark every
        remaining dataset stale and publish a snapshot nobody asked for."""
        if time.monotonic() > self.deadline:
            raise RefreshFailed(f"the refresh passed its deadline of {self.settings.refresh_deadline:g} s "
                                f"(GOOD_GROWTH_REFRESH_DEADLINE) {doing}")


def refresh(settings: Settings, only: list[str] | None = None, *, on_bytes: OnBytes | None = None,
            on_done: OnDone | None = None, accept_shrink: bool = False,
            break_stale_lock: bool = False) -> RefreshResult:
    """Build a new snapshot at settings.snapshot_dir and swap it in; see the module docstring for the rules.

    `accept_shrink` lets datasets replace their previous rows even when they shrank beyond their limit
    (a source that really did withdraw areas or periods); the manifest notes what was accepted.
    `break_stale_lock` stops another refresh of the same snapshot that is past its deadline."""
    target = Path(settings.snapshot_dir)
    specs = load_dataset_specs()
    known = {s.slug for s in specs}
    unknown = sorted(set(only or ()) - known - {DEPRIVATION})
    if unknown:
        raise RefreshFailed(f"unknown dataset(s) {', '.join(unknown)}: not listed in data_sources/datasets.yaml "
                            f"(or '{DEPRIVATION}' for the deprivation and rural-urban tables)")
    limits = sanity.shrink_limits()
    if set(limits) - known:
        raise RefreshFailed("datasets.yaml shrink_limits names unknown dataset(s) "
                            + ", ".join(sorted(set(limits) - known)))
    with refresh_lock(target, deadline_seconds=settings.refresh_deadline, break_overdue=break_stale_lock):
        clean_leftovers(target)
        previous = read_manifest(target) if has_snapshot(target) else None
        if previous and previous.get("parser_version") != PARSER_VERSION:
            log.info("previous snapshot used parser %s; fetching everything again", previous.get("parser_version"))
        fetcher = _Fetcher(settings, on_bytes)
        prev_obs = _PreviousRows(target, previous)
        wanted = [s for s in specs if only is None or s.slug in only]
        outcomes: dict[str, Outcome] = {}
        for spec in wanted:
            outcome = _refresh_dataset(spec, settings, fetcher, previous, prev_obs)
            fetcher.check_deadline(f"while fetching {spec.slug}; the snapshot was not touched")
            if outcome.status in {"ok", "fallback"} and prev_obs.has(spec.slug):
                outcome = _guard_shrink(outcome, previous, prev_obs, limits.get(spec.slug, settings.max_shrink),
                                        accept_shrink)
            outcomes[spec.slug] = outcome
            if on_done:
                on_done(spec.slug, outcome.status)
        attempted = [o for o in outcomes.values() if o.status != "skipped"]
        if attempted and not any(o.status in USABLE for o in attempted):
            raise RefreshFailed("nothing usable could be fetched: " + "; ".join(
                f"{o.slug}: {o.error}" for o in attempted if o.error)[:2000])
        for spec in specs:
            if spec.slug not in outcomes:
                outcomes[spec.slug] = _carry_over(spec.slug, previous, prev_obs, keep_status=True)
        for spec in specs:
            if spec.required and outcomes[spec.slug].status not in USABLE | {"stale"}:
                o = outcomes[spec.slug]
                raise RefreshFailed(f"required dataset {spec.slug} is unavailable: {o.error or o.status}")

        geo_previous = (previous or {}).get("geography")
        refresh_geo = only is None or not geo_previous
        geo = _refresh_geography(settings, fetcher) if refresh_geo else None
        fetcher.check_deadline("while fetching geography; the snapshot was not touched")
        if on_done and geo is not None:
            on_done("geography", "ok")
        dep_previous = (previous or {}).get("deprivation")
        dep = (_refresh_deprivation(settings, fetcher, previous, target)
               if only is None or DEPRIVATION in only or not dep_previous
               else _carry_deprivation(previous, target, keep_status=True))
        fetcher.check_deadline("while fetching the indices of deprivation; the snapshot was not touched")
        if only is not None and DEPRIVATION in only and dep.status not in USABLE and not any(
                o.status in USABLE for o in attempted):
            raise RefreshFailed(f"nothing usable could be fetched: {DEPRIVATION}: {dep.error}")
        if on_done:
            on_done("deprivation", dep.status)
        result = _write(target, settings, specs, outcomes, geo, previous, prev_obs, dep)
    return RefreshResult(manifest=result, outcomes=[outcomes[s.slug] for s in specs])


def _guard_shrink(outcome: Outcome, previous: dict[str, Any] | None, prev_rows: _PreviousRows, limit: float,
                  accept: bool) -> Outcome:
    """Keep the previous rows, marked stale with the reason, when the new ones shrank beyond `limit`."""
    assert outcome.parsed is not None
    problems = sanity.shrinkage(sanity.Shape.of(prev_rows.parsed(outcome.slug).observations),
                                sanity.Shape.of(outcome.parsed.observations), limit)
    if not problems:
        return outcome
    reason = "; ".join(problems)
    if accept:
        log.warning("dataset %s shrank, accepted: %s", outcome.slug, reason)
        note = f"accepted with --accept-shrink: {reason}"
        outcome.note = f"{outcome.note}; {note}" if outcome.note else note
        return outcome
    log.warning("dataset %s shrank, keeping the previous rows: %s", outcome.slug, reason)
    where = next((s.get("final_url") or s["url"] for s in reversed(outcome.sources) if s.get("url")), outcome.slug)
    return _carry_over(outcome.slug, previous, prev_rows,
                       error=f"{outcome.slug}: new data from {where} refused, previous rows kept: {reason}; "
                             "if the source really withdrew them, refresh with --accept-shrink")


class _PreviousRows:
    """Rows of the live snapshot, loaded once and only if a dataset needs carrying over."""

    def __init__(self, target: Path, manifest: dict[str, Any] | None) -> None:
        self.target, self.manifest = target, manifest
        self._obs: pd.DataFrame | None = None
        self._cat: pd.DataFrame | None = None

    def has(self, slug: str) -> bool:
        entry = ((self.manifest or {}).get("datasets") or {}).get(slug) or {}
        return bool(entry.get("rows"))

    def parsed(self, slug: str) -> Parsed:
        if self._obs is None:
            self._obs = read_table(self.target, "observations")
            self._cat = read_table(self.target, "catalogue")
        assert self._cat is not None
        return Parsed(observations=self._obs.loc[self._obs["dataset"] == slug],
                      catalogue=self._cat.loc[self._cat["dataset"] == slug])


def _previous_sources(previous: dict[str, Any] | None, slug: str) -> dict[str, dict[str, Any]]:
    if not previous or previous.get("parser_version") != PARSER_VERSION:
        return {}
    entry = (previous.get("datasets") or {}).get(slug) or {}
    if entry.get("status") not in USABLE:
        return {}
    return {s["url"]: s for s in entry.get("sources", [])}


def _carry_over(slug: str, previous: dict[str, Any] | None, prev_rows: _PreviousRows, *,
                keep_status: bool = False, error: str | None = None) -> Outcome:
    entry = ((previous or {}).get("datasets") or {}).get(slug)
    if not entry:
        return Outcome(slug, "failed" if error else "missing", error=error)
    parsed = prev_rows.parsed(slug) if prev_rows.has(slug) else None
    status = entry["status"] if keep_status else "stale"
    return Outcome(slug, status, sources=entry.get("sources", []), error=error or entry.get("error"),
                   parsed=parsed, note=entry.get("note"))


def _refresh_dataset(spec: DatasetSpec, settings: Settings, fetcher: _Fetcher, previous: dict[str, Any] | None,
                     prev_rows: _PreviousRows) -> Outcome:
    if spec.skip:
        return Outcome(spec.slug, "skipped", note=spec.skip)
    if spec.source == "oflog-asc":
        return _refresh_single_csv(spec, settings.oflog_asc_url, oflog_asc.parse, fetcher, previous, prev_rows)
    base = settings.source_base_url
    json_url = _join(base, f"{spec.slug}/{spec.slug}.json")
    csv_url = _join(base, f"{spec.slug}/{spec.slug}.csv")
    prev_sources = _previous_sources(previous, spec.slug)
    try:
        meta_file = fetcher.get(json_url, "json")
        metadata = parse_metadata(spec.slug, meta_file.body or b"")
        sources = [_source_entry(meta_file)]
        same_meta = prev_sources.get(json_url, {}).get("sha256") == meta_file.sha256
        try:
            csv_file = fetcher.get(csv_url, "csv", prev_sources.get(csv_url) if same_meta else None)
        except NotFoundError:
            return _fallback(spec, settings, fetcher, metadata, sources, previous, prev_rows)
        if csv_file.not_modified and prev_rows.has(spec.slug):
            carried = prev_rows.parsed(spec.slug)
            old = prev_sources[csv_url]
            return Outcome(spec.slug, "not_modified", sources=[*sources, {**old, "checked_at": csv_file.fetched_at}],
                           parsed=carried)
        if csv_file.not_modified:  # the server says unchanged but we hold no rows: ask again in full
            csv_file = fetcher.get(csv_url, "csv")
        parsed = parse_csv(spec.slug, csv_file.body or b"", metadata, spec)
        return Outcome(spec.slug, "ok", sources=[*sources, _source_entry(csv_file)], parsed=parsed)
    except NotFoundError as exc:
        if prev_rows.has(spec.slug):
            return _carry_over(spec.slug, previous, prev_rows, error=str(exc))
        return Outcome(spec.slug, "missing", error=str(exc))
    except (FetchError, ValidationError) as exc:
        log.warning("dataset %s failed: %s", spec.slug, exc)
        return _carry_over(spec.slug, previous, prev_rows, error=str(exc))


def _fallback(spec: DatasetSpec, settings: Settings, fetcher: _Fetcher, metadata: dict[str, Any],
              sources: list[dict[str, Any]], previous: dict[str, Any] | None, prev_rows: _PreviousRows) -> Outcome:
    """The CSV is missing upstream: use the ELS app's published per-indicator files if the spec names them."""
    csv_missing = f"{spec.slug}/{spec.slug}.csv is missing upstream (HTTP 404)"
    sources = [*sources, {"url": _join(settings.source_base_url, f"{spec.slug}/{spec.slug}.csv"),
                          "status": "missing"}]
    if not spec.fallback:
        return Outcome(spec.slug, "missing", sources=sources, error=csv_missing)
    parts = []
    try:
        for indicator_slug in spec.fallback:
            f = fetcher.get(_join(settings.fallback_base_url, f"{indicator_slug}.json"), "json")
            parts.append(parse_fallback(spec.slug, indicator_slug, f.body or b"", metadata, spec))
            sources.append(_source_entry(f, "fallback"))
    except (FetchError, ValidationError) as exc:
        if prev_rows.has(spec.slug):
            return _carry_over(spec.slug, previous, prev_rows, error=f"{csv_missing}; fallback failed: {exc}")
        return Outcome(spec.slug, "missing", sources=sources, error=f"{csv_missing}; fallback failed: {exc}")
    parsed = Parsed(
        observations=pd.concat([p.observations for p in parts], ignore_index=True),
        catalogue=pd.concat([p.catalogue for p in parts], ignore_index=True),
        excluded={k: sum(p.excluded.get(k, 0) for p in parts) for p in parts for k in p.excluded},
        duplicates_dropped=sum(p.duplicates_dropped for p in parts),
    )
    return Outcome(spec.slug, "fallback", sources=sources, parsed=parsed,
                   note=f"{csv_missing}; values from the ELS app's published indicator files (older vintage)")


def _refresh_single_csv(spec: DatasetSpec, url: str, parse: Callable[[bytes], Parsed], fetcher: _Fetcher,
                        previous: dict[str, Any] | None, prev_rows: _PreviousRows) -> Outcome:
    """A dataset published as one CSV (no ELS metadata JSON): conditional GET, parse, carry over on failure."""
    prev_sources = _previous_sources(previous, spec.slug)
    try:
        f = fetcher.get(url, "csv", prev_sources.get(url))
        if f.not_modified and prev_rows.has(spec.slug):
            return Outcome(spec.slug, "not_modified", sources=[{**prev_sources[url], "checked_at": f.fetched_at}],
                           parsed=prev_rows.parsed(spec.slug))
        if f.not_modified:
            f = fetcher.get(url, "csv")
        return Outcome(spec.slug, "ok", sources=[_source_entry(f)], parsed=parse(f.body or b""))
    except NotFoundError as exc:
        if prev_rows.has(spec.slug):
            return _carry_over(spec.slug, previous, prev_rows, error=str(exc))
        return Outcome(spec.slug, "missing", error=str(exc))
    except (FetchError, ValidationError) as exc:
        log.warning("dataset %s failed: %s", spec.slug, exc)
        return _carry_over(spec.slug, previous, prev_rows, error=str(exc))


@dataclass
class _Deprivation:
    """The deprivation tables for the new snapshot: fresh frames, or the previous files to copy."""

    status: str  # ok | not_modified | stale | carried_over | missing
    sources: list[dict[str, Any]] = field(default_factory=list)
    frames: dict[str, pd.DataFrame] | None = None
    copy_from: Path | None = None
    error: str | None = None


def _refresh_deprivation(settings: Settings, fetcher: _Fetcher, previous: dict[str, Any] | None,
                         target: Path) -> _Deprivation:
    """Indices of deprivation, LSOA lookup and rural–urban class. Not required: when a file fails, the
    previous tables are kept (stale); a first snapshot without them simply has no deprivation tables."""
    prev_entry = (previous or {}).get("deprivation") or {}
    prev_sources = {s["url"]: s for s in prev_entry.get("sources", [])} if prev_entry.get("tables") else {}
    urls = {stem: _join(getattr(settings, setting), f"{stem}.rda") for setting, stem in deprivation.stems_in_order()}
    fetched: dict[str, Fetched] = {}
    try:
        for stem, url in urls.items():
            fetched[stem] = fetcher.get(url, "rda", prev_sources.get(url))
        if all(f.not_modified for f in fetched.values()):
            return _Deprivation("not_modified", [{**prev_sources[urls[stem]], "checked_at": f.fetched_at}
                                                 for stem, f in fetched.items()], copy_from=target)
        for stem, f in fetched.items():
            if f.not_modified:  # others changed: the tables are rebuilt, so this file is needed in full
                fetched[stem] = fetcher.get(urls[stem], "rda")
        sources = [_source_entry(f) for f in fetched.values()]
        tables = deprivation.parse_all({stem: f.body or b"" for stem, f in fetched.items()})
    except (FetchError, ValidationError) as exc:
        log.warning("deprivation tables failed: %s", exc)
        return _carry_deprivation(previous, target, error=str(exc))
    return _Deprivation("ok", sources, frames=tables.frames())


def _carry_deprivation(previous: dict[str, Any] | None, target: Path, *, keep_status: bool = False,
                       error: str | None = None) -> _Deprivation:
    entry = (previous or {}).get("deprivation") or {}
    if not entry.get("tables"):
        return _Deprivation("missing", error=error)
    status = entry.get("status", "ok") if keep_status else "stale"
    return _Deprivation(status, entry.get("sources", []), copy_from=target, error=error or entry.get("error"))


@dataclass
class _Geo:
    tables: dict[str, Any]
    sources: list[dict[str, Any]]
    boundaries: Any


def _refresh_geography(settings: Settings, fetcher: _Fetcher) -> _Geo:
    """Boundaries, hierarchy, neighbours and boundary changes; all are required for a first snapshot."""
    urls = {
        "topo": (settings.boundaries_url, "json"),
        "changes": (settings.boundary_changes_url, "csv"),
        "geo_metadata": (settings.geo_metadata_url, "json"),
        "areas_list": (settings.areas_list_url, "json"),
        **{k: (_join(settings.clusters_base_url, v), "json" if v.endswith(".json") else "csv")
           for k, v in CLUSTER_FILES.items()},
    }
    bodies, sources = {}, []
    try:
        for key, (url, kind) in urls.items():
            f = fetcher.get(url, kind)
            bodies[key] = f.body or b""
            sources.append(_source_entry(f))
        boundaries = geography.read_boundaries(bodies["topo"])
        tables = {
            "areas_hierarchy": geography.read_hierarchy(bodies["geo_metadata"], bodies["areas_list"]),
            "neighbours": geography.read_neighbours(bodies["global"], bodies["economic"], bodies["demographic"]),
            "clusters": geography.read_clusters(bodies["allocation"], bodies["descriptions"]),
            "boundary_changes": geography.read_boundary_changes(bodies["changes"]),
            "geometry": geography.simplify_for_browser(boundaries),
        }
    except (FetchError, geography.GeographyError, ValueError) as exc:
        raise RefreshFailed(f"geography could not be refreshed: {exc}") from exc
    return _Geo(tables=tables, sources=sources, boundaries=boundaries)


def _areas_table(hierarchy: pd.DataFrame, obs: pd.DataFrame, boundaries: pd.DataFrame,
                 changes: pd.DataFrame) -> pd.DataFrame:
    """Every (area, level) in the hierarchy or the data, with parents, validity and successor codes."""
    seen = (obs.dropna(subset=["areanm"]).drop_duplicates(["areacd", "level"])[["areacd", "areanm", "level"]])
    extra = seen.merge(hierarchy[["areacd", "level"]], on=["areacd", "level"], how="left", indicator=True)
    extra = extra.loc[extra["_merge"] == "left_only", ["areacd", "areanm", "level"]]
    areas = pd.concat([hierarchy, extra], ignore_index=True)
    succ = geography.successor_map(changes)
    areas["successor"] = areas["areacd"].map(succ)
    bounded = boundaries[["level", "areacd"]].drop_duplicates().assign(has_boundary=True)
    areas = areas.merge(bounded, on=["level", "areacd"], how="left")
    areas["has_boundary"] = areas["has_boundary"].fillna(False).astype(bool)
    with_data = obs.loc[obs["value"].notna(), ["areacd", "level"]].drop_duplicates().assign(has_data=True)
    areas = areas.merge(with_data, on=["areacd", "level"], how="left")
    areas["has_data"] = areas["has_data"].fillna(False).astype(bool)
    return areas.sort_values(["level", "areacd"]).reset_index(drop=True)


def _write(target: Path, settings: Settings, specs: list[DatasetSpec], outcomes: dict[str, Outcome],
           geo: _Geo | None, previous: dict[str, Any] | None, prev_rows: _PreviousRows,
           dep: _Deprivation) -> dict[str, Any]:
    frames = [o.parsed.observations for o in outcomes.values() if o.parsed is not None]
    cats = [o.parsed.catalogue for o in outcomes.values() if o.parsed is not None]
    obs = pd.concat(frames, ignore_index=True)[OBSERVATION_COLUMNS]
    catalogue = pd.concat(cats, ignore_index=True)
    clash = catalogue.loc[catalogue["indicator_id"].duplicated(keep=False), ["indicator_id", "dataset"]]
    if len(clash):
        raise RefreshFailed("indicator id used by two datasets: " + ", ".join(
            f"{r.indicator_id} ({r.dataset})" for r in clash.itertuples()))
    catalogue["status"] = catalogue["dataset"].map(lambda s: outcomes[s].status)

    with staged(target) as stage:
        if geo is not None:
            tables = geo.tables
            boundaries = geo.boundaries
            geo_sources = geo.sources
        else:
            tables = {name: None for name in GEOGRAPHY_TABLES}
            boundaries = read_table(target, "geometry", columns=["level", "areacd", "end"])
            geo_sources = previous["geography"]["sources"]  # type: ignore[index]
            tables["areas_hierarchy"] = read_table(target, "areas")
            tables["boundary_changes"] = read_table(target, "boundary_changes")
        hierarchy = tables["areas_hierarchy"]
        if geo is None:
            hierarchy = hierarchy.loc[hierarchy["in_hierarchy"]].drop(
                columns=["successor", "has_boundary", "has_data", "in_hierarchy"])
        hierarchy = hierarchy.assign(in_hierarchy=True)
        areas = _areas_table(hierarchy, obs, boundaries, tables["boundary_changes"])
        areas["in_hierarchy"] = areas["in_hierarchy"].fillna(False).astype(bool)
        names = areas.drop_duplicates("areacd").set_index("areacd")["areanm"]
        obs["areanm"] = obs["areanm"].fillna(obs["areacd"].map(names))
        rows = {
            "observations": stage.write_table("observations", obs)["rows"],
            "catalogue": stage.write_table("catalogue", catalogue)["rows"],
            "areas": stage.write_table("areas", areas)["rows"],
        }
        for name in ("neighbours", "clusters", "boundary_changes", "geometry"):
            if geo is not None:
                frame = tables[name]
                rows[name] = (stage.write_geoparquet(name, frame) if name == "geometry"
                              else stage.write_table(name, frame))["rows"]
            else:
                shutil.copy2(target / f"{name}.parquet", stage.path / f"{name}.parquet")
                rows[name] = previous["files"][f"{name}.parquet"]["rows"]  # type: ignore[index]
        dep_tables = []
        if dep.frames is not None:
            for name, frame in dep.frames.items():
                rows[name] = stage.write_table(name, frame)["rows"]
                dep_tables.append(name)
        elif dep.copy_from is not None:
            for name in OPTIONAL_TABLES:
                if f"{name}.parquet" in (previous or {}).get("files", {}):
                    shutil.copy2(dep.copy_from / f"{name}.parquet", stage.path / f"{name}.parquet")
                    rows[name] = previous["files"][f"{name}.parquet"]["rows"]  # type: ignore[index]
                    dep_tables.append(name)
        current = boundaries.loc[(boundaries["level"] == "ltla") & boundaries["end"].isna(), "areacd"]
        manifest = _manifest(settings, specs, outcomes, obs, catalogue, areas, set(current), geo_sources,
                             geo is None)
        manifest["deprivation"] = {"status": dep.status, "tables": dep_tables, "sources": dep.sources,
                                   "error": dep.error,
                                   "note": "Indices from different nations are built differently and are never "
                                           "compared; the 2019 and 2025 English indices are not a time series."}
        manifest = stage.write_manifest(manifest, rows)
        stage.commit()
    return manifest


def _manifest(settings: Settings, specs: list[DatasetSpec], outcomes: dict[str, Outcome], obs: pd.DataFrame,
              catalogue: pd.DataFrame, areas: pd.DataFrame, current_ltla: set[str],
              geo_sources: list[dict[str, Any]], geo_carried: bool) -> dict[str, Any]:
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    datasets = {}
    for spec in specs:
        o = outcomes[spec.slug]
        these = catalogue.loc[catalogue["dataset"] == spec.slug]
        parsed = o.parsed
        datasets[spec.slug] = {
            "status": o.status,
            "rows": int(len(parsed.observations)) if parsed is not None else 0,
            "indicators": these["indicator_id"].tolist(),
            "source_date": _first(these["source_date_text"]) if len(these) else None,
            "source_org": _first(these["source_org"]) if len(these) else None,
            "excluded_rows": {k: int(v) for k, v in (parsed.excluded if parsed else {}).items()},
            "duplicates_dropped": int(parsed.duplicates_dropped) if parsed else 0,
            "sources": o.sources,
            "error": o.error,
            "note": o.note,
        }
    ltla_with_data = areas.loc[(areas["level"] == "ltla") & areas["has_data"], "areacd"]
    without_boundary = sorted(areas.loc[(areas["level"] == "ltla") & ~areas["has_boundary"], "areacd"])
    statuses = pd.Series([d["status"] for d in datasets.values()]).value_counts().to_dict()
    return {
        "parser_version": PARSER_VERSION,
        "created_at": now,
        "source_base_url": settings.source_base_url,
        "source_note": settings.source_note,
        "fallback_base_url": settings.fallback_base_url,
        "licence": "Open Government Licence v3.0",
        "attribution": ATTRIBUTION,
        "counts": {
            "datasets_listed": len(specs),
            "datasets_with_data": sum(1 for d in datasets.values() if d["rows"]),
            "indicators": int(catalogue["indicator_id"].nunique()),
            "observations": int(len(obs)),
            "areas": int(areas["areacd"].nunique()),
            "ltla_with_values": int(ltla_with_data.isin(current_ltla).sum()),
            "ltla_current_boundaries": len(current_ltla),
            "statuses": {k: int(v) for k, v in statuses.items()},
        },
        "datasets": datasets,
        "geography": {
            "status": "carried_over" if geo_carried else "ok",
            "sources": geo_sources,
            "districts_without_boundary": without_boundary,
        },
    }


def _first(series: pd.Series) -> Any:
    values = series.dropna()
    return values.iloc[0] if len(values) else None


ATTRIBUTION = [
    "Contains public sector information licensed under the Open Government Licence v3.0; "
    "source: Office for National Statistics and other government departments.",
    "Boundaries: Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right 2025.",
    "Indices of deprivation: Ministry of Housing, Communities and Local Government (English Indices of "
    "Deprivation 2025 and 2019), Welsh Government (WIMD 2019), Scottish Government (SIMD 2020), NISRA "
    "(NIMDM 2017), via the humaniverse IMD package; LSOA lookup and 2021 rural-urban classification: "
    "Office for National Statistics (Open Geography Portal) and Defra, via humaniverse geographr; "
    "all licensed under the Open Government Licence v3.0. Contains OS data © Crown copyright and database right.",
    "Adult social care: Office for Local Government (Oflog) Local Authority Data Explorer, from NHS England's "
    "Adult Social Care Outcomes Framework and Skills for Care, licensed under the Open Government Licence v3.0.",
]
