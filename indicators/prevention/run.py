"""One call from a model's bytes (or a local file) to its result or report: what the CLI, the page and the
plan report share, so that each reads the model the same way."""
from __future__ import annotations

from pathlib import Path

from .. import query
from . import report
from .evaluate import DEFAULT_DRAWS, DEFAULT_SEED, Result, evaluate
from .inputs import resolve
from .model import PlanError, PreventionError, load_model

MIN_DRAWS, MAX_DRAWS = 100, 100_000
MAX_MODEL_BYTES = 1_000_000


def value(ctx: query.Context, body: bytes, source: str, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED,
          effect_override: dict[int, float] | None = None) -> Result:
    """Bytes → validated model → snapshot inputs → result. Errors are PreventionError naming the field."""
    if not MIN_DRAWS <= draws <= MAX_DRAWS:
        raise PreventionError(source, f"draws must be between {MIN_DRAWS:,} and {MAX_DRAWS:,}")
    model = load_model(body, source, set(ctx.catalogue.ids()), set(ctx.names.index))
    name, pops, scales = resolve(ctx, model)
    return evaluate(model, pops, scales, name, draws, seed, effect_override)


def read_path(path: Path) -> bytes:
    """A local file's bytes (CLI and local mode only), refusing large files before reading them."""
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_MODEL_BYTES:
            raise PreventionError(source, f"the file is {size:,} bytes; models are limited to "
                                          f"{MAX_MODEL_BYTES:,} bytes")
        with path.open("rb") as fh:
            return fh.read(MAX_MODEL_BYTES + 1)
    except OSError as exc:
        raise PreventionError(source, f"cannot read the file ({exc.strerror or exc})") from exc


def report_from_path(path: Path, fmt: str, draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED) -> str:
    result = value(query.context(), read_path(path), str(path), draws, seed)
    return {"html": report.to_html, "csv": report.csv_text, "json": report.to_json}[fmt](result)


__all__ = ["PlanError", "PreventionError", "Result", "read_path", "report_from_path", "value"]
