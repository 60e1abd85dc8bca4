"""ONS Explore Local Statistics (ELS) files → the tidy observations table and catalogue rows.

Every quirk of the real files is handled here and nowhere else (DESIGN §3): BOMs and the
old upper-case layout, four period encodings, suppression codes, partial confidence
intervals, mixed-measure files, inconsistent geography labels, and duplicate rows.
Functions are pure: bytes in, frames out; fetching and storing live elsewhere.
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from dateutil.relativedelta import relativedelta

from .errors import ValidationError

HERE = Path(__file__).resolve().parent

OBSERVATION_COLUMNS = [
    "indicator_id", "areacd", "areanm", "level", "period_code", "period_label", "period_start",
    "period_end", "value", "lci", "uci", "status", "unit", "measure", "dataset", "notes", "source_line",
]
REQUIRED_CSV_COLUMNS = ["areacd", "areanm", "geography", "indicator", "period", "observation", "measure", "unit"]
# The 2024-and-earlier ELS layout (still served for gdp-per-head) used title-case names.
OLD_LAYOUT_NAMES = {
    "lower confidence interval (95%)": "lci_95",
    "upper confidence interval (95%)": "uci_95",
    "observation status": "status",
}
STATUS_CODES = {"x": "not_available", "u": "unreliable", "c": "confidential", "z": "not_applicable"}
NULL_TOKENS = {"", "x", "u", "c", "z", "..", ":", "-", "na", "n/a", "null", "nan"}


@dataclass(frozen=True)
class DatasetSpec:
    """One entry of datasets.yaml."""

    slug: str
    fallback: tuple[str, ...] = ()
    required: bool = False
    nation: str | None = None
    companion: str | None = None
    comparability: str | None = None
    skip: str | None = None
    source: str = "els"  # els: <slug>/<slug>.csv + .json of the ELS repository; oflog-asc: Oflog's ASC CSV


@dataclass(frozen=True)
class LevelRules:
    vocabulary: tuple[str, ...]
    code_prefixes: dict[str, tuple[str, ...]]
    labels: dict[str, str]
    excluded_prefixes: dict[str, str]


@dataclass
class Parsed:
    """A dataset turned into snapshot rows, with what was set aside and why."""

    observations: pd.DataFrame
    catalogue: pd.DataFrame
    excluded: dict[str, int] = field(default_factory=dict)
    duplicates_dropped: int = 0


def load_dataset_specs(path: Path | None = None) -> list[DatasetSpec]:
    raw = yaml.safe_load((path or HERE / "datasets.yaml").read_text(encoding="utf-8"))
    specs = []
    for entry in raw["datasets"]:
        entry = dict(entry)
        entry["fallback"] = tuple(entry.get("fallback") or ())
        specs.append(DatasetSpec(**entry))
    slugs = [s.slug for s in specs]
    if len(set(slugs)) != len(slugs):
        raise ValueError("datasets.yaml lists a slug twice")
    return specs


@lru_cache(maxsize=1)
def load_level_rules() -> LevelRules:
    raw = yaml.safe_load((HERE / "levels.yaml").read_text(encoding="utf-8"))
    return LevelRules(
        vocabulary=tuple(raw["vocabulary"]),
        code_prefixes={k: tuple(v) for k, v in raw["code_prefixes"].items()},
        labels=dict(raw["labels"]),
        excluded_prefixes=dict(raw["excluded_prefixes"]),
    )


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# ---------------------------------------------------------------- periods

_ISO_INTERVAL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})/P(\d+)([YMD])$")
_BARE_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


def parse_period(code: str) -> tuple[date, date, str]:
    """(start, end, human label) for an ELS period code.

    `2011-01-01/P3Y` → 2011-01-01..2013-12-31 "2011 to 2013"; `2023-04-01/P1Y` → "2023/24";
    `2023-07-01/P1M` → "Jul 2023"; bare `2025-04-30` → that day; plain `1998` → the calendar year.
    Raises ValueError for anything else.
    """
    code = code.strip()
    if m := _ISO_INTERVAL.match(code):
        start = date(int(m[1]), int(m[2]), int(m[3]))
        n, unit = int(m[4]), m[5]
        step = {"Y": relativedelta(years=n), "M": relativedelta(months=n), "D": relativedelta(days=n)}[unit]
        end = start + step - relativedelta(days=1)
        return start, end, _interval_label(start, n, unit)
    if m := _BARE_DATE.match(code):
        d = date(int(m[1]), int(m[2]), int(m[3]))
        return d, d, f"{d.day} {d:%b %Y}"
    if m := _YEAR.match(code):
        y = int(m[1])
        return date(y, 1, 1), date(y, 12, 31), str(y)
    raise ValueError(f"unrecognised period {code!r}")


def _interval_label(start: date, n: int, unit: str) -> str:
    if unit == "M":
        return f"{start:%b %Y}" if n == 1 else f"{start:%b %Y} to {(start + relativedelta(months=n - 1)):%b %Y}"
    if unit == "D":
        return f"{start.isoformat()} for {n} days"
    def one_year(y: int) -> str:
        return str(y) if start.month == 1 else f"{y}/{(y + 1) % 100:02d}"
    if n == 1:
        return one_year(start.year)
    return f"{one_year(start.year)} to {one_year(start.year + n - 1)}"


def _period_frame(codes: pd.Series, source: str, lines: pd.Series) -> pd.DataFrame:
    """Parse each distinct period once (a file has dozens, not thousands)."""
    parsed: dict[str, tuple[date, date, str]] = {}
    for code in codes.unique():
        try:
            parsed[code] = parse_period(code)
        except ValueError as exc:
            line = int(lines[codes == code].iloc[0])
            raise ValidationError(source, str(exc), line=line, field="period") from exc
    table = pd.DataFrame.from_dict(parsed, orient="index", columns=["period_start", "period_end", "period_label"])
    table["period_start"] = pd.to_datetime(table["period_start"]).astype("date32[pyarrow]")
    table["period_end"] = pd.to_datetime(table["period_end"]).astype("date32[pyarrow]")
    return table.reindex(codes.to_numpy()).reset_index(drop=True)


# ---------------------------------------------------------------- levels

def assign_levels(areacd: pd.Series, label: pd.Series, rules: LevelRules | None = None) -> pd.Series:
    """A tuple of levels per row (empty tuple = outside the vocabulary)."""
    rules = rules or load_level_rules()
    pairs = pd.DataFrame({"areacd": areacd, "label": label}).drop_duplicates()
    lookup: dict[tuple[str, str], tuple[str, ...]] = {}
    for code, lab in pairs.itertuples(index=False):
        prefix = code[:3]
        if prefix in rules.code_prefixes:
            lookup[(code, lab)] = rules.code_prefixes[prefix]
        elif prefix in rules.excluded_prefixes:
            lookup[(code, lab)] = ()
        elif (code.startswith(("TL", "na:"))) and lab in rules.labels:
            lookup[(code, lab)] = (rules.labels[lab],)
        else:
            lookup[(code, lab)] = ()
    return pd.Series([lookup[(c, l)] for c, l in zip(areacd, label)], index=areacd.index, dtype=object)


# ---------------------------------------------------------------- values

def _numbers(raw: pd.Series, source: str, column: str, lines: pd.Series, areacd: pd.Series) -> pd.Series:
    """Numbers, with suppression symbols and blanks as NaN; anything else unparseable is an error."""
    text = raw.fillna("").astype(str).str.strip()
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() & ~text.str.lower().isin(NULL_TOKENS)
    if bad.any():
        i = bad.to_numpy().nonzero()[0][0]
        raise ValidationError(source, f"not a number: {text.iloc[i]!r}", line=int(lines.iloc[i]),
                              field=column, areacd=str(areacd.iloc[i]))
    infinite = np.isinf(values.to_numpy(dtype="float64", na_value=np.nan))
    if infinite.any():
        i = infinite.nonzero()[0][0]
        raise ValidationError(source, f"not a finite number: {text.iloc[i]!r}", line=int(lines.iloc[i]),
                              field=column, areacd=str(areacd.iloc[i]))
    return values.astype("float64")


def _read_csv(body: bytes, source: str) -> pd.DataFrame:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(source, f"not UTF-8 text (byte {exc.start})") from exc
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False,
                            skipinitialspace=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValidationError(source, f"not a readable CSV: {str(exc).strip().splitlines()[-1]}") from exc
    return frame


def _normalise_columns(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Lower-case headers, map the old layout's names, and fold a repeated `notes` column."""
    names = []
    for col in frame.columns:
        base = re.sub(r"\.\d+$", "", str(col)).strip().lower()
        names.append(OLD_LAYOUT_NAMES.get(base, base))
    frame = frame.copy()
    frame.columns = names
    if names.count("notes") > 1:
        notes = frame.loc[:, [n == "notes" for n in names]]
        joined = notes.apply(lambda r: "; ".join(v for v in r if v), axis=1)
        frame = frame.loc[:, [n != "notes" for n in names]]
        frame["notes"] = joined
    duplicated = sorted({n for n in frame.columns if list(frame.columns).count(n) > 1})
    if duplicated:
        raise ValidationError(source, f"repeated column header(s): {', '.join(duplicated)}", line=1)
    missing = [c for c in REQUIRED_CSV_COLUMNS if c not in frame.columns]
    if missing:
        raise ValidationError(source, f"missing column(s) {', '.join(missing)}; found {', '.join(frame.columns)}",
                              line=1, field=missing[0])
    for optional in ("lci_95", "uci_95", "status", "notes"):
        if optional not in frame.columns:
            frame[optional] = ""
    return frame


