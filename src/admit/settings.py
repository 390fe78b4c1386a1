"""Settings, read from the environment once and passed to whatever needs them."""

from __future__ import annotations

import ipaddress
import secrets
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from admit.files import create_exclusively

# How long a process waits for the key that another one, starting at the same time, is writing.
SECRET_KEY_WAIT_SECONDS = 5.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ADMIT_", extra="ignore", env_ignore_empty=True)

    data_dir: Path = Path("data")
    database_url: str = Field(default="", validation_alias="DATABASE_URL")
    redis_url: str = Field(default="", validation_alias="REDIS_URL")
    secret_key: str = ""
    frozen_now: datetime | None = None
    public_url: str = "http://127.0.0.1:8000"
    log_format: str = "console"
    rate_limit_reservations: str = "10/minute"
    rate_limit_validation: str = "100/minute"
    # Door scans count per (login, device) under the validation limit; this caps one login's lanes together.
    rate_limit_door_login: str = "1000/minute"
    # Login attempts per client address, counted before any password is hashed.
    rate_limit_login: str = "10/minute"
    # Password hashes (a fifth of a second of CPU each) at once, and per second, in this process: the
    # door's share of the CPU during a login flood from many addresses. Other logins are told to retry.
    login_hashes: int = Field(default=1, ge=1, le=32)
    login_hashes_per_second: int = Field(default=1, ge=1, le=1000)
    # A refused login is answered only after this wait, which costs the server no thread and no CPU: a
    # flood's clients, waiting for their answers, then send a login a second each instead of hundreds.
    login_refusal_delay_ms: int = Field(default=1000, ge=0, le=10_000)
    # Redis (shared rate limits): how long one call may take, and how long to count locally after a failure.
    redis_timeout_ms: int = Field(default=150, ge=10, le=10_000)
    redis_retry_seconds: float = Field(default=5.0, gt=0, le=600)
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: addresses or networks.
    trusted_proxies: Annotated[list[str], NoDecode] = []
    token_hours: int = 8
    # Requests run their database work on this many threads; more would only take turns for the
    # interpreter, and a few keep a burst's answers coming in the order it arrived.
    worker_threads: int = Field(default=8, ge=1, le=200)
    # `admit serve` writes due expiries this often (one node at a time); 0 leaves it to `admit expire`.
    expiry_interval_seconds: float = Field(default=60.0, ge=0)
    # Bounded waits on PostgreSQL, in seconds: a request that cannot get an answer in time is told
    # the service is busy (503) instead of hanging. Statements include their lock waits.
    db_connect_timeout: int = Field(default=3, ge=2, le=60)
    db_statement_timeout: float = Field(default=5.0, gt=0, le=600)
    db_pool_timeout: float = Field(default=5.0, gt=0, le=120)
    # Connections each process may hold: the pool, and the extra ones a burst may open for a moment.
    # PostgreSQL allows 100 by default (max_connections), a few of them reserved: keep
    # processes * (pool + overflow) plus the sweeper's and commands' connections below it.
    db_pool_size: int = Field(default=10, ge=1, le=500)
    db_max_overflow: int = Field(default=5, ge=0, le=500)
    # CSV downloads one process writes at once: each holds a connection until its file is written, so
    # slow or stalled downloads never take the connections the door needs. Further ones get a 429.
    export_downloads: int = Field(default=2, ge=1, le=100)
    # Seconds a download's client has to take each write: one that stays connected but stops reading
    # loses its download, and its place and connection come back. At most 50, so that the download
    # ends before PostgreSQL ends its snapshot, idle for a minute (services.exports.IDLE_TIMEOUT_MS).
    export_send_seconds: float = Field(default=30.0, ge=1, le=50)
    # Seconds a client may leave what the server sent it untaken (a window that stays shut, or data
    # never acknowledged) before its connection is dropped: otherwise a client that stays connected but
    # stops reading holds its socket and the kernel's buffers for ever, even after its answer has ended.
    # Connections with nothing unsent, such as an idle live dashboard's, are not affected.
    stalled_client_seconds: float = Field(default=60.0, ge=1, le=3600)
    # A scan's answer is kept this long so that a device's retry with the same nonce gets it again;
    # after that only the compact row stays (history, counts), and the nonce is answered NONCE_EXPIRED.
    scan_answer_retention_hours: int = Field(default=24, ge=1, le=24 * 366)
    # Scans older than this many days are deleted (0: every scan is kept). At least two days, so that a
    # device's late retry or offline queue still finds its scans. With an archive directory, pruned
    # scans are appended there first (gzip, one JSON line per scan).
    scan_history_days: int = Field(default=0, ge=0, le=36_600)
    scan_archive_dir: Path | None = None
    # Bearer token a scraper must send for /metrics; without one, /metrics answers this machine only.
    metrics_token: str = ""
    # Failed logins from one client for one account, within lockout_minutes, before that client must
    # wait; others (the account's owner among them) are not affected.
    max_login_failures: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    # The offline scanner: a scan the server has not answered within this many seconds is decided on
    # the device instead, and offline data older than this many minutes is shown as a warning.
    offline_switch_seconds: float = Field(default=1.5, ge=0.2, le=30)
    offline_stale_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # Live dashboards (server-sent events) one process keeps open per organization; past it a
    # dashboard refreshes itself every few seconds instead.
    live_streams_per_org: int = Field(default=20, ge=0, le=1000)
    # Mail: with no SMTP host, messages are written as .eml files under the data directory.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    mail_from: str = "Admit <no-reply@localhost>"
    # Apple Wallet passes, offered only when the pass certificate and its key are set (PEM files; the
    # certificate may be DER); the pass type and team identifiers are those of the certificate. Apple's
    # WWDR intermediate certificate goes into each signature when given.
    wallet_pass_certificate: Path | None = None
    wallet_pass_key: Path | None = None
    wallet_pass_key_password: str = ""
    wallet_pass_wwdr_certificate: Path | None = None
    wallet_pass_type_id: str = ""
    wallet_team_id: str = ""

    @field_validator("frozen_now")
    @classmethod
    def _frozen_now_has_offset(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("ADMIT_FROZEN_NOW needs a UTC offset, e.g. 2025-11-20T09:00:00+01:00")
        return value

    @field_validator(
        "rate_limit_reservations", "rate_limit_validation", "rate_limit_door_login", "rate_limit_login"
    )
    @classmethod
    def _known_rate_limit(cls, value: str) -> str:
        from limits import parse

        if value.strip().lower() != "off":
            try:
                parse(value)
            except ValueError as exc:
                raise ValueError(f"rate limit {value!r}: use e.g. '10/minute', or 'off'") from exc
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxy_networks(cls, value: str | list[str]) -> list[str]:
        items = value.split(",") if isinstance(value, str) else value
        networks = [item.strip() for item in items if item.strip()]
        for network in networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"trusted proxy {network!r}: use addresses or networks, e.g. 10.0.0.0/8"
                ) from exc
        return networks

    @field_validator("scan_history_days")
    @classmethod
    def _history_outlives_retries(cls, value: int) -> int:
        if value == 1:
            raise ValueError("ADMIT_SCAN_HISTORY_DAYS is 0 (keep every scan) or at least 2")
        return value

    @field_validator("log_format")
    @classmethod
    def _known_log_format(cls, value: str) -> str:
        if value not in ("console", "json"):
            raise ValueError("ADMIT_LOG_FORMAT is 'console' or 'json'")
        return value

    @model_validator(mode="after")
    def _wallet_pass_complete(self) -> Settings:
        wanted = {
            "ADMIT_WALLET_PASS_CERTIFICATE": self.wallet_pass_certificate,
            "ADMIT_WALLET_PASS_KEY": self.wallet_pass_key,
            "ADMIT_WALLET_PASS_TYPE_ID": self.wallet_pass_type_id,
            "ADMIT_WALLET_TEAM_ID": self.wallet_team_id,
        }
        missing = [name for name, value in wanted.items() if not value]
        if missing and (self.wallet_pass_certificate or self.wallet_pass_key):
            raise ValueError(f"Apple Wallet passes need {', '.join(missing)} as well")
        return self

    @model_validator(mode="after")
    def _pool_serves_every_worker(self) -> Settings:
        if self.db_pool_size + self.db_max_overflow < self.worker_threads + self.export_downloads:
            raise ValueError(
                "ADMIT_DB_POOL_SIZE + ADMIT_DB_MAX_OVERFLOW must be at least ADMIT_WORKER_THREADS +"
                " ADMIT_EXPORT_DOWNLOADS, or requests wait for a connection"
            )
        return self

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'admit.db'}"
        self.database_url = normalise_database_url(self.database_url)
        if not self.secret_key:
            if not self.is_sqlite:
                # A shared database means several processes: they must share one key, so it
                # cannot be made up here.
                raise ValueError("ADMIT_SECRET_KEY must be set when DATABASE_URL is not SQLite")
            self.secret_key = _embedded_secret(self.data_dir)
        if len(self.secret_key) < 32:
            raise ValueError("ADMIT_SECRET_KEY must be at least 32 characters")
        return self

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def normalise_database_url(url: str) -> str:
    """Send PostgreSQL URLs to psycopg 3, whatever driver they name."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _embedded_secret(data_dir: Path) -> str:
    """The embedded default keeps its own key beside its database, made once by whichever process is first."""
    path = data_dir / "secret_key"
    if not path.exists():
        key = secrets.token_urlsafe(48)
        if create_exclusively(path, f"{key}\n".encode()):
            return key
    deadline = time.monotonic() + SECRET_KEY_WAIT_SECONDS
    while not (key := path.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.02)  # the process that created the file is writing it
    if not key:
        raise ValueError(f"the secret key file {path} is empty: remove it and start again to make a new key")
    return key
