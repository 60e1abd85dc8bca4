"""CLI: `python -m data_sources refresh|verify|summary|health`.

Errors end here: one clear line on stderr and a non-zero exit; the detail goes to the log.
The heavy modules (pandas, pyarrow, geopandas) are imported by the commands that need them,
so `health`, which a container runs every few seconds, starts quickly.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .errors import DataSourceError
from .settings import Settings

STATUS_STYLE = {"ok": "green", "not_modified": "green", "fallback": "yellow", "stale": "yellow",
                "missing": "red", "failed": "red", "skipped": "dim"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data_sources", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("refresh", help="fetch every source over HTTP and swap in a new snapshot")
    r.add_argument("--source-url", help="ELS data repository base URL (default: the live ONS repository)")
    r.add_argument("--fallback-url", help="base URL of the ELS app's per-indicator JSON files")
    r.add_argument("--boundaries-url", help="URL of the uk-topojson topo.json")
    r.add_argument("--changes-url", help="URL of uk-topojson's boundary changes.csv")
    r.add_argument("--geo-metadata-url", help="URL of the ELS app's geo-metadata.json")
    r.add_argument("--areas-list-url", help="URL of the ELS app's areas-list.json")
    r.add_argument("--clusters-url", help="base URL of the ELS app's clusters folder")
    r.add_argument("--imd-url", help="base URL of the indices of deprivation R data files")
    r.add_argument("--geographr-url", help="base URL of the LSOA lookup and rural-urban R data files")
    r.add_argument("--asc-url", help="URL of Oflog's adult social care CSV")
    r.add_argument("--source-note", help="free text recorded in the manifest about where the source came from")
    r.add_argument("--only", nargs="+", metavar="SLUG", help="refresh only these datasets (or `deprivation` for the deprivation and rural-urban tables); keep the rest")
    r.add_argument("--snapshot", type=Path, help="snapshot directory (default: data/)")
    r.add_argument("--quiet", action="store_true", help="no progress bars")
    r.add_argument("--accept-shrink", action="store_true",
                   help="let datasets replace their previous rows even if they lost more rows, areas or periods "
                        "than their limit allows (check the source first)")
    r.add_argument("--break-stale-lock", action="store_true",
                   help="stop another refresh of this snapshot that is past its deadline, then run")
    v = sub.add_parser("verify", help="re-check a snapshot's files against its manifest")
    v.add_argument("--snapshot", type=Path)
    s = sub.add_parser("summary", help="print what the snapshot holds")
    s.add_argument("--snapshot", type=Path)
    h = sub.add_parser("health", help="exit 0 only if the snapshot matches its manifest (and --url answers 200)")
    h.add_argument("--snapshot", type=Path)
    h.add_argument("--url", help="also require this URL to answer 200, e.g. http://127.0.0.1:8501/_stcore/health")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = _settings(args)
    err = Console(stderr=True, soft_wrap=True)
    try:
        if args.command == "refresh":
            return _refresh(settings, args, err)
        if args.command == "verify":
            return _verify(settings, err)
        if args.command == "health":
            return _health(settings, args.url, err)
        return _summary(settings)
    except (DataSourceError, OSError) as exc:
        logging.getLogger("data_sources").debug("failed", exc_info=True)
        err.print(f"error: {exc}", markup=False, highlight=False)
        return 1


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        "source_base_url": getattr(args, "source_url", None),
        "fallback_base_url": getattr(args, "fallback_url", None),
        "boundaries_url": getattr(args, "boundaries_url", None),
        "boundary_changes_url": getattr(args, "changes_url", None),
        "geo_metadata_url": getattr(args, "geo_metadata_url", None),
        "areas_list_url": getattr(args, "areas_list_url", None),
        "clusters_base_url": getattr(args, "clusters_url", None),
        "imd_base_url": getattr(args, "imd_url", None),
        "geographr_base_url": getattr(args, "geographr_url", None),
        "oflog_asc_url": getattr(args, "asc_url", None),
        "snapshot_dir": getattr(args, "snapshot", None),
        "source_note": getattr(args, "source_note", None),
    }
    return Settings().model_copy(update={k: v for k, v in overrides.items() if v})


def _refresh(settings: Settings, args: argparse.Namespace, err: Console) -> int:
    from .refresh import RefreshFailed, refresh

    if settings.public_mode:
        err.print("error: refresh is disabled in public mode (GOOD_GROWTH_PUBLIC_MODE)")
        return 2
    columns = [TextColumn("{task.description}", justify="left"), BarColumn(), DownloadColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=err, disable=args.quiet, transient=False) as progress:
        tasks: dict[str, int] = {}

        def on_bytes(url: str, done: int, total: int | None) -> None:
            if url not in tasks:
                tasks[url] = progress.add_task(url.rsplit("/", 1)[-1][:60], total=total)
            progress.update(tasks[url], completed=done, total=total or done)

        try:
            result = refresh(settings, args.only, on_bytes=on_bytes, accept_shrink=args.accept_shrink,
                             break_stale_lock=args.break_stale_lock)
        except RefreshFailed as exc:
            progress.stop()
            err.print(f"error: refresh failed, snapshot unchanged: {exc}", markup=False, highlight=False)
            return 1
    console = Console(width=None if sys.stdout.isatty() else 160)
    table = Table(title=f"Snapshot {settings.snapshot_dir}")
    for col in ("dataset", "status", "rows", "indicators", "source date", "note"):
        table.add_column(col, no_wrap=True, overflow="ellipsis", min_width=max(len(col), 9),
                         max_width=70 if col == "note" else 45)
    for o in result.outcomes:
        entry = result.manifest["datasets"][o.slug]
        style = STATUS_STYLE.get(o.status, "")
        note = o.error or o.note or ""
        table.add_row(o.slug, f"[{style}]{o.status}[/]", f"{entry['rows']:,}", str(len(entry["indicators"])),
                      str(entry["source_date"] or ""), note[:90])
    console.print(table)
    c = result.manifest["counts"]
    console.print(f"{c['datasets_with_data']} datasets with data, {c['indicators']} indicators, "
                  f"{c['observations']:,} observations, {c['ltla_with_values']} districts with values; "
                  f"statuses {c['statuses']}")
    return 0


def _verify(settings: Settings, err: Console) -> int:
    from .store import verify

    problems = verify(Path(settings.snapshot_dir))
    if problems:
        for p in problems:
            err.print(f"error: {settings.snapshot_dir}/{p}", markup=False, highlight=False)
        return 1
    print(f"{settings.snapshot_dir}: every file matches its manifest")
    return 0


def _health(settings: Settings, url: str | None, err: Console) -> int:
    from .health import problems

    found = problems(Path(settings.snapshot_dir), url)
    for p in found:
        err.print(f"unhealthy: {p}", markup=False, highlight=False)
    if not found:
        print("healthy: snapshot matches its manifest" + (f"; {url} answers" if url else ""))
    return 1 if found else 0


def _summary(settings: Settings) -> int:
    from .store import read_manifest

    m = read_manifest(Path(settings.snapshot_dir))
    print(f"created {m['created_at']} from {m['source_base_url']}")
    for k, v in m["counts"].items():
        print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
