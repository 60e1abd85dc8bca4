"""What matters here: residents' priorities for their place, stored in a real database.

A resident rates how much each of ten themes matters to them (0–10) and may say in a few words what
good growth would look like. Responses go to SQLite by default or PostgreSQL when the hosted replicas
share one (``GOOD_GROWTH_DATABASE_URL``); the schema is owned by the Alembic migrations in alembic/.
Once a place has enough responses, their mean ratings become community weights the good-growth
score can use instead of the default half-and-half split between the economy and public services.

Nothing here imports Streamlit: the page in app_pages/priorities.py asks this package and draws.
"""
from __future__ import annotations

from .errors import AlreadyAnswered, InvalidResponse, PrioritiesError, RateLimited
from .ratelimit import ClientLimiter, SharedLimit
from .store import ResponseStore, Submission, migrate
from .themes import MAX_TEXT_CHARS, MIN_RESPONSES, PILLAR_OF, THEMES, THEME_LABELS
from .weights import CommunityWeights, community_weights, pillar_weights

__all__ = ["AlreadyAnswered", "ClientLimiter", "CommunityWeights", "InvalidResponse", "MAX_TEXT_CHARS",
           "MIN_RESPONSES", "PILLAR_OF", "PrioritiesError", "RateLimited", "ResponseStore", "SharedLimit",
           "Submission", "THEMES", "THEME_LABELS", "community_weights", "migrate", "pillar_weights"]
