"""The growth-plan file: a small YAML document, read safely and validated strictly.

Why so strict: plan files come from outside (a council's team, an upload to the public
site). Reading one must never execute anything, open any path named in it, or blow up
memory, and every refusal must name the file, the line and the field so the author can fix it.
"""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

import yaml
from pydantic import (BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo, field_validator,
                      model_validator)

from .errors import IndicatorError

# One limit everywhere: Streamlit's browser uploader reads `server.maxUploadSize = 1` (.streamlit/config.toml)
# as 1,000,000 bytes on Linux and macOS, so the CLI and the loader use the same decimal megabyte.
MAX_PLAN_BYTES = 1_000_000
MAX_NODES = 20_000
MAX_DEPTH = 20
# Every value in the snapshot is well inside ±1e9 (the largest, a population, is about 7e7); a target
# beyond it is a typo, and refusing it keeps every later sum, ratio and JSON number finite.
MAX_TARGET_VALUE = 1e9
MAX_PERCENT_CHANGE = 1000.0
# An integer longer than this is no year, count or weight; Python refuses to even read one over 4,300 digits.
MAX_INT_DIGITS = 15
HORIZON_YEARS = {"immediate": (0, 2), "medium": (3, 5), "long": (6, 15)}
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "plans" / "plan.schema.json"
AREA_CODE = r"^[A-Z][0-9A-Z]{2}[0-9A-Z]{0,6}$"
Horizon = Literal["immediate", "medium", "long"]
Pillar = Literal["economy", "public_services", "environment"]
Text = Annotated[str, Field(min_length=1, max_length=300)]
# A cited source's address: long enough for any publisher's page, short enough to show on one line.
MAX_URL_LENGTH = 500
# A note or reason written into the plan: a few sentences, shown whole in every report.
Note = Annotated[str, Field(min_length=1, max_length=600)]
# A prevention model is named by a bare file name, never a path: the report looks it up among the shipped
# examples (and, from the command line only, beside the plan file), so an uploaded plan can open nothing else.
PREVENTION_FILE = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,100}\.prevention\.yaml$"
# A baseline period code: a year, a date, or a date with an ISO 8601 duration (2022-04-01/P1Y).
BASELINE_CODE = re.compile(r"^(\d{4})(?:-(\d{2})-(\d{2})(?:/P(\d{1,3})([YMD]))?)?$")
# The longest baseline period accepted: about fifteen years (the longest plan horizon) in each unit.
MAX_BASELINE_LENGTH = {"Y": 15, "M": 180, "D": 5480}

M = TypeVar("M", bound=BaseModel)


class PlanError(IndicatorError):
    """A plan that cannot be read or validated; says where (file, line, field) and what."""

    def __init__(self, source: str, message: str, line: int | None = None, field: str | None = None) -> None:
        self.source, self.message, self.line, self.field = source, message, line, field
        where = [source]
        if line is not None:
            where.append(f"line {line}")
        if field:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {message}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, allow_inf_nan=False)


class Place(_Strict):
    """One area code, or a custom footprint: a name and the district codes it is made of."""

    code: str | None = Field(None, pattern=AREA_CODE, description="ONS area code, e.g. E47000001")
    name: Text | None = Field(None, description="name of a custom footprint")
    districts: list[Annotated[str, Field(pattern=AREA_CODE)]] | None = Field(
        None, min_length=2, max_length=60, description="district (LAD) codes forming a custom footprint")

    @model_validator(mode="after")
    def _one_kind(self) -> "Place":
        if (self.code is None) == (self.districts is None):
            raise ValueError("give either 'code' (one area) or 'districts' (a custom footprint), not both")
        if self.districts is not None:
            if not self.name:
                raise ValueError("a custom footprint needs a 'name'")
            if len(set(self.districts)) != len(self.districts):
                raise ValueError("a district is listed twice")
        return self


class Neighbours(_Strict):
    # The peer kinds of indicators.neighbours.NEIGHBOUR_KINDS: the three ONS sets and the rural–urban class.
    set: Literal["global", "economic", "demographic", "rural_urban"] | None = Field(
        None, description="an ONS statistical-neighbour set (global, economic, demographic), or rural_urban: "
        "districts of the same 2021 rural–urban class")
    areas: list[Annotated[str, Field(pattern=AREA_CODE)]] | None = Field(
        None, min_length=2, max_length=40, description="an explicit list of comparator areas")

    @model_validator(mode="after")
    def _one_kind(self) -> "Neighbours":
        if (self.set is None) == (self.areas is None):
            raise ValueError("give either 'set' or 'areas'")
        return self


