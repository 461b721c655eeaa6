"""The embedded issuer: a signing key and a small user directory in the data folder.

For one machine with no OIDC provider. `<data dir>/auth/` holds, created on first use (mode 0600):
- `signing-keys.json`: Ed25519 private keys by kid; the newest signs, every listed key verifies (rotation:
  `rotate()` adds a key, `retire()` drops the old one once its tokens have expired);
- `users.json`: ids, names, roles, scopes, a customer's number, and an optional scrypt password hash.

Users without a password hash log in without one: a dev-only mode, announced on every login (`DEV_MODE_WARNING`).
Give a user a password with `set_password`, and only the password logs them in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from auth.tokens import SigningKey, TrustedKeys, issue_token
from domain.actors import Role, normalise_actor_id

EMBEDDED_ISSUER = "complaints-embedded"
AUDIENCE = "complaints"
DEFAULT_TTL = timedelta(hours=1)
PII_READ = "pii:read"
"""The scope an auditor's token needs for an export with personal data in clear (audit.visibility)."""

DEV_MODE_WARNING = (
    "warning: DEV-ONLY login: the embedded user directory has no password for {user}; anyone on this machine "
    "can act as them. Set one with `starter login --as {user} --set-password` before real use."
)


class LoginRefused(ValueError):
    """An unknown user or a wrong password. One line."""


