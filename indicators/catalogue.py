"""The indicator catalogue: declarative judgements about each indicator, validated at load time.

Why declarative: whether "more" is better, which pillar an indicator feeds and whether it
can be aggregated are judgements a reader must be able to see and dispute in one file
(catalogue.yaml), not branches hidden in code. The file is checked against the snapshot:
an indicator in the data without an entry, or an entry without data, is an error naming it.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import CatalogueError

CATALOGUE_PATH = Path(__file__).resolve().parent / "catalogue.yaml"
Pillar = Literal["economy", "public_services", "environment", "context"]
Polarity = Literal["higher_is_better", "lower_is_better", "neutral"]
Aggregation = Literal["rate", "count", "not_aggregable"]
Denominator = Literal["population", "children", "working_age", "adults", "older", "area"]
# What an indicator measures in the chain from spending to results (DESIGN §4): only outcomes,
# the results residents experience, are scored by default. Inputs (money, facilities,
# infrastructure) and outputs (activity: homes built, courses started) are shown beside them:
# scoring them would reward a place for spending or building rather than for what it achieved.
Kind = Literal["outcome", "output", "input", "context"]
# How the publisher built the 95% CI, so other levels (99.8%) can be rebuilt the same way
# (indicators/significance.py); absent means a symmetric interval (value ± z·SE).
CiMethod = Literal["wilson", "byar", "dobson", "log", "logit", "normal"]
SCORED_PILLARS: tuple[str, ...] = ("economy", "public_services", "environment")
PILLAR_LABELS = {"economy": "Economy", "public_services": "Public services", "environment": "Environment",
                 "context": "Context"}
KIND_LABELS = {"outcome": "Outcome", "output": "Output (activity)", "input": "Input (provision)",
               "context": "Context"}
# Public-service outcomes the catalogue must cover (DESIGN §1): a guard against a catalogue
# that quietly judges growth on the economy alone.
REQUIRED_PUBLIC_SERVICE_THEMES = ("health", "education", "housing", "poverty", "crime_safety", "wellbeing")


class Derived(BaseModel):
    """An indicator computed from two in the snapshot: numerator × scale / denominator, matched
    by area, level and the year the period starts. Why: a total (£ million of investment) grows
    with the size of the place, so only its per-head form can be compared across places."""
    model_config = ConfigDict(extra="forbid", frozen=True)

    numerator: str
    denominator: str
    scale: float = Field(gt=0)


class Indicator(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    label: str = Field(min_length=1)
    dataset: str
    pillar: Pillar
    theme: str = Field(pattern=r"^[a-z_]+$")
    polarity: Polarity
    unit: str
    aggregation: Aggregation
    denominator: Denominator | None = None
    weight: float = Field(ge=0, le=10)
    nations: list[Literal["E", "N", "S", "W"]] = Field(min_length=1)
    ci_method: CiMethod | None = None
    kind: Kind
    family: str | None = Field(default=None, pattern=r"^[a-z0-9_]+$")
    derived: Derived | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _rates_name_their_denominator(self) -> "Indicator":
        if (self.aggregation == "rate") != (self.denominator is not None):
            raise ValueError("a denominator is required for rates and only for rates")
        return self

    @model_validator(mode="after")
    def _proportion_methods_need_percentages(self) -> "Indicator":
        if self.ci_method in ("wilson", "logit") and self.unit != "%":
            raise ValueError(f"ci_method {self.ci_method} is for percentages, but the unit is '{self.unit}'")
        return self

    @model_validator(mode="after")
    def _only_scored_indicators_carry_weight(self) -> "Indicator":
        if self.weight > 0 and not self.scored:
            raise ValueError(f"weight {self.weight:g} on an indicator that is never scored ({self.kind}, "
                             f"{self.pillar}, {self.polarity}); give it weight 0")
        return self

    @model_validator(mode="after")
    def _disputable_kinds_say_why(self) -> "Indicator":
        if self.kind in ("input", "output") and not self.note:
            raise ValueError(f"a {self.kind} is shown but not scored; its note must say why")
        return self

    @field_validator("nations")
    @classmethod
    def _unique_nations(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("nations listed twice")
        return v

    @property
    def scored(self) -> bool:
        """Only outcomes with a direction in a scored pillar move a score; inputs, outputs, context
        and neutral indicators are shown beside them."""
        return self.pillar in SCORED_PILLARS and self.polarity != "neutral" and self.kind == "outcome"

    @property
    def sign(self) -> int:
        return {"higher_is_better": 1, "lower_is_better": -1, "neutral": 0}[self.polarity]


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    indicators: list[Indicator]

    @model_validator(mode="after")
    def _one_unit_of_weight_per_family(self) -> "Catalogue":
        """Overlapping measures (one survey, one construct) share one unit of weight for each
        nation, so a construct measured four ways cannot outweigh one measured once (OECD/JRC
        Handbook on Constructing Composite Indicators, step 6: double counting)."""
        ids = [i.id for i in self.indicators]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"indicator(s) listed twice: {', '.join(dupes)}")
        rows = [(i.family, n, i.weight) for i in self.indicators if i.family for n in i.nations]
        if rows:
            sums = pd.DataFrame(rows, columns=["family", "nation", "weight"]).groupby(["family", "nation"])["weight"].sum()
            over = sums.loc[sums > 1 + 1e-3]
            if len(over):
                text = "; ".join(f"{f} in {n} sums to {w:g}" for (f, n), w in over.items())
                raise ValueError(f"a family of overlapping measures carries more than one unit of weight: {text}")
        for i in self.indicators:
            if i.derived:
                absent = [x for x in (i.derived.numerator, i.derived.denominator) if x not in ids]
                if absent:
                    raise ValueError(f"derived indicator '{i.id}' is built from {', '.join(absent)}, "
                                     "which the catalogue does not list")
        return self

    def get(self, indicator_id: str) -> Indicator:
        from .errors import UnknownIndicatorError
        for ind in self.indicators:
            if ind.id == indicator_id:
                return ind
        raise UnknownIndicatorError(f"unknown indicator '{indicator_id}': not in indicators/catalogue.yaml")

    def ids(self) -> list[str]:
        return [i.id for i in self.indicators]

    def frame(self) -> pd.DataFrame:
        rows = [{**i.model_dump(exclude={"derived"}), "scored": i.scored, "sign": i.sign,
                 "nations": ",".join(i.nations), "derived": i.derived is not None} for i in self.indicators]
        return pd.DataFrame(rows).set_index("id", drop=False)


def load(path: Path = CATALOGUE_PATH) -> Catalogue:
    """Parse and validate catalogue.yaml (structure only; see `check_against_snapshot`)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueError(f"{path}: cannot read the catalogue ({exc})") from exc
    try:
        cat = Catalogue.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "catalogue"
        if first["loc"][:1] == ("indicators",) and len(first["loc"]) > 1 and isinstance(first["loc"][1], int):
            entry = raw["indicators"][first["loc"][1]]
            where = f"indicator '{entry.get('id', '?')}' field '{'.'.join(str(p) for p in first['loc'][2:])}'"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise CatalogueError(f"{path}: {where}: {message}") from exc
    themes = {i.theme for i in cat.indicators if i.pillar == "public_services" and i.scored}
    absent = [t for t in REQUIRED_PUBLIC_SERVICE_THEMES if t not in themes]
    if absent:
        raise CatalogueError(f"{path}: public-service outcomes must cover {', '.join(absent)}")
    return cat