class ChangeTarget(_Strict):
    by: float = Field(ge=-MAX_TARGET_VALUE, le=MAX_TARGET_VALUE,
                      description="the change from the baseline, in the indicator's units or in per cent")
    unit: Literal["absolute", "percent"] = "absolute"

    @field_validator("by")
    @classmethod
    def _not_zero(cls, v: float) -> float:
        """A change of 0 is a form's default, not a target: it would be 'met' the day the plan is written."""
        if v == 0:
            raise ValueError("a change of 0 leaves the target at the baseline; give the change the plan aims for")
        return v

    @model_validator(mode="after")
    def _percent_in_range(self) -> "ChangeTarget":
        if self.unit == "percent" and not -100 <= self.by <= MAX_PERCENT_CHANGE:
            raise ValueError(f"a percentage change must be between -100 and {MAX_PERCENT_CHANGE:g} "
                             f"(got {self.by:g})")
        return self


class GapTarget(_Strict):
    share: float = Field(gt=0, le=1, description="share of the baseline gap to close (0.5 = half)")
    to: str = Field("england", description="england, region, neighbours or an area code")

    @field_validator("to")
    @classmethod
    def _benchmark(cls, v: str) -> str:
        if v in ("england", "region", "neighbours") or re.match(AREA_CODE, v):
            return v
        raise ValueError("use england, region, neighbours or an area code")


class PositionTarget(_Strict):
    among: Literal["neighbours"] = "neighbours"
    at_least: Literal["top_half", "top_quarter", "top_three", "best"] = "top_half"


class Target(_Strict):
    indicator: str | None = Field(None, description="catalogue id; may be omitted when the objective has one")
    horizon: Horizon
    year: int = Field(ge=2000, le=2100, description="the year the target is for")
    reach: float | None = Field(None, ge=-MAX_TARGET_VALUE, le=MAX_TARGET_VALUE, description="a value to reach")
    change: ChangeTarget | None = None
    close_gap: GapTarget | None = None
    position: PositionTarget | None = None

    @model_validator(mode="after")
    def _one_type(self) -> "Target":
        kinds = [k for k in ("reach", "change", "close_gap", "position") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a target needs exactly one of reach, change, close_gap or position"
                             + (f" (found {', '.join(kinds)})" if kinds else ""))
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("reach", "change", "close_gap", "position") if getattr(self, k) is not None)


class Source(_Strict):
    """The published document a plan's objectives are taken from, cited in every report of the plan.

    Why: a plan transcribed from a published framework must say where its words come from, and say
    apart what the file adds (targets, weights) so no reader mistakes the example's reading for the
    publisher's."""

    title: Text = Field(description="the document's title")
    publisher: Text = Field(description="who published it, e.g. Department of Health and Social Care")
    url: str | None = Field(None, max_length=MAX_URL_LENGTH, description="its web address (http or https)")
    published: date | None = Field(None, description="its publication (or last update) date")
    note: Note | None = Field(None, description="what the plan takes from the source and what it adds itself")

    @field_validator("url")
    @classmethod
    def _web_address(cls, v: str | None) -> str | None:
        """Only a plain http(s) address with a host: the reports make it a link, so nothing else may be."""
        if v is None:
            return v
        parts = urlsplit(v) if not any(c.isspace() or ord(c) < 32 for c in v) else None
        if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError("a source's url must be a web address starting http:// or https://, with no spaces")
        return v

    def citation(self, with_url: bool = True) -> str:
        """The source in one line, the same in the HTML report, the CSV, the JSON and the page:
        'Title. Publisher, 21 December 2023. https://…' (the HTML report writes the address as a link)."""
        text = f"{self.title.rstrip('.')}. {self.publisher}"
        if self.published is not None:
            text += f", {self.published.day} {self.published:%B %Y}"
        return text + (f". {self.url}" if self.url and with_url else ".")


