"""The residents' priorities store as the pages reach it: one migrated store and one rate limiter per
server process (the limit itself is shared through the database), this browser session's token, the
client's address for the rate limit, and the
community weights the good-growth page may score with and a plan's roll-up may be weighted by.

The store itself (indicators/priorities/) knows nothing of Streamlit; this module is the edge where its
typed errors become one friendly message.
"""
from __future__ import annotations

import ipaddress
import logging
import secrets

import pandas as pd
import streamlit as st

from data_sources.settings import get_settings
from indicators import plan_weights, plans
from indicators.priorities.store import exists
from indicators.priorities.weights import from_summary
from indicators.priorities import ClientLimiter, CommunityWeights, PrioritiesError, ResponseStore, migrate
from app_pages import common as ui

log = logging.getLogger("good_growth.priorities")
TOKEN_KEY = "_priorities_session_token"
UNAVAILABLE = ("The residents' priorities cannot be reached just now, so responses cannot be shown or saved. "
               "The rest of the dashboard works as usual; please try again later.")


@st.cache_resource(show_spinner="Preparing the residents' priorities database…")
def _open(url: str, rate_limit: str) -> ResponseStore:
    """Migrate once per process at first use (Alembic upgrade to head), then share one engine; the store
    enforces the rate limit every replica sharing the database shares."""
    migrate(url)
    return ResponseStore(url, rate_limit=rate_limit)


def store() -> ResponseStore | None:
    """The store, or None after logging why (a page then says UNAVAILABLE, never a path or URL)."""
    settings = get_settings()
    try:
        return _open(settings.database_url, settings.priorities_rate_limit)
    except PrioritiesError as exc:
        log.error("priorities database unavailable: %s", exc)
        return None


@st.cache_resource
def _limiter(spec: str) -> ClientLimiter:
    return ClientLimiter(spec)


def limiter() -> ClientLimiter:
    """This process's first line of the rate limit (the database holds the shared one)."""
    return _limiter(get_settings().priorities_rate_limit)


def session_token() -> str:
    """A random token made for this browser session: the one-response-per-place rule keys on it."""
    if TOKEN_KEY not in st.session_state:
        st.session_state[TOKEN_KEY] = secrets.token_urlsafe(24)
    return st.session_state[TOKEN_KEY]


def client_address() -> str:
    """Who the rate limit counts: the connecting address; behind a proxy on a private or loopback
    address, the last X-Forwarded-For entry (the one the proxy added; earlier ones a client can forge)."""
    peer = st.context.ip_address
    peer = peer if isinstance(peer, str) else ""  # None without a browser connection (tests, bare runs)
    try:
        behind_proxy = bool(peer) and (ipaddress.ip_address(peer).is_private or ipaddress.ip_address(peer).is_loopback)
    except ValueError:
        behind_proxy = False
    forwarded = st.context.headers.get("X-Forwarded-For", "") if behind_proxy else ""
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    return (hops[-1] if hops else peer)[:64] or "session:" + session_token()


def community(areacd: str | None) -> CommunityWeights | None:
    """The place's community weights, or None when there is no place or no database."""
    if not areacd or not exists(get_settings().database_url):
        return None  # nothing to read: and reading must not create an empty database
    s = store()
    if s is None or areacd is None:
        return None
    try:
        return s.community(areacd)
    except Exception:  # noqa: BLE001 - a database hiccup must not break the page that asked
        log.exception("could not read community weights for %s", areacd)
        return None


def plan_rollup(ev: plans.Evaluation) -> plans.Evaluation:
    """The plan's roll-up, re-weighted by its place's residents' priorities when the reader turns them on.

    The toggle is offered only once the place has enough responses; below that, one line says how many
    more are needed. A footprint of several districts has no residents' weights of its own."""
    code = ev.plan.place.code
    if not code:
        st.caption("Residents' priorities are gathered for one area, so a plan for a footprint of several "
                   "districts is rolled up with its own objective weights.")
        return ev
    cw = community(code) if exists(get_settings().database_url) else from_summary(pd.DataFrame(), code)
    if cw is None:
        st.caption("Residents' priorities cannot be reached just now; the roll-up uses the plan's own weights.")
        return ev
    if not cw.enough:
        ui.set_params(residents=None)
        st.caption(ui.md(f"Residents' priorities (What matters here?) can weight this roll-up once {ev.place.name} "
                         f"has {cw.minimum} responses; it has {cw.n}, so {cw.needed} more are needed."))
        return ev
    on = st.toggle("Use residents' priorities", value=ui.param("residents") == "1", key="plan_use_residents",
                   help="Weight the plan's economic and public-service objectives by what this place's residents "
                        "said matters to them (What matters here? page) instead of the plan's own weights")
    ui.set_params(residents="1" if on else None)
    return plans.reweight(ev, plan_weights.residents(cw, ev.place.name)) if on else ev
