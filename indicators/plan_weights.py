"""Which weights a plan's roll-up uses: the plan's own objective weights, or its residents' priorities.

Why an alternative at all: a plan's objective weights are what the council chose; the residents of the
place may weigh the economy and public services differently (the "What matters here?" page). The roll-up
can be read either way, and every output says which weights it used.

How residents' priorities enter (methods.md, "Resident priorities"): the place's community economy share
(the same split, rounded to a whole per cent, that the good-growth page scores with) replaces the share of
the plan's weight on its economic objectives, and the rest goes to its public-service objectives. Within a
pillar each objective keeps its weight relative to the others (residents rate themes, not a plan's
objectives), and environment objectives keep the weight the plan gave them, because residents' environment
rating maps to no scored pillar. A plan with no objective in one of the two pillars has nothing to move
the residents' split onto, so its weights stay as the plan set them, and the description says so.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .priorities.errors import PrioritiesError
from .priorities.weights import CommunityWeights, pillar_weights

SPLIT_PILLARS = ("economy", "public_services")


@dataclass(frozen=True)
class RollupWeights:
    """The weights a roll-up was computed with, and the words that say so.

    ``economy`` is None for the plan's own weights; otherwise the residents' economy share (0–1)."""

    economy: float | None = None
    place: str | None = None
    n: int | None = None
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None

    @property
    def residents(self) -> bool:
        return self.economy is not None

    def objective_weights(self, pillars: Sequence[str], weights: Sequence[float]) -> np.ndarray:
        """Each objective's weight in the roll-up, from its pillar and the plan's weight (the plan's
        weights sum to 1; so do these)."""
        w = np.asarray(weights, dtype=float)
        p = np.asarray(pillars, dtype=object)
        if not self.applies(pillars):
            return w
        split = w[np.isin(p, SPLIT_PILLARS)].sum()  # the plan's weight on the two pillars, kept in total
        out = w.copy()
        for pillar, share in (("economy", self.economy), ("public_services", 1 - float(self.economy))):
            inside = p == pillar
            out[inside] = w[inside] / w[inside].sum() * share * split
        return out

    def applies(self, pillars: Sequence[str]) -> bool:
        """Whether the residents' split can move anything: the plan has objectives in both pillars."""
        return self.residents and all(pillar in set(pillars) for pillar in SPLIT_PILLARS)

    def describe(self, pillars: Sequence[str] = SPLIT_PILLARS) -> str:
        """One plain sentence: which weights, with n and the date range for residents' priorities."""
        if not self.residents:
            return "Roll-up weighted by the plan's own objective weights."
        assert self.economy is not None
        dates = (f", {_day(self.first)} to {_day(self.last)}" if self.first is not None and self.last is not None
                 else "")
        text = f"Scored with {self.place} residents' priorities, n = {self.n}{dates}"
        if not self.applies(pillars):
            return (text + ": the plan has no objectives in one of the economy and public services, so the "
                    "residents' split moves nothing and the plan's own objective weights stand.")
        return (text + f": {self.economy:.0%} of the weight on economic objectives and {1 - self.economy:.0%} on "
                "public-service ones, instead of the plan's own split; environment objectives keep their weight.")

    def as_dict(self) -> dict[str, object]:
        """For JSON: which weights, and the residents' numbers when they were used."""
        return {"source": "residents" if self.residents else "plan", "place": self.place, "n": self.n,
                "first": None if self.first is None else self.first.date().isoformat(),
                "last": None if self.last is None else self.last.date().isoformat(),
                "economy": self.economy, "public_services": None if self.economy is None else 1 - self.economy}


PLAN = RollupWeights()


def _day(t: pd.Timestamp) -> str:
    return f"{t.day} {t:%B %Y}"


def residents(cw: CommunityWeights, place_name: str) -> RollupWeights:
    """Roll-up weights from a place's community weights; :class:`PrioritiesError` saying how many more
    responses are needed when the place has too few."""
    if not cw.enough:
        raise PrioritiesError(f"{place_name} ({cw.areacd}) has {cw.n} residents' "
                              f"response{'' if cw.n == 1 else 's'}; community weights need at least {cw.minimum}, "
                              f"so {cw.needed} more {'is' if cw.needed == 1 else 'are'} needed")
    economy = dict(pillar_weights(cw))["economy"]
    return RollupWeights(economy, place_name, cw.n, cw.first, cw.last)
