"""Why a response was refused, in words the resident can act on (caught by the page)."""
from __future__ import annotations

from ..errors import IndicatorError


class PrioritiesError(IndicatorError):
    """Anything the priorities store refuses to do."""


class InvalidResponse(PrioritiesError):
    """A field is missing, out of range or too long; the message names it."""


class AlreadyAnswered(PrioritiesError):
    """This browser session has already shared its priorities for this place."""


class RateLimited(PrioritiesError):
    """Too many responses from one client in too short a time."""
