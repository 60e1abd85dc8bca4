"""Typed errors of the scoring engine, caught at the edge (CLI, app)."""
from __future__ import annotations


class IndicatorError(Exception):
    """Base class for everything the engine refuses to do, with a reason a reader can act on."""


class CatalogueError(IndicatorError):
    """The catalogue file is invalid or disagrees with the snapshot."""


class UnknownIndicatorError(IndicatorError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownAreaError(IndicatorError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


class NotAggregableError(IndicatorError):
    """An indicator that cannot honestly be combined across areas (a median, a ratio of medians...)."""