def _indicator_ids(frame: pd.DataFrame) -> pd.Series:
    """One indicator per (indicator, measure): files that mix measures are split (DESIGN §3)."""
    pairs = frame[["indicator", "measure"]].drop_duplicates()
    multi = pairs.groupby("indicator")["measure"].transform("size") > 1
    ids = np.where(multi, (pairs["indicator"] + " " + pairs["measure"]).map(slugify), pairs["indicator"].map(slugify))
    mapping = dict(zip(zip(pairs["indicator"], pairs["measure"]), ids))
    return pd.Series([mapping[k] for k in zip(frame["indicator"], frame["measure"])], index=frame.index)


def _synthesise_codes(frame: pd.DataFrame) -> pd.Series:
    """Some rows carry `na` instead of a GSS code (e.g. Scottish city regions): key them on the name."""
    code = frame["areacd"].str.strip()
    is_na = code.str.lower() == "na"
    return code.where(~is_na, "na:" + frame["areanm"].map(slugify))


def parse_csv(slug: str, body: bytes, metadata: dict[str, Any], spec: DatasetSpec | None = None) -> Parsed:
    """An ELS `<slug>.csv` (+ its parsed JSON metadata) → observations and catalogue rows."""
    source = f"{slug}/{slug}.csv"
    raw = _normalise_columns(_read_csv(body, source), source)
    if raw.empty:
        raise ValidationError(source, "no data rows")
    raw["source_line"] = np.arange(2, len(raw) + 2, dtype="int32")
    for col in ("areacd", "areanm", "geography", "indicator", "measure", "unit", "period", "status", "notes"):
        raw[col] = raw[col].astype(str).str.strip()
    blank_code = raw["areacd"] == ""
    if blank_code.any():
        raise ValidationError(source, "blank area code", line=int(raw.loc[blank_code, "source_line"].iloc[0]),
                              field="areacd")
    raw["areacd"] = _synthesise_codes(raw)
    raw["indicator_id"] = _indicator_ids(raw)

    levels = assign_levels(raw["areacd"], raw["geography"])
    out_of_vocab = levels.map(len) == 0
    excluded = raw.loc[out_of_vocab, "areacd"].str[:3].value_counts().to_dict()
    raw = raw.loc[~out_of_vocab].assign(level=levels[~out_of_vocab]).explode("level", ignore_index=True)

    lines, codes = raw["source_line"], raw["areacd"]
    value = _numbers(raw["observation"], source, "observation", lines, codes)
    lci = _numbers(raw["lci_95"], source, "lci_95", lines, codes)
    uci = _numbers(raw["uci_95"], source, "uci_95", lines, codes)
    status_raw = raw["status"]
    coded = status_raw.str.lower().map(STATUS_CODES)
    free_text = status_raw.ne("") & coded.isna()
    value = value.where(coded.isna())  # a suppression code always means "no value", never 0
    status = coded.fillna(pd.Series(np.where(value.isna(), "missing", "ok"), index=raw.index))
    notes = raw["notes"].where(~free_text, (raw["notes"] + "; " + status_raw).str.strip("; "))

    periods = _period_frame(raw["period"], source, lines)
    obs = pd.DataFrame({
        "indicator_id": raw["indicator_id"],
        "areacd": raw["areacd"],
        "areanm": raw["areanm"],
        "level": raw["level"],
        "period_code": raw["period"],
        "period_label": periods["period_label"],
        "period_start": periods["period_start"],
        "period_end": periods["period_end"],
        "value": value,
        "lci": lci,
        "uci": uci,
        "status": status,
        "unit": raw["unit"],
        "measure": raw["measure"],
        "dataset": slug,
        "notes": notes.replace("", None),
        "source_line": lines,
    })
    obs, dropped = drop_duplicates(obs, source)
    catalogue = catalogue_rows(slug, metadata, obs, raw[["indicator", "measure", "indicator_id"]], spec)
    return Parsed(observations=obs[OBSERVATION_COLUMNS], catalogue=catalogue, excluded=excluded,
                  duplicates_dropped=dropped)


