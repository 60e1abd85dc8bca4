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


@dataclass(frozen=True)
class LinkedValue:
    """The line shown beside a target's status, and the figures behind it."""

    text: str
    model: str
    pv_benefits: float | None = None
    lo: float | None = None
    hi: float | None = None
    npv: float | None = None


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
        return LinkedValue(f"the prevention model could not be used: {exc}", name)
    plan_code = ev.plan.place.code
    if plan_code != model.place.code:
        return LinkedValue(f"the prevention model {name} is for {model.place.code}, not this plan's place", name)
    linked = [i for i, iv in enumerate(model.interventions) if iv.indicator == t.indicator_id]
    if not linked:
        return LinkedValue(f"the prevention model {name} has no intervention on {t.indicator_id}", name)
    if t.target_value is None or t.baseline_value is None:
        return LinkedValue("not valued: the target has no value to compare with the baseline", name)
    sign = -1.0 if t.polarity == "lower_is_better" else 1.0
    improvement = sign * (float(t.target_value) - float(t.baseline_value))
    if improvement <= 0:
        return LinkedValue("not valued: the target is no improvement on the baseline", name)
    centrals = [model.interventions[i].effect.central for i in linked]
    total = sum(centrals)
    shares = [c / total if total > 0 else 1 / len(linked) for c in centrals]
    sub = model.model_copy(update={"interventions": [model.interventions[i] for i in linked]})
    sub._source, sub._node = model._source, model._node
    place, pops, scales = resolve(ctx, sub)
    r = evaluate(sub, pops, scales, place, draws, seed,
                 effect_override={k: improvement * s for k, s in enumerate(shares)})
    s = r.summary.set_index("metric")
    pvb, lo, hi = (float(s.loc["pv_benefits", c]) for c in ("central", "lo", "hi"))
    npv = float(s.loc["npv", "central"])
    text = (f"if this target is met (an improvement of {improvement:,.3g} on the baseline), the modelled value of "
            f"demand avoided is {report.money(pvb)} ({report.INTERVAL_LABEL} {report.money(lo)} to "
            f"{report.money(hi)}), net present value {report.money(npv)} after the interventions' costs, "
            f"{model.start_year}–{model.start_year + model.years}, {model.price_year} prices "
            f"(prevention model {name}{', illustrative' if model.illustrative else ''})")
    return LinkedValue(text, name, pvb, lo, hi, npv)
