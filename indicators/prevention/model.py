"""The prevention model file: a council's assumptions about what an intervention changes and what that saves.

Why this shape: every number the tool reports must trace back to a line of this file or to a
snapshot value. So each quantity that is uncertain is written as low / central / high with the
evidence it rests on, and every unit cost carries its source and price year, written by the
council: the tool never supplies a cost of its own. The file is read with the plan subsystem's safe
YAML reader (no aliases, anchors, complex keys, huge integers, impossible dates or files over
1,000,000 bytes) and every refusal names the file, the line and the field.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, model_validator

from ..plan_model import AREA_CODE, HORIZON_YEARS, PREVENTION_FILE, PlanError, _field, _line_of, read_plan_bytes
from .. import plan_model

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "plans" / "prevention.schema.json"
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "plans" / "examples" / "prevention"
# HM Treasury Green Book (2022), §6 and Annex A6: 3.5% a year for the first 30 years; 1.5% for health
# effects valued in QALYs (the pure time-preference part only).
STANDARD_RATE = 0.035
HEALTH_RATE = 0.015
# A model values at most the plan's long horizon: fifteen years after the first year of spending.
MAX_YEARS = 15
# No unit cost, count or population in a council model comes near these; beyond them is a typo,
# and refusing it keeps every product of them finite.
MAX_AMOUNT = 1e10
MAX_POPULATION = 1e8
Horizon = Literal["immediate", "medium", "long"]
Text = Annotated[str, Field(min_length=1, max_length=300)]
LongText = Annotated[str, Field(min_length=1, max_length=1000)]
MODEL_FILE_NAME = PREVENTION_FILE


class PreventionError(PlanError):
    """A prevention model that cannot be read, validated or evaluated; names file, line and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)


class Range(_Strict):
    """An uncertain quantity: low ≤ central ≤ high, and where the numbers come from."""

    low: float = Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)
    central: float = Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)
    high: float = Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)
    source: LongText = Field(description="the evidence or source of the three values")
    illustrative: bool = Field(False, description="true where the values are made up for an example")

    @model_validator(mode="after")
    def _ordered(self) -> "Range":
        if not self.low <= self.central <= self.high:
            raise ValueError(f"low ≤ central ≤ high is needed (got {self.low:g}, {self.central:g}, {self.high:g})")
        return self


class Money(Range):
    """A range of money, in the price year it is stated in."""

    low: float = Field(ge=0, le=MAX_AMOUNT)
    central: float = Field(ge=0, le=MAX_AMOUNT)
    high: float = Field(ge=0, le=MAX_AMOUNT)
    price_year: int = Field(ge=1990, le=2100, description="the year whose prices the amounts are in")


class Population(_Strict):
    """Who the outcome indicator counts: from the snapshot (an indicator's value for the place, times an
    optional share) or a count given with its source."""

    from_denominator: bool = Field(False, description="the outcome indicator's own denominator for the place "
                                   "(e.g. adults: population-count × the shares aged 16–64 and 65+)")
    indicator: str | None = Field(None, description="a catalogue indicator counting people, e.g. population-count")
    share_indicators: list[str] | None = Field(
        None, min_length=1, max_length=5, description="percentage indicators from the snapshot whose sum is the "
        "share of that count the outcome covers, e.g. the shares aged 16 to 64 and 65 and over for adults")
    share: float = Field(1.0, gt=0, le=1, description="a further share of that count the outcome covers")
    share_source: LongText | None = Field(None, description="where the share comes from (needed when below 1)")
    count: float | None = Field(None, gt=0, le=MAX_POPULATION, description="a count of people given directly")
    source: LongText | None = Field(None, description="where a given count comes from")

    @model_validator(mode="after")
    def _one_kind(self) -> "Population":
        kinds = [k for k in ("from_denominator", "indicator", "count") if getattr(self, k) not in (None, False)]
        if len(kinds) != 1:
            raise ValueError("give one of 'from_denominator: true', 'indicator' (a count from the snapshot) or "
                             "'count' with its 'source'")
        if self.count is not None and not self.source:
            raise ValueError("a population 'count' needs its 'source'")
        if self.share_indicators is not None and self.indicator is None:
            raise ValueError("'share_indicators' apply to a count from the snapshot ('indicator')")
        if self.share < 1 and not self.share_source:
            raise ValueError("a 'share' below 1 needs its 'share_source'")
        return self