def drop_duplicates(obs: pd.DataFrame, source: str) -> tuple[pd.DataFrame, int]:
    """Identical repeats are dropped; repeats that disagree are an error naming both lines."""
    key = ["indicator_id", "areacd", "level", "period_code"]
    dup = obs.duplicated(key, keep=False)
    if not dup.any():
        return obs, 0
    repeats = obs.loc[dup]
    compared = ["value", "lci", "uci", "status"]
    distinct = repeats.drop_duplicates(key + compared)
    conflict = distinct.duplicated(key, keep=False)
    if conflict.any():
        first = distinct.loc[conflict].iloc[0]
        same = distinct.loc[conflict & (distinct[key] == first[key]).all(axis=1)]
        a, b = same.iloc[0], same.iloc[1]
        raise ValidationError(
            source,
            f"conflicting duplicate rows for {a.indicator_id} {a.areacd} ({a.level}) {a.period_code}: "
            f"line {a.source_line} has value {_fmt(a.value)}, line {b.source_line} has value {_fmt(b.value)}",
            line=int(b.source_line), field="observation", areacd=str(a.areacd),
        )
    kept = obs.drop_duplicates(key, keep="first")
    return kept.reset_index(drop=True), len(obs) - len(kept)


def _fmt(v: float) -> str:
    return "blank" if pd.isna(v) else f"{v:g}"