class Objective(_Strict):
    # The same rule as _measured_or_says_why_not, for editors that check a plan against the JSON Schema.
    model_config = ConfigDict(json_schema_extra={"oneOf": [
        {"required": ["weight", "indicators", "targets"], "not": {"required": ["not_measured"]}},
        {"required": ["not_measured"], "not": {"anyOf": [{"required": [k]} for k in
                                                        ("weight", "indicators", "targets", "prevention_model")]}},
    ]})

    title: Text
    pillar: Pillar
    weight: float | None = Field(None, gt=0, le=1, description="share of the plan; none for an objective "
                                 "not measured here")
    indicators: list[str] = Field(default_factory=list, max_length=10)
    targets: list[Target] = Field(default_factory=list, max_length=20)
    note: Note | None = Field(None, description="a word on the objective or on how its targets were chosen, "
                              "shown with it in every report")
    not_measured: Note | None = Field(
        None, description="why no indicator here measures this objective: it is kept, shown as not measured in "
        "the snapshot, with no weight, indicators or targets")
    prevention_model: str | None = Field(
        None, pattern=PREVENTION_FILE, description="a prevention model's file name (no folders): a shipped "
        "example, or from the command line a file beside the plan; the report values each target if met")

    @property
    def measured(self) -> bool:
        return self.not_measured is None

    @model_validator(mode="after")
    def _measured_or_says_why_not(self) -> "Objective":
        """An objective either has what evaluation needs (a weight, indicators, targets) or says why it has none:
        a framework's objective with no measure in the data stays in the plan rather than being dropped."""
        if not self.measured:
            given = [k for k in ("weight", "prevention_model") if getattr(self, k) is not None]
            given += [k for k in ("indicators", "targets") if getattr(self, k)]
            if given:
                raise ValueError(f"an objective that is not measured has no {', '.join(given)}; give "
                                 "'not_measured' (the reason) or the measures, not both")
            return self
        missing = [k for k in ("weight", "indicators", "targets") if not getattr(self, k)]
        if missing:
            raise ValueError(f"an objective needs {' and '.join(missing)}, or 'not_measured' with the reason "
                             "nothing here measures it")
        return self

    @model_validator(mode="after")
    def _targets_name_an_indicator(self) -> "Objective":
        for t in self.targets:
            if t.indicator is None and len(self.indicators) != 1:
                raise ValueError("each target must name its indicator when the objective has several")
            if t.indicator is not None and t.indicator not in self.indicators:
                raise ValueError(f"target indicator '{t.indicator}' is not one of the objective's indicators")
        return self


class _Origin:
    """Where a plan was read from (its name and YAML node tree), so checks made later against the data
    can still name the file, line and field. Not part of what the plan says: never makes plans differ."""

    def __init__(self, source: str = "plan", node: yaml.Node | None = None) -> None:
        self.source, self.node = source, node

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = None  # type: ignore[assignment]


class Plan(_Strict):
    """A growth plan's targets for one place, by horizon."""

    _origin: _Origin = PrivateAttr(default_factory=_Origin)

    title: Text
    illustrative: bool = Field(False, description="true for example plans that are not any council's real plan")
    place: Place
    published: date = Field(description="publication date of the plan")
    baseline: int | str = Field(description="baseline period: a year, or an ELS period code")
    benchmark: str = Field("england", description="england, region, neighbours or an area code")
    neighbours: Neighbours = Field(default_factory=lambda: Neighbours(set="global"))
    objectives: list[Objective] = Field(min_length=1, max_length=30)
    source: Source | None = Field(None, description="the published framework the objectives are taken from")

    @field_validator("benchmark")
    @classmethod
    def _benchmark(cls, v: str) -> str:
        return GapTarget._benchmark(v)

    @field_validator("baseline", mode="before")
    @classmethod
    def _baseline_date(cls, v: Any) -> Any:
        """An unquoted 2022-04-01 arrives from YAML as a date: treat it as the period code it spells."""
        return v.isoformat() if isinstance(v, date) else v

    @field_validator("baseline")
    @classmethod
    def _baseline(cls, v: int | str) -> int | str:
        """A year, or a period code whose date exists and whose length is plausible: 2022-02-30 and
        2022-13-45/P999Y are refused here rather than matching nothing later."""
        if isinstance(v, int) and not 1990 <= v <= 2100:
            raise ValueError("baseline year must be between 1990 and 2100")
        if isinstance(v, str):
            m = BASELINE_CODE.match(v)
            if not m:
                raise ValueError("baseline must be a year or an ELS period code such as 2022-04-01/P1Y")
            if not 1990 <= int(m.group(1)) <= 2100:
                raise ValueError("baseline year must be between 1990 and 2100")
            if m.group(2):
                try:
                    date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                except ValueError:
                    raise ValueError(f"baseline date {v.split('/')[0]} does not exist") from None
            if m.group(4):
                n, unit = int(m.group(4)), m.group(5)
                if not 1 <= n <= MAX_BASELINE_LENGTH[unit]:
                    raise ValueError(f"baseline period length P{n}{unit} must be between 1 and "
                                     f"{MAX_BASELINE_LENGTH[unit]} {dict(Y='years', M='months', D='days')[unit]}")
        return v

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> "Plan":
        if not any(o.measured for o in self.objectives):
            raise ValueError("objectives: at least one objective must be measured (have indicators and targets)")
        total = sum(o.weight or 0.0 for o in self.objectives)
        if abs(total - 1) > 1e-6:
            raise ValueError(f"objectives: objective weights must sum to 1 (they sum to {total:g})")
        start = self.published.year
        base_year = int(str(self.baseline)[:4])
        if base_year > start:
            raise ValueError(f"baseline: the baseline ({self.baseline}) is after the plan's publication ({self.published})")
        for oi, o in enumerate(self.objectives):
            for ti, t in enumerate(o.targets):
                lo, hi = HORIZON_YEARS[t.horizon]
                if not start + lo <= t.year <= start + hi:
                    raise ValueError(
                        f"objectives[{oi}].targets[{ti}]: a {t.horizon}-term target must fall {lo}–{hi} years "
                        f"after publication ({start + lo}–{start + hi}), not {t.year}")
        known = (info.context or {}).get("indicators")
        if known is not None:
            for oi, o in enumerate(self.objectives):
                for ind in o.indicators:
                    if ind not in known:
                        raise ValueError(f"objectives[{oi}].indicators: unknown indicator '{ind}'")
        areas = (info.context or {}).get("areas")
        if areas is not None:
            codes = [self.place.code] if self.place.code else list(self.place.districts or [])
            codes += list(self.neighbours.areas or [])
            if self.benchmark not in ("england", "region", "neighbours"):
                codes.append(self.benchmark)
            unknown = [c for c in codes if c not in areas]
            if unknown:
                raise ValueError(f"place: unknown area code(s): {', '.join(unknown)}")
            for oi, o in enumerate(self.objectives):
                for ti, t in enumerate(o.targets):
                    to = t.close_gap.to if t.close_gap is not None else None
                    if to is not None and to not in ("england", "region", "neighbours") and to not in areas:
                        raise ValueError(f"objectives[{oi}].targets[{ti}].close_gap.to: unknown area code '{to}'")
        return self


