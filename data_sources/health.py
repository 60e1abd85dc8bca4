"""Is this server fit to serve? The snapshot is intact and, if asked, the app answers.

Why not only Streamlit's /_stcore/health: it says the web server is up, and stays `ok` while a
truncated observations.parquet makes every page fail. This check also compares the snapshot's
files with the checksums in its manifest (a few MB hashed: tens of milliseconds), using the
standard library only so a container can run it every few seconds. It never repairs anything:
a health check must not write.
"""
from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from .errors import SnapshotError
from .integrity import file_problems, load_manifest


def problems(snapshot: Path, url: str | None = None, timeout: float = 4.0) -> list[str]:
    """Everything that makes this server unfit to serve; empty when healthy."""
    found: list[str] = []
    try:
        found += [f"snapshot {snapshot}: {p}" for p in file_problems(snapshot, load_manifest(snapshot))]
    except SnapshotError as exc:
        found.append(str(exc))
    except OSError as exc:
        found.append(f"snapshot {snapshot}: unreadable ({exc})")
    if url:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - an operator's own URL
                if resp.status != 200:
                    found.append(f"{url}: HTTP {resp.status}")
        except urllib.error.HTTPError as exc:
            found.append(f"{url}: HTTP {exc.code}")
        except (urllib.error.URLError, OSError) as exc:
            found.append(f"{url}: no answer ({getattr(exc, 'reason', exc)})")
    return found
