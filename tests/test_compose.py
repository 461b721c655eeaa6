"""docker-compose.yml, the production topology, checked against the code it deploys.

Docker is not needed: the file is parsed as YAML and `${VAR:-default}` interpolated the way
Compose does, so a renamed variable, service, port or search attribute fails here first.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from codec.aes_gcm import encode_key
from runtime.settings import ENV_VARS, Settings
from workflows import search_attributes

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SERVICES = {
    "temporal-db",
    "temporal",
    "temporal-setup",
    "temporal-ui",
    "complaints-db",
    "partner-sandbox",
    "worker",
    "codec-server",
}
_TYPE_NAMES = {"KEYWORD": "Keyword", "DATETIME": "Datetime", "INT": "Int"}
# A secret that a deployment must supply; any value long enough (or of the right form) stands in for it here.
_REQUIRED_STAND_IN = "stand-in-for-a-required-secret"
# Secrets the worker checks the form of get a stand-in of that form.
_STAND_INS = {
    "PII_MASTER_KEY": "c3RhbmQtaW4tbWFzdGVyLWtleS1vZi0zMi1ieXRlcyE=",  # 32 bytes in base64
    "PAYLOAD_KEYS": f"k1:{encode_key(bytes(32))}",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: object = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


def _interpolate(value: str) -> str:
    """Compose's interpolation for the forms this file uses: ${X:-default}, ${X:?error}, $$."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        operator, argument = match.group("op"), match.group("arg")
        if operator == ":-":
            return argument
        if operator == ":?":
            return _STAND_INS.get(match.group("name"), _REQUIRED_STAND_IN)
        raise AssertionError(f"unset variable without a default in docker-compose.yml: {match.group(0)}")

    return re.sub(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:[-?])(?P<arg>[^}]*))?\}", substitute, value)


def _environment(service: dict[str, Any]) -> dict[str, str]:
    raw = service.get("environment", {})
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {name: _interpolate(str(value)) for name, value in raw.items()}


def _container_ports(service: dict[str, Any]) -> set[int]:
    """Ports the service listens on inside the network (the right side of "host:container")."""
    return {int(str(mapping).rsplit(":", 1)[-1]) for mapping in service.get("ports", [])}


def test_the_topology_has_every_service(services: dict[str, Any]) -> None:
    assert services.keys() >= SERVICES


def test_every_worker_variable_is_a_setting(services: dict[str, Any]) -> None:
    env = _environment(services["worker"])
    assert set(env) <= set(ENV_VARS), set(env) - set(ENV_VARS)
    required = {"TEMPORAL_ADDRESS", "DATABASE_URL", "PARTNER_URL", "MSISDN_TOKEN_KEY", "PII_MASTER_KEY", "PAYLOAD_KEYS"}
    assert required <= set(env)
    assert env["LOG_FORMAT"] == "json"


def test_the_worker_environment_passes_validation(services: dict[str, Any]) -> None:
    settings = Settings.from_env(_environment(services["worker"]))
    assert not settings.uses_embedded_temporal
    assert not settings.uses_embedded_postgres
    assert not settings.uses_embedded_partner
    assert settings.log_format == "json"


def test_worker_addresses_point_at_services_that_exist(services: dict[str, Any]) -> None:
    env = _environment(services["worker"])

    temporal_host, temporal_port = env["TEMPORAL_ADDRESS"].rsplit(":", 1)
    assert temporal_host == "temporal" and temporal_host in services
    assert int(temporal_port) in _container_ports(services["temporal"])

    database = urlsplit(env["DATABASE_URL"])
    assert database.scheme == "postgresql"
    assert database.hostname == "complaints-db" and database.hostname in services
    assert database.port == 5432
    assert database.port in _container_ports(services["complaints-db"])
    db_env = _environment(services["complaints-db"])
    assert database.path == f"/{db_env['POSTGRES_DB']}"
    assert database.username == db_env["POSTGRES_USER"]
    assert database.password == db_env["POSTGRES_PASSWORD"]

    partner = urlsplit(env["PARTNER_URL"])
    assert partner.hostname == "partner-sandbox" and partner.hostname in services
    command = services["partner-sandbox"]["command"]
    assert command[:3] == ["python", "-m", "sandboxes.partner_carrier"]
    assert command[command.index("--port") + 1] == str(partner.port)
    assert command[command.index("--host") + 1] == "0.0.0.0"


