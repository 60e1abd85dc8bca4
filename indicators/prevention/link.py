"""A plan objective linked to a prevention model: what meeting each of its targets would be worth.

Why a bare file name and a fixed lookup: plans arrive as uploads on the public site, and a name in an
upload must never become a path the server opens. So a model is found among the shipped examples, and
only from the command line (a file the user chose on their own disk) also in the plan file's folder.

"If met": the target's improvement on the baseline (target − baseline, turned by the indicator's
polarity so that better is positive) replaces the effect of the model's interventions on that
indicator, shared in proportion to their central effects; the other assumptions keep their ranges,
so the interval shows what the target's value still depends on.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import query
from . import report, run
from .evaluate import DEFAULT_SEED, evaluate
from .inputs import resolve
from .model import EXAMPLES_DIR, PreventionError, example_names, load_model

LINK_DRAWS = 2_000
# The columns a linked target adds to the plan's CSV and JSON rows (see LinkedValue.fields).
FIELDS = ("prevention_model", "prevention_value_if_met", "prevention_value_lci", "prevention_value_uci",
          "prevention_npv_if_met", "prevention_npv_lci", "prevention_npv_uci", "prevention_years",
          "prevention_warning", "prevention_if_met")


@dataclass(frozen=True)
class LinkedValue:
    """What meeting one target is worth by its objective's prevention model, or why it is not valued.

    One object feeds every output: the HTML report and the app show `text` beside the target's status,
    the CSV and JSON carry `fields()`. `warning` is set, and the figures left empty, whenever the model
    could not be used or the target could not be valued, so no reader mistakes a gap for a zero."""

    model: str
    warning: str | None = None
    pv_benefits: float | None = None  # present value of the demand avoided, central
    lo: float | None = None           # its Monte Carlo interval
    hi: float | None = None
    npv: float | None = None          # net present value after the interventions' costs, central
    npv_lo: float | None = None
    npv_hi: float | None = None
    improvement: float | None = None  # the target's improvement on the baseline (better = positive)
    years: str | None = None          # the years valued and the price year, e.g. "2026–2041, 2025 prices"
    illustrative: bool = False

    @property
    def text(self) -> str:
        """The sentence shown beside the target's status."""
        if self.warning is not None:
            return f"not valued by the prevention model {self.model}: {self.warning}"
        return (f"if this target is met (an improvement of {self.improvement:,.3g} on the baseline), the modelled "
                f"value of demand avoided is {report.money(self.pv_benefits)} ({report.INTERVAL_LABEL} "
                f"{report.money(self.lo)} to {report.money(self.hi)}), net present value "
                f"{report.money(self.npv)} ({report.money(self.npv_lo)} to {report.money(self.npv_hi)}) after the "
                f"interventions' costs, {self.years} (prevention model {self.model}"
                f"{', illustrative' if self.illustrative else ''})")

    def fields(self) -> dict[str, Any]:
        """The columns of this value in the plan's CSV and JSON rows (names in FIELDS)."""
        return dict(zip(FIELDS, (self.model, self.pv_benefits, self.lo, self.hi, self.npv, self.npv_lo, self.npv_hi,
                                 self.years, self.warning, self.text)))


def find_model(name: str, plan_dir: Path | None = None) -> bytes:
    """A model's bytes by bare file name: a shipped example, or (command line only) a file beside the plan."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise PreventionError(name, "a prevention model is named by its file name alone, without folders")
    if name in example_names():
        return (EXAMPLES_DIR / name).read_bytes()
    if plan_dir is not None:
        path = plan_dir / name
        if path.is_file():
            return run.read_path(path)
    raise PreventionError(name, "no such prevention model among the shipped examples"
                          + (" or beside the plan" if plan_dir is not None else ""))


def values_if_met(ctx: query.Context, ev: Any, plan_dir: Path | None = None, draws: int = LINK_DRAWS,
                  seed: int = DEFAULT_SEED) -> dict[tuple[int, int], LinkedValue]:
    """(objective index, target index) → the modelled value of meeting that target, for linked objectives."""
    out: dict[tuple[int, int], LinkedValue] = {}
    for oi, (spec, res) in enumerate(zip(ev.plan.objectives, ev.objectives)):
        name = spec.prevention_model
        if not name:
            continue
        for ti, t in enumerate(res.targets):
            out[(oi, ti)] = _one(ctx, ev, name, t, plan_dir, draws, seed)
    return out


def _one(ctx: query.Context, ev: Any, name: str, t: Any, plan_dir: Path | None, draws: int,
         seed: int) -> LinkedValue:
    try:
        model = load_model(find_model(name, plan_dir), name, set(ctx.catalogue.ids()), set(ctx.names.index))
        resolve(ctx, model)
    except PreventionError as exc:
        return LinkedValue(name, f"the model could not be used ({exc})")
    plan_code = ev.plan.place.code
    if plan_code != model.place.code:
        return LinkedValue(name, f"the model is for {model.place.code}, not this plan's place")
    linked = [i for i, iv in enumerate(model.interventions) if iv.indicator == t.indicator_id]
    if not linked:
        return LinkedValue(name, f"the model has no intervention on {t.indicator_id}")
    if t.target_value is None or t.baseline_value is None:
        return LinkedValue(name, "the target has no value to compare with the baseline")
    sign = -1.0 if t.polarity == "lower_is_better" else 1.0
    improvement = sign * (float(t.target_value) - float(t.baseline_value))
    if improvement <= 0:
        return LinkedValue(name, "the target is no improvement on the baseline")
    centrals = [model.interventions[i].effect.central for i in linked]
    total = sum(centrals)
    shares = [c / total if total > 0 else 1 / len(linked) for c in centrals]
    sub = model.model_copy(update={"interventions": [model.interventions[i] for i in linked]})
    sub._source, sub._node = model._source, model._node
    try:
        place, pops, scales = resolve(ctx, sub)
        r = evaluate(sub, pops, scales, place, draws, seed,
                     effect_override={k: improvement * s for k, s in enumerate(shares)})
    except PreventionError as exc:
        return LinkedValue(name, f"the model could not be evaluated ({exc})")
    s = r.summary.set_index("metric")
    pvb, lo, hi = (float(s.loc["pv_benefits", c]) for c in ("central", "lo", "hi"))
    npv, npv_lo, npv_hi = (float(s.loc["npv", c]) for c in ("central", "lo", "hi"))
    years = f"{model.start_year}–{model.start_year + model.years}, {model.price_year} prices"
    return LinkedValue(name, None, pvb, lo, hi, npv, npv_lo, npv_hi, improvement, years, model.illustrative)


def attach(ctx: query.Context | None, ev: Any, plan_dir: Path | None = None) -> Any:
    """Work out the linked values of a plan's evaluation once and keep them on it (`ev.prevention`), so
    the page, the HTML report, the CSV and the JSON all show the same figures. Returns `ev`.

    `ctx` None: the configured snapshot's, read only when an objective links a model."""
    if ev.prevention is None:
        linked = any(o.prevention_model for o in ev.plan.objectives)
        ev.prevention = values_if_met(ctx or query.context(), ev, plan_dir) if linked else {}
    return ev