class Demand(_Strict):
    """One kind of service demand the outcome change avoids, and what each unit of it costs."""

    name: Text = Field(description="the service demand, e.g. 'GP consultations'")
    per_case: Range = Field(description="units of this demand avoided a year per person whose outcome changes")
    unit_cost: Money = Field(description="the cost of one unit of this demand, supplied by the council")
    who_gains: Literal["council", "nhs", "other"] = Field(description="whose budget the avoided demand relieves")
    discount: Literal["standard", "health"] = Field(
        "standard", description="standard (3.5%) for money; health (1.5%) only for health effects such as QALYs")


class TimeToEffect(_Strict):
    horizon: Horizon = Field(description="immediate (0–2 years), medium (3–5) or long (6–15)")
    year: int | None = Field(None, ge=0, le=MAX_YEARS,
                             description="the year (0 = first year of spending) the effect starts; "
                             "default the horizon's first year")

    @model_validator(mode="after")
    def _inside(self) -> "TimeToEffect":
        lo, hi = HORIZON_YEARS[self.horizon]
        if self.year is not None and not lo <= self.year <= hi:
            raise ValueError(f"a {self.horizon} effect starts {lo}–{hi} years in, not in year {self.year}")
        return self

    @property
    def start(self) -> int:
        return self.year if self.year is not None else HORIZON_YEARS[self.horizon][0]


class Intervention(_Strict):
    name: Text
    indicator: str = Field(description="the catalogue outcome indicator the intervention moves")
    effect: Range = Field(description="improvement in the indicator, in its own units (positive = better)")
    scale: float | None = Field(None, gt=0, le=1e6, description="people the indicator's unit is per "
                                "(100 for a percentage, 100000 for a rate per 100,000); default from the unit")
    population: Population
    time_to_effect: TimeToEffect
    demand: list[Demand] = Field(min_length=1, max_length=20)
    annual_cost: Money = Field(description="what the intervention costs a year")
    cost_years: int | None = Field(None, ge=1, le=MAX_YEARS + 1, description="years the cost runs "
                                   "(default: every year of the appraisal)")


class OptimismBias(_Strict):
    """Green Book supplementary guidance: uplift costs (and, where evidence is thin, trim benefits) for
    the appraiser's systematic optimism."""

    costs: float = Field(0.0, ge=0, le=2, description="uplift on costs, e.g. 0.2 = +20%")
    benefits: float = Field(0.0, ge=0, lt=1, description="reduction in benefits, e.g. 0.1 = -10%")
    source: LongText = Field(description="why these adjustments")


class Discounting(_Strict):
    standard: float = Field(STANDARD_RATE, ge=0, le=0.2, description="a year, for money (Green Book 3.5%)")
    health: float = Field(HEALTH_RATE, ge=0, le=0.2, description="a year, for health effects (Green Book 1.5%)")
    convention: Literal["start_of_year", "mid_year"] = Field(
        "start_of_year", description="start_of_year: year 0 undiscounted (Green Book tables); "
        "mid_year: each year's flows discounted from its middle")


class Place(_Strict):
    code: str = Field(pattern=AREA_CODE, description="ONS area code")


