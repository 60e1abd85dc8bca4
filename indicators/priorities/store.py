"""Read and write residents' responses through SQLAlchemy, on SQLite or PostgreSQL alike.

Why a database and not a file per response: the hosted replicas must share one store, a response must
be written once even when two processes submit at the same moment, and the one-per-session rule has to
hold across replicas. The unique constraint on (place, session) does that in the database; the code
turns its refusal into :class:`AlreadyAnswered`.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator
from sqlalchemy import Engine, Float, case, cast, create_engine, event, func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .errors import AlreadyAnswered, InvalidResponse, PrioritiesError
from .models import Response
from .ratelimit import SharedLimit
from .themes import MAX_TEXT_CHARS, SCALE, THEME_LABELS, THEMES
from .weights import ECONOMY, SERVICES, VALUES, from_moments, from_summary

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"
ALEMBIC_DIR = PROJECT_ROOT / "alembic"
AREA_CODE = r"^[A-Z][0-9]{8}$"
# Control characters other than tab and newline have no place in a sentence about a town.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

Rating = Annotated[int, Field(ge=SCALE[0], le=SCALE[1], strict=True)]


class Submission(BaseModel):
    """One response as the page hands it over; checked before it reaches the database."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    areacd: Annotated[str, StringConstraints(pattern=AREA_CODE)]
    session_token: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
    ratings: dict[str, Rating]
    free_text: str | None = None

    @field_validator("ratings")
    @classmethod
    def _every_theme_once(cls, value: dict[str, int]) -> dict[str, int]:
        missing = [THEME_LABELS[t] for t in THEMES if t not in value]
        unknown = sorted(set(value) - set(THEMES))
        if missing or unknown:
            raise ValueError("ratings must cover each theme once" + (f"; missing: {', '.join(missing)}" if missing
                             else "") + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
        return value

    @field_validator("free_text")
    @classmethod
    def _bounded_text(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = _CONTROL.sub("", value).strip()
        if len(value) > MAX_TEXT_CHARS:
            raise ValueError(f"the answer is {len(value)} characters; at most {MAX_TEXT_CHARS} fit")
        return value or None


def submission(**fields: object) -> Submission:
    """A :class:`Submission`, or :class:`InvalidResponse` naming each field that was wrong."""
    try:
        return Submission(**fields)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "response"
            lines.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
        raise InvalidResponse("; ".join(lines)) from None


def _sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def exists(url: str) -> bool:
    """False for a SQLite file not yet made (so it cannot hold responses); True for a server database.
    Lets a page that only reads (good growth) avoid creating an empty database as a side effect."""
    path = _sqlite_path(url)
    return path is None or path.exists()


def make_engine(url: str) -> Engine:
    """An engine for `url`. SQLite gets its folder made, WAL journalling (readers never block the
    writer) and a busy timeout so that concurrent writers queue instead of failing."""
    path = _sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API connection
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()
        return engine
    # A database that does not answer must not hang a page view: give up connecting after 5 s.
    args = {"connect_timeout": 5} if make_url(url).get_backend_name() == "postgresql" else {}
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=args)


def alembic_config(url: str):  # noqa: ANN201 - alembic.config.Config, imported lazily
    """Alembic's configuration for `url`, found from the project root whatever the working folder."""
    from alembic.config import Config

    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser interpolates %
    return cfg


def migrate(url: str) -> None:
    """Bring the database at `url` to the newest schema (creating it from empty); safe to repeat."""
    from alembic import command

    path = _sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        command.upgrade(alembic_config(url), "head")
    except Exception as exc:  # noqa: BLE001 - any driver error: one clear line at the edge
        raise PrioritiesError(f"could not prepare the priorities database at {make_url(url).render_as_string()}: "
                              f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc


RATING_COLUMNS = [getattr(Response, t) for t in THEMES]


class ResponseStore:
    """The one door to the responses table."""

    def __init__(self, url: str, engine: Engine | None = None, *, rate_limit: str | None = None) -> None:
        """`rate_limit` ('5/minute;30/hour'): the budget per client that `submit(..., client=...)` enforces
        across every process sharing this database; None for no limit (imports, tests, benchmarks)."""
        self.url = url
        self.engine = engine or make_engine(url)
        self.limit = SharedLimit(rate_limit) if rate_limit else None

    def dispose(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------ writing

    def has_answered(self, areacd: str, session_token: str) -> bool:
        with Session(self.engine) as s:
            q = select(Response.id).where(Response.areacd == areacd, Response.session_token == session_token)
            return s.execute(q.limit(1)).first() is not None

    def submit(self, sub: Submission, now: datetime | None = None, *, client: str | None = None) -> int:
        """Store one response and return its id; :class:`AlreadyAnswered` if this session already
        answered for this place (the database's unique constraint decides, so races are safe);
        :class:`RateLimited` when `client` (its address; only a keyed hash of it is stored) has used its
        budget, counted in the same transaction so that every process sharing the database agrees."""
        now = now or datetime.now(UTC)
        row = Response(areacd=sub.areacd, session_token=sub.session_token, created_at=now,
                       free_text=sub.free_text, text_hidden=False, **{t: sub.ratings[t] for t in THEMES})
        try:
            with Session(self.engine) as s, s.begin():
                if client is not None and self.limit is not None:
                    self.limit.admit(s, client, now)
                s.add(row)
                s.flush()
                return int(row.id)
        except IntegrityError as exc:
            if self.has_answered(sub.areacd, sub.session_token):
                raise AlreadyAnswered("you have already shared your priorities for this place in this "
                                      "browser session") from None
            raise PrioritiesError(f"the response was refused by the database: {exc.orig}") from exc

    def set_text_hidden(self, response_id: int, hidden: bool = True) -> bool:
        """Hide (or show again) one free-text answer; False when no such response exists."""
        with Session(self.engine) as s, s.begin():
            done = s.execute(update(Response).where(Response.id == response_id).values(text_hidden=hidden))
            return bool(done.rowcount)

    # ------------------------------------------------------------ reading

    def count(self, areacd: str | None = None) -> int:
        with Session(self.engine) as s:
            q = select(func.count(Response.id))
            if areacd is not None:
                q = q.where(Response.areacd == areacd)
            return int(s.execute(q).scalar_one())

    def ratings(self, areacd: str | None = None) -> pd.DataFrame:
        """Every response's ratings (one row each): areacd, created_at and one column per theme."""
        q = select(Response.areacd, Response.created_at, *RATING_COLUMNS)
        if areacd is not None:
            q = q.where(Response.areacd == areacd)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        frame = pd.DataFrame(rows, columns=["areacd", "created_at", *THEMES])
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
        return frame.astype({t: "int16" for t in THEMES})

    def free_text(self, areacd: str, *, include_hidden: bool = False, limit: int = 50) -> pd.DataFrame:
        """The newest free-text answers for a place: id, created_at, text, hidden."""
        q = (select(Response.id, Response.created_at, Response.free_text, Response.text_hidden)
             .where(Response.areacd == areacd, Response.free_text.is_not(None))
             .order_by(Response.created_at.desc(), Response.id.desc()).limit(limit))
        if not include_hidden:
            q = q.where(Response.text_hidden.is_(False))
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return pd.DataFrame(rows, columns=["id", "created_at", "text", "hidden"])

    def export(self, areacd: str | None = None) -> pd.DataFrame:
        """Responses for a CSV export: never the session token; hidden answers' text left out."""
        q = select(Response.id, Response.areacd, Response.created_at, *RATING_COLUMNS, Response.free_text,
                   Response.text_hidden).order_by(Response.id)
        if areacd is not None:
            q = q.where(Response.areacd == areacd)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        frame = pd.DataFrame(rows, columns=["id", "areacd", "created_at", *THEMES, "free_text", "text_hidden"])
        frame.loc[frame["text_hidden"].astype(bool), "free_text"] = None
        return frame

    def summary(self, areacd: str | None = None) -> pd.DataFrame:
        """Community weights' numbers for every place (or one), aggregated by the database: one row per
        place with n, first, last and each theme's and the economy share's mean, lo, hi (weights.py)."""
        # The per-resident share is worked out once per row in a subquery, then aggregated: SQLite does
        # not reuse a repeated expression, and this keeps the aggregate a plain sum of columns.
        econ = sum(cast(getattr(Response, t), Float) for t in ECONOMY) / len(ECONOMY)
        services = sum(cast(getattr(Response, t), Float) for t in SERVICES) / len(SERVICES)
        share = case((econ + services > 0, econ / (econ + services)), else_=None)
        rows = select(Response.areacd, Response.created_at,
                      *[getattr(Response, t).label(t) for t in THEMES], share.label("economy_share"))
        if areacd is not None:
            rows = rows.where(Response.areacd == areacd)
        sub = rows.subquery()
        cols = [func.count().label("n"), func.min(sub.c.created_at).label("first"),
                func.max(sub.c.created_at).label("last")]
        for v in VALUES:
            c = sub.c[v]
            cols += [func.count(c).label(f"{v}_count"), func.sum(c).label(f"{v}_sum"),
                     func.sum(c * c).label(f"{v}_sumsq")]
        q = select(sub.c.areacd, *cols).group_by(sub.c.areacd).order_by(sub.c.areacd)
        with self.engine.connect() as conn:
            result = conn.execute(q)
            moments = pd.DataFrame(result.all(), columns=list(result.keys())).set_index("areacd")
        for col in ("first", "last"):
            moments[col] = pd.to_datetime(moments[col], utc=True)
        return from_moments(moments)

    def community(self, areacd: str):  # noqa: ANN201 - CommunityWeights
        """The place's community weights (or how many more responses they need)."""
        return from_summary(self.summary(areacd), areacd)


def read_community(url: str, areacd: str):  # noqa: ANN201 - CommunityWeights
    """A place's community weights read once (the command line): a database not yet made has no responses,
    and is not made by asking; a database that cannot be read is one :class:`PrioritiesError` line."""
    if not exists(url):
        return from_summary(pd.DataFrame(), areacd)
    store = ResponseStore(url)
    try:
        return store.community(areacd)
    except Exception as exc:  # noqa: BLE001 - any driver error: one clear line at the edge
        raise PrioritiesError(f"could not read the priorities database at {make_url(url).render_as_string()}: "
                              f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
    finally:
        store.dispose()
