"""CLI: `python -m indicators score|profile|catalogue|agreement|evaluate|prevent|schema`.

Errors end here: one clear line on stderr and a non-zero exit; details go to the log.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from data_sources.errors import DataSourceError

from . import csv_export, query, scoring
from .errors import IndicatorError

if TYPE_CHECKING:
    from .plan_model import Plan
    from .plan_weights import RollupWeights

log = logging.getLogger("indicators")

SCORE_COLUMNS = [
    "rank", "rank_lo", "rank_hi", "areas_ranked", "rank_scope", "areacd", "areanm", "overall",
    "next_areacd", "p_above_next",
    "economy", "economy_coverage", "public_services", "public_services_coverage", "environment",
    "environment_coverage", "economy_change", "economy_change_lo", "economy_change_hi", "public_services_change",
    "public_services_change_lo", "public_services_change_hi", "quadrant", "quadrant_probability", "p_good_growth",
    "p_growth_without_outcomes", "p_outcomes_without_growth", "p_neither", "change_window", "periods_latest",
    "periods_change_end", "periods_baseline", "benchmark", "better_than_benchmark", "similar_to_benchmark",
    "worse_than_benchmark",
]
# One row per indicator on the place's spine: the figures behind every marker, and how each was judged.
PROFILE_COLUMNS = [
    "areacd", "areanm", "level", "indicator_id", "label", "pillar", "polarity", "unit", "scored", "period_label",
    "value", "lci", "uci", "lci_998", "uci_998", "limits_method", "benchmark_value", "benchmark_used",
    "benchmark_name", "significance_95", "significance_998", "quintile", "percentile", "areas_compared", "trend",
    "trend_points", "worse_and_worsening",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m indicators", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("score", help="score every area of a level")
    s.add_argument("--level", default="ltla")
    s.add_argument("--period", default="latest", help="'latest' or a year (the latest period starting by then)")
    s.add_argument("--weights", help="pillar weights, e.g. economy=0.5,public_services=0.5")
    s.add_argument("--benchmark", default=query.ENGLAND, help="area code compared against (default England)")
    s.add_argument("--robust", action="store_true", help="median/MAD standardisation instead of mean/SD")
    s.add_argument("--baseline-gap", type=int, default=5, help="years between baseline and latest for change")
    s.add_argument("--change-end", type=int, help="the change window's end year (default: the year most scored "
                   "weight can be measured to)")
    s.add_argument("--drop", help="leave these indicators out, e.g. claimant-count,gross-median-weekly-pay")
    s.add_argument("--scope", choices=["nation", "uk"], default="nation",
                   help="rank within each nation (default) or UK-wide on UK-comparable indicators only")
    s.add_argument("--draws", type=int, default=1000, help="Monte Carlo draws for rank intervals")
    s.add_argument("--seed", type=int, default=20261125)
    _output_args(s)
    p = sub.add_parser("profile", help="one place's indicators against a benchmark (the spine chart's data)")
    p.add_argument("area", help="area code, e.g. E08000035")
    p.add_argument("--level", default=None, help="level of the figures (default: the place's own, ltla first)")
    p.add_argument("--benchmark", default=None,
                   help="area code or 'neighbours' (default: the place's own nation; England for English places)")
    _output_args(p)
    c = sub.add_parser("catalogue", help="list the indicator catalogue")
    _output_args(c)
    a = sub.add_parser("agreement", help="check district aggregates against published CA/region values")
    _output_args(a)
    e = sub.add_parser("evaluate", help="evaluate a growth plan (YAML) and write a report")
    e.add_argument("plan", type=Path, help="the plan file")
    e.add_argument("--format", choices=["html", "csv", "json"], default="html")
    e.add_argument("--out", type=Path, help="write here instead of standard output")
    e.add_argument("--weights", choices=["plan", "residents"], default="plan",
                   help="roll up with the plan's own objective weights (default) or the place's residents' "
                        "priorities from the priorities database (GOOD_GROWTH_DATABASE_URL)")
    v = sub.add_parser("prevent", help="value a prevention model (YAML) and write a report")
    v.add_argument("model", type=Path, help="the prevention model file")
    v.add_argument("--format", choices=["html", "csv", "json"], default="html")
    v.add_argument("--out", type=Path, help="write here instead of standard output")
    v.add_argument("--draws", type=int, default=10_000, help="Monte Carlo draws (100 to 100,000)")
    v.add_argument("--seed", type=int, default=20261130)
    sub.add_parser("schema", help="print the plan file's JSON Schema")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "evaluate":
            _evaluate(args)
        elif args.command == "prevent":
            _prevent(args)
        elif args.command == "schema":
            from .plan_model import schema_text
            sys.stdout.write(schema_text())
        else:
            frame = _run(args)
            _write(frame, args.format, args.out)
    except (IndicatorError, DataSourceError, OSError, ValueError) as exc:
        log.debug("failed", exc_info=True)
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _evaluate(args: argparse.Namespace) -> None:
    from . import plan_report, plans
    from .plan_model import MAX_PLAN_BYTES, PlanError, load_plan

    source = str(args.plan)
    try:
        size = args.plan.stat().st_size
        if size > MAX_PLAN_BYTES:
            raise PlanError(source, f"the file is {size:,} bytes; plans are limited to {MAX_PLAN_BYTES:,} bytes")
        with args.plan.open("rb") as fh:
            body = fh.read(MAX_PLAN_BYTES + 1)
    except OSError as exc:
        raise PlanError(source, f"cannot read the file ({exc.strerror or exc})") from exc
    from .local_data import store as local_store
    ctx = query.context(local=local_store.configured())  # a plan may track the place's own local data
    plan = load_plan(body, source, set(ctx.catalogue.ids()), set(ctx.names.index))
    evaluation = plans.evaluate(ctx, plan, _rollup_weights(ctx, plan, args.weights))
    from .prevention.link import attach
    attach(ctx, evaluation, args.plan.resolve().parent)  # a linked model may sit beside the plan file
    text = {"html": plan_report.to_html, "csv": plan_report.to_csv, "json": plan_report.to_json}[args.format](
        evaluation)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _rollup_weights(ctx: query.Context, plan: "Plan", which: str) -> "RollupWeights":
    """The plan's own weights, or its place's residents' priorities (PrioritiesError when too few)."""
    from . import plan_weights
    if which == "plan":
        return plan_weights.PLAN
    from data_sources.settings import get_settings

    from .priorities.errors import PrioritiesError
    from .priorities.store import read_community
    if not plan.place.code:
        raise PrioritiesError(f"residents' priorities are gathered for one area; this plan is for a footprint of "
                              f"{len(plan.place.districts or [])} districts, so it can only use its own weights")
    cw = read_community(get_settings().database_url, plan.place.code)
    return plan_weights.residents(cw, query.area_name(ctx, plan.place.code))


