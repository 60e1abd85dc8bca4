"""Indices of deprivation, the LSOA → district lookup and the rural–urban class → snapshot tables.

The files are R data (`.rda`) re-published from the official releases (MHCLG IoD 2025 and 2019,
Welsh Government WIMD 2019, Scottish Government SIMD 2020, NISRA NIMDM 2017, ONS lookups and the
ONS/Defra 2021 rural–urban classification). They are read with `pyreadr`, a maintained reader of
R's serialisation format, never by hand. Functions are pure: bytes in, frames out.

Quirks handled here:
- the LSOA file carries no district code: the district comes from the LSOA21 → ward → district
  lookup, which also lists Welsh LSOAs (dropped: the English index covers England only);
- each edition names its summary columns differently (`Income_Extent`, `income_scale`,
  `imd25_extent`, `imd_proportion_of_lso_as_in_most_deprived_10_percent_nationally`); they are
  normalised to one (domain, measure) vocabulary, kept long, one row per area × edition × measure;
- the nations' indices are built differently, and 2019 and 2025 English indices use different LSOA
  vintages: every summary row names its nation and edition so nothing downstream mixes them.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyreadr

from .errors import ValidationError

# file stem → (nation, edition label, code column); the stem is also the object name inside the file
SUMMARY_FILES: dict[str, tuple[str, str, str]] = {
    "imd2025_england_ltla24": ("E", "IoD 2025", "ltla24_code"),
    "imd2019_england_ltla23": ("E", "IoD 2019", "ltla23_code"),
    "imd2019_wales_ltla22": ("W", "WIMD 2019", "ltla22_code"),
    "imd2020_scotland_ltla24": ("S", "SIMD 2020", "ltla24_code"),
    "imd2017_northern_ireland_lgd14": ("N", "NIMDM 2017", "lgd14_code"),
}
LSOA_FILE = "imd2025_england_lsoa21"
LOOKUP_FILE = "lookup_lsoa21_ward24_ltla24"
RUC_FILE = "ruc21_ltla24"
IMD_FILES = (LSOA_FILE, *SUMMARY_FILES)
GEOGRAPHR_FILES = (LOOKUP_FILE, RUC_FILE)

# The seven English domains plus the index itself, as the LSOA file spells them → our names.
DOMAINS = {
    "IMD": "imd", "Income": "income", "Employment": "employment", "Education": "education",
    "Health": "health", "Crime": "crime", "Housing_and_Services": "housing_and_services",
    "Environment": "environment",
}
# Domain prefixes used by the district summaries of every edition → the same names.
SUMMARY_DOMAINS = {
    "imd": "imd", "imd25": "imd", "income": "income", "employment": "employment",
    "education_skills_and_training": "education", "education": "education",
    "health_deprivation_and_disability": "health", "health": "health", "crime": "crime",
    "barriers_to_housing_and_services": "housing_and_services", "housing_and_access": "housing_and_services",
    "housing": "housing", "access": "access", "living_environment": "environment", "environment": "environment",
}
MEASURES = {
    "score": "average_score", "average_score": "average_score", "average_rank": "average_rank",
    "proportion": "proportion_most_deprived_10", "extent": "extent", "local_concentration": "local_concentration",
    "proportion_of_lso_as_in_most_deprived_10_percent_nationally": "proportion_most_deprived_10",
    "scale": "scale",
}
LSOA_COLUMNS = ["lsoacd", "ltlacd", "imd_score", "imd_rank", *(f"{d}_decile" for d in DOMAINS.values())]


@dataclass
class DeprivationTables:
    """The three snapshot tables this source builds."""

    lsoa: pd.DataFrame
    summaries: pd.DataFrame
    rural_urban: pd.DataFrame

    def frames(self) -> dict[str, pd.DataFrame]:
        return {"lsoa_deprivation": self.lsoa, "deprivation_summaries": self.summaries,
                "rural_urban": self.rural_urban}


def read_rda(name: str, body: bytes) -> pd.DataFrame:
    """The one data frame inside an R data file. pyreadr reads from a path, so the bytes go to a
    private temporary file first."""
    fd, path = tempfile.mkstemp(suffix=".rda")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        try:
            objects = pyreadr.read_r(path)
        except (pyreadr.custom_errors.PyreadrError, pyreadr.custom_errors.LibrdataError, ValueError, OSError) as exc:
            raise ValidationError(f"{name}.rda", f"not a readable R data file ({exc})") from exc
    finally:
        os.unlink(path)
    if len(objects) != 1:
        raise ValidationError(f"{name}.rda", f"expected one data frame, found {len(objects)}")
    return next(iter(objects.values()))


def _require(frame: pd.DataFrame, source: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValidationError(source, "missing column(s) " + ", ".join(missing), field=missing[0])


def _codes(series: pd.Series, source: str, field: str, pattern: str) -> pd.Series:
    codes = series.astype(str).str.strip()
    bad = ~codes.str.fullmatch(pattern)
    if bad.any():
        raise ValidationError(source, f"not an area code: {codes[bad].iloc[0]!r}", line=int(bad.idxmax()) + 1,
                              field=field)
    return codes


def parse_lsoa(lsoa: pd.DataFrame, lookup: pd.DataFrame) -> pd.DataFrame:
    """IMD 2025 per LSOA with its 2024 district: score, rank and the decile of the index and each domain.

    Deciles are national (1 = the most deprived tenth of England's LSOAs), so shares per place are
    shares of national deciles. Stored compactly (small integers, float32 scores)."""
    src = f"{LSOA_FILE}.rda"
    cols = ["lsoa21_code", "IMD_score", "IMD_rank", *(f"{k}_decile" for k in DOMAINS)]
    _require(lsoa, src, cols)
    _require(lookup, f"{LOOKUP_FILE}.rda", ["lsoa21_code", "ltla24_code"])
    codes = _codes(lsoa["lsoa21_code"], src, "lsoa21_code", r"E01\d{6}")
    if codes.duplicated().any():
        raise ValidationError(src, f"LSOA listed twice: {codes[codes.duplicated()].iloc[0]}", field="lsoa21_code")
    link = lookup.drop_duplicates("lsoa21_code").set_index("lsoa21_code")["ltla24_code"].astype(str)
    out = pd.DataFrame({"lsoacd": codes, "ltlacd": codes.map(link)})
    unmatched = out["ltlacd"].isna()
    if unmatched.any():
        raise ValidationError(src, f"{int(unmatched.sum())} LSOA(s) not in the district lookup, e.g. "
                                   f"{out.loc[unmatched, 'lsoacd'].iloc[0]}", field="lsoa21_code")
    out["imd_score"] = pd.to_numeric(lsoa["IMD_score"], errors="coerce").astype("float32")
    out["imd_rank"] = pd.to_numeric(lsoa["IMD_rank"], errors="coerce").astype("Int32")
    for raw, ours in DOMAINS.items():
        decile = pd.to_numeric(lsoa[f"{raw}_decile"], errors="coerce")
        outside = decile.notna() & ~decile.isin(range(1, 11))
        if outside.any():
            raise ValidationError(src, f"decile {decile[outside].iloc[0]:g} outside 1–10",
                                  line=int(outside.idxmax()) + 1, field=f"{raw}_decile")
        out[f"{ours}_decile"] = decile.astype("Int8")
    return out[LSOA_COLUMNS].sort_values("lsoacd").reset_index(drop=True)


def _summary_key(column: str) -> tuple[str, str, bool] | None:
    """(domain, measure, is_rank) for one summary column name of any edition; None if not a measure."""
    name = column.lower()
    is_rank = False
    if name.startswith("rank_of_"):  # rank_of_income_scale
        name, is_rank = name.removeprefix("rank_of_"), True
    for prefix in sorted(SUMMARY_DOMAINS, key=len, reverse=True):
        if name.startswith(prefix + "_"):
            rest = name.removeprefix(prefix + "_")
            if rest.startswith("rank_of_"):  # imd_rank_of_average_rank
                rest, is_rank = rest.removeprefix("rank_of_"), True
            if rest in MEASURES:
                return SUMMARY_DOMAINS[prefix], MEASURES[rest], is_rank
            return None
    if name in MEASURES:  # 'Score', 'Extent' of the whole index in the older editions
        return "imd", MEASURES[name], is_rank
    return None


def parse_summary(stem: str, frame: pd.DataFrame) -> pd.DataFrame:
    """One edition's district summaries → long rows (areacd, nation, edition, domain, measure, value, rank)."""
    nation, edition, code_col = SUMMARY_FILES[stem]
    src = f"{stem}.rda"
    _require(frame, src, [code_col])
    prefix = {"E": r"E0[6789]\d{6}", "W": r"W06\d{6}", "S": r"S12\d{6}", "N": r"N09\d{6}"}[nation]
    codes = _codes(frame[code_col], src, code_col, prefix)
    keyed = {c: _summary_key(c) for c in frame.columns if c != code_col}
    measures = {c: k for c, k in keyed.items() if k is not None}
    if not measures:
        raise ValidationError(src, "no summary measure columns recognised")
    long = (frame[list(measures)].apply(pd.to_numeric, errors="coerce").set_axis(codes.to_numpy())
            .rename_axis("areacd").reset_index().melt(id_vars="areacd", var_name="column", value_name="number"))
    key = long["column"].map(measures)
    long["domain"] = key.str[0]
    long["measure"] = key.str[1]
    long["kind"] = np.where(key.str[2], "rank", "value")
    wide = (long.pivot_table(index=["areacd", "domain", "measure"], columns="kind", values="number",
                             aggfunc="first", dropna=False)
            .reindex(columns=["value", "rank"]).reset_index())
    wide = wide.loc[wide["value"].notna() | wide["rank"].notna()]
    wide.insert(1, "nation", nation)
    wide.insert(2, "edition", edition)
    wide["rank"] = wide["rank"].round().astype("Int16")
    return wide[["areacd", "nation", "edition", "domain", "measure", "value", "rank"]]


def parse_rural_urban(frame: pd.DataFrame) -> pd.DataFrame:
    """The 2021 rural–urban classification of districts (England and Wales): code, class and broad type."""
    src = f"{RUC_FILE}.rda"
    _require(frame, src, ["ltla24_code", "ruc21_code", "classification", "ruc"])
    out = pd.DataFrame({
        "areacd": _codes(frame["ltla24_code"], src, "ltla24_code", r"[EW]0[6789]\d{6}"),
        "ruc21_code": frame["ruc21_code"].astype(str).str.strip(),
        "ruc21_class": frame["classification"].astype(str).str.strip(),
        "ruc21_broad": frame["ruc"].astype(str).str.strip(),
    })
    bad = ~out["ruc21_code"].str.fullmatch(r"[UR][UIM][NF]")
    if bad.any():
        raise ValidationError(src, f"unknown class code {out.loc[bad, 'ruc21_code'].iloc[0]!r}", field="ruc21_code")
    if out["areacd"].duplicated().any():
        raise ValidationError(src, f"district listed twice: {out.loc[out['areacd'].duplicated(), 'areacd'].iloc[0]}")
    return out.sort_values("areacd").reset_index(drop=True)


def parse_all(bodies: dict[str, bytes]) -> DeprivationTables:
    """Every file (stem → bytes) → the three snapshot tables."""
    frames = {stem: read_rda(stem, body) for stem, body in bodies.items()}
    summaries = pd.concat([parse_summary(stem, frames[stem]) for stem in SUMMARY_FILES], ignore_index=True)
    for col in ("nation", "edition", "domain", "measure"):
        summaries[col] = summaries[col].astype(str)
    return DeprivationTables(
        lsoa=parse_lsoa(frames[LSOA_FILE], frames[LOOKUP_FILE]),
        summaries=summaries.sort_values(["edition", "areacd", "domain", "measure"]).reset_index(drop=True),
        rural_urban=parse_rural_urban(frames[RUC_FILE]),
    )


def stems_in_order() -> list[tuple[str, str]]:
    """(setting holding the base URL, file stem) for every file this source downloads."""
    return [*(("imd_base_url", s) for s in IMD_FILES), *(("geographr_base_url", s) for s in GEOGRAPHR_FILES)]


