"""The illustrative example plans shipped in plans/examples (read-only, by name, never by user path)."""
from __future__ import annotations

from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "plans" / "examples"


def names() -> list[str]:
    return sorted(p.name for p in EXAMPLES_DIR.glob("*.yaml"))


def read(name: str) -> bytes:
    """The bytes of one example, chosen from the fixed list (so no user text ever becomes a path)."""
    if name not in names():
        raise KeyError(f"unknown example plan '{name}'")
    return (EXAMPLES_DIR / name).read_bytes()
