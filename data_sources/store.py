"""The embedded snapshot: a directory of Parquet tables plus manifest.json.

Why a directory swapped whole: the app and the manifest must never see a mix of two
refreshes. A refresh builds a complete sibling directory, then exchanges it with the
live one in a single atomic rename (Linux `renameat2(RENAME_EXCHANGE)`); elsewhere the
swap is two renames with recovery on the next open. A failed refresh never touches the
live directory, so it stays byte-identical.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import json
import logging
import os
import shutil
import signal
import socket
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import RefreshLockedError, SnapshotError
from .integrity import MANIFEST, OPTIONAL_TABLES, TABLES, file_problems, load_manifest, sha256_file  # noqa: F401 - re-exported

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_TMP_PREFIX = ".snapshot-"


# ---------------------------------------------------------------- reading

def read_manifest(snapshot: Path) -> dict[str, Any]:
    recover(snapshot)
    return load_manifest(snapshot)


def has_snapshot(snapshot: Path) -> bool:
    recover(snapshot)
    return (snapshot / MANIFEST).exists()


def read_table(snapshot: Path, name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """A snapshot table as pandas, with text columns as categoricals.

    Why categoricals: the observations table repeats a few thousand distinct strings
    across ~700k rows; dictionary-decoding keeps the app's memory at a fifth of plain strings.
    """
    path = snapshot / f"{name}.parquet"
    if not path.exists():
        raise SnapshotError(f"{path}: table missing from snapshot")
    schema = pq.read_schema(path)
    text = [f.name for f in schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
    table = pq.read_table(path, columns=columns, read_dictionary=text)
    return table.to_pandas(self_destruct=True, split_blocks=True)


def connect(snapshot: Path) -> "duckdb.DuckDBPyConnection":  # noqa: F821
    """An in-memory DuckDB with one view per snapshot table, for ad-hoc queries without loading everything."""
    import duckdb  # imported here: the app's start-up path never needs it

    read_manifest(snapshot)
    con = duckdb.connect(":memory:")
    for name in (*TABLES, *OPTIONAL_TABLES):
        path = snapshot / f"{name}.parquet"
        if path.exists():
            literal = str(path).replace("'", "''")
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{literal}')")
    return con


# ---------------------------------------------------------------- writing

@dataclass
class Staged:
    """A snapshot being built next to the live one; nothing is visible until `commit`."""

    target: Path
    path: Path

    def write_table(self, name: str, frame: pd.DataFrame | pa.Table) -> dict[str, Any]:
        table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
        path = self.path / f"{name}.parquet"
        pq.write_table(table, path, compression="zstd", compression_level=19, use_dictionary=True)
        return {"rows": table.num_rows}

    def write_geoparquet(self, name: str, gdf: Any) -> dict[str, Any]:
        gdf.to_parquet(self.path / f"{name}.parquet", compression="zstd", index=False)
        return {"rows": len(gdf)}

    def write_manifest(self, manifest: dict[str, Any], table_rows: dict[str, int]) -> dict[str, Any]:
        files = {}
        for name, rows in sorted(table_rows.items()):
            path = self.path / f"{name}.parquet"
            files[path.name] = {"bytes": path.stat().st_size, "sha256": sha256_file(path), "rows": rows}
        manifest = {**manifest, "format": FORMAT_VERSION, "files": files}
        text = json.dumps(manifest, indent=2, sort_keys=False, default=str) + "\n"
        (self.path / MANIFEST).write_text(text, encoding="utf-8")
        return manifest

    def commit(self) -> None:
        _fsync_tree(self.path)
        swap_into_place(self.path, self.target)

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


@contextmanager
def staged(target: Path) -> Iterator[Staged]:
    """Yield a staging directory on the same filesystem as `target`; removed unless committed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=_stage_prefix(target), dir=target.parent))
    os.chmod(path, 0o755)  # mkdtemp makes it private; the live snapshot must stay readable by the app's user
    stage = Staged(target, path)
    try:
        yield stage
    finally:
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)


def _stage_prefix(target: Path) -> str:
    """Unambiguous per target: `data` never matches the staging folders of `data-public`."""
    return f"{_TMP_PREFIX}{target.name}.stage-"


def _fsync_tree(path: Path) -> None:
    for child in path.iterdir():
        with child.open("rb") as fh:
            os.fsync(fh.fileno())
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_RENAME_EXCHANGE = 2


