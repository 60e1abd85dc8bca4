"""The indices of deprivation, rural-urban class and Oflog adult social care sources, refreshed over
real HTTP from the offline copy: raw values found value for value in the snapshot, checksums in the
manifest, conditional GET, and faults that never damage the live snapshot."""
from __future__ import annotations

import csv
import hashlib
import math
import random
from pathlib import Path

import pandas as pd
import pyreadr
import pytest

from data_sources.refresh import RefreshFailed, refresh
from data_sources.store import read_manifest, read_table, verify
from tests.conftest import checksums, mirror_settings
from tests.support.mirror import Fault

ASC = "oflog-adult-social-care"
ASC_PATH = "/oflog-adult-social-care/ASC_data.csv"
RUC_PATH = "/deprivation/ruc21_ltla24.rda"
DEPRIVATION_TABLES = ("lsoa_deprivation.parquet", "deprivation_summaries.parquet", "rural_urban.parquet")
SAMPLE = 600
# Oflog's measure codes and the indicator ids they become (written out here, independently of the parser).
ASC_IDS = {"ASC1": "asc-carer-quality-of-life", "ASC2": "asc-quality-of-life", "ASC3": "asc-information-ease-users",
           "ASC4": "asc-information-ease-carers", "ASC5": "asc-reablement-sequel",
           "ASC6": "asc-requests-resulting-in-service", "ASC7": "asc-workforce-turnover"}


def _rda(shared_data: Path, stem: str) -> pd.DataFrame:
    return next(iter(pyreadr.read_r(str(shared_data / "deprivation" / f"{stem}.rda")).values()))


