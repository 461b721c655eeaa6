"""Settings from environment variables: defaults, parsing, and one clear line per bad value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from codec.aes_gcm import encode_key, new_key
from runtime.settings import DEV_MSISDN_TOKEN_KEY, ENV_HELP, ENV_VARS, ConfigError, Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_defaults_from_an_empty_environment() -> None:
    settings = Settings.from_env({})
    assert settings == Settings(
        data_dir=Path(".data"),
        temporal_address=None,
        temporal_namespace="default",
        task_queue="complaints",
        database_url=None,
        partner_url=None,
        temporal_port=7233,
        temporal_ui_port=8233,
        partner_port=8787,
        approval_limit_fen=5000,
        msisdn_token_key=DEV_MSISDN_TOKEN_KEY,
        sla_warn_percent=80,
        log_format="console",
        log_level="INFO",
    )
    assert settings.uses_embedded_temporal
    assert settings.uses_embedded_postgres
    assert settings.uses_embedded_partner


def test_every_variable_is_read() -> None:
    env = {
        "COMPLAINTS_DATA_DIR": "/var/lib/complaints",
        "TEMPORAL_ADDRESS": "temporal:7233",
        "TEMPORAL_NAMESPACE": "complaints-prod",
        "COMPLAINTS_TASK_QUEUE": "complaints.v2",
        "DATABASE_URL": "postgresql://complaints:secret@complaints-db:5432/complaints",
        "PARTNER_URL": "https://partner.example.com:8443/",
        "TEMPORAL_PORT": "17233",
        "TEMPORAL_UI_PORT": "18233",
        "PARTNER_PORT": "18787",
        "APPROVAL_LIMIT_FEN": "0",
        "MSISDN_TOKEN_KEY": "k" * 32,
        "PII_MASTER_KEY": "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleSE=",
        "SLA_WARN_PERCENT": "75",
        "REOPEN_WINDOW_DAYS": "14",
        "COMPLAINTS_POLICY_FILE": "/etc/complaints/policy.json",
        "RECONCILE_INTERVAL_SECONDS": "30",
        "LOG_FORMAT": "JSON",
        "LOG_LEVEL": "debug",
        "PAYLOAD_KEYS": f"old:{encode_key(OLD_KEY)},new:{encode_key(NEW_KEY)}",
        "PAYLOAD_ACTIVE_KEY": "new",
        "CODEC_PORT": "18234",
        "API_PORT": "18080",
        "API_HOST": "0.0.0.0",
        "CODEC_CORS_ORIGINS": "https://temporal-ui.internal, http://127.0.0.1:8080/",
        "OIDC_ISSUER": "https://sso.carrier.example",
        "OIDC_AUDIENCE": "complaints-engine",
        "OIDC_JWKS_URL": "https://sso.carrier.example/jwks.json",
        "OIDC_ROLES_CLAIM": "groups",
        "JWKS_REFRESH_SECONDS": "600",
        "LOGIN_TTL_MINUTES": "15",
        "WORKER_RELAY": "OFF",
    }
    # PAYLOAD_KEYS_FILE replaces PAYLOAD_KEYS: read in its own test below.
    assert env.keys() | {"PAYLOAD_KEYS_FILE"} == ENV_VARS.keys()
    settings = Settings.from_env(env)
    assert settings.data_dir == Path("/var/lib/complaints")
    assert settings.temporal_address == "temporal:7233"
    assert settings.temporal_namespace == "complaints-prod"
    assert settings.task_queue == "complaints.v2"
    assert settings.database_url == "postgresql://complaints:secret@complaints-db:5432/complaints"
    assert settings.reopen_window_days == 14
    assert settings.policy_file == Path("/etc/complaints/policy.json")
    assert settings.reconcile_interval_seconds == 30
    assert settings.partner_url == "https://partner.example.com:8443"  # trailing slash dropped
    assert (settings.temporal_port, settings.temporal_ui_port, settings.partner_port) == (17233, 18233, 18787)
    assert settings.approval_limit_fen == 0
    assert settings.msisdn_token_key == "k" * 32
    assert settings.pii_master_key == "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleSE="
    assert settings.sla_warn_percent == 75
    assert settings.log_format == "json"
    assert settings.log_level == "DEBUG"
    ring = settings.payload_key_ring()
    assert ring.keys == {"old": OLD_KEY, "new": NEW_KEY} and ring.active == "new"
    assert settings.codec_port == 18234
    assert (settings.api_host, settings.api_port) == ("0.0.0.0", 18080)
    assert settings.cors_origins == ("https://temporal-ui.internal", "http://127.0.0.1:8080")
    assert not settings.uses_embedded_temporal
    assert not settings.uses_embedded_postgres
    assert not settings.uses_embedded_partner
    assert not settings.uses_embedded_issuer
    assert (settings.oidc_issuer, settings.oidc_audience, settings.oidc_jwks_url, settings.oidc_roles_claim) == (
        "https://sso.carrier.example", "complaints-engine", "https://sso.carrier.example/jwks.json", "groups"
    )
    assert (settings.jwks_refresh_seconds, settings.login_ttl_minutes) == (600, 15)
    assert settings.worker_relay is False and Settings.from_env({}).worker_relay is True


OLD_KEY, NEW_KEY = new_key(), new_key()


def test_env_vars_name_real_fields() -> None:
    assert set(ENV_VARS.values()) == set(Settings.model_fields)
    assert ENV_HELP.keys() == ENV_VARS.keys()


def test_empty_values_count_as_unset() -> None:
    settings = Settings.from_env({"TEMPORAL_ADDRESS": "", "DATABASE_URL": "  ", "APPROVAL_LIMIT_FEN": ""})
    assert settings.uses_embedded_temporal
    assert settings.uses_embedded_postgres
    assert settings.approval_limit_fen == 5000


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINTS_TASK_QUEUE", "from-the-environment")
    assert Settings.from_env().task_queue == "from-the-environment"


def test_settings_are_frozen() -> None:
    settings = Settings.from_env({})
    with pytest.raises(ValidationError):
        settings.task_queue = "other"


def test_the_token_key_stays_out_of_repr() -> None:
    settings = Settings.from_env({"MSISDN_TOKEN_KEY": "a-very-secret-key-123"})
    assert "a-very-secret-key-123" not in repr(settings)


BAD_VALUES: list[tuple[str, str, str]] = [
    ("TEMPORAL_ADDRESS", "localhost", "must be host:port (e.g. localhost:7233)"),
    ("TEMPORAL_ADDRESS", "localhost:", "must be host:port"),
    ("TEMPORAL_ADDRESS", ":7233", "must be host:port"),
    ("TEMPORAL_ADDRESS", "localhost:port", "must be host:port"),
    ("TEMPORAL_ADDRESS", "localhost:70000", "must be host:port"),
    ("TEMPORAL_ADDRESS", "http://localhost:7233", "must be host:port"),
    ("TEMPORAL_NAMESPACE", "my namespace", "must be a Temporal namespace name"),
    ("COMPLAINTS_TASK_QUEUE", "-queue", "must be a task queue name"),
    ("DATABASE_URL", "mysql://db/complaints", "must be a PostgreSQL URL"),
    ("DATABASE_URL", "postgresql:///complaints", "must be a PostgreSQL URL"),
    ("DATABASE_URL", "postgresql://db:notaport/complaints", "must be a PostgreSQL URL"),
    ("PARTNER_URL", "partner:8787", "must be an http(s) URL"),
    ("PARTNER_URL", "ftp://partner:8787", "must be an http(s) URL"),
    ("PARTNER_URL", "http://", "must be an http(s) URL"),
    ("TEMPORAL_PORT", "0", "must be a TCP port number from 1 to 65535"),
    ("TEMPORAL_UI_PORT", "65536", "must be a TCP port number"),
    ("PARTNER_PORT", "eighty", "must be a TCP port number"),
    ("APPROVAL_LIMIT_FEN", "-1", "must be a whole number of fen, 0 or more"),
    ("APPROVAL_LIMIT_FEN", "50.00", "must be a whole number of fen"),
    ("APPROVAL_LIMIT_FEN", "1e3", "must be a whole number of fen"),
    ("SLA_WARN_PERCENT", "0", "must be a whole percent of the deadline from 1 to 99"),
    ("SLA_WARN_PERCENT", "100", "from 1 to 99"),
    ("SLA_WARN_PERCENT", "0.8", "from 1 to 99"),
    ("REOPEN_WINDOW_DAYS", "-1", "must be a whole number of days from 0 to 365"),
    ("REOPEN_WINDOW_DAYS", "a week", "from 0 to 365"),
    ("LOG_FORMAT", "xml", "must be one of: console, json"),
    ("LOG_LEVEL", "verbose", "must be one of: DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("COMPLAINTS_DATA_DIR", "bad\x00dir", "must be a directory path"),
    ("COMPLAINTS_POLICY_FILE", "bad\x00file", "must be a file path"),
    ("RECONCILE_INTERVAL_SECONDS", "0", "must be a whole number of seconds from 1 to 86400"),
    ("PAYLOAD_ACTIVE_KEY", "key one", "must be a key id of PAYLOAD_KEYS"),
    ("PAYLOAD_KEYS_FILE", "bad\x00file", "must be a file path"),
    ("CODEC_PORT", "0", "must be a TCP port number"),
    ("API_PORT", "-1", "must be a TCP port number from 1 to 65535, or 0 for any free port"),
    ("API_HOST", "api host", "must be a host name or address"),
    ("CODEC_CORS_ORIGINS", "http://ui:8080/path", "must be Web UI origins like http://127.0.0.1:8233"),
    ("OIDC_ISSUER", "https://sso example", "must be the issuer exactly as the tokens' iss claim says it"),
    ("OIDC_AUDIENCE", "complaints engine", "must be a token audience"),
    ("OIDC_JWKS_URL", "sso.carrier.example/jwks.json", "must be an http(s) URL"),
    ("OIDC_ROLES_CLAIM", "realm roles", "must be a claim name"),
    ("JWKS_REFRESH_SECONDS", "1", "must be a whole number of seconds from 5 to 86400"),
    ("LOGIN_TTL_MINUTES", "0", "must be a whole number of minutes from 1 to 1440"),
    ("WORKER_RELAY", "maybe", "must be on or off"),
]


def test_an_oidc_issuer_needs_its_audience_and_keys() -> None:
    with pytest.raises(ConfigError, match=r"^OIDC_AUDIENCE, OIDC_JWKS_URL must be set too"):
        Settings.from_env({"OIDC_ISSUER": "https://sso.carrier.example"})
    assert Settings.from_env({}).uses_embedded_issuer


@pytest.mark.parametrize(("variable", "value", "expected"), BAD_VALUES)
def test_a_bad_value_names_the_variable_the_value_and_what_is_expected(
    variable: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({variable: value})
    message = str(caught.value)
    assert message.startswith(f"{variable}={value!r} ")
    assert expected in message
    assert "\n" not in message


def test_every_variable_has_a_bad_value_tested() -> None:
    # MSISDN_TOKEN_KEY, PII_MASTER_KEY and PAYLOAD_KEYS are secrets, so their messages differ: tested on their
    # own below (PII_MASTER_KEY in tests/store/test_master_key.py).
    secrets = {"MSISDN_TOKEN_KEY", "PII_MASTER_KEY", "PAYLOAD_KEYS"}
    assert {variable for variable, _, _ in BAD_VALUES} | secrets == set(ENV_VARS)


def test_a_short_token_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"MSISDN_TOKEN_KEY": "hunter2"})
    message = str(caught.value)
    assert message.startswith("MSISDN_TOKEN_KEY ")
    assert "at least 16 characters" in message
    assert "hunter2" not in message


def test_a_database_password_is_not_echoed() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"DATABASE_URL": "mysql://user:s3cret@db/complaints"})
    message = str(caught.value)
    assert message.startswith("DATABASE_URL=")
    assert "s3cret" not in message and "***" in message


def test_embedded_services_need_distinct_ports() -> None:
    with pytest.raises(ConfigError, match=r"^TEMPORAL_UI_PORT=7233 must differ from TEMPORAL_PORT=7233"):
        Settings.from_env({"TEMPORAL_UI_PORT": "7233"})
    with pytest.raises(ConfigError, match=r"^PARTNER_PORT=8233 must differ from TEMPORAL_UI_PORT"):
        Settings.from_env({"PARTNER_PORT": "8233"})
    # With an external Temporal its ports are unused, so they may clash with anything.
    settings = Settings.from_env(
        {"TEMPORAL_ADDRESS": "temporal:7233", "PARTNER_PORT": "8233", "PAYLOAD_KEYS": f"k:{encode_key(OLD_KEY)}"}
    )
    assert settings.partner_port == 8233


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


def _run_loader(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "from runtime.settings import load_settings_or_exit; print(load_settings_or_exit().task_queue)"
    return subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_load_settings_or_exit_exits_2_with_one_line() -> None:
    result = _run_loader({"TEMPORAL_ADDRESS": "localhost"})
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        "config error: TEMPORAL_ADDRESS='localhost' must be host:port (e.g. localhost:7233)\n"
    )


def test_load_settings_or_exit_returns_good_settings() -> None:
    result = _run_loader({"COMPLAINTS_TASK_QUEUE": "q1"})
    assert (result.returncode, result.stdout, result.stderr) == (0, "q1\n", "")


def test_a_malformed_payload_key_is_refused_naming_the_variable_not_the_key() -> None:
    short = encode_key(b"s" * 16)
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"PAYLOAD_KEYS": f"k1:{short}"})
    message = str(caught.value)
    assert message.startswith("PAYLOAD_KEYS (value not shown): key 'k1' decodes to 16 bytes")
    assert short not in message and "\n" not in message


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TEMPORAL_ADDRESS": "temporal:7233"}, "PAYLOAD_KEYS is not set: with TEMPORAL_ADDRESS"),
        ({"PAYLOAD_ACTIVE_KEY": "k1"}, "PAYLOAD_ACTIVE_KEY is set without PAYLOAD_KEYS"),
        ({"PAYLOAD_KEYS": f"a:{encode_key(OLD_KEY)},b:{encode_key(NEW_KEY)}"}, "PAYLOAD_ACTIVE_KEY is not set"),
        ({"PAYLOAD_KEYS": f"a:{encode_key(OLD_KEY)}", "PAYLOAD_ACTIVE_KEY": "b"}, "PAYLOAD_ACTIVE_KEY='b' is not"),
        (
            {"PAYLOAD_KEYS": f"a:{encode_key(OLD_KEY)}", "PAYLOAD_KEYS_FILE": "/k.json"},
            "PAYLOAD_KEYS and PAYLOAD_KEYS_FILE are both set",
        ),
    ],
)
def test_a_missing_or_inconsistent_payload_key_is_one_line(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert str(caught.value).startswith(expected)
    assert "\n" not in str(caught.value)


def test_one_payload_key_is_the_active_one() -> None:
    ring = Settings.from_env({"PAYLOAD_KEYS": f"only:{encode_key(OLD_KEY)}"}).payload_key_ring()
    assert ring.active == "only"


def test_the_embedded_default_keeps_a_key_file_in_the_data_folder(tmp_path: Path) -> None:
    settings = Settings.from_env({"COMPLAINTS_DATA_DIR": str(tmp_path)})
    ring = settings.payload_key_ring()
    assert (tmp_path / "payload-keys.json").stat().st_mode & 0o777 == 0o600
    assert settings.payload_key_ring() == ring
    # Another process pointed at the same file reads the same ring.
    assert Settings.from_env(
        {"TEMPORAL_ADDRESS": "temporal:7233", "PAYLOAD_KEYS_FILE": str(tmp_path / "payload-keys.json")}
    ).payload_key_ring() == ring


def test_a_missing_key_file_is_refused_naming_the_variable(tmp_path: Path) -> None:
    settings = Settings.from_env({"PAYLOAD_KEYS_FILE": str(tmp_path / "nowhere.json")})
    with pytest.raises(ConfigError, match=r"^PAYLOAD_KEYS_FILE=.* does not exist$"):
        settings.payload_key_ring()


def test_the_worker_stops_at_start_with_one_line_when_the_payload_key_is_missing(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "TEMPORAL_ADDRESS": "127.0.0.1:1",
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "PARTNER_URL": "http://127.0.0.1:1",
        "COMPLAINTS_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "worker.py"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"config error: {_missing_keys_line()}"]


def _missing_keys_line() -> str:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"TEMPORAL_ADDRESS": "127.0.0.1:1"})
    return str(caught.value)


def test_a_command_stops_at_start_with_one_line_on_a_bad_payload_key(tmp_path: Path) -> None:
    base = {"PATH": "/usr/bin:/bin", "COMPLAINTS_DATA_DIR": str(tmp_path), "TEMPORAL_PORT": "1"}
    for env, line in [
        ({"PAYLOAD_KEYS": "k1:c2hvcnQ="}, "config error: PAYLOAD_KEYS (value not shown): key 'k1' decodes to 5 bytes"),
        ({"PAYLOAD_KEYS_FILE": str(tmp_path / "none.json")}, "error: PAYLOAD_KEYS_FILE="),
    ]:
        done = subprocess.run(
            [sys.executable, "starter.py", "list"], cwd=PROJECT_ROOT, env={**base, **env},
            capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 2, done.stderr
        [printed] = done.stderr.strip().splitlines()
        assert printed.startswith(line)
