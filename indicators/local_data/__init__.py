"""Local data: indicators a place uploads itself, shown and (only when asked) scored beside the
national snapshot.

Why a separate layer: the ONS snapshot is a published, checked record that a refresh replaces
as a whole; a council's own figures are neither. They are validated on upload (`parse`), kept
apart from the snapshot (`store` on disk in local mode, the visitor's session in public mode)
and merged into the query context when it is built (`merge`), so every page sees them without
page-specific code and the snapshot on disk is never touched.
"""
from __future__ import annotations

from .model import LocalDataError, LocalIndicator, LocalLayer, LocalMeta
from .parse import parse_upload, read_meta, template_csv, template_yaml

__all__ = ["LocalDataError", "LocalIndicator", "LocalLayer", "LocalMeta", "parse_upload", "read_meta",
           "template_csv", "template_yaml"]
