"""One settings object for the whole project, read from environment variables.

Every URL is configurable so that tests and CI can point the same code at a local
HTTP mirror of the public repositories; defaults are the live public sources.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

ELS_DATA = "https://raw.githubusercontent.com/ONSdigital/explore-local-statistics-data/main/"
ELS_APP = "https://raw.githubusercontent.com/ONSdigital/explore-local-statistics-app/main/"
UK_TOPOJSON = "https://raw.githubusercontent.com/ONSvisual/uk-topojson/main/"
# Pinned commits: these repositories re-publish official files in R data form; a pinned raw URL
# means a refresh reads exactly the files whose checksums and quirks were checked.
IMD_DATA = "https://raw.githubusercontent.com/humaniverse/IMD/2f6c9050afee99a40041eb63b02b6b0c58850704/data/"
GEOGRAPHR_DATA = "https://raw.githubusercontent.com/humaniverse/geographr/c026be5cc76cb576358082b53f1f13d69ab577ae/data/"
OFLOG_ASC = ("https://raw.githubusercontent.com/communitiesuk/oflog-automated-text/"
             "8036fa87bff7902004956b0561765af21af665da/src/lib/ASC_data.csv")


class Settings(BaseSettings):
    """Environment variables are the names below in upper case with a GOOD_GROWTH_ prefix."""

    model_config = SettingsConfigDict(env_prefix="GOOD_GROWTH_", extra="ignore")

    source_base_url: str = Field(ELS_DATA, description="ELS data repository: <slug>/<slug>.csv and .json")
    fallback_base_url: str = Field(
        ELS_APP + "static/insights/individual-datasets/",
        description="ELS app's per-indicator JSON, used when a dataset's CSV is missing upstream",
    )
    boundaries_url: str = Field(UK_TOPOJSON + "output/topo.json", description="ONS uk-topojson boundaries")
    boundary_changes_url: str = Field(UK_TOPOJSON + "input/changes.csv")
    geo_metadata_url: str = Field(ELS_APP + "src/lib/data/geo-metadata.json", description="area hierarchy")
    areas_list_url: str = Field(ELS_APP + "src/lib/data/areas-list.json")
    clusters_base_url: str = Field(ELS_APP + "scripts/config/clusters/", description="statistical neighbours")
    imd_base_url: str = Field(IMD_DATA, description="Indices of deprivation (.rda files of humaniverse/IMD)")
    geographr_base_url: str = Field(GEOGRAPHR_DATA, description="LSOA lookup and rural-urban class (.rda, geographr)")
    oflog_asc_url: str = Field(OFLOG_ASC, description="Oflog adult social care measures (CSV)")
    source_note: str | None = Field(None, description="recorded in the manifest: where the sources came from")
    snapshot_dir: Path = Field(PROJECT_ROOT / "data")
    public_mode: bool = False
    local_data_dir: Path = Field(
        PROJECT_ROOT / "local",
        description="local mode: where uploaded local indicators are kept, beside (never inside) the snapshot")
    catalogue_path: Path | None = Field(None, description="another indicator catalogue (default: indicators/catalogue.yaml)")
    http_connect_timeout: float = 10.0
    http_read_timeout: float = 60.0
    http_retries: int = 4
    http_backoff: float = 0.5
    max_download_bytes: int = 64 * 1024 * 1024
    download_deadline: float = Field(
        300.0, description="seconds one download may take in all (a trickling source never hits the read timeout)")
    refresh_deadline: float = Field(
        1800.0, description="seconds a whole refresh may take before it gives up and leaves the snapshot unchanged")
    redirect_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="hosts (or host:port) a source may redirect to besides its own; JSON list in the environment")
    max_shrink: float = Field(
        0.10, ge=0.0, le=1.0,
        description="share by which a dataset's rows, areas or periods may fall from the previous snapshot "
                    "before refresh keeps the previous rows (datasets.yaml `shrink_limits` overrides per dataset)")

    database_url: str = Field(
        f"sqlite:///{PROJECT_ROOT / 'local' / 'priorities.db'}",
        description="SQLAlchemy URL of the residents' priorities database: a SQLite file in local/ (ignored by "
                    "git) by default; postgresql+psycopg://user:password@host/db for replicas that share one")
    priorities_rate_limit: str = Field(
        "5/minute;30/hour",
        description="responses one client may submit (limits' notation, several joined by ';'); one budget shared "
                    "by every replica through the priorities database")

    def with_source(self, source_base_url: str | None) -> "Settings":
        """A copy with another ELS base URL (the CLI's --source-url)."""
        if not source_base_url:
            return self
        return self.model_copy(update={"source_base_url": source_base_url})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