def test_temporal_runs_on_its_own_postgres(services: dict[str, Any]) -> None:
    temporal = services["temporal"]
    assert temporal["image"].startswith("temporalio/auto-setup:")
    env = _environment(temporal)
    assert env["DB"] == "postgres12"
    assert env["POSTGRES_SEEDS"] == "temporal-db"
    db_env = _environment(services["temporal-db"])
    assert (env["POSTGRES_USER"], env["POSTGRES_PWD"]) == (
        db_env["POSTGRES_USER"],
        db_env["POSTGRES_PASSWORD"],
    )
    assert temporal["depends_on"]["temporal-db"]["condition"] == "service_healthy"
    assert env["DYNAMIC_CONFIG_FILE_PATH"].endswith(".yaml")
    assert services["temporal-ui"]["image"].startswith("temporalio/ui:")
    assert _environment(services["temporal-ui"])["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_the_dynamic_config_is_mounted_where_temporal_reads_it(compose: dict[str, Any]) -> None:
    temporal = compose["services"]["temporal"]
    path = _environment(temporal)["DYNAMIC_CONFIG_FILE_PATH"]
    (mount,) = temporal["configs"]
    assert mount["target"] == f"/etc/temporal/{path}"
    content = yaml.safe_load(compose["configs"][mount["source"]]["content"])
    assert content["limit.maxIDLength"][0]["value"] == 255


def test_the_setup_service_registers_exactly_the_workflows_search_attributes(
    services: dict[str, Any],
) -> None:
    setup = services["temporal-setup"]
    assert setup["image"].startswith("temporalio/admin-tools:")
    env = _environment(setup)
    registered = dict(pair.split("=", 1) for pair in env["SEARCH_ATTRIBUTES"].split())
    expected = {key.name: _TYPE_NAMES[key.indexed_value_type.name] for key in search_attributes.ALL}
    assert registered == expected
    assert env["NAMESPACE"] == _environment(services["worker"])["TEMPORAL_NAMESPACE"]
    assert env["NAMESPACE"] == _environment(services["temporal"])["DEFAULT_NAMESPACE"]
    script = _interpolate("\n".join(setup["command"]))
    assert "temporal operator search-attribute create" in script
    assert "for pair in $SEARCH_ATTRIBUTES" in script  # shell variables survive Compose's interpolation
    assert setup["depends_on"]["temporal"]["condition"] == "service_healthy"


def test_workers_scale_out_and_start_in_order(services: dict[str, Any]) -> None:
    worker = services["worker"]
    assert worker["deploy"]["replicas"] >= 2
    assert worker["command"] == ["python", "worker.py"]
    assert worker["build"] == "."
    conditions = {name: spec["condition"] for name, spec in worker["depends_on"].items()}
    assert conditions == {
        "temporal-setup": "service_completed_successfully",
        "complaints-db": "service_healthy",
        "partner-sandbox": "service_healthy",
    }


def test_every_dependency_waited_on_as_healthy_has_a_healthcheck(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for dependency, spec in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if spec["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{dependency} has no healthcheck"


def test_the_image_compose_builds_exists() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.11-slim" in dockerfile
    assert "pip install ." in dockerfile
    assert 'CMD ["python", "worker.py"]' in dockerfile
    ignored = (PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".venv" in ignored and ".data" in ignored


def test_the_codec_server_shares_the_workers_keys_and_the_ui_points_at_it(services: dict[str, Any]) -> None:
    codec = services["codec-server"]
    assert codec["command"][:4] == ["python", "-m", "codec", "serve"]
    assert codec["command"][codec["command"].index("--host") + 1] == "0.0.0.0"
    env = _environment(codec)
    assert set(env) <= set(ENV_VARS), set(env) - set(ENV_VARS)
    settings = Settings.from_env(env)
    worker = Settings.from_env(_environment(services["worker"]))
    assert settings.payload_key_ring() == worker.payload_key_ring()
    assert settings.temporal_namespace == worker.temporal_namespace
    assert settings.codec_port in _container_ports(codec)

    ui = services["temporal-ui"]
    ui_env = _environment(ui)
    endpoint = urlsplit(ui_env["TEMPORAL_CODEC_ENDPOINT"])
    # The browser calls it: a port published on the host, and the UI's own origin allowed by CORS.
    assert f"{endpoint.port}:{settings.codec_port}" in codec["ports"]
    ui_host_port = int(str(ui["ports"][0]).split(":")[0])
    assert f"http://localhost:{ui_host_port}" in settings.cors_origins
    assert ui_env["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