def _renameat2_exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux ≥ 3.15). False where the call is unavailable."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    fn = getattr(libc, "renameat2", None)
    if fn is None:
        return False
    AT_FDCWD = -100
    rc = fn(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_into_place(new: Path, target: Path) -> None:
    """Make `new` the live snapshot at `target` in one step, then delete the old copy."""
    if not target.exists():
        os.rename(new, target)
    elif _renameat2_exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)  # `new` now holds the previous snapshot
    else:
        aside = target.with_name(_TMP_PREFIX + target.name + ".old")
        if aside.exists():
            shutil.rmtree(aside)
        os.rename(target, aside)
        os.rename(new, target)
        shutil.rmtree(aside, ignore_errors=True)
    _fsync_dir(target.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recover(target: Path) -> None:
    """Finish a two-rename swap interrupted between its renames (non-Linux fallback only)."""
    aside = target.with_name(_TMP_PREFIX + target.name + ".old")
    if not target.exists() and (aside / MANIFEST).exists():
        os.rename(aside, target)


def clean_leftovers(target: Path) -> list[Path]:
    """Remove staging directories left by a refresh that was killed; the live snapshot is untouched."""
    removed = []
    if target.parent.exists():
        for path in target.parent.glob(_stage_prefix(target) + "*"):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


@contextmanager
def refresh_lock(target: Path, deadline_seconds: float | None = None, *,
                 break_overdue: bool = False) -> Iterator[None]:
    """One refresh at a time per snapshot directory (an advisory lock beside it).

    The lock file records who holds it (pid, host, start, deadline), so a refused refresh can say
    whether the holder is still working, overdue, or gone. Why flock: the kernel releases it when
    its process dies, so a killed refresh never leaves the snapshot locked; the record it leaves
    behind is reported once and replaced. An overdue holder (past its deadline: stuck) may be
    stopped with `break_overdue`; the crash-safe swap makes stopping it harmless.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.with_name(f".{target.name}.lock")
    with lock_path.open("a+") as fh:
        if not _try_lock(fh):
            holder = _read_holder(lock_path)
            if not (break_overdue and _stop_overdue(holder, fh)):
                raise RefreshLockedError(_locked_message(target, lock_path, holder))
        left = _read_holder(lock_path)
        if left:
            log.warning("the previous refresh of %s (pid %s, started %s) ended without releasing its lock; "
                        "recovered (its staging folders are removed, the live snapshot is intact)",
                        target, left.get("pid"), left.get("started_at"))
        _write_holder(fh, deadline_seconds)
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fh.flush()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _try_lock(fh: Any) -> bool:
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _read_holder(lock_path: Path) -> dict[str, Any]:
    try:
        text = lock_path.read_text(encoding="utf-8").strip()
        return json.loads(text) if text else {}
    except (OSError, json.JSONDecodeError):
        return {}


def _write_holder(fh: Any, deadline_seconds: float | None) -> None:
    now = time.time()
    record = {"pid": os.getpid(), "host": socket.gethostname(), "started": now,
              "started_at": _iso(now), "deadline": now + deadline_seconds if deadline_seconds else None}
    fh.seek(0)
    fh.truncate()
    fh.write(json.dumps(record))
    fh.flush()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")


def _pid_alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _overdue_by(holder: dict[str, Any]) -> float | None:
    deadline = holder.get("deadline")
    return time.time() - deadline if isinstance(deadline, (int, float)) and time.time() > deadline else None


def _locked_message(target: Path, lock_path: Path, holder: dict[str, Any]) -> str:
    base = f"{target}: another refresh is running (lock {lock_path})"
    if not holder:
        return base
    pid, host = holder.get("pid"), holder.get("host")
    who = f"pid {pid} on {host}, started {holder.get('started_at')}"
    if host == socket.gethostname() and not _pid_alive(pid):
        return (f"{base}: the refresh that took it ({who}) is gone but a process it started still holds "
                f"the lock; find it with `fuser {lock_path}` and stop it")
    late = _overdue_by(holder)
    if late is not None:
        return (f"{base}: {who}, is {late:.0f} s past its deadline and probably stuck; stop it "
                f"(`kill {pid}`) or refresh with --break-stale-lock")
    return f"{base}: {who}"


def _stop_overdue(holder: dict[str, Any], fh: Any, wait: float = 15.0) -> bool:
    """Stop a holder on this host that is past its deadline, then take the lock. False if it is not
    overdue, not ours to stop, or does not let go in time."""
    pid = holder.get("pid")
    if _overdue_by(holder) is None or holder.get("host") != socket.gethostname() or not _pid_alive(pid):
        return False
    log.warning("stopping the overdue refresh pid %s (started %s)", pid, holder.get("started_at"))
    os.kill(pid, signal.SIGTERM)
    end = time.monotonic() + wait
    while time.monotonic() < end:
        if _try_lock(fh):
            return True
        time.sleep(0.1)
    return False


# ---------------------------------------------------------------- verifying

def verify(snapshot: Path) -> list[str]:
    """Problems found re-checking every file against the manifest (empty list = verified)."""
    return file_problems(snapshot, read_manifest(snapshot), lambda path: pq.ParquetFile(path).metadata.num_rows)
