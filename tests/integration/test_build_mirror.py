"""`make mirror` builds the offline copy from the sources: run here against the offline copy itself
served over HTTP (standing in for the live sources), it must reproduce every file a refresh reads,
byte for byte and at the same path."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import mirror_settings
from tests.support import build_mirror

pytestmark = pytest.mark.integration


def test_built_copy_matches_the_offline_copy(mirror, shared_data: Path, tmp_path: Path):
    settings = mirror_settings(mirror, tmp_path / "unused")
    out = tmp_path / "copy"
    n = build_mirror.build(out, settings)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    assert n == len(files) and n > 60
    for f in files:
        rel = f.relative_to(out)
        assert (shared_data / rel).read_bytes() == f.read_bytes(), rel
    assert (out / "geography" / "topo.json").is_file()
    assert (out / "ons-local-stats-app" / "geo-metadata.json").is_file()
    assert not list(tmp_path.glob(".mirror-*")), "the work folder is removed"


def test_a_url_outside_the_sources_is_refused():
    pairs = build_mirror.layout(build_mirror.Settings())
    assert build_mirror.copy_path(build_mirror.Settings().boundaries_url, pairs) == "geography/topo.json"
    with pytest.raises(ValueError, match="not under any configured source"):
        build_mirror.copy_path("https://example.invalid/x.csv", pairs)
