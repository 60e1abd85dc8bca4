"""One search box for a place: a postcode, an outcode, a place name (spelt roughly) or an ONS code,
old codes and names of abolished areas included.

Why one function: a newcomer does not know whether the dashboard wants "Leeds", "E08000035" or
"LS1 4AP", and should not have to. Every answer is a short list of current places (most likely
first) with a note where the match needs explaining (an old code, a postcode spanning districts),
or a message saying what was wrong with the text.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import pandas as pd

from . import postcodes, query

SEARCH_LEVELS = ("ltla", "utla", "combined_authority", "region", "country")
LEVEL_WORDS = {"ltla": "district", "utla": "upper-tier authority", "combined_authority": "combined authority",
               "region": "region", "country": "nation"}
ONS_CODE = re.compile(r"^[A-Z][0-9]{8}$")
# Pseudo-district codes the postcode directory gives places outside the UK's local statistics.
OUTSIDE = {"L99999999": "the Channel Islands", "M99999999": "the Isle of Man"}
MAX_MATCHES = 8


@dataclass(frozen=True)
class Match:
    areacd: str
    areanm: str
    level: str
    note: str = ""  # why this place: "92% of LS1's postcodes", "old code E08000016", ...


@dataclass(frozen=True)
class SearchResult:
    query: str
    kind: str  # empty, code, old code, postcode, outcode, name, not found
    matches: tuple[Match, ...] = ()
    message: str = ""  # why nothing was found, for the person who typed it
    notices: tuple[str, ...] = field(default_factory=tuple)  # e.g. an old code's successor

    @property
    def single(self) -> Match | None:
        """The one place meant, when the search leaves no doubt."""
        return self.matches[0] if len(self.matches) == 1 else None


def places(ctx: query.Context) -> pd.DataFrame:
    """Current places that can be searched: code, name, level (a code at several levels keeps the lowest)."""
    def make() -> pd.DataFrame:
        frames = [query.current_areas(ctx, lv)[["areacd", "areanm"]].assign(level=lv) for lv in SEARCH_LEVELS]
        out = pd.concat(frames, ignore_index=True).drop_duplicates("areacd").reset_index(drop=True)
        out["folded"] = out["areanm"].map(_fold)
        return out
    return ctx._cache.setdefault_by(("search_places",), make)


def _fold(text: str) -> str:
    """Lower case, '&' as 'and', punctuation as spaces: 'Brighton & Hove' ~ 'brighton and hove'."""
    text = str(text).lower().replace("&", " and ")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def current_successor(ctx: query.Context, areacd: str) -> str | None:
    """Follow successor codes to a current place (a few steps at most: Cumbria's districts → Cumberland)."""
    current = set(places(ctx)["areacd"])
    succ = ctx.areas.dropna(subset=["successor"]).drop_duplicates("areacd").set_index("areacd")["successor"]
    code = areacd
    for _ in range(5):
        if code in current:
            return code
        if code not in succ.index:
            return None
        code = str(succ[code])
    return code if code in current else None


def _match(ctx: query.Context, areacd: str, note: str = "") -> Match | None:
    p = places(ctx)
    row = p.loc[p["areacd"] == areacd]
    if row.empty:
        return None
    return Match(areacd, str(row["areanm"].iloc[0]), str(row["level"].iloc[0]), note)


def _old_area_note(ctx: query.Context, old: str, new: str) -> str:
    rows = ctx.areas.loc[ctx.areas["areacd"] == old]
    name = str(rows["areanm"].iloc[0]) if len(rows) else old
    until = rows["valid_to"].dropna()
    when = f" after {until.iloc[0]}" if len(until) else ""
    how = "was recoded as" if ctx.predecessor.get(new) == old else "became part of"
    return f"{name} ({old}) {how} {query.area_name(ctx, new)} ({new}){when}. Figures are shown for {new}."


def _not_profiled(ctx: query.Context, code: str) -> str:
    """Why a known code or name gives no place: abolished without one successor, or a kind of area
    (police force area, ITL region) the dashboard does not profile."""
    rows = ctx.areas.loc[ctx.areas["areacd"] == code]
    until = rows["valid_to"].dropna()
    name = ctx.names.get(code, code)
    if len(until):
        return (f"{name} ({code}) was abolished or recoded after {until.iloc[0]} and has no single successor: "
                "search for the council that covers the place now, or type a postcode.")
    return (f"{name} ({code}) is not a place this dashboard profiles: search for a district, county, combined "
            "authority, region or nation, or type a postcode.")


def search(ctx: query.Context, text: str | None) -> SearchResult:
    """Current places matching the text, most likely first, or a message saying why there are none."""
    raw = (text or "").strip()[:100]
    if not raw:
        return SearchResult(raw, "empty")
    code = re.sub(r"\s+", "", raw).upper()
    if ONS_CODE.match(code):
        return _by_code(ctx, raw, code)
    if postcodes.looks_like_postcode(raw):
        return _by_postcode(ctx, raw)
    return _by_name(ctx, raw)


def _by_code(ctx: query.Context, raw: str, code: str) -> SearchResult:
    hit = _match(ctx, code)
    if hit:
        return SearchResult(raw, "code", (hit,))
    new = current_successor(ctx, code)
    if new:
        note = _old_area_note(ctx, code, new)
        return SearchResult(raw, "old code", (_match(ctx, new, f"replaces {code}"),), notices=(note,))
    if code in ctx.names.index:
        return SearchResult(raw, "not found", message=_not_profiled(ctx, code))
    return SearchResult(raw, "not found", message=f"No area has the code {code}. ONS codes look like E08000035.")


def _by_postcode(ctx: query.Context, raw: str) -> SearchResult:
    try:
        found = postcodes.lookup(raw)
    except postcodes.PostcodeError as exc:
        return SearchResult(raw, "not found", message=str(exc)[:1].upper() + str(exc)[1:] + ".")
    matches, notices, outside = [], [], []
    for district, share in found.districts:
        if district in OUTSIDE:
            outside.append(OUTSIDE[district])
            continue
        new = current_successor(ctx, district)
        if new is None:
            continue
        note = "" if found.kind == "postcode" else f"{share:.0%} of {found.text}'s postcodes"
        if new != district:
            notices.append(_old_area_note(ctx, district, new))
        if all(m.areacd != new for m in matches):
            matches.append(_match(ctx, new, note))
    if not matches:
        where = " and ".join(sorted(set(outside)))
        message = (f"{found.text} is in {where}, outside the UK local statistics this dashboard covers."
                   if outside else f"{found.text}'s district has no data in this dashboard.")
        return SearchResult(raw, "not found", message=message)
    return SearchResult(raw, found.kind, tuple(matches[:MAX_MATCHES]), notices=tuple(dict.fromkeys(notices)))


def _by_name(ctx: query.Context, raw: str) -> SearchResult:
    p = places(ctx)
    want = _fold(raw)
    if not want:
        return SearchResult(raw, "not found", message="Type a postcode, a place name or an ONS code.")
    exact = p.loc[p["folded"] == want]
    starts = p.loc[p["folded"].str.startswith(want) & (p["folded"] != want)]
    contains = p.loc[p["folded"].str.contains(want, regex=False) & ~p["folded"].str.startswith(want)]
    close = difflib.get_close_matches(want, p["folded"].tolist(), n=MAX_MATCHES, cutoff=0.75)
    fuzzy = p.loc[p["folded"].isin(close) & ~p.index.isin(exact.index.union(starts.index).union(contains.index))]
    fuzzy = fuzzy.assign(order=fuzzy["folded"].map(close.index)).sort_values("order")  # closest first
    ranked = pd.concat([exact, starts.sort_values("areanm"), contains.sort_values("areanm"), fuzzy])
    matches = [Match(r.areacd, r.areanm, r.level) for r in ranked.itertuples()]
    notices = []
    if exact.empty:  # an abolished area's name: Harrogate → North Yorkshire
        old = ctx.areas.loc[ctx.areas["successor"].notna() & (ctx.areas["areanm"].map(_fold) == want)]
        for oldcd in old["areacd"].drop_duplicates():
            new = current_successor(ctx, str(oldcd))
            if new and all(m.areacd != new for m in matches):
                matches.insert(0, _match(ctx, new, f"replaces {old.loc[old['areacd'] == oldcd, 'areanm'].iloc[0]}"))
                notices.append(_old_area_note(ctx, str(oldcd), new))
    gone = ctx.areas.loc[ctx.areas["areanm"].map(_fold) == want].sort_values("in_hierarchy", ascending=False)["areacd"]
    if not matches and len(gone):
        return SearchResult(raw, "not found", message=_not_profiled(ctx, str(gone.iloc[0])))
    if not matches:
        return SearchResult(raw, "not found", message=f"No place is called '{raw}' or anything close. Try a postcode "
                            "(LS1 4AP), a council's name (Leeds) or an ONS code (E08000035).")
    if len(exact) == 1:  # the name was typed in full: that place, no question
        matches = matches[:1]
    return SearchResult(raw, "name", tuple(matches[:MAX_MATCHES]), notices=tuple(notices))
