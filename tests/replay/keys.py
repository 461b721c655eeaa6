"""The payload key ring of the recorded histories: recording and replay must share it.

A test-only key, public in this repository and so protecting nothing; it exists so the recorded histories are
encrypted exactly as production histories are, and the replay test decodes them through the same codec.
Histories recorded before the codec was turned on are plain and decode unchanged.
"""

from __future__ import annotations

import base64

from codec.aes_gcm import KeyRing, encrypted_data_converter

REPLAY_KEYS = KeyRing(
    keys={"replay-test-key": base64.b64decode("R4MV/LMBCncV62KShMo8nj8+t8/gG+1rQoq0fCp0lXM=")},
    active="replay-test-key",
)
REPLAY_DATA_CONVERTER = encrypted_data_converter(REPLAY_KEYS)
