"""`python -m codec`: make a payload key, rotate the embedded key file, or run the codec server on its own.

    python -m codec new-key [ID]   print `ID:<base64 of 32 random bytes>` for PAYLOAD_KEYS
    python -m codec rotate         add a key to <data dir>/payload-keys.json and make it the active one
    python -m codec serve          the codec server on CODEC_PORT (docker-compose's codec-server service)

Configuration comes from the same environment variables as the worker (see README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from datetime import UTC, datetime

import structlog
from aiohttp import web

from auth import trust
from auth.sources import keep_trusted_keys_fresh
from codec.aes_gcm import KEY_ID, encode_key, new_key
from codec.key_file import rotate_key_file
from codec.server import codec_app, start_codec_server
from runtime.logging import configure_logging
from runtime.settings import ConfigError, Settings, load_settings_or_exit

log = structlog.get_logger("codec-server")


def _new_key(key_id: str) -> int:
    if not KEY_ID.match(key_id):
        print(f"error: key id {key_id!r} must be letters, digits, '.', '_' or '-'", file=sys.stderr)
        return 2
    print(f"{key_id}:{encode_key(new_key())}")
    return 0


def _rotate(settings: Settings) -> int:
    if settings.payload_keys is not None:
        print(
            "error: PAYLOAD_KEYS is set: rotate by adding a new id:key to it and naming it in PAYLOAD_ACTIVE_KEY "
            "(`python -m codec new-key ID` makes one); keep the old keys while histories need them",
            file=sys.stderr,
        )
        return 2
    path = settings.payload_keys_file or settings.default_key_file
    if not path.exists():
        print(f"error: there is no key file {path} yet: it is made on the engine's first start", file=sys.stderr)
        return 2
    ring = rotate_key_file(path, datetime.now(UTC))
    print(f"{path}: new payloads are encrypted under {ring.active}; kept for old histories: "
          f"{', '.join(sorted(set(ring.keys) - {ring.active}))}")
    return 0


async def _serve(settings: Settings, host: str) -> int:
    keys = settings.payload_key_ring()
    # The deployment's issuer, as the worker trusts it: the OIDC provider's JWKS or the embedded issuer's
    # keys, refreshed in the background so a rotation reaches the codec server without a restart.
    async with keep_trusted_keys_fresh(settings):
        app = codec_app(
            keys,
            trusted_keys=trust.require_installed,
            namespaces={settings.temporal_namespace},
            cors_origins=settings.cors_origins,
        )
        return await _serve_until_stopped(app, host, settings, keys.active)


async def _serve_until_stopped(app: web.Application, host: str, settings: Settings, active_key: str) -> int:
    server = await start_codec_server(app, host, settings.codec_port)
    log.info("codec server ready", url=server.url, namespace=settings.temporal_namespace,
             cors_origins=list(settings.cors_origins), active_key=active_key)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m codec`: make a key, rotate payload keys, or serve the codec server; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m codec", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    new = commands.add_parser("new-key", help="print a fresh key as ID:base64 for PAYLOAD_KEYS")
    new.add_argument("key_id", nargs="?", default=datetime.now(UTC).strftime("k%Y%m%d"), help="default: kYYYYMMDD")
    commands.add_parser("rotate", help="add a key to the data folder's key file and make it active")
    serve = commands.add_parser("serve", help="run the codec server on CODEC_PORT until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.command == "new-key":
        return _new_key(args.key_id)
    settings = load_settings_or_exit()
    configure_logging(settings.log_format, settings.log_level)
    try:
        if args.command == "rotate":
            return _rotate(settings)
        with contextlib.suppress(KeyboardInterrupt):
            return asyncio.run(_serve(settings, args.host))
        return 0
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
