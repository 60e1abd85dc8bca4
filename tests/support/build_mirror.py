"""Build the offline copy of the public sources that the integration tests serve (``make mirror``).

For contributors who are online: it runs the project's own refresh against the live sources (so it
fetches exactly the files a refresh needs, no more), then downloads each file the new manifest lists
with the same HTTP client and writes it where ``tests/support/mirror.py`` serves it from:

    ons-local-stats/<slug>/<slug>.csv|json          <- explore-local-statistics-data
    ons-local-stats-fallback/app-individual-datasets/  <- the ELS app's per-indicator files
    ons-local-stats-app/geo-metadata.json, areas-list.json, clusters/
    geography/topo.json, changes.csv                 <- uk-topojson
    deprivation/*.rda                                <- humaniverse IMD and geographr (pinned commits)
    oflog-adult-social-care/ASC_data.csv             <- Oflog's oflog-automated-text (pinned commit)

    python -m tests.support.build_mirror --out ../shared/data

The copy is written to a new folder beside --out and renamed into place only when complete.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

from data_sources.errors import DataSourceError
from data_sources.http import fetch, make_session
from data_sources.refresh import refresh
from data_sources.settings import Settings
from tests.support.mirror import url_overrides


def layout(settings: Settings) -> list[tuple[str, str]]:
    """(live URL or URL prefix, folder or file in the copy), longest prefix first."""
    local = url_overrides("mirror:")
    pairs = [(str(getattr(settings, name)), rel.removeprefix("mirror:/")) for name, rel in local.items()]
    return sorted(pairs, key=lambda p: -len(p[0]))


def copy_path(url: str, pairs: list[tuple[str, str]]) -> str:
    """Where `url` goes in the copy, relative; ValueError for a URL outside every configured source
    or one that would climb out of the copy."""
    for live, rel in pairs:
        if url == live:
            path = rel
        elif live.endswith("/") and url.startswith(live):
            path = rel + url[len(live):]
        else:
            continue
        parts = Path(path).parts
        if not parts or Path(path).is_absolute() or ".." in parts:
            raise ValueError(f"{url} does not map to a file inside the copy")
        return path
    raise ValueError(f"{url} is not under any configured source URL")


def source_urls(manifest: Any) -> Iterator[str]:
    """Every URL the manifest records a successful download or a not-modified answer for."""
    if isinstance(manifest, dict):
        if "url" in manifest and manifest.get("status") in ("ok", "not_modified", "fallback"):
            yield str(manifest["url"])
        for value in manifest.values():
            yield from source_urls(value)
    elif isinstance(manifest, list):
        for value in manifest:
            yield from source_urls(value)


def build(out: Path, settings: Settings | None = None) -> int:
    """Write the copy to `out` (replacing it); returns the number of files written."""
    import json

    settings = settings or Settings()
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".mirror-", dir=out.parent))
    try:
        snapshot = work / "snapshot"
        refresh(settings.model_copy(update={"snapshot_dir": snapshot}))
        manifest = json.loads((snapshot / "manifest.json").read_text(encoding="utf-8"))
        pairs = layout(settings)
        urls = sorted(set(source_urls(manifest)))
        session = make_session(settings)
        staged = work / "copy"
        for url in urls:
            kind = "json" if url.endswith(".json") else "rda" if url.endswith(".rda") else "csv"
            got = fetch(session, url, settings, expect=kind)
            dest = staged / copy_path(url, pairs)
            if not dest.resolve().is_relative_to(staged.resolve()):
                raise ValueError(f"{url} does not map to a file inside the copy")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(got.body or b"")
        if out.exists():
            shutil.rmtree(out)
        staged.rename(out)
        return len(urls)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write the copy to (replaced)")
    args = parser.parse_args(argv)
    try:
        n = build(args.out)
    except (DataSourceError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {n} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