class PreventionModel(_Strict):
    """A council's prevention assumptions for one place."""

    _source: str = PrivateAttr(default="model")
    _node: Any = PrivateAttr(default=None)

    title: Text
    illustrative: bool = Field(False, description="true for examples whose numbers are made up")
    note: LongText | None = Field(None, description="a note shown at the top of the report")
    place: Place
    start_year: int = Field(ge=2000, le=2100, description="calendar year of year 0, the first year of spending")
    price_year: int = Field(ge=1990, le=2100, description="the price year every amount of money is in")
    years: int = Field(MAX_YEARS, ge=1, le=MAX_YEARS, description="years valued after year 0")
    discount: Discounting = Field(default_factory=Discounting)
    optimism_bias: OptimismBias
    interventions: list[Intervention] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> "PreventionModel":
        for i, iv in enumerate(self.interventions):
            money = [(f"interventions[{i}].annual_cost", iv.annual_cost)]
            money += [(f"interventions[{i}].demand[{d}].unit_cost", dm.unit_cost) for d, dm in enumerate(iv.demand)]
            for where, m in money:
                if m.price_year != self.price_year:
                    raise ValueError(f"{where}: in {m.price_year} prices, but the model is in {self.price_year} "
                                     "prices; convert it with HM Treasury's GDP deflators first")
            if iv.time_to_effect.start > self.years:
                raise ValueError(f"interventions[{i}].time_to_effect: the effect starts after the last year valued")
        ctx = info.context or {}
        known = ctx.get("indicators")
        if known is not None:
            for i, iv in enumerate(self.interventions):
                if iv.indicator not in known:
                    raise ValueError(f"interventions[{i}].indicator: unknown indicator '{iv.indicator}'")
                for ind in [iv.population.indicator, *(iv.population.share_indicators or [])]:
                    if ind is not None and ind not in known:
                        raise ValueError(f"interventions[{i}].population: unknown indicator '{ind}'")
        areas = ctx.get("areas")
        if areas is not None and self.place.code not in areas:
            raise ValueError(f"place.code: unknown area code '{self.place.code}'")
        return self

    @property
    def source(self) -> str:
        return self._source


# Cross-field checks put the field they judge at the start of their message.
MODEL_FIELD = re.compile(r"^((?:interventions|place)(?:\[\d+\])?(?:\.[a-z_]+(?:\[\d+\])?)*): (.*)$")


def validate(data: dict[str, Any], node: yaml.Node | None = None, source: str = "model",
             indicators: set[str] | None = None, areas: set[str] | None = None) -> PreventionModel:
    """Plain data → model, or one PreventionError naming the file, line and field."""
    return plan_model.validate_as(PreventionModel, MODEL_FIELD, PreventionError, data, node, source, indicators, areas)


def load_model(body: bytes, source: str = "model", indicators: set[str] | None = None,
               areas: set[str] | None = None) -> PreventionModel:
    """Read and validate a model from bytes (never from a path named inside it)."""
    try:
        data, node = read_plan_bytes(body, source)
    except PlanError as exc:
        # the reader is shared with plans; its messages speak of a plan
        message = re.sub(r"\bplan(s?)\b", r"model\1", exc.message)
        raise PreventionError(exc.source, message, exc.line, exc.field) from exc
    model = validate(data, node, source, indicators, areas)
    model._source, model._node = source, node
    return model


def model_error(model: PreventionModel, loc: tuple[Any, ...], message: str) -> PreventionError:
    """A refusal found against the data, naming the model's file, line and field."""
    return PreventionError(model._source, message, line=_line_of(model._node, loc) if model._node else None,
                           field=_field(loc))


def example_names() -> list[str]:
    return sorted(p.name for p in EXAMPLES_DIR.glob("*.prevention.yaml"))


def read_example(name: str) -> bytes:
    """An example's bytes, chosen from the fixed list so that no user text ever becomes a path."""
    if name not in example_names():
        raise PreventionError(name, "unknown example prevention model")
    return (EXAMPLES_DIR / name).read_bytes()


def json_schema() -> dict[str, Any]:
    return plan_model.schema_of(PreventionModel, "prevention.schema.json")


def schema_text() -> str:
    return plan_model.schema_json(json_schema())
