"""`starter login`, `logout`, `whoami`, and the cached logins every other command acts with.

A login is a short-lived token, cached in `<data dir>/auth/logins/<id>.jwt` (mode 0600, folder 0700). The
last login is the one commands use; `--as ID` picks another cached login (it never declares an identity:
the id, name and role come from the token). A missing or expired login exits with status 4.

With the embedded issuer, `login --as ID` asks the directory in the data folder (a password when the user has
one; a loud dev-only warning when not). With an OIDC provider (OIDC_ISSUER set), get a token from it and hand
it over: `starter login --token-stdin < token.jwt`.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from auth.embedded import EmbeddedIssuer, LoginRefused
from auth.sources import load_trusted_keys
from auth.tokens import TokenRefused, TrustedKeys, VerifiedActor, verify_token
from cli.connect import BadInput, CliError, NotLoggedIn, complaint_client
from client.api import ComplaintClient
from domain.actors import normalise_actor_id
from runtime.settings import ConfigError, Settings

CURRENT = "current"


@dataclass(frozen=True)
class Login:
    """A cached token, verified against the deployment's trusted keys just now."""

    token: str
    actor: VerifiedActor
    keys: TrustedKeys


def logins_folder(settings: Settings) -> Path:
    """The folder the cached logins live in, under the data folder."""
    return settings.data_dir / "auth" / "logins"


def _save(settings: Settings, subject: str, token: str) -> Path:
    folder = logins_folder(settings)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(folder, 0o700)
    for name, content in ((f"{subject}.jwt", token), (CURRENT, subject)):
        path = folder / name
        fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(content)
        os.replace(path.with_suffix(".tmp"), path)
    return folder / f"{subject}.jwt"


async def trusted_keys(settings: Settings) -> TrustedKeys:
    """The keys tokens are verified with; bad configuration becomes a CliError."""
    try:
        return await load_trusted_keys(settings)
    except ConfigError as error:
        raise BadInput(str(error)) from None


async def logged_in(settings: Settings, as_id: str | None) -> Login:
    """The login a command acts with: `--as ID`'s cached token, else the last login. Verified now."""
    folder = logins_folder(settings)
    if as_id is None:
        current = folder / CURRENT
        if not current.exists():
            raise NotLoggedIn("not logged in: log in first with `starter login --as ID` (nothing was sent)")
        as_id = current.read_text().strip()
    subject = normalise_actor_id(as_id)
    path = folder / f"{subject}.jwt"
    if not path.exists():
        raise NotLoggedIn(f"{subject} is not logged in here: `starter login --as {subject}` (nothing was sent)")
    keys = await trusted_keys(settings)
    token = path.read_text().strip()
    try:
        actor = verify_token(token, keys, datetime.now(UTC))
    except TokenRefused as refusal:
        raise NotLoggedIn(f"the login of {subject} is no longer valid ({refusal}); nothing was sent") from None
    return Login(token=token, actor=actor, keys=keys)


async def cmd_login(args: argparse.Namespace, settings: Settings) -> int:
    """`starter login`: get a short-lived signed token and cache it for the other commands."""
    now = datetime.now(UTC)
    if args.token_stdin:
        token = sys.stdin.read().strip()
        keys = await trusted_keys(settings)
        try:
            actor = verify_token(token, keys, now)
        except TokenRefused as refusal:
            raise NotLoggedIn(f"token refused: {refusal}") from None
        _save(settings, actor.subject, token)
        return _logged_in_line(actor)
    if args.actor is None:
        raise BadInput("login needs --as ID (or --token-stdin with a token from your OIDC provider)")
    if not settings.uses_embedded_issuer:
        raise BadInput(
            f"identities come from {settings.oidc_issuer}: get a token there and run "
            "`starter login --token-stdin < token.jwt`"
        )
    issuer = EmbeddedIssuer.open(settings.data_dir)
    if args.set_password:
        new_password = _read_password(args, "new password: ")
        if len(new_password) < 8:
            raise BadInput("a password has at least 8 characters; nothing changed")
        issuer.set_password(args.actor, new_password)
        print(f"password set for {normalise_actor_id(args.actor)}; logins need it from now on")
        return 0
    user = issuer.users.get(normalise_actor_id(args.actor))
    password = _read_password(args, "password: ") if user and user.password_scrypt else None
    try:
        token, warning = issuer.login(args.actor, now, password=password,
                                      ttl=timedelta(minutes=settings.login_ttl_minutes))
    except LoginRefused as refusal:
        raise CliError(f"login refused: {refusal}") from None
    if warning:
        print(warning, file=sys.stderr)
    actor = verify_token(token, issuer.trusted_keys(), now)
    _save(settings, actor.subject, token)
    return _logged_in_line(actor)


def _read_password(args: argparse.Namespace, prompt: str) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return getpass.getpass(prompt)


def _logged_in_line(actor: VerifiedActor) -> int:
    local = actor.expires_at.astimezone().strftime("%Y-%m-%d %H:%M")
    scopes = f", scopes {' '.join(sorted(actor.scopes))}" if actor.scopes else ""
    print(f"logged in as {actor.subject} ({', '.join(r.value for r in actor.roles)}{scopes}) until {local}")
    return 0


async def cmd_logout(args: argparse.Namespace, settings: Settings) -> int:
    """`starter logout`: forget a cached login."""
    folder = logins_folder(settings)
    current = folder / CURRENT
    subject = normalise_actor_id(args.actor) if args.actor else (
        current.read_text().strip() if current.exists() else None
    )
    if subject is None:
        print("not logged in")
        return 0
    (folder / f"{subject}.jwt").unlink(missing_ok=True)
    if current.exists() and current.read_text().strip() == subject:
        current.unlink()
    print(f"logged out {subject}")
    return 0


async def cmd_whoami(args: argparse.Namespace, settings: Settings) -> int:
    """`starter whoami`: say who the cached login is."""
    login = await logged_in(settings, args.actor)
    return _logged_in_line(login.actor)


def as_option(parser: argparse.ArgumentParser) -> None:
    """`--as ID`: which cached login acts. It selects a login; it never declares who acts."""
    parser.add_argument("--as", dest="actor", metavar="ID",
                        help="act with the cached login of ID (default: the last `starter login`)")


def register(command: Callable[..., argparse.ArgumentParser]) -> None:
    """Add the login commands to the starter's parser."""
    login = command("login", cmd_login, "log in: get a short-lived signed token and cache it for the other commands")
    login.add_argument("--as", dest="actor", metavar="ID", help="the user to log in as (embedded directory)")
    login.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    login.add_argument("--set-password", action="store_true",
                       help="set ID's password in the embedded directory (ends its dev-only no-password login)")
    login.add_argument("--token-stdin", action="store_true",
                       help="cache a token issued by your OIDC provider, read from standard input")
    logout = command("logout", cmd_logout, "forget a cached login (default: the last one)")
    as_option(logout)
    whoami = command("whoami", cmd_whoami, "say who the cached login is, with its roles and expiry")
    as_option(whoami)


async def acting_client(
    settings: Settings, args: argparse.Namespace, *, needs_worker: bool = True, case: str | None = None
) -> tuple[ComplaintClient, Login]:
    """The logged-in person's client: their token on every update, their name as the Temporal identity.

    The login is checked before anything is contacted: no login, an expired one, or one not signed by a
    trusted key exits 4 with nothing sent.
    """
    login = await logged_in(settings, getattr(args, "actor", None))
    client = await complaint_client(
        settings, needs_worker=needs_worker, case=case, token=login.token, trusted_keys=login.keys
    )
    return client, login
