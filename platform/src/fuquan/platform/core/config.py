"""Settings read once from ``FUQUAN_*`` environment variables (DESIGN §4).

Nothing but the defaults is needed to start: a SQLite file and a generated secret key
under ``FUQUAN_DATA_DIR`` (default ``./.fuquan/``), in-process stores.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

import msgspec

_SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
_MASTER_FILE = "master_key"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: Path
    database_url: str
    secret_key: str  # signs CSRF tokens and keys the partner-answer cache; reads data written before data keys
    master_key: str  # wraps every tenant's data keys (envelope encryption): never stored in the database
    previous_master_keys: tuple[str, ...] = ()  # still accepted for unwrapping while `fuquan keys rotate` runs
    audit_key: str = ""  # keys the audit chain and signs its checkpoints; empty: derived from secret_key
    previous_audit_keys: tuple[str, ...] = ()  # still verify what they sealed, after a rotation
    # where the signed checkpoints of every chain's head go, outside the database: a directory, or s3://bucket/prefix
    # (the AWS_* variables as for files_url); empty: data_dir/audit-checkpoints
    audit_checkpoints: str = ""
    audit_checkpoint_seconds: float = 300.0  # how often each process writes a checkpoint of every chain that moved
    redis_url: str | None = None
    redis_namespace: str = "fuquan"
    files_url: str | None = None  # s3://bucket/prefix: materials in object storage (else data_dir/files)
    timezone: str = "Asia/Shanghai"
    token_ttl_seconds: int = 8 * 3600  # a login's absolute lifetime (API token and page session alike)
    session_idle_seconds: int = 30 * 60  # a page session unused this long needs a new login
    log_level: str = "INFO"
    log_json: bool = True
    login_attempts_per_minute: int = 10  # per client, on the API's and the pages' login
    public_lookups_per_minute: int = 30  # per client, the residents' progress lookups (a limit of their own)
    login_failures_per_username: int = 5  # per username *and client*: then that client waits, 30 s and doubling
    login_lockout_seconds: int = 900  # the longest wait, and how long failures are remembered
    # the proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the client; nobody else's is
    # believed. Unset: the header is ignored and the client is the connection's peer
    trusted_proxies: str = ""
    policy_catch_up_seconds: float = 1.0  # every process polls the policy versions, should an announcement be lost
    policy_log_compaction_seconds: float = 3600.0  # forget old policy log entries once per hour (one replica)
    policy_log_keep_versions: int = 1000  # per tenant, whatever their age
    policy_log_retention_seconds: int = 7 * 24 * 3600  # older entries beyond the kept versions are forgotten
    shared_data_budget_seconds: float = 3.0  # all partner lookups of one case creation, together
    shared_data_concurrency: int = 4  # partner lookups of one case in flight at once
    shared_data_cache_ttl_seconds: int = 6 * 3600  # cacheable answers (enterprise registration)
    # the data-sharing API (/api/share/v1): per key and calling address each minute, and per key each day (the
    # day's quota counts answered calls on every replica)
    share_calls_per_minute: int = 600
    share_calls_per_day: int = 50_000
    # how often one replica looks for warnings due (预警) and escalations past their tier's day: the dates change by the
    # day, and a step's same-day alarm goes out within this
    warning_job_seconds: float = 300.0
    # the SMS platform (短信平台) residents' notices go out through; unset: they wait in the outbox until it is set
    sms_url: str | None = None
    sms_access_key: str = ""
    sms_access_secret: str = ""
    simulator_port: int = 9100  # first port of the built-in partner simulators (fuquan demo / simulate)
    metrics_token: str | None = None  # GET /metrics answers only to a scraper presenting it (unset: no metrics)
    secure_cookies: bool = False  # session and CSRF cookies HTTPS-only: set FUQUAN_SECURE_COOKIES=1 behind TLS
    # once the policy engines are built, everything then alive is moved out of the cyclic garbage collector's
    # reach: otherwise a full collection scans the whole heap about once a second under load (measured 115-150 ms
    # at Ningxia scale, a pause for every request in flight). FUQUAN_GC_FREEZE=0 leaves the collector alone.
    gc_freeze: bool = True
    debug: bool = False


def _secret_key(source: Mapping[str, str], data_dir: Path) -> str:
    """The configured key, else one generated once into the data dir (mode 0600)."""
    return source.get("FUQUAN_SECRET_KEY") or data_dir_secret(data_dir, _SECRET_FILE)


def _master_key(source: Mapping[str, str], data_dir: Path) -> str:
    """``FUQUAN_MASTER_KEY``, else the file ``FUQUAN_MASTER_KEY_FILE`` names (a mounted secret), else one generated
    once into the data dir beside the embedded database."""
    if source.get("FUQUAN_MASTER_KEY"):
        return source["FUQUAN_MASTER_KEY"]
    if source.get("FUQUAN_MASTER_KEY_FILE"):
        return Path(source["FUQUAN_MASTER_KEY_FILE"]).read_text().strip()
    return data_dir_secret(data_dir, _MASTER_FILE)


def _previous_keys(source: Mapping[str, str], name: str) -> tuple[str, ...]:
    """``FUQUAN_PREVIOUS_MASTER_KEYS`` or ``FUQUAN_PREVIOUS_AUDIT_KEYS``: comma-separated, after a rotation."""
    return tuple(key.strip() for key in source.get(name, "").split(",") if key.strip())


def _audit_key(source: Mapping[str, str]) -> str:
    """``FUQUAN_AUDIT_KEY``, else the file ``FUQUAN_AUDIT_KEY_FILE`` names; else empty (derived from the secret key)."""
    if source.get("FUQUAN_AUDIT_KEY_FILE") and not source.get("FUQUAN_AUDIT_KEY"):
        return Path(source["FUQUAN_AUDIT_KEY_FILE"]).read_text().strip()
    return source.get("FUQUAN_AUDIT_KEY", "")


def data_dir_secret(data_dir: Path, name: str) -> str:
    """A random secret kept in ``data_dir/name`` (mode 0600), generated on first use."""
    path = data_dir / name
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.resolve()}"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment; unknown ``FUQUAN_*`` names are ignored."""
    source = os.environ if env is None else env
    data_dir = Path(source.get("FUQUAN_DATA_DIR", ".fuquan"))
    values: dict[str, object] = {
        "data_dir": data_dir,
        "database_url": source.get("FUQUAN_DATABASE_URL") or sqlite_url(data_dir / "fuquan.db"),
        "secret_key": _secret_key(source, data_dir),
        "master_key": _master_key(source, data_dir),
        "previous_master_keys": _previous_keys(source, "FUQUAN_PREVIOUS_MASTER_KEYS"),
        "audit_key": _audit_key(source),
        "previous_audit_keys": _previous_keys(source, "FUQUAN_PREVIOUS_AUDIT_KEYS"),
    }
    for field in msgspec.structs.fields(Settings):
        env_name = f"FUQUAN_{field.name.upper()}"
        if field.name not in values and env_name in source:
            values[field.name] = source[env_name]
    return msgspec.convert(values, Settings, strict=False)


DEMO_DATABASE = Path("demo") / "fuquan.db"
"""Where ``fuquan demo`` keeps its database, under the data dir."""


def command_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings for a command run by an operator: as :func:`load_settings`, except that with no
    ``FUQUAN_DATABASE_URL`` and no database in the data dir yet, the commands use the database that
    ``fuquan demo`` built there, and say so in one line."""
    source = os.environ if env is None else env
    settings = load_settings(source)
    if source.get("FUQUAN_DATABASE_URL"):
        return settings
    demo = settings.data_dir / DEMO_DATABASE
    if not (settings.data_dir / "fuquan.db").exists() and demo.exists():
        sys.stderr.write(f"使用 fuquan demo 的数据库 {demo}（改用其他数据库请设置 FUQUAN_DATABASE_URL）\n")
        return msgspec.structs.replace(settings, database_url=sqlite_url(demo))
    return settings
