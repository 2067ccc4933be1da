"""deskhand's settings, read from the environment (``DESKHAND_…``) in one place."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path(user_data_dir("deskhand", appauthor=False))


class Settings(BaseSettings):
    """Where the data lives and how the runtime behaves. Every field can be set as an
    environment variable: ``DESKHAND_DATABASE_URL``, ``DESKHAND_LEASE_SECONDS``, …"""

    model_config = SettingsConfigDict(env_prefix="DESKHAND_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None  # default: a SQLite file in data_dir
    sandbox_url: str | None = None  # the simulated client systems; default: see sandbox()
    escalation_webhook: str | None = None  # POSTed a JSON document for every escalation
    lease_seconds: float = 30.0  # how long a worker's claim on a run lasts without a heartbeat
    poll_seconds: float = 0.25  # how often an idle worker looks for work
    poll_intake_seconds: float = Field(60.0, ge=0)  # how often workers read the PSA; 0: never
    analysis_max_upload_bytes: int = Field(1 << 30, ge=1)  # largest export the web app takes
    exports_dir: Path | None = None  # exports the web app can analyse; default: data_dir/exports
    # Proxies whose X-Forwarded-For/-Proto the web app believes: comma-separated addresses or
    # networks, or * for any peer; empty: none (`deskhand serve --forwarded-allow-ips`).
    forwarded_allow_ips: str = ""
    llm: str | None = None  # openai:MODEL, anthropic:MODEL or openai-compatible:URL:MODEL
    llm_api_key: SecretStr | None = None  # else OPENAI_API_KEY / ANTHROPIC_API_KEY
    llm_timeout_seconds: float = Field(20.0, gt=0)  # the most one LLM proposal may take
    # Decrypts the `enc:` secrets in tenant connection files (`deskhand tenants secret new-key`).
    secret_key: SecretStr | None = None
    # The server's own keys (approval bindings, audit checkpoints, temporary passwords), kept
    # outside the database: deskhand.keys. Default: server-keys.json in data_dir.
    server_key_file: Path | None = None
    # How long a temporary password nobody was shown is kept (encrypted) before it is erased.
    secret_hours: float = Field(24.0, gt=0, le=24 * 30)
    # Signed checkpoints of the event chain's head (deskhand.audit.checkpoints), kept outside
    # the database. Default: audit-checkpoints.jsonl in data_dir.
    audit_checkpoint_file: Path | None = None
    audit_checkpoint_seconds: float = Field(60.0, ge=0)  # a worker's checkpoints; 0: none
    audit_syslog: str | None = None  # also send each checkpoint to /dev/log, udp:// or tcp://
    # Where the MSP's technicians are told of waiting work (deskhand.notifications): apprise
    # URLs or secret references (env:, file:, enc:), space-separated; `escalation,…=` before
    # one keeps only those kinds. Tenants add theirs in their connection file (`notify:`).
    notify_urls: str = ""
    notify_seconds: float = Field(60.0, ge=0)  # how often a worker sends what is due; 0: never
    notify_expiry_minutes: float = Field(60.0, gt=0)  # tell this long before a draft expires
    public_url: str | None = None  # the web app as technicians open it: the links in messages

    def database(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'deskhand.db'}"

    def server_keys(self) -> Path:
        return self.server_key_file or self.data_dir / "server-keys.json"

    def audit_checkpoints(self) -> Path:
        return self.audit_checkpoint_file or self.data_dir / "audit-checkpoints.jsonl"

    def sandbox(self) -> str:
        """The simulated client systems, kept with their database so that two databases never
        share one simulated client: beside a SQLite database file, ``sandbox.db`` beside
        ``deskhand.db`` (the default's name, wherever it is) and ``demo.sandbox.db`` beside
        ``demo.db``; in data_dir for a server database (PostgreSQL) or an in-memory one."""
        if self.sandbox_url:
            return self.sandbox_url
        beside = _sqlite_file(self.database())
        if beside is None:
            return f"sqlite:///{self.data_dir / 'sandbox.db'}"
        name = "sandbox.db" if beside.name == "deskhand.db" else f"{beside.stem}.sandbox.db"
        return f"sqlite:///{beside.with_name(name)}"


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``sqlite:///relative.db``, ``sqlite:////abs/x.db``,
    ``sqlite+pysqlite:///…?mode=ro``); None for another database or an in-memory one."""
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.split("+")[0] != "sqlite" or not rest.startswith("/"):
        return None
    path = rest[1:].split("?")[0]
    return Path(path) if path and path != ":memory:" else None
