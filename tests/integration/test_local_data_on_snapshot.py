"""Local data on the committed snapshot: it shows on the map with no-data areas left empty, plans can
track it, it moves scores only when its uploader opted in, it survives a refresh, and the snapshot
on disk is never touched."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from data_sources.refresh import refresh
from indicators import plans, query, scoring, views
from indicators.local_data import LocalLayer, parse_upload, read_meta, store
from indicators.plan_model import load_plan
from tests.conftest import mirror_settings

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
LEEDS, WAKEFIELD = "E08000035", "E08000036"
META = {"label": "Residents satisfied with their area", "unit": "%", "polarity": "higher_is_better",
        "polarity_reason": "More satisfied residents is the aim", "pillar": "public_services", "theme": "wellbeing",
        "source": "Leeds residents' survey", "licence": "OGL v3", "minimum": 0, "maximum": 100}


def tree_checksums(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def ctx() -> query.Context:
    return query.context()


def leeds_series(meta: dict = META):
    """Leeds only, six years rising by one point a year."""
    body = "areacd,period,value\n" + "".join(f"{LEEDS},{y}/{(y + 1) % 100:02d},{50 + y - 2018}\n" for y in range(2018, 2024))
    return parse_upload(body.encode(), "leeds.csv", read_meta(meta), query.context().areas["areacd"])


def england_wide(ctx: query.Context, score: bool, seed: int = 1):
    """A value for every current English district: enough to standardise and score with."""
    codes = [a for a in query.current_areas(ctx, "ltla")["areacd"] if a.startswith("E")]
    rng = np.random.default_rng(seed)
    body = "areacd,period,value\n" + "".join(f"{a},2023,{v:.1f}\n" for a, v in zip(codes, rng.uniform(20, 80, len(codes))))
    meta = {**META, "label": "Wide local survey", "score": score}
    return parse_upload(body.encode(), "wide.csv", read_meta(meta), ctx.areas["areacd"])


def test_an_upload_shows_on_the_map_and_areas_without_a_value_are_no_data(ctx):
    ind = leeds_series()
    c = query.context(local=LocalLayer((ind,)))
    table, info = views.map_view(c, ind.id, "ltla", "latest", query.ENGLAND)
    assert info["label"] == "Residents satisfied with their area (local data)"
    rows = table.set_index("areacd")
    assert rows.loc[LEEDS, "value"] == 55.0
    others = rows.drop(index=LEEDS)
    assert others["value"].isna().all() and (others["status"] == "no data").all()  # never zero
    assert bool(c.cat.at[ind.id, "local"]) and c.cat.at[ind.id, "local_source"] == "Leeds residents' survey"
    meta = c.snapshot.catalogue.set_index("indicator_id").loc[ind.id]
    assert meta["source_org"] == "Local data: Leeds residents' survey"
    assert ind.id not in ctx.cat.index and ind.id not in set(ctx.snapshot.catalogue["indicator_id"])  # shared ctx untouched


def test_an_upload_reaches_a_unitary_at_both_levels_it_belongs_to(ctx):
    body = "areacd,period,value\nE06000053,2023,40\n"
    ind = parse_upload(body.encode(), "s.csv", read_meta(META), ctx.areas["areacd"])
    c = query.context(local=LocalLayer((ind,)))
    assert set(query.values(c, ind.id, "ltla")["areacd"]) == {"E06000053"}
    assert set(query.values(c, ind.id, "utla")["areacd"]) == {"E06000053"}
    assert ind.id in set(c.area_rows("E06000053")["indicator_id"])


def test_a_plan_can_track_an_uploaded_indicator(ctx):
    ind = leeds_series()
    c = query.context(local=LocalLayer((ind,)))
    plan = load_plan(
        f"title: Satisfaction\nplace: {{code: {LEEDS}}}\npublished: 2024-01-01\nbaseline: 2020\n"
        f"objectives: [{{title: t, pillar: public_services, weight: 1, indicators: [{ind.id}],"
        " targets: [{horizon: medium, year: 2028, reach: 60}]}]\n".encode(),
        "plan.yaml", set(c.cat["id"]), set(c.names.index))
    ev = plans.evaluate(c, plan)
    t = ev.objectives[0].targets[0]
    assert t.indicator_id == ind.id and t.source == "Local data: Leeds residents' survey"
    assert t.latest_value == 55.0 and t.status != "no data"


def test_scores_change_only_when_the_uploader_opts_in(ctx):
    opts = scoring.Options(level="ltla", draws=40)
    base = scoring.score_places(ctx, opts).set_index("areacd")
    shown = scoring.score_places(query.context(local=LocalLayer((england_wide(ctx, score=False),))), opts).set_index("areacd")
    scored_ctx = query.context(local=LocalLayer((england_wide(ctx, score=True),)))
    scored = scoring.score_places(scored_ctx, opts).set_index("areacd")
    pd.testing.assert_series_equal(base["overall"], shown["overall"])
    pd.testing.assert_series_equal(base["public_services"], shown["public_services"])
    english = [a for a in base.index if a.startswith("E")]
    moved = ~np.isclose(base.loc[english, "public_services"], scored.loc[english, "public_services"], equal_nan=True)
    assert moved.mean() > 0.5
    welsh = [a for a in base.index if a.startswith("W")]  # outside the upload's nation nothing moves
    np.testing.assert_allclose(base.loc[welsh, "public_services"], scored.loc[welsh, "public_services"])


def test_saving_and_merging_local_data_never_touches_the_snapshot(ctx, tmp_path):
    before = tree_checksums(DATA)
    ind = leeds_series()
    store.save(tmp_path / "local", ind)
    layer, _ = store.load(tmp_path / "local")
    c = query.context(local=layer)
    views.map_view(c, ind.id, "ltla", "latest", query.ENGLAND)
    assert tree_checksums(DATA) == before
    assert not any(p.name.startswith("local-") for p in DATA.rglob("*"))


def test_local_data_survives_a_refresh(shared_data, mirror, tmp_path):
    snapshot = tmp_path / "data"
    shutil.copytree(DATA, snapshot)
    local = tmp_path / "local"
    ind = leeds_series()
    store.save(local, ind)
    kept = tree_checksums(local)
    result = refresh(mirror_settings(mirror, snapshot, local_data_dir=local), ["healthy-life-expectancy"])
    assert result.manifest["created_at"] != query.context().snapshot.manifest["created_at"]
    assert tree_checksums(local) == kept
    assert not any(p.name.startswith("local-") for p in snapshot.rglob("*"))  # never leaks into the snapshot
    layer, skipped = store.load(local)
    assert skipped == [] and layer.indicators[0].fingerprint == ind.fingerprint
    c = query.context(snapshot, local=layer)
    assert query.values(c, ind.id, "ltla")["value"].tolist() == [55.0]


def test_the_cli_evaluates_a_plan_on_the_local_folder(tmp_path):
    import json
    import os
    import subprocess
    import sys
    ind = leeds_series()
    store.save(tmp_path / "local", ind)
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"title: Satisfaction\nplace: {{code: {LEEDS}}}\npublished: 2024-01-01\nbaseline: 2020\n"
                    f"objectives: [{{title: t, pillar: public_services, weight: 1, indicators: [{ind.id}],"
                    " targets: [{horizon: medium, year: 2028, reach: 60}]}]\n", encoding="utf-8")
    env = {**os.environ, "GOOD_GROWTH_LOCAL_DATA_DIR": str(tmp_path / "local"), "GOOD_GROWTH_PUBLIC_MODE": "false"}
    done = subprocess.run([sys.executable, "-m", "indicators", "evaluate", str(plan), "--format", "json"], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert ind.id in done.stdout and "Local data: Leeds residents" in done.stdout
    json.loads(done.stdout)