# ---------------------------------------------------------------- metadata

def parse_metadata(slug: str, body: bytes) -> dict[str, Any]:
    """The dataset JSON: {"ess-beta-metadata": {shared?, <indicator>: {...}}} or a flat single-indicator block."""
    source = f"{slug}/{slug}.json"
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(source, f"not valid JSON ({exc})") from exc
    meta = doc.get("ess-beta-metadata") if isinstance(doc, dict) else None
    if not isinstance(meta, dict):
        raise ValidationError(source, "no 'ess-beta-metadata' object", field="ess-beta-metadata")
    return meta


def indicator_metadata(meta: dict[str, Any], indicator: str) -> dict[str, Any]:
    """Shared fields overlaid with the indicator's own; flat files describe their single indicator."""
    if "shared" in meta:
        own = meta.get(indicator)
        if own is None:  # keys sometimes differ in case or punctuation from the CSV's names
            own = next((v for k, v in meta.items() if slugify(k) == slugify(indicator)), {})
        return {**meta["shared"], **(own or {})}
    return dict(meta)


def _source_date(text: Any) -> date | None:
    """First dd/mm/yyyy date in the field; multi-source datasets join dates with '|'."""
    if not isinstance(text, str):
        return None
    for part in text.split("|"):
        try:
            return datetime.strptime(part.strip(), "%d/%m/%Y").date()
        except ValueError:
            continue
    return None


