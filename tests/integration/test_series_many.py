"""query.series_many and views.compare_table on the shipped snapshot: the batched reading gives
exactly what reading each series on its own gave (places with a predecessor code included)."""
from __future__ import annotations

import random

import pandas as pd
import pytest

from indicators import query, views


@pytest.fixture(scope="module")
def ctx() -> query.Context:
    return query.context()


def _places(ctx: query.Context) -> list[str]:
    rng = random.Random(7)
    areas = sorted(ctx.areas["areacd"].astype(str))
    return rng.sample(areas, 25) + ["E92000001", "K02000001", "S12000036", *sorted(ctx.predecessor)[:8]]


def test_series_many_is_each_series_in_turn(ctx):
    ids = list(ctx.cat["id"])
    for code in _places(ctx):
        batched = query.series_many(ctx, code, ids)
        one_by_one = pd.concat([query.series(ctx, code, ind).assign(indicator_id=ind) for ind in ids],
                               ignore_index=True)[["indicator_id", *query.VALUE_COLUMNS]]
        pd.testing.assert_frame_equal(batched.astype(str), one_by_one.astype(str), obj=code)


def test_compare_table_keeps_the_order_asked_for(ctx):
    ids = list(ctx.cat["id"])[:12][::-1]
    codes = ["E08000035", "S12000036", "E06000001"]
    table = views.compare_table(ctx, codes, ids, custom={"Two districts": ["E08000035", "E08000036"]})
    shown = table.drop_duplicates(["indicator_id", "place"])
    assert list(dict.fromkeys(shown["indicator_id"])) == [i for i in ids if i in set(shown["indicator_id"])]
    for _, rows in shown.groupby("indicator_id", sort=False):
        names = [query.area_name(ctx, c) for c in codes] + ["Two districts"]
        assert list(rows["place"]) == [n for n in names if n in set(rows["place"])]
    starts = table.loc[table["areacd"].notna()].groupby(["indicator_id", "areacd"])["period_start"]
    assert starts.apply(lambda s: list(s) == sorted(s)).all(), "a series is not oldest first"