def _prevent(args: argparse.Namespace) -> None:
    from .prevention import run

    text = run.report_from_path(args.model, args.format, draws=args.draws, seed=args.seed)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _output_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.add_argument("--out", type=Path, help="write here instead of standard output")


def _run(args: argparse.Namespace) -> pd.DataFrame:
    ctx = query.context()
    if args.command == "catalogue":
        frame = ctx.cat.drop(columns=["sign"]).reset_index(drop=True)
        meta = ctx.snapshot.catalogue.set_index("indicator_id")[["source_org", "source_date", "source_url"]]
        return frame.join(meta, on="id")
    if args.command == "agreement":
        from .aggregate import agreement, summarise
        table = agreement(ctx)
        for line in summarise(table).lines():  # the figures on stderr; the table stays clean CSV/JSON on stdout
            print(line, file=sys.stderr)
        return table
    if args.command == "profile":
        return _profile(ctx, args)
    if args.level not in query.HIERARCHY_LEVELS and args.level not in ("itl1", "itl2", "itl3", "police_force_area"):
        raise IndicatorError(f"unknown level '{args.level}'")
    period = args.period if args.period == "latest" or not args.period.isdigit() else int(args.period)
    options = scoring.Options(level=args.level, period=period,
                              weights=tuple(scoring.parse_weights(args.weights).items()), robust=args.robust,
                              benchmark=args.benchmark, baseline_gap_years=args.baseline_gap, draws=args.draws,
                              seed=args.seed, drop=scoring.parse_drop(args.drop), scope=args.scope,
                              change_end_year=args.change_end)
    query.area_name(ctx, args.benchmark)
    return scoring.score_places(ctx, options)[SCORE_COLUMNS]


def _profile(ctx: query.Context, args: argparse.Namespace) -> pd.DataFrame:
    from . import profile
    name = query.area_name(ctx, args.area)
    levels = set(ctx.areas.loc[ctx.areas["areacd"] == args.area, "level"])
    level = query.require_level(args.level) if args.level else next(
        (lv for lv in ("ltla", "utla", "combined_authority", "region", "country", "uk") if lv in levels), "ltla")
    if args.benchmark not in (None, profile.NEIGHBOURS):
        query.area_name(ctx, args.benchmark)
    frame = profile.profile(ctx, args.area, level, args.benchmark)
    if frame.empty:
        raise IndicatorError(f"no data is published for {name} ({args.area}) at level '{level}'")
    return frame.assign(areacd=args.area, areanm=name, level=level)[PROFILE_COLUMNS]


def _write(frame: pd.DataFrame, fmt: str, out: Path | None) -> None:
    if fmt == "csv":
        text = csv_export.to_csv(frame)
    else:
        records = json.loads(frame.replace({np.nan: None}).to_json(orient="records", date_format="iso"))
        text = json.dumps(records, indent=1, ensure_ascii=False) + "\n"
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    sys.exit(main())
