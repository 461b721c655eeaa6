"""Parsers of configuration values, one per kind.

Each takes (variable, raw text) and returns the value or raises ConfigError with a one-line message naming the variable,
the value and what is expected.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from codec.aes_gcm import KEY_ID, KeyRingError, parse_key_list

# Only good for a laptop: production sets its own key, or every token could be recomputed by anyone
# holding this source.
DEV_MSISDN_TOKEN_KEY = "dev-only-msisdn-token-key-do-not-use-in-production"
MIN_TOKEN_KEY_LENGTH = 16


class ConfigError(ValueError):
    """A configuration value that cannot be used. The message is one line naming the variable."""



# --- one parser per kind of value; each raises ConfigError naming the variable -----------------


def _path(variable: str, raw: str) -> Path:
    if "\x00" in raw:
        raise ConfigError(f"{variable}={raw!r} must be a directory path")
    return Path(raw)


def _file_path(variable: str, raw: str) -> Path:
    if "\x00" in raw:
        raise ConfigError(f"{variable}={raw!r} must be a file path")
    return Path(raw)


_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def _port_number(text: str) -> int | None:
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if 1 <= number <= 65535 else None


def _host_port(variable: str, raw: str) -> str:
    expected = "must be host:port (e.g. localhost:7233)"
    host, sep, port = raw.rpartition(":")
    if not sep or not host or _port_number(port) is None:
        raise ConfigError(f"{variable}={raw!r} {expected}")
    bare_host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not (_HOST.match(bare_host) or (bare_host != host and ":" in bare_host)):
        raise ConfigError(f"{variable}={raw!r} {expected}")
    return raw


_IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


def _identifier(what: str) -> Callable[[str, str], str]:
    def parse(variable: str, raw: str) -> str:
        if not _IDENTIFIER.match(raw):
            raise ConfigError(
                f"{variable}={raw!r} must be a {what}: letters, digits, '.', '_' or '-', starting with a letter "
                "or digit"
            )
        return raw

    return parse


def _redact_password(url: str) -> str:
    """The URL as it may be shown in an error message: never with its password."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()
    except ValueError:
        return "<unparseable URL>"


def _database_url(variable: str, raw: str) -> str:
    expected = "must be a PostgreSQL URL like postgresql://user:password@host:5432/dbname"
    shown = _redact_password(raw)
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise ConfigError(f"{variable}={shown!r} {expected}") from None
    has_socket = "host=" in parts.query
    if parts.scheme not in ("postgresql", "postgres") or not (parts.hostname or has_socket):
        raise ConfigError(f"{variable}={shown!r} {expected}")
    return raw


def _http_url(variable: str, raw: str) -> str:
    expected = "must be an http(s) URL like http://partner-sandbox:8787"
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise ConfigError(f"{variable}={raw!r} {expected}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"{variable}={raw!r} {expected}")
    return raw.rstrip("/")


def _int_in(low: int, high: int | None, what: str) -> Callable[[str, str], int]:
    def parse(variable: str, raw: str) -> int:
        number = int(raw) if re.fullmatch(r"[+-]?[0-9]+", raw) else None
        if number is None or number < low or (high is not None and number > high):
            raise ConfigError(f"{variable}={raw!r} must be {what}")
        return number

    return parse


def _on_off(variable: str, raw: str) -> bool:
    value = raw.lower()
    if value not in ("on", "off", "true", "false", "1", "0"):
        raise ConfigError(f"{variable}={raw!r} must be on or off")
    return value in ("on", "true", "1")


def _token_key(variable: str, raw: str) -> str:
    # A secret: say how long it was, never echo it.
    if len(raw) < MIN_TOKEN_KEY_LENGTH:
        raise ConfigError(
            f"{variable} (a {len(raw)}-character value, not shown) must be at least "
            f"{MIN_TOKEN_KEY_LENGTH} characters of secret"
        )
    return raw


PII_MASTER_KEY_BYTES = 32


def parse_master_key(raw: str, source: str) -> bytes:
    """The 32 bytes of a base64 master key; a ConfigError naming `source` (never echoing the value)."""
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != PII_MASTER_KEY_BYTES:
        raise ConfigError(
            f"{source} (a {len(raw.strip())}-character value, not shown) must be {PII_MASTER_KEY_BYTES} random "
            "bytes in base64 (44 characters), e.g. the output of `openssl rand -base64 32`"
        )
    return key


def parse_master_keys(raw: str, source: str) -> list[bytes]:
    """The master keys, newest first: `NEW,OLD,...`, so keys wrapped before a rotation still open."""
    keys = [parse_master_key(part, source if n == 1 else f"{source} (key {n})")
            for n, part in enumerate(raw.split(","), start=1)]
    return keys


def _master_key(variable: str, raw: str) -> str:
    parse_master_keys(raw, variable)
    return raw


def _choice(choices: tuple[str, ...], normalise: Callable[[str], str]) -> Callable[[str, str], str]:
    def parse(variable: str, raw: str) -> str:
        value = normalise(raw)
        if value not in choices:
            raise ConfigError(f"{variable}={raw!r} must be one of: {', '.join(choices)}")
        return value

    return parse


def _payload_keys(variable: str, raw: str) -> dict[str, bytes]:
    # Secrets: the message names the key id at most, never the key.
    try:
        return parse_key_list(raw)
    except KeyRingError as error:
        raise ConfigError(f"{variable} (value not shown): {error}") from None


def _key_id(variable: str, raw: str) -> str:
    if not KEY_ID.match(raw):
        raise ConfigError(f"{variable}={raw!r} must be a key id of PAYLOAD_KEYS: letters, digits, '.', '_' or '-'")
    return raw


def _origins(variable: str, raw: str) -> tuple[str, ...]:
    origins = tuple(filter(None, (part.strip().rstrip("/") for part in raw.split(","))))
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
            raise ConfigError(
                f"{variable}={raw!r} must be Web UI origins like http://127.0.0.1:8233 (no path), comma-separated"
            )
    return origins


def _issuer(variable: str, raw: str) -> str:
    # An OIDC issuer is an https URL in production; any non-blank string without spaces is accepted, since
    # `iss` is compared exactly, character for character.
    if any(c.isspace() for c in raw) or len(raw) > 512:
        raise ConfigError(f"{variable}={raw!r} must be the issuer exactly as the tokens' iss claim says it")
    return raw


