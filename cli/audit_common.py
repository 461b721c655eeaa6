"""What the audit commands share: times as people read them, the audit database, the vault and the keys."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime

import asyncpg

from cli.connect import BadInput, CliError, database
from codec.aes_gcm import KeyRing
from domain.clock import SHANGHAI, format_local
from runtime.settings import ConfigError, Settings
from store.pii import PersonalDataError, PersonalDataVault


def parse_time(text: str) -> datetime:
    """An ISO time; without a zone it is read as Asia/Shanghai, the time people at the counter use."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO time, e.g. 2026-11-25T09:30 (Asia/Shanghai) or 2026-11-25T01:30Z"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def _local(moment: datetime) -> str:
    shown = format_local(moment)
    return shown + f".{moment.microsecond // 1000:03d}" if moment.microsecond else shown


@contextlib.asynccontextmanager
async def _audit_database(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """The project database, with a clear word when its schema predates the audit tables."""
    async with database(settings) as pool:
        try:
            yield pool
        except asyncpg.UndefinedTableError as error:
            raise CliError(
                f"the database lacks a table this command reads ({error}): start the worker once "
                "(it migrates the schema), then try again"
            ) from None
        except PersonalDataError as error:
            raise CliError(str(error)) from None


def _vault(settings: Settings) -> PersonalDataVault:
    """The vault of the configured master key; a malformed key is bad configuration (exit 2)."""
    try:
        return PersonalDataVault.from_settings(settings)
    except ConfigError as error:
        raise BadInput(str(error)) from None


def _payload_keys(settings: Settings) -> KeyRing:
    """The payload keys the archived histories are encrypted with (to compare their saved events)."""
    try:
        return settings.payload_key_ring()
    except ConfigError as error:
        raise BadInput(str(error)) from None