def _asc_rows(shared_data: Path) -> list[tuple[int, dict[str, str]]]:
    with (shared_data / "oflog-adult-social-care" / "ASC_data.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(enumerate(csv.DictReader(fh), start=2))


# ---------------------------------------------------------------- adult social care

def test_sampled_raw_asc_rows_are_found_value_for_value(built_snapshot: Path, shared_data: Path):
    rows = _asc_rows(shared_data)
    sample = random.Random(20261130).sample(rows, SAMPLE)
    obs = read_table(built_snapshot, "observations")
    obs = obs.loc[obs["dataset"] == ASC]
    index = obs.set_index(["indicator_id", "areacd", "level", "period_code"]).sort_index()
    for line, rec in sample:
        key = (ASC_IDS[rec["Code"]], rec["Local authority code"], "utla", rec["Financial year"])
        found = index.loc[[key]]
        assert len(found) == 1, f"line {line}"
        got, raw = found["value"].iloc[0], rec["Value"].strip()
        if raw == "":
            assert pd.isna(got) and found["status"].iloc[0] == "missing", f"line {line}"
        else:
            assert math.isclose(got, float(raw), rel_tol=1e-12), f"line {line}"


def test_every_blank_asc_value_is_null_never_zero(built_snapshot: Path, shared_data: Path):
    blanks = [line for line, rec in _asc_rows(shared_data) if not rec["Value"].strip()]
    assert len(blanks) > 200
    obs = read_table(built_snapshot, "observations", columns=["dataset", "source_line", "value", "status"])
    hit = obs.loc[(obs["dataset"] == ASC) & obs["source_line"].isin(blanks)]
    assert set(hit["source_line"]) == set(blanks)
    assert hit["value"].isna().all() and (hit["status"] == "missing").all()


def test_upper_tier_councils_are_utla_and_unitaries_also_ltla(built_snapshot: Path):
    obs = read_table(built_snapshot, "observations", columns=["dataset", "areacd", "level"])
    asc = obs.loc[obs["dataset"] == ASC].astype(str)
    counties = asc.loc[asc["areacd"].str.startswith("E10")]
    assert len(counties) and set(counties["level"]) == {"utla"}
    assert set(asc.loc[asc["areacd"] == "E08000035", "level"]) == {"utla", "ltla"}


# ---------------------------------------------------------------- deprivation and rural-urban

def test_sampled_lsoa_rows_are_found_value_for_value(built_snapshot: Path, shared_data: Path):
    raw = _rda(shared_data, "imd2025_england_lsoa21")
    lookup = _rda(shared_data, "lookup_lsoa21_ward24_ltla24").drop_duplicates("lsoa21_code").set_index("lsoa21_code")
    table = read_table(built_snapshot, "lsoa_deprivation").astype({"lsoacd": str, "ltlacd": str}).set_index("lsoacd")
    assert len(table) == len(raw) == 33755
    sample = raw.sample(SAMPLE, random_state=20261130)
    for rec in sample.itertuples(index=False):
        got = table.loc[rec.lsoa21_code]
        assert got["ltlacd"] == lookup.loc[rec.lsoa21_code, "ltla24_code"]
        assert int(got["imd_rank"]) == int(rec.IMD_rank)
        assert math.isclose(float(got["imd_score"]), float(rec.IMD_score), rel_tol=1e-6)
        for raw_name, ours in (("IMD", "imd"), ("Income", "income"), ("Employment", "employment"),
                               ("Education", "education"), ("Health", "health"), ("Crime", "crime"),
                               ("Housing_and_Services", "housing_and_services"), ("Environment", "environment")):
            assert int(got[f"{ours}_decile"]) == int(getattr(rec, f"{raw_name}_decile")), rec.lsoa21_code


# (file stem, edition, code column, raw column → (domain, measure)); written out by hand from the files.
SUMMARY_COLUMNS = [
    ("imd2025_england_ltla24", "IoD 2025", "ltla24_code", {
        "imd_average_score": ("imd", "average_score"), "imd25_extent": ("imd", "extent"),
        "imd25_local_concentration": ("imd", "local_concentration"),
        "imd_proportion_of_lso_as_in_most_deprived_10_percent_nationally": ("imd", "proportion_most_deprived_10"),
        "income_scale": ("income", "scale")}),
    ("imd2019_england_ltla23", "IoD 2019", "ltla23_code", {
        "Score": ("imd", "average_score"), "Extent": ("imd", "extent"), "Health_Proportion": ("health",
                                                                                             "proportion_most_deprived_10")}),
    ("imd2019_wales_ltla22", "WIMD 2019", "ltla22_code", {"Extent": ("imd", "extent"), "Access_Score": ("access", "average_score")}),
    ("imd2020_scotland_ltla24", "SIMD 2020", "ltla24_code", {"Proportion": ("imd", "proportion_most_deprived_10"),
                                                            "Housing_Extent": ("housing", "extent")}),
    ("imd2017_northern_ireland_lgd14", "NIMDM 2017", "lgd14_code", {"Extent": ("imd", "extent"),
                                                                   "Environment_Proportion": ("environment", "proportion_most_deprived_10")}),
]


def test_district_summaries_are_found_value_for_value_per_nation_and_edition(built_snapshot: Path, shared_data: Path):
    table = read_table(built_snapshot, "deprivation_summaries").astype(
        {"areacd": str, "edition": str, "domain": str, "measure": str, "nation": str})
    index = table.set_index(["edition", "areacd", "domain", "measure"]).sort_index()
    checked = 0
    for stem, edition, code_col, columns in SUMMARY_COLUMNS:
        raw = _rda(shared_data, stem)
        for rec in raw.to_dict("records"):
            for col, (domain, measure) in columns.items():
                got = index.loc[(edition, rec[code_col], domain, measure), "value"]
                assert math.isclose(got, rec[col], rel_tol=1e-9, abs_tol=1e-12), (stem, rec[code_col], col)
                checked += 1
    assert checked >= 500
    # ranks ship with 2025 (1 = most deprived): Middlesbrough has England's highest share in the most deprived 10%
    mb = index.loc[("IoD 2025", "E06000002", "imd", "proportion_most_deprived_10")]
    assert int(mb["rank"]) == 1
    assert table.groupby("edition")["nation"].nunique().eq(1).all()  # no edition mixes nations


def test_every_rural_urban_row_is_in_the_snapshot(built_snapshot: Path, shared_data: Path):
    raw = _rda(shared_data, "ruc21_ltla24")
    table = read_table(built_snapshot, "rural_urban").astype(str).set_index("areacd")
    assert len(table) == len(raw)
    for rec in raw.itertuples(index=False):
        assert table.loc[rec.ltla24_code, "ruc21_code"] == rec.ruc21_code
        assert table.loc[rec.ltla24_code, "ruc21_class"] == rec.classification


def test_manifest_records_every_new_file_with_its_checksum(built_snapshot: Path, shared_data: Path):
    manifest = read_manifest(built_snapshot)
    assert verify(built_snapshot) == []
    dep = manifest["deprivation"]
    assert dep["status"] == "ok" and sorted(dep["tables"]) == sorted(t.removesuffix(".parquet")
                                                                      for t in DEPRIVATION_TABLES)
    assert len(dep["sources"]) == 8
    for src in [*dep["sources"], *manifest["datasets"][ASC]["sources"]]:
        folder = "deprivation" if src["url"].endswith(".rda") else "oflog-adult-social-care"
        local = shared_data / folder / src["url"].rsplit("/", 1)[-1]
        assert src["sha256"] == hashlib.sha256(local.read_bytes()).hexdigest()
        assert src["bytes"] == local.stat().st_size and src["etag"] and src["final_url"] == src["url"]
    assert any("Indices of deprivation" in line for line in manifest["attribution"])
    assert any("Oflog" in line for line in manifest["attribution"])


# ---------------------------------------------------------------- conditional GET and faults

@pytest.fixture
def faulty(mirror):
    installed: list[str] = []

    def install(path: str, fault: Fault) -> None:
        mirror.state.faults[path] = fault
        mirror.state.hits.pop(path, None)
        installed.append(path)

    yield install
    for path in installed:
        mirror.state.faults.pop(path, None)


def _asc_body(shared_data: Path) -> bytes:
    return (shared_data / "oflog-adult-social-care" / "ASC_data.csv").read_bytes()


ASC_FAULTS = {
    "404": (lambda d: Fault("status", status=404), "404"),
    "500": (lambda d: Fault("status", status=500), "500"),
    "truncated": (lambda d: Fault("truncate", body=_asc_body(d)[:5000]), "truncated"),
    "html": (lambda d: Fault("html"), "HTML page"),
    "renamed-columns": (lambda d: Fault("body", body=_asc_body(d).replace(b"Value", b"Amount", 1)),
                        "missing column(s) Value"),
    "unknown-measure": (lambda d: Fault("body", body=_asc_body(d).replace(b"ASC1", b"ASC9", 1)),
                        "unknown measure code 'ASC9'"),
}


@pytest.mark.parametrize("kind", sorted(ASC_FAULTS))
def test_asc_fault_leaves_the_snapshot_byte_identical(kind, snapshot_copy, mirror, shared_data, faulty):
    make, expected = ASC_FAULTS[kind]
    faulty(ASC_PATH, make(shared_data))
    before = checksums(snapshot_copy)
    with pytest.raises(RefreshFailed) as err:
        refresh(mirror_settings(mirror, snapshot_copy, http_read_timeout=1.0), [ASC])
    assert expected in str(err.value), str(err.value)
    assert checksums(snapshot_copy) == before


DEPRIVATION_FAULTS = {
    "404": (Fault("status", status=404), "404"),
    "html": (Fault("html"), "HTML page"),
    "garbage": (Fault("body", body=b"\x00garbage" * 64), "expected an R data file"),
    "corrupt": (Fault("body", body=b"BZh91AY&SY" + bytes(range(256)) * 4), "not a readable R data file"),
}


@pytest.mark.parametrize("kind", sorted(DEPRIVATION_FAULTS))
def test_deprivation_fault_leaves_the_snapshot_byte_identical(kind, snapshot_copy, mirror, faulty):
    fault, expected = DEPRIVATION_FAULTS[kind]
    faulty(RUC_PATH, fault)
    before = checksums(snapshot_copy)
    with pytest.raises(RefreshFailed) as err:
        refresh(mirror_settings(mirror, snapshot_copy), ["deprivation"])
    assert expected in str(err.value) and "ruc21_ltla24" in str(err.value), str(err.value)
    assert checksums(snapshot_copy) == before


def test_a_failed_deprivation_file_keeps_the_previous_tables_while_others_refresh(snapshot_copy, mirror, faulty):
    """One write covers both rules: unchanged files are asked for conditionally (HTTP 304), and a
    deprivation file that fails leaves the previous tables in place, byte for byte, marked stale."""
    faulty(RUC_PATH, Fault("html"))
    before = {k: v for k, v in checksums(snapshot_copy).items() if k in DEPRIVATION_TABLES}
    conditional = dict(mirror.state.conditional_hits)
    refresh(mirror_settings(mirror, snapshot_copy), [ASC, "deprivation"])
    manifest = read_manifest(snapshot_copy)
    assert manifest["datasets"][ASC]["status"] == "not_modified"
    assert mirror.state.conditional_hits.get(ASC_PATH, 0) > conditional.get(ASC_PATH, 0)
    dep = manifest["deprivation"]
    assert dep["status"] == "stale" and "HTML page" in dep["error"]
    after = {k: v for k, v in checksums(snapshot_copy).items() if k in DEPRIVATION_TABLES}
    assert after == before and len(after) == 3
    assert verify(snapshot_copy) == []
