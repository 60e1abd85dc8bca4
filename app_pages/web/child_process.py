"""Heavy one-off work in a child process of the server.

The font subsetter and Brotli's highest quality work in large buffers that the allocator keeps
once freed: done in the server, they would leave it tens of MB larger for good. A child process
(`python -m <module> <folder> ...`) writes its results as files into a temporary folder and exits,
taking its memory with it; the caller reads the files it needs before the folder is removed.
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable, TypeVar

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def run_module(module: str, args: list[str], read: Callable[[Path], T], timeout_s: float = 600) -> T:
    """Run `python -m module FOLDER *args` from the project's root, then `read(FOLDER)`.
    A failure raises RuntimeError with the child's last line of error output."""
    with tempfile.TemporaryDirectory(prefix="good-growth-") as folder:
        done = subprocess.run([sys.executable, "-m", module, folder, *args], cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout_s, check=False)
        if done.returncode != 0:
            lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
            raise RuntimeError(lines[-1])
        return read(Path(folder))
