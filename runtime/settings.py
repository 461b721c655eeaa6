"""The one settings object, read from environment variables at the edges (worker, starter, runtime).

Every bad value is refused at start with a one-line message naming the variable, the value and
what is expected, so a typo in a deployment fails loudly instead of half-working.
An empty variable counts as unset: compose files and shells often export `NAME=` for "no value".
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field

from codec.aes_gcm import KeyRing, KeyRingError
from codec.key_file import KEY_FILE_NAME, load_or_create_key_file, read_key_file
from domain.policy import DEFAULT_APPROVAL_LIMIT_FEN, DEFAULT_REOPEN_WINDOW_DAYS, DEFAULT_WARN_PERCENT
from runtime.setting_values import (
    DEV_MSISDN_TOKEN_KEY,
    MIN_TOKEN_KEY_LENGTH,
    ConfigError,
    _choice,
    _database_url,
    _file_path,
    _host_port,
    _http_url,
    _identifier,
    _int_in,
    _issuer,
    _key_id,
    _master_key,
    _on_off,
    _origins,
    _path,
    _payload_keys,
    _token_key,
    parse_master_key,
    parse_master_keys,
)

__all__ = [
    "DEV_MSISDN_TOKEN_KEY",
    "ENV_HELP",
    "ENV_VARS",
    "ConfigError",
    "Settings",
    "load_settings_or_exit",
    "parse_master_key",
    "parse_master_keys",
]

LogFormat = Literal["console", "json"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


ENV_VARS: dict[str, str] = {
    "COMPLAINTS_DATA_DIR": "data_dir",
    "TEMPORAL_ADDRESS": "temporal_address",
    "TEMPORAL_NAMESPACE": "temporal_namespace",
    "COMPLAINTS_TASK_QUEUE": "task_queue",
    "DATABASE_URL": "database_url",
    "PARTNER_URL": "partner_url",
    "TEMPORAL_PORT": "temporal_port",
    "TEMPORAL_UI_PORT": "temporal_ui_port",
    "PARTNER_PORT": "partner_port",
    "APPROVAL_LIMIT_FEN": "approval_limit_fen",
    "MSISDN_TOKEN_KEY": "msisdn_token_key",
    "PII_MASTER_KEY": "pii_master_key",
    "SLA_WARN_PERCENT": "sla_warn_percent",
    "REOPEN_WINDOW_DAYS": "reopen_window_days",
    "COMPLAINTS_POLICY_FILE": "policy_file",
    "RECONCILE_INTERVAL_SECONDS": "reconcile_interval_seconds",
    "LOG_FORMAT": "log_format",
    "LOG_LEVEL": "log_level",
    "PAYLOAD_KEYS": "payload_keys",
    "PAYLOAD_ACTIVE_KEY": "payload_active_key",
    "PAYLOAD_KEYS_FILE": "payload_keys_file",
    "CODEC_PORT": "codec_port",
    "API_PORT": "api_port",
    "API_HOST": "api_host",
    "CODEC_CORS_ORIGINS": "codec_cors_origins",
    "OIDC_ISSUER": "oidc_issuer",
    "OIDC_AUDIENCE": "oidc_audience",
    "OIDC_JWKS_URL": "oidc_jwks_url",
    "OIDC_ROLES_CLAIM": "oidc_roles_claim",
    "JWKS_REFRESH_SECONDS": "jwks_refresh_seconds",
    "LOGIN_TTL_MINUTES": "login_ttl_minutes",
    "WORKER_RELAY": "worker_relay",
}
"""Environment variable -> Settings field, for every variable the project reads."""

ENV_HELP: dict[str, str] = {
    "COMPLAINTS_DATA_DIR": "folder of the embedded services' data and logs (default .data)",
    "TEMPORAL_ADDRESS": "host:port of a Temporal server; unset: embedded dev server",
    "TEMPORAL_NAMESPACE": "Temporal namespace (default default)",
    "COMPLAINTS_TASK_QUEUE": "task queue of the workers (default complaints)",
    "DATABASE_URL": "postgresql://... of the project database; unset: embedded pgserver in <data dir>/pg",
    "PARTNER_URL": "http(s)://... of the partner carrier; unset: embedded partner sandbox",
    "TEMPORAL_PORT": "gRPC port of the embedded Temporal dev server (default 7233)",
    "TEMPORAL_UI_PORT": "Web UI port of the embedded Temporal dev server (default 8233)",
    "PARTNER_PORT": "port of the embedded partner sandbox (default 8787)",
    "APPROVAL_LIMIT_FEN": (
        f"largest adjustment an agent may apply without a supervisor, in fen (default {DEFAULT_APPROVAL_LIMIT_FEN})"
    ),
    "MSISDN_TOKEN_KEY": "secret key of the HMAC turning a phone number into a search token",
    "PII_MASTER_KEY": "32 bytes in base64 wrapping the per-customer keys of personal data at rest (NEW,OLD "
    "while rotating); unset: <data dir>/pii-master.key",
    "SLA_WARN_PERCENT": (
        f"share of an SLA deadline after which a warning is raised, in percent (default {DEFAULT_WARN_PERCENT})"
    ),
    "REOPEN_WINDOW_DAYS": (
        f"days after closing during which a case may be reopened (default {DEFAULT_REOPEN_WINDOW_DAYS})"
    ),
    "COMPLAINTS_POLICY_FILE": "JSON file of the versioned case policy the worker assigns; replaces the three above",
    "RECONCILE_INTERVAL_SECONDS": "how often the worker looks for case workflows stopped from outside (default 60)",
    "LOG_FORMAT": "console or json (default console)",
    "LOG_LEVEL": "DEBUG, INFO, WARNING, ERROR or CRITICAL (default INFO)",
    "PAYLOAD_KEYS": "Temporal payload encryption keys, id:base64-of-32-bytes,... (unset: <data dir>/payload-keys.json)",
    "PAYLOAD_ACTIVE_KEY": "id of the key new payloads are encrypted with (default: the only key of PAYLOAD_KEYS)",
    "PAYLOAD_KEYS_FILE": "JSON key file instead of PAYLOAD_KEYS (as <data dir>/payload-keys.json)",
    "CODEC_PORT": "port of the embedded codec server for the Web UI and CLI (default 8234)",
    "API_HOST": "address the HTTP API listens on (default 127.0.0.1; 0.0.0.0 in a container)",
    "API_PORT": "port of the HTTP API (TMF621 troubleTicket) served beside the worker (default 8080; 0: any free)",
    "CODEC_CORS_ORIGINS": "Web UI origins the codec server answers, comma-separated (default: the embedded UI)",
    "OIDC_ISSUER": "issuer (iss) of the OIDC provider whose tokens are trusted; unset: the embedded issuer",
    "OIDC_AUDIENCE": "audience (aud) the provider's tokens must carry for this engine (with OIDC_ISSUER)",
    "OIDC_JWKS_URL": "https://... of the provider's JWKS (its public signing keys, with OIDC_ISSUER)",
    "OIDC_ROLES_CLAIM": "claim of the token that lists the user's roles (default roles)",
    "JWKS_REFRESH_SECONDS": "how often the worker reloads the trusted keys, for rotation (default 300)",
    "LOGIN_TTL_MINUTES": "lifetime of a token from `starter login` with the embedded issuer (default 60)",
    "WORKER_RELAY": "on or off: the worker runs the webhook and notification relay itself (default on; "
    "docker-compose.yml runs it as its own service)",
}
"""One line per variable, for --help texts."""


class Settings(BaseModel):
    """Where the services are and the few policy knobs, validated once at start."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_dir: Path = Path(".data")
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    task_queue: str = "complaints"
    database_url: str | None = None
    partner_url: str | None = None
    temporal_port: int = Field(default=7233, ge=1, le=65535)
    temporal_ui_port: int = Field(default=8233, ge=1, le=65535)
    partner_port: int = Field(default=8787, ge=1, le=65535)
    approval_limit_fen: int = Field(default=DEFAULT_APPROVAL_LIMIT_FEN, ge=0)
    msisdn_token_key: str = Field(default=DEV_MSISDN_TOKEN_KEY, min_length=MIN_TOKEN_KEY_LENGTH, repr=False)
    # Base64 text, checked by parse_master_key; None: the embedded default key file in data_dir.
    pii_master_key: str | None = Field(default=None, repr=False)
    sla_warn_percent: int = Field(default=DEFAULT_WARN_PERCENT, ge=1, le=99)
    reopen_window_days: int = Field(default=DEFAULT_REOPEN_WINDOW_DAYS, ge=0, le=365)
    # The worker's case policy (domain.policy): read by the worker only. Filers never send policy.
    policy_file: Path | None = None
    reconcile_interval_seconds: int = Field(default=60, ge=1, le=86400)
    log_format: LogFormat = "console"
    log_level: LogLevel = "INFO"
    # Temporal payload encryption (codec.aes_gcm): every client and worker of a deployment shares the ring.
    payload_keys: dict[str, bytes] | None = Field(default=None, repr=False)
    payload_active_key: str | None = None
    payload_keys_file: Path | None = None
    codec_port: int = Field(default=8234, ge=1, le=65535)
    api_port: int = Field(default=8080, ge=0, le=65535)  # 0: any free port (printed at start)
    api_host: str = "127.0.0.1"
    codec_cors_origins: tuple[str, ...] | None = None
    # Who proves identities: an OIDC provider when these are set, else the embedded issuer in data_dir/auth.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_url: str | None = None
    oidc_roles_claim: str = "roles"
    jwks_refresh_seconds: int = Field(default=300, ge=5, le=86400)
    login_ttl_minutes: int = Field(default=60, ge=1, le=24 * 60)
    # The worker runs the delivery relay (delivery/) beside itself; off where a relay service runs instead.
    worker_relay: bool = True

    @property
    def uses_embedded_issuer(self) -> bool:
        """True when no OIDC_ISSUER is given: tokens come from the embedded issuer in data_dir/auth."""
        return self.oidc_issuer is None

    @property
    def uses_embedded_temporal(self) -> bool:
        """True when no TEMPORAL_ADDRESS is given: the runtime starts a dev server in data_dir."""
        return self.temporal_address is None

    @property
    def uses_embedded_postgres(self) -> bool:
        """True when no DATABASE_URL is given: the runtime starts pgserver in data_dir/pg."""
        return self.database_url is None

    @property
    def uses_embedded_partner(self) -> bool:
        """True when no PARTNER_URL is given: the runtime starts the partner-carrier sandbox."""
        return self.partner_url is None

    @property
    def default_key_file(self) -> Path:
        """Where the embedded runtime keeps its payload key ring when no key is configured."""
        return self.data_dir.expanduser().resolve() / KEY_FILE_NAME

    @property
    def cors_origins(self) -> tuple[str, ...]:
        """Web UI origins the codec server answers: CODEC_CORS_ORIGINS, or the embedded UI's."""
        if self.codec_cors_origins is not None:
            return self.codec_cors_origins
        return tuple(f"http://{host}:{self.temporal_ui_port}" for host in ("127.0.0.1", "localhost"))

    def payload_key_ring(self) -> KeyRing:
        """The payload key ring: PAYLOAD_KEYS, PAYLOAD_KEYS_FILE, or the embedded key file (created 0600 on first use).

        Raises ConfigError naming the variable.
        """
        if self.payload_keys is not None:
            active = self.payload_active_key or next(iter(self.payload_keys))
            return KeyRing(keys=self.payload_keys, active=active)  # checked by from_env
        if self.payload_keys_file is not None:
            try:
                return read_key_file(self.payload_keys_file)
            except FileNotFoundError:
                raise ConfigError(f"PAYLOAD_KEYS_FILE={str(self.payload_keys_file)!r} does not exist") from None
            except (KeyRingError, OSError) as error:
                raise ConfigError(f"PAYLOAD_KEYS_FILE: {error}") from None
        if not self.uses_embedded_temporal:
            raise ConfigError(_MISSING_KEYS)
        try:
            return load_or_create_key_file(self.default_key_file)
        except (KeyRingError, OSError) as error:
            raise ConfigError(f"payload key file (PAYLOAD_KEYS unset): {error}") from None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the settings from `env` (default: os.environ); raise ConfigError."""
        source = os.environ if env is None else env
        values: dict[str, object] = {}
        for variable, field in ENV_VARS.items():
            raw = source.get(variable)
            if raw is None or not raw.strip():
                continue
            values[field] = _PARSERS[variable](variable, raw.strip())
        settings = cls.model_validate(values)
        _check_ports_distinct(settings)
        _check_payload_keys(settings)
        _check_oidc_complete(settings)
        return settings


def load_settings_or_exit() -> Settings:
    """Settings from the environment, or `config error: ...` on stderr and exit status 2."""
    try:
        return Settings.from_env()
    except ConfigError as error:
        _exit_with(str(error))


def _exit_with(message: str) -> NoReturn:
    print(f"config error: {message}", file=sys.stderr)
    raise SystemExit(2)


_MISSING_KEYS = (
    "PAYLOAD_KEYS is not set: with TEMPORAL_ADDRESS (an external Temporal) every worker and client must share "
    "the payload keys; set PAYLOAD_KEYS=id:base64-of-32-bytes (make one with `python -m codec new-key`) "
    "or PAYLOAD_KEYS_FILE"
)


def _check_payload_keys(settings: Settings) -> None:
    if settings.payload_keys is not None and settings.payload_keys_file is not None:
        raise ConfigError("PAYLOAD_KEYS and PAYLOAD_KEYS_FILE are both set: set one of them")
    if settings.payload_keys is None:
        if settings.payload_active_key is not None:
            raise ConfigError("PAYLOAD_ACTIVE_KEY is set without PAYLOAD_KEYS: it names one of PAYLOAD_KEYS' keys")
        if settings.payload_keys_file is None and not settings.uses_embedded_temporal:
            raise ConfigError(_MISSING_KEYS)
        return
    active = settings.payload_active_key
    if active is None and len(settings.payload_keys) > 1:
        raise ConfigError(
            f"PAYLOAD_ACTIVE_KEY is not set: PAYLOAD_KEYS holds {len(settings.payload_keys)} keys "
            f"({', '.join(settings.payload_keys)}), name the one new payloads are encrypted with"
        )
    if active is not None and active not in settings.payload_keys:
        raise ConfigError(
            f"PAYLOAD_ACTIVE_KEY={active!r} is not one of PAYLOAD_KEYS' keys ({', '.join(settings.payload_keys)})"
        )


_PORT = _int_in(1, 65535, "a TCP port number from 1 to 65535")

_PARSERS: dict[str, Callable[[str, str], object]] = {
    "COMPLAINTS_DATA_DIR": _path,
    "TEMPORAL_ADDRESS": _host_port,
    "TEMPORAL_NAMESPACE": _identifier("Temporal namespace name"),
    "COMPLAINTS_TASK_QUEUE": _identifier("task queue name"),
    "DATABASE_URL": _database_url,
    "PARTNER_URL": _http_url,
    "TEMPORAL_PORT": _PORT,
    "TEMPORAL_UI_PORT": _PORT,
    "PARTNER_PORT": _PORT,
    "APPROVAL_LIMIT_FEN": _int_in(0, None, "a whole number of fen, 0 or more (e.g. 5000 = 50 yuan)"),
    "MSISDN_TOKEN_KEY": _token_key,
    "PII_MASTER_KEY": _master_key,
    "SLA_WARN_PERCENT": _int_in(1, 99, "a whole percent of the deadline from 1 to 99 (e.g. 80)"),
    "REOPEN_WINDOW_DAYS": _int_in(0, 365, "a whole number of days from 0 to 365 (e.g. 7)"),
    "COMPLAINTS_POLICY_FILE": _file_path,
    "RECONCILE_INTERVAL_SECONDS": _int_in(1, 86400, "a whole number of seconds from 1 to 86400 (e.g. 60)"),
    "LOG_FORMAT": _choice(("console", "json"), str.lower),
    "LOG_LEVEL": _choice(("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), str.upper),
    "PAYLOAD_KEYS": _payload_keys,
    "PAYLOAD_ACTIVE_KEY": _key_id,
    "PAYLOAD_KEYS_FILE": _file_path,
    "CODEC_PORT": _PORT,
    "API_PORT": _int_in(0, 65535, "a TCP port number from 1 to 65535, or 0 for any free port"),
    "API_HOST": _identifier("host name or address"),
    "CODEC_CORS_ORIGINS": _origins,
    "OIDC_ISSUER": _issuer,
    "OIDC_AUDIENCE": _identifier("token audience"),
    "OIDC_JWKS_URL": _http_url,
    "OIDC_ROLES_CLAIM": _identifier("claim name"),
    "JWKS_REFRESH_SECONDS": _int_in(5, 86400, "a whole number of seconds from 5 to 86400 (e.g. 300)"),
    "LOGIN_TTL_MINUTES": _int_in(1, 1440, "a whole number of minutes from 1 to 1440 (e.g. 60)"),
    "WORKER_RELAY": _on_off,
}
assert _PARSERS.keys() == ENV_VARS.keys()


def _check_ports_distinct(settings: Settings) -> None:
    """The embedded services started on one machine need a port each."""
    claimed: dict[int, str] = {}
    wanted = [
        ("TEMPORAL_PORT", settings.temporal_port, settings.uses_embedded_temporal),
        ("TEMPORAL_UI_PORT", settings.temporal_ui_port, settings.uses_embedded_temporal),
        ("PARTNER_PORT", settings.partner_port, settings.uses_embedded_partner),
        ("CODEC_PORT", settings.codec_port, settings.uses_embedded_temporal),
        ("API_PORT", settings.api_port, settings.api_port != 0),
    ]
    for variable, port, used in wanted:
        if not used:
            continue
        if port in claimed:
            raise ConfigError(
                f"{variable}={port} must differ from {claimed[port]}={port}: each service needs its own port"
            )
        claimed[port] = variable


def _check_oidc_complete(settings: Settings) -> None:
    """An OIDC issuer needs its audience and its JWKS URL; either without the issuer means nothing."""
    given = {"OIDC_ISSUER": settings.oidc_issuer, "OIDC_AUDIENCE": settings.oidc_audience,
             "OIDC_JWKS_URL": settings.oidc_jwks_url}
    if any(given.values()) and not all(given.values()):
        missing = ", ".join(name for name, value in given.items() if not value)
        raise ConfigError(f"{missing} must be set too: OIDC_ISSUER, OIDC_AUDIENCE and OIDC_JWKS_URL go together")
