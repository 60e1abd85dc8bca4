"""A full refresh over real HTTP from the offline copy, checked against the raw CSVs."""
from __future__ import annotations

import csv
import json
import math
import random
from pathlib import Path

import pandas as pd
import pytest

from data_sources.ons_local_stats import load_dataset_specs, load_level_rules, slugify
from data_sources.refresh import refresh
from data_sources.store import read_manifest, read_table, verify
from tests.conftest import ROOT, mirror_settings

SAMPLE = 1000


def _raw_rows(shared_data: Path):
    """Every data row of every ingested CSV, read with the csv module (independently of the parser)."""
    rules = load_level_rules()
    for spec in load_dataset_specs():
        path = shared_data / "ons-local-stats" / spec.slug / f"{spec.slug}.csv"
        if spec.skip or not path.exists():
            continue
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = [h.strip().lower() for h in next(reader)]
            header = [{"observation status": "status", "lower confidence interval (95%)": "lci_95",
                       "upper confidence interval (95%)": "uci_95"}.get(h, h) for h in header]
            for line, values in enumerate(reader, start=2):
                rec = dict(zip(header, values))
                if rec["areacd"][:3] in rules.excluded_prefixes:
                    continue
                yield spec.slug, line, rec


def _num(text: str) -> float | None:
    text = (text or "").strip()
    try:
        return float(text)
    except ValueError:
        return None


def test_a_thousand_random_raw_rows_are_found_value_for_value(built_snapshot: Path, shared_data: Path):
    rows = list(_raw_rows(shared_data))
    sample = random.Random(20261125).sample(rows, SAMPLE)
    obs = read_table(built_snapshot, "observations")
    cat = read_table(built_snapshot, "catalogue").set_index(["dataset", "indicator", "measure"])["indicator_id"]
    index = obs.set_index(["dataset", "indicator_id", "areacd", "period_code"]).sort_index()
    for slug, line, rec in sample:
        code = rec["areacd"].strip()
        if code.lower() == "na":
            code = "na:" + slugify(rec["areanm"])
        indicator_id = cat.loc[(slug, rec["indicator"].strip(), rec["measure"].strip())]
        found = index.loc[[(slug, indicator_id, code, rec["period"].strip())]]
        where = f"{slug} line {line}"
        suppressed = rec.get("status", "").strip().lower() in {"x", "u", "c", "z"}
        expected = None if suppressed else _num(rec["observation"])
        for got in found["value"]:
            if expected is None:
                assert pd.isna(got), where
            else:
                assert math.isclose(got, expected, rel_tol=1e-12), where
        for col, raw in (("lci", rec.get("lci_95", "")), ("uci", rec.get("uci_95", ""))):
            want = _num(raw)
            for got in found[col]:
                assert (pd.isna(got) if want is None else math.isclose(got, want, rel_tol=1e-12)), f"{where} {col}"


def test_every_suppressed_raw_row_is_null_in_the_snapshot(built_snapshot: Path, shared_data: Path):
    suppressed = [(slug, line) for slug, line, rec in _raw_rows(shared_data)
                  if rec.get("status", "").strip().lower() in {"x", "u", "c", "z"}]
    assert len(suppressed) > 2000
    obs = read_table(built_snapshot, "observations", columns=["dataset", "source_line", "value", "status"])
    keyed = obs.set_index(["dataset", "source_line"])
    hit = keyed.loc[keyed.index.intersection(pd.MultiIndex.from_tuples(suppressed))]
    assert len(hit) >= len(suppressed)
    assert hit["value"].isna().all()
    assert set(hit["status"]) <= {"not_available", "unreliable", "confidential", "not_applicable"}


def test_snapshot_holds_the_promised_coverage(built_snapshot: Path):
    manifest = read_manifest(built_snapshot)
    counts = manifest["counts"]
    assert counts["datasets_with_data"] >= 62
    assert counts["indicators"] >= 91
    assert counts["ltla_with_values"] >= 340
    obs = read_table(built_snapshot, "observations", columns=["indicator_id", "level", "value", "areacd"])
    population = obs.loc[(obs["indicator_id"] == "population-count") & obs["value"].notna()]
    assert population.groupby("level")["areacd"].nunique()["ltla"] >= 340


def test_missing_upstream_files_are_reported_and_population_falls_back(built_snapshot: Path):
    datasets = read_manifest(built_snapshot)["datasets"]
    assert datasets["population-by-age-and-sex"]["status"] == "missing"
    assert "404" in datasets["population-by-age-and-sex"]["error"]
    for slug in ("population-indicators", "child-weight", "average-house-price"):
        assert datasets[slug]["status"] == "fallback", slug
        assert any(s["status"] == "fallback" for s in datasets[slug]["sources"])
    assert datasets["uk-small-area-gross-value-added-estimates"]["status"] == "skipped"


def test_manifest_records_every_source_with_checksums(built_snapshot: Path, mirror):
    manifest = read_manifest(built_snapshot)
    assert manifest["source_base_url"].startswith(mirror.url)
    fetched = [s for d in manifest["datasets"].values() for s in d["sources"] if s["status"] in ("ok", "fallback")]
    fetched += manifest["geography"]["sources"]
    assert len(fetched) >= 2 * 62 + 8
    for s in fetched:
        assert len(s["sha256"]) == 64 and s["bytes"] > 0 and s["fetched_at"] and s["url"].startswith(mirror.url)


def test_built_snapshot_verifies_and_districts_without_boundary_are_listed(built_snapshot: Path):
    assert verify(built_snapshot) == []
    missing = read_manifest(built_snapshot)["geography"]["districts_without_boundary"]
    assert "E67000001" in missing  # Hackney with City of London: a pseudo-code with no boundary


def test_unchanged_files_are_not_downloaded_twice(snapshot_copy: Path, mirror):
    path = "/ons-local-stats/healthy-life-expectancy/healthy-life-expectancy.csv"
    before = mirror.state.conditional_hits.get(path, 0)
    result = refresh(mirror_settings(mirror, snapshot_copy), ["healthy-life-expectancy"])
    outcome = {o.slug: o for o in result.outcomes}["healthy-life-expectancy"]
    assert outcome.status == "not_modified"
    assert mirror.state.conditional_hits.get(path, 0) == before + 1
    assert result.manifest["datasets"]["healthy-life-expectancy"]["rows"] > 10_000
    assert verify(snapshot_copy) == []


def test_committed_snapshot_verifies_against_its_manifest():
    data = ROOT / "data"
    assert verify(data) == []
    manifest = json.loads((data / "manifest.json").read_text())
    assert manifest["counts"]["indicators"] >= 91
    total = sum(p.stat().st_size for p in data.iterdir())
    assert total <= 15 * 1024 * 1024
