"""Typed errors for the data layer: caught at the edge (CLI, app), detail kept in logs."""
from __future__ import annotations


class DataSourceError(Exception):
    """Base class: anything that stops a source from becoming snapshot data."""


class FetchError(DataSourceError):
    """A download failed: HTTP status, timeout, size limit or a body that is not what was asked for."""

    def __init__(self, url: str, reason: str, status: int | None = None) -> None:
        self.url, self.reason, self.status = url, reason, status
        super().__init__(f"{url}: {reason}")


class NotFoundError(FetchError):
    """The source answered 404: the file does not exist upstream."""


class ValidationError(DataSourceError):
    """Downloaded bytes are not valid data; the message names file, line, field and area where known."""

    def __init__(self, source: str, reason: str, *, line: int | None = None, field: str | None = None,
                 areacd: str | None = None) -> None:
        self.source, self.reason, self.line, self.field, self.areacd = source, reason, line, field, areacd
        where = [source]
        if line is not None:
            where.append(f"line {line}")
        if field:
            where.append(f"field '{field}'")
        if areacd:
            where.append(f"area {areacd}")
        super().__init__(f"{', '.join(where)}: {reason}")


class SnapshotError(DataSourceError):
    """The snapshot on disk is missing, incomplete or does not match its manifest."""


class RefreshLockedError(SnapshotError):
    """Another refresh holds the snapshot lock."""