# ---------------------------------------------------------------- safe reading

class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors/aliases (the billion-laughs attack), deep nesting, huge
    documents and repeated keys (which YAML would otherwise resolve silently to the last one)."""

    nodes = 0
    depth = 0

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = key_node.value
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"the field '{key}' is given twice",
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise yaml.constructor.ConstructorError(None, None, f"the plan is nested more than {MAX_DEPTH} "
                                                        "levels deep", self.peek_event().start_mark)
            return self._compose_checked(parent, index)
        finally:
            self.depth -= 1

    def _compose_checked(self, parent, index):  # type: ignore[no-untyped-def]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(None, None, "YAML aliases (*name) are not allowed in plans",
                                                    event.start_mark)
        event = self.peek_event()
        if getattr(event, "anchor", None):
            raise yaml.constructor.ConstructorError(None, None, "YAML anchors (&name) are not allowed in plans",
                                                    event.start_mark)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise yaml.constructor.ConstructorError(None, None, "the plan is too large", event.start_mark)
        return super().compose_node(parent, index)


_INT_TAG = "tag:yaml.org,2002:int"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})")


def _check_scalars(node: yaml.Node, source: str, path: tuple[Any, ...] = ()) -> None:
    """Refuse, before anything is constructed, what the YAML library would turn into a crash rather
    than a message: complex keys (`? [a, b]: 1`, unhashable), integers too long for Python to read,
    and dates that are not in the calendar (2024-02-30). Each refusal names its line and field."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise PlanError(source, "a field name must be plain text, not a list or a mapping",
                                line=key.start_mark.line + 1, field=_field(path))
            _check_scalars(value, source, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _check_scalars(item, source, (*path, i))
    elif isinstance(node, yaml.ScalarNode):
        where = {"line": node.start_mark.line + 1, "field": _field(path)}
        if node.tag == _INT_TAG and len(re.sub(r"[^0-9A-Fa-f]", "", node.value)) > MAX_INT_DIGITS:
            raise PlanError(source, f"a number with more than {MAX_INT_DIGITS} digits is too large", **where)
        if node.tag == _TIMESTAMP_TAG:
            m = _DATE.match(node.value)
            try:
                if m is None:
                    raise ValueError
                date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                raise PlanError(source, f"'{node.value[:40]}' is not a date in the calendar", **where) from None


def read_plan_bytes(body: bytes, source: str = "plan") -> tuple[Any, yaml.Node | None]:
    """Bytes → (plain Python data, YAML node tree for line numbers). Never opens any path."""
    if len(body) > MAX_PLAN_BYTES:
        raise PlanError(source, f"the file is {len(body):,} bytes; plans are limited to {MAX_PLAN_BYTES:,} bytes")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = body[:exc.start].count(b"\n") + 1
        raise PlanError(source, f"not UTF-8 text (byte {exc.start})", line=line) from exc
    if not text.strip():
        raise PlanError(source, "the file is empty")
    try:
        loader = _NoAliasLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
        if node is not None:
            _check_scalars(node, source)
        data = yaml.load(text, Loader=_NoAliasLoader) if node is not None else None  # noqa: S506 - safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or str(exc)
        raise PlanError(source, f"not valid YAML: {message}", line=mark.line + 1 if mark else None) from exc
    except yaml.reader.ReaderError as exc:  # control characters such as NUL
        line = text[:exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise PlanError(source, f"not valid YAML: control character U+{code:04X} is not allowed", line=line) from exc
    except yaml.YAMLError as exc:
        raise PlanError(source, "not valid YAML: " + " ".join(str(exc).split())) from exc
    except RecursionError as exc:  # belt and braces: MAX_DEPTH should stop this first
        raise PlanError(source, "the plan is nested too deeply") from exc
    if data is None:
        raise PlanError(source, "the plan is empty (null)")
    if not isinstance(data, dict):
        raise PlanError(source, f"a plan must be a mapping of fields, not a {type(data).__name__}", line=1)
    return data, node


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The line of the deepest YAML node on the error's path."""
    line = node.start_mark.line + 1 if node is not None else None
    for step, key in enumerate(loc):
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if getattr(k, "value", None) == key), None)
            if pair is None:
                break
            key_node, node = pair
            # the last step points at its key's line: for a nested value that is the line above it
            line = (key_node if step == len(loc) - 1 else node).start_mark.line + 1
            continue
        if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def _field(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith(("function-", "literal[", "union[")) and str(part) not in ("str", "int", "float"):
            out += ("." if out else "") + str(part)
    return out or "(plan)"


# Cross-field checks put the field they judge at the start of their message ("objectives[0].targets[1]: …").
PLAN_FIELD = re.compile(r"^((?:objectives|baseline|place)(?:\[\d+\](?:\.targets\[\d+\](?:\.close_gap\.to)?)?"
                        r"(?:\.indicators)?)?): (.*)$")


def validate(data: dict[str, Any], node: yaml.Node | None = None, source: str = "plan",
             indicators: set[str] | None = None, areas: set[str] | None = None) -> Plan:
    """Validate plain data against the schema (and, given them, the catalogue and the known areas)."""
    return validate_as(Plan, PLAN_FIELD, PlanError, data, node, source, indicators, areas)


def validate_as(model: type[M], field_pattern: re.Pattern[str], error: type[PlanError], data: dict[str, Any],
                node: yaml.Node | None, source: str, indicators: set[str] | None, areas: set[str] | None) -> M:
    """Plain data → `model`, or one `error` naming the file, line and field (plans and prevention models)."""
    try:
        return model.model_validate(data, context={"indicators": indicators, "areas": areas})
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # A misspelt field shows up twice (the typo as unknown, the real name as missing): name the typo.
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = tuple(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = f"unknown field '{loc[-1]}'"
        field = _field(loc)
        m = field_pattern.match(message)
        if m:  # cross-field checks name the field themselves
            field, message = m.group(1), m.group(2)
            loc = tuple(int(p) if p.isdigit() else p for p in re.findall(r"[a-z_]+|\d+", field))
        raise error(source, message, line=_line_of(node, loc), field=field) from exc


def load_plan(body: bytes, source: str = "plan", indicators: set[str] | None = None,
              areas: set[str] | None = None) -> Plan:
    """Read and validate a plan from bytes; `source` is only used in messages."""
    data, node = read_plan_bytes(body, source)
    plan = validate(data, node, source, indicators, areas)
    plan._origin = _Origin(source, node)
    return plan


def plan_error(plan: Plan, loc: tuple[Any, ...], message: str) -> PlanError:
    """A refusal found after loading (against the data), naming the plan's file, line and field."""
    origin = plan._origin
    return PlanError(origin.source, message, line=_line_of(origin.node, loc) if origin.node is not None else None,
                     field=_field(loc))


def schema_of(model: type[BaseModel], file_name: str) -> dict[str, Any]:
    """A model's JSON Schema (draft 2020-12) as shipped in plans/: editors validate files against it."""
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://good-growth.example/{file_name}"
    return schema


def schema_json(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def json_schema() -> dict[str, Any]:
    return schema_of(Plan, "plan.schema.json")


def schema_text() -> str:
    return schema_json(json_schema())