def check_against_snapshot(cat: Catalogue, snapshot_catalogue: pd.DataFrame) -> None:
    """Every indicator in the data has an entry and every entry has data, in the same dataset.
    A derived entry has no data of its own until the query context builds it; its parts must."""
    data = dict(zip(snapshot_catalogue["indicator_id"].astype(str), snapshot_catalogue["dataset"].astype(str)))
    ours = {i.id: i.dataset for i in cat.indicators}
    derived = {i.id for i in cat.indicators if i.derived}
    no_entry = sorted(set(data) - set(ours))
    no_data = sorted(set(ours) - set(data) - derived)
    wrong = sorted(i for i in set(data) & set(ours) if data[i] != ours[i])
    problems = []
    if no_entry:
        problems.append("in the data but not in catalogue.yaml: " + ", ".join(no_entry))
    if no_data:
        problems.append("in catalogue.yaml but not in the data: " + ", ".join(no_data))
    if wrong:
        problems.append("dataset differs from the data for: " + ", ".join(wrong))
    if problems:
        raise CatalogueError("catalogue.yaml does not match the snapshot: " + "; ".join(problems))


def default() -> Catalogue:
    """The configured catalogue (GOOD_GROWTH_CATALOGUE_PATH, else indicators/catalogue.yaml), cached."""
    from data_sources.settings import get_settings
    return _load_cached(Path(get_settings().catalogue_path or CATALOGUE_PATH))


@lru_cache(maxsize=2)
def _load_cached(path: Path) -> Catalogue:
    return load(path)