@dataclass(frozen=True)
class User:
    id: str
    name: str
    roles: tuple[Role, ...]
    scopes: tuple[str, ...] = ()
    msisdn: str | None = None
    password_scrypt: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The user as stored in the users file."""
        return {
            "id": self.id, "name": self.name, "roles": [r.value for r in self.roles], "scopes": list(self.scopes),
            "msisdn": self.msisdn, "password_scrypt": self.password_scrypt,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> User:
        """A user read back from the users file (ids normalised, the name defaulting to the id)."""
        return cls(
            id=normalise_actor_id(raw["id"]),
            name=raw.get("name") or raw["id"],
            roles=tuple(Role(r) for r in raw["roles"]),
            scopes=tuple(raw.get("scopes") or ()),
            msisdn=raw.get("msisdn"),
            password_scrypt=raw.get("password_scrypt"),
        )


DEFAULT_USERS: tuple[User, ...] = (
    User("agent", "Counter agent", (Role.AGENT,)),
    User("agent-li", "Li (store agent)", (Role.AGENT,)),
    User("agent-chen", "Chen (hotline agent)", (Role.AGENT,)),
    User("agent-zhou", "Zhou (store agent)", (Role.AGENT,)),
    User("store-manager-wang", "Wang (store manager)", (Role.STORE_MANAGER,)),
    User("sup-zhang", "Zhang (supervisor)", (Role.SUPERVISOR,)),
    User("sup-li", "Li (supervisor)", (Role.SUPERVISOR,)),
    User("regional-support", "Regional support", (Role.REGIONAL_SUPPORT,)),
    User("auditor", "Auditor (masked exports)", (Role.AUDITOR,)),
    User("auditor-pii", "Auditor with personal-data clearance", (Role.AUDITOR,), (PII_READ,)),
    User("customer", "Demo customer (any number: staff-assisted counter login)", (Role.CUSTOMER,)),
)
"""The README's and the demo's people, created with the directory. `customer` carries no number: it stands
for the customer at the counter in the demo; a real customer login names its number (`add_user`)."""


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The password's scrypt hash with a random salt, as stored: `scrypt$salt$digest` in base64."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def check_password(password: str, stored: str) -> bool:
    """Whether `password` matches a hash made by hash_password (False for a malformed hash)."""
    try:
        _, salt, digest = stored.split("$")
    except ValueError:
        return False
    expected = hash_password(password, salt=base64.b64decode(salt)).split("$")[2]
    return hmac.compare_digest(expected, digest)


def _write_private(path: Path, content: str) -> None:
    """Written whole, readable by the owner only (the keys and hashes are secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(content)
    os.replace(temporary, path)


@dataclass
class EmbeddedIssuer:
    folder: Path
    keys: list[SigningKey] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    issuer: str = EMBEDDED_ISSUER
    audience: str = AUDIENCE

    @classmethod
    def open(cls, data_dir: Path) -> EmbeddedIssuer:
        """The issuer of `data_dir`, its key and directory created on first use."""
        issuer = cls(folder=Path(data_dir) / "auth")
        if issuer._keys_file.exists():
            raw = json.loads(issuer._keys_file.read_text())
            issuer.keys = [
                SigningKey(kid=k["kid"], private_key=_load_private(k["private_pem"])) for k in raw["keys"]
            ]
        else:
            issuer.keys = [SigningKey.generate(_new_kid())]
            issuer._save_keys()
        if issuer._users_file.exists():
            raw_users = json.loads(issuer._users_file.read_text())["users"]
            issuer.users = {u.id: u for u in map(User.from_json, raw_users)}
        else:
            issuer.users = {u.id: u for u in DEFAULT_USERS}
            issuer._save_users()
        return issuer

    @property
    def _keys_file(self) -> Path:
        return self.folder / "signing-keys.json"

    @property
    def _users_file(self) -> Path:
        return self.folder / "users.json"

    @property
    def signing_key(self) -> SigningKey:
        """The key new tokens are signed with: the newest."""
        return self.keys[-1]

    def trusted_keys(self) -> TrustedKeys:
        """The public keys as trusted keys, so this issuer's tokens verify."""
        jwks = {"keys": [key.public_jwk() for key in self.keys]}
        return TrustedKeys.from_jwks(jwks, issuer=self.issuer, audience=self.audience)

    def login(self, user_id: str, now: datetime, *, password: str | None = None,
              ttl: timedelta = DEFAULT_TTL) -> tuple[str, str | None]:
        """(token, warning): a short-lived token for the user; the warning is set in dev-only mode."""
        user = self.users.get(normalise_actor_id(user_id))
        if user is None:
            known = ", ".join(sorted(self.users))
            raise LoginRefused(f"no user {user_id!r} in the embedded directory ({known})")
        warning = None
        if user.password_scrypt is None:
            warning = DEV_MODE_WARNING.format(user=user.id)
        elif password is None or not check_password(password, user.password_scrypt):
            raise LoginRefused(f"wrong password for {user.id}")
        return self.token_for(user, now, ttl=ttl), warning

    def token_for(self, user: User, now: datetime, *, ttl: timedelta = DEFAULT_TTL) -> str:
        """A signed token for `user`, valid for `ttl` from `now`."""
        return issue_token(
            self.signing_key, subject=user.id, name=user.name, roles=user.roles, scopes=user.scopes,
            msisdn=user.msisdn, issuer=self.issuer, audience=self.audience, now=now, ttl=ttl,
        )

    def add_user(self, user: User) -> None:
        """Add or replace a user and save the users file."""
        self.users[user.id] = user
        self._save_users()

    def set_password(self, user_id: str, password: str) -> None:
        """Set a user's password (stored hashed) and save the users file."""
        user = self.users[normalise_actor_id(user_id)]
        self.add_user(User(user.id, user.name, user.roles, user.scopes, user.msisdn, hash_password(password)))

    def rotate(self) -> SigningKey:
        """A new signing key; the old ones keep verifying until `retire` drops them."""
        key = SigningKey.generate(_new_kid())
        self.keys.append(key)
        self._save_keys()
        return key

    def retire(self, kids: Iterable[str]) -> None:
        """Stop trusting the keys of these ids (the newest is always kept) and save the keys."""
        dropped = set(kids)
        self.keys = [k for k in self.keys if k.kid not in dropped] or self.keys[-1:]
        self._save_keys()

    def save(self) -> None:
        """Write the keys and the directory (both created on first use by `open`)."""
        self._save_keys()
        self._save_users()

    def _save_keys(self) -> None:
        _write_private(self._keys_file, json.dumps({"keys": [
            {"kid": k.kid, "private_pem": _dump_private(k.private_key)} for k in self.keys
        ]}, indent=1))

    def _save_users(self) -> None:
        _write_private(self._users_file, json.dumps(
            {"users": [u.to_json() for u in self.users.values()]}, ensure_ascii=False, indent=1
        ))


def _new_kid() -> str:
    return "emb-" + secrets.token_hex(6)


def _dump_private(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _load_private(pem: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the embedded signing key is not an Ed25519 key")
    return key
