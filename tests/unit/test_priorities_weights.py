"""Community weights against hand-worked numbers, the minimum-responses rule, the mapping onto the
scoring engine's pillar weights, and the rate limit per client."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from indicators.priorities import (MIN_RESPONSES, ClientLimiter, PrioritiesError, RateLimited, THEMES,
                                   community_weights, pillar_weights)
from indicators.priorities.weights import ECONOMY, SERVICES, summarise

LEEDS, YORK = "E08000035", "E06000014"


def frame(rows: list[dict[str, int]], areacd: str = LEEDS) -> pd.DataFrame:
    times = pd.date_range("2026-11-01", periods=len(rows), freq="D", tz="UTC")
    return pd.DataFrame([{"areacd": areacd, "created_at": t, **{th: 5 for th in THEMES}, **r}
                         for t, r in zip(times, rows)])


def test_theme_mean_and_t_interval_match_the_hand_worked_case():
    # health 2, 4, 6, 8, 10: mean 6; s² = (16+4+0+4+16)/4 = 10; se = √(10/5) = √2;
    # t(0.975, 4) = 2.776445; half-width 3.926487 → 2.073513 to 9.926487.
    cw = community_weights(frame([{"health": h} for h in (2, 4, 6, 8, 10)]), LEEDS)
    health = cw.themes.set_index("theme").loc["health"]
    assert health["mean"] == pytest.approx(6.0)
    assert health["lo"] == pytest.approx(2.073513, abs=1e-6)
    assert health["hi"] == pytest.approx(9.926487, abs=1e-6)
    assert cw.themes.set_index("theme").loc["jobs", ["lo", "hi"]].tolist() == [5.0, 5.0]  # no spread, no width
    assert cw.n == 5 and cw.first == pd.Timestamp("2026-11-01", tz="UTC")
    assert cw.last == pd.Timestamp("2026-11-05", tz="UTC")


def test_economy_share_is_each_residents_split_averaged_with_a_t_interval():
    # Each resident's economy share = mean(economy ratings) / (that + mean(public-service ratings)):
    # 2/(2+8) = 0.2, 5/(5+5) = 0.5, 6/(6+2) = 0.75, 3/(3+1) = 0.75; all zeros has no split (left out).
    # mean 0.55; s² = (0.1225+0.0025+0.04+0.04)/3 = 0.068333; se = 0.130703; t(0.975, 3) = 3.182446;
    # half-width 0.415955 → 0.134045 to 0.965955.
    def resident(e: int, p: int) -> dict[str, int]:
        return {**{t: e for t in ECONOMY}, **{t: p for t in SERVICES}}
    cw = community_weights(frame([resident(2, 8), resident(5, 5), resident(6, 2), resident(0, 0), resident(3, 1)]),
                           LEEDS)
    assert cw.n == 5
    assert cw.economy_share == pytest.approx(0.55)
    assert cw.economy_share_lo == pytest.approx(0.134045, abs=2e-6)
    assert cw.economy_share_hi == pytest.approx(0.965955, abs=2e-6)


def test_rating_every_theme_alike_gives_the_default_half_and_half():
    cw = community_weights(frame([{t: 7 for t in THEMES}] * MIN_RESPONSES), LEEDS)
    assert pillar_weights(cw) == (("economy", 0.5), ("public_services", 0.5))


def test_below_the_minimum_the_weights_say_how_many_more_are_needed():
    cw = community_weights(frame([{}] * (MIN_RESPONSES - 1)), LEEDS)
    assert not cw.enough and cw.needed == 1
    with pytest.raises(PrioritiesError, match=f"needs? at least {MIN_RESPONSES}|need at least {MIN_RESPONSES}"):
        pillar_weights(cw)
    empty = community_weights(frame([]).reindex(columns=["areacd", "created_at", *THEMES]), YORK)
    assert empty.n == 0 and empty.needed == MIN_RESPONSES and empty.first is None


def test_pillar_weights_follow_the_residents_split():
    rows = [{**{t: 9 for t in ECONOMY}, **{t: 3 for t in SERVICES}}] * 20 + [{t: 5 for t in THEMES}] * 20
    cw = community_weights(frame(rows), LEEDS)
    # 20 residents at 9/(9+3) = 0.75 and 20 at 0.5 → 0.625, rounded to 0.62 (round half to even) or 0.63
    econ, services = dict(pillar_weights(cw))["economy"], dict(pillar_weights(cw))["public_services"]
    assert econ == pytest.approx(0.62, abs=0.011) and econ + services == pytest.approx(1.0)


def test_every_place_at_once_matches_one_place_at_a_time():
    rng = np.random.default_rng(1)
    parts = []
    for code in (LEEDS, YORK, "E07000001"):
        n = int(rng.integers(3, 40))
        parts.append(frame([{t: int(v) for t, v in zip(THEMES, rng.integers(0, 11, len(THEMES)))}
                            for _ in range(n)], code))
    data = pd.concat(parts, ignore_index=True)
    every = summarise(data)
    for code in (LEEDS, YORK, "E07000001"):
        one = community_weights(data, code)
        assert every.loc[code, "n"] == one.n
        assert every.loc[code, "health_lo"] == pytest.approx(one.themes.set_index("theme").loc["health", "lo"])
        assert every.loc[code, "economy_share_mean"] == pytest.approx(one.economy_share)


def test_rate_limit_refuses_the_client_over_its_budget_and_no_one_else():
    limiter = ClientLimiter("2/minute;3/hour")
    limiter.check("10.0.0.1")
    limiter.check("10.0.0.1")
    with pytest.raises(RateLimited, match="at most 2 per 1 minute"):
        limiter.check("10.0.0.1")
    limiter.check("10.0.0.2")  # another client has its own budget


def test_the_per_process_first_line_counts_only_what_it_is_told_was_stored():
    limiter = ClientLimiter("1/minute")
    limiter.test("10.0.0.1")
    limiter.test("10.0.0.1")  # asking uses none of the budget
    limiter.hit("10.0.0.1")
    with pytest.raises(RateLimited, match="at most 1 per 1 minute"):
        limiter.test("10.0.0.1")


@pytest.mark.parametrize("spec, words", [("5/minute;30/hour", "1 hour"), ("2/day", "1 day"),
                                         ("3 per 2 hours", "2 hours")])
def test_the_privacy_note_names_how_long_the_rate_limit_keeps_a_record(spec, words):
    from indicators.priorities.ratelimit import window_words
    assert window_words(spec) == words


def test_a_malformed_rate_limit_setting_is_named():
    with pytest.raises(PrioritiesError, match="'lots' is not in the form"):
        ClientLimiter("lots")


@pytest.mark.parametrize("name, weights, floor", [
    ("uniform", [1] * 11, 0.94),
    ("centred on 5", [0, 0, 1, 2, 5, 20, 5, 2, 1, 0, 0], 0.94),
    ("polarised at 0 and 10", [10, 1, 1, 1, 1, 2, 1, 1, 1, 1, 10], 0.94),
    ("skewed: most say 9 or 10", [1, 0, 0, 1, 1, 2, 3, 5, 10, 20, 30], 0.91),
])
def test_t_interval_covers_the_true_mean_about_95_percent_at_the_minimum(name, weights, floor):
    """Known truth: 10,000 places of MIN_RESPONSES residents drawn from a rating distribution; the
    95% interval (through `summarise`, whose formula the database path shares) should hold the true mean about 95% of
    the time. Heavily skewed ratings cover a little less (about 92%): methods.md says so."""
    rng = np.random.default_rng(20261130)
    p = np.asarray(weights, float) / sum(weights)
    truth = float((np.arange(11) * p).sum())
    places, n = 10_000, MIN_RESPONSES
    draws = rng.choice(11, size=places * n, p=p)
    data = pd.DataFrame({"areacd": np.repeat(np.arange(places), n).astype(str),
                         "created_at": pd.Timestamp("2026-11-30", tz="UTC"),
                         **{t: draws for t in THEMES}})
    s = summarise(data)
    coverage = float(((s["health_lo"] <= truth) & (truth <= s["health_hi"])).mean())
    assert floor <= coverage <= 0.965, f"{name}: coverage {coverage:.3f}"