def _flag(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.upper() in {"T", "F"}:
        return v.upper() == "T"
    return None


def catalogue_rows(slug: str, meta: dict[str, Any], obs: pd.DataFrame, names: pd.DataFrame,
                   spec: DatasetSpec | None, *, fallback: bool = False) -> pd.DataFrame:
    """One row per indicator: ELS metadata plus facts measured from the rows themselves."""
    rows = []
    for (indicator, measure, ind_id) in names.drop_duplicates().itertuples(index=False):
        m = indicator_metadata(meta, indicator)
        these = obs.loc[obs["indicator_id"] == ind_id]
        nations = sorted({c[0] for c in these["areacd"] if c[:1] in "ENSW" and not c.startswith("na")})
        with_value = these.loc[these["value"].notna()]
        rows.append({
            "indicator_id": ind_id,
            "indicator": indicator,
            "label": m.get("label") or indicator,
            "subtitle": m.get("subtitle"),
            "description": m.get("longDescription"),
            "caveats": m.get("caveats"),
            "source_org": m.get("sourceOrg"),
            "source_url": m.get("sourceURL"),
            "source_date": _source_date(m.get("sourceDate")),
            "source_date_text": m.get("sourceDate"),
            "next_release": m.get("nextRelease") or m.get("nextUpdate"),
            "unit": these["unit"].iloc[0] if len(these) else None,
            "measure": measure,
            "prefix": m.get("prefix"),
            "suffix": m.get("suffix"),
            "sub_text": m.get("subText"),
            "decimal_places": m.get("decimalPlaces"),
            "experimental": _flag(m.get("experimentalStatistic")),
            "standardised": _flag(m.get("standardised")),
            "dataset": slug,
            "nations": ",".join(nations),
            "nation_only": spec.nation if spec else None,
            "companion_dataset": spec.companion if spec else None,
            "comparability": spec.comparability if spec else None,
            "levels": ",".join(sorted(these["level"].unique())),
            "has_ci": bool(these["lci"].notna().any()),
            "first_period": with_value["period_start"].min() if len(with_value) else None,
            "last_period": with_value["period_start"].max() if len(with_value) else None,
            "rows": len(these),
            "from_fallback": fallback,
        })
    frame = pd.DataFrame(rows)
    for col in ("first_period", "last_period", "source_date"):
        frame[col] = pd.to_datetime(frame[col]).astype("date32[pyarrow]")
    return frame


# ---------------------------------------------------------------- fallback

def parse_fallback(slug: str, indicator_slug: str, body: bytes, metadata: dict[str, Any],
                   spec: DatasetSpec | None = None) -> Parsed:
    """The ELS app's per-indicator JSON ({code, areacd[], value[], lci[], uci[], xDomainNumb[]}).

    A stop-gap for datasets whose CSV is missing upstream: one value per area per year,
    with no geography, unit or status columns, so levels come from code prefixes and the
    unit from the dataset metadata.
    """
    source = f"fallback {indicator_slug}.json"
    try:
        doc = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(source, f"not valid JSON ({exc})") from exc
    needed = ["code", "areacd", "value", "xDomainNumb"]
    missing = [k for k in needed if not isinstance(doc, dict) or k not in doc]
    if missing:
        raise ValidationError(source, f"missing field(s) {', '.join(missing)}", field=missing[0])
    n = len(doc["areacd"])
    for k in ("value", "xDomainNumb", "lci", "uci"):
        if k in doc and doc[k] is not None and len(doc[k]) != n:
            raise ValidationError(source, f"'{k}' has {len(doc[k])} entries but 'areacd' has {n}", field=k)
    code = str(doc["code"])
    indicator = code[len(slug) + 1:] if code.startswith(slug + "-") else code
    m = indicator_metadata(metadata, indicator)
    unit = m.get("suffix") or m.get("subText") or ""
    frame = pd.DataFrame({
        "areacd": pd.Series(doc["areacd"], dtype=str),
        "geography": "",
        "period": pd.Series(doc["xDomainNumb"]).astype(int).astype(str),
        "observation": pd.Series(doc["value"], dtype=object),
        "lci_95": pd.Series(doc.get("lci") or [None] * n, dtype=object),
        "uci_95": pd.Series(doc.get("uci") or [None] * n, dtype=object),
    })
    frame["source_line"] = np.arange(1, n + 1, dtype="int32")  # position in the arrays
    levels = assign_levels(frame["areacd"], frame["geography"])
    out_of_vocab = levels.map(len) == 0
    excluded = frame.loc[out_of_vocab, "areacd"].str[:3].value_counts().to_dict()
    frame = frame.loc[~out_of_vocab].assign(level=levels[~out_of_vocab]).explode("level", ignore_index=True)
    lines, codes = frame["source_line"], frame["areacd"]
    value = _numbers(frame["observation"].astype(str).replace("None", ""), source, "value", lines, codes)
    periods = _period_frame(frame["period"], source, lines)
    obs = pd.DataFrame({
        "indicator_id": slugify(indicator),
        "areacd": codes,
        "areanm": None,
        "level": frame["level"],
        "period_code": frame["period"],
        "period_label": periods["period_label"],
        "period_start": periods["period_start"],
        "period_end": periods["period_end"],
        "value": value,
        "lci": _numbers(frame["lci_95"].astype(str).replace("None", ""), source, "lci", lines, codes),
        "uci": _numbers(frame["uci_95"].astype(str).replace("None", ""), source, "uci", lines, codes),
        "status": np.where(value.isna(), "missing", "ok"),
        "unit": unit,
        "measure": m.get("label") or indicator,
        "dataset": slug,
        "notes": "From the ELS app's published indicator file: the dataset's CSV is missing upstream.",
        "source_line": lines,
    })
    obs, dropped = drop_duplicates(obs, source)
    names = pd.DataFrame({"indicator": [indicator], "measure": [obs["measure"].iloc[0] if len(obs) else ""],
                          "indicator_id": [slugify(indicator)]})
    catalogue = catalogue_rows(slug, metadata, obs, names, spec, fallback=True)
    return Parsed(observations=obs[OBSERVATION_COLUMNS], catalogue=catalogue, excluded=excluded,
                  duplicates_dropped=dropped)
