"""The embedded runtime's payload key ring, kept in a file of the data folder (mode 0600).

Created with one random key on first use, by whichever process needs it first (the runtime, a worker, the
CLI); created exclusively, so two processes starting at once end up with the same key. Format:

    {"active": "k1", "keys": {"k1": "<base64 of 32 bytes>"}}

Rotating (`python -m codec rotate`) adds a key and makes it active; old keys stay, so old histories decode.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

from codec.aes_gcm import KeyRing, KeyRingError, decode_key, encode_key, new_key

KEY_FILE_NAME = "payload-keys.json"


def _write_new(path: Path, ring: KeyRing) -> None:
    document = {"active": ring.active, "keys": {key_id: encode_key(key) for key_id, key in ring.keys.items()}}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(document, out, indent=2)
        out.write("\n")


def read_key_file(path: Path) -> KeyRing:
    """The ring in `path`; KeyRingError (naming the file, never a key) when it is unsafe or malformed."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyRingError(f"{path} is readable by others (mode {stat.S_IMODE(mode):o}): chmod 600 {path}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        keys_text = document["keys"]
        active = document["active"]
        if not isinstance(keys_text, dict) or not isinstance(active, str):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise KeyRingError(
            f"{path} must be JSON like {{\"active\": \"k1\", \"keys\": {{\"k1\": \"<base64 of 32 bytes>\"}}}}"
        ) from None
    try:
        return KeyRing(keys={str(k): decode_key(str(k), str(v)) for k, v in keys_text.items()}, active=active)
    except KeyRingError as error:
        raise KeyRingError(f"{path}: {error}") from None


def load_or_create_key_file(path: Path) -> KeyRing:
    """The ring in `path`, created with one fresh key (mode 0600) if there is none yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Exclusive: if another process created it a moment ago, theirs is used.
        with contextlib.suppress(FileExistsError):
            _write_new(path, KeyRing.generate(_key_id(datetime.now(UTC))))
    return read_key_file(path)


def rotate_key_file(path: Path, now: datetime) -> KeyRing:
    """Add a fresh key to the file's ring and make it the active one; the old keys stay for old histories."""
    ring = read_key_file(path).with_active(_key_id(now), new_key())
    replacement = path.with_name(path.name + ".new")
    replacement.unlink(missing_ok=True)
    _write_new(replacement, ring)
    replacement.replace(path)
    return ring


def _key_id(now: datetime) -> str:
    """Key ids name when the key was made, so a ring reads as its rotation history."""
    return now.strftime("k%Y%m%dT%H%M%S")
