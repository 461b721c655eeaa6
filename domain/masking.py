"""Masking of personal numbers (mobile numbers, resident ID numbers) before they reach logs or screens.

Pure functions: the logging setup calls `scrub` on every string it is about to write, so a number
that slips into a log message or an exception text still shows only its ends (136****8765).
"""

from __future__ import annotations

import re

# One pass over the text with both patterns, the ID first: an 18-digit run must never be read as
# a mobile number. `(?<![0-9])` / `(?![0-9])` keep longer digit runs (order numbers, amounts,
# timestamps) untouched. Mobile numbers may carry a +86 / 0086 / 86 prefix and may be grouped
# 3-4-4 with one kind of separator, the way people type them.
_PERSONAL_NUMBER = re.compile(
    r"""
    (?<![0-9])
    (?:
        (?P<id>[0-9]{17}[0-9Xx])
      |
        (?P<prefix>(?:\+|00)?86[ -]?)?
        (?P<mobile>1[3-9][0-9](?P<sep>[ -]?)[0-9]{4}(?P=sep)[0-9]{4})
    )
    (?![0-9])
    """,
    re.VERBOSE,
)


def mask_msisdn(msisdn: str) -> str:
    """Keep the first three and last four digits: "13666778765" -> "136****8765".

    Separators that people type between groups survive ("136-6677-8765" -> "136-****-8765").
    Anything shorter than 7 characters is masked completely, since there is nothing safe to show.
    Text without a digit (the `[erased]` of a crypto-shredded number) holds no number and is kept.
    """
    if not any(char.isdigit() for char in msisdn):
        return msisdn
    if len(msisdn) < 7:
        return "*" * len(msisdn)
    head, middle, tail = msisdn[:3], msisdn[3:-4], msisdn[-4:]
    return head + "".join(c if c in " -" else "*" for c in middle) + tail


def mask_id_number(id_number: str) -> str:
    """Keep the first four and last four characters: "330106198001011235" -> "3301**********1235"."""
    if not any(char.isdigit() for char in id_number):
        return id_number
    if len(id_number) < 8:
        return "*" * len(id_number)
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


def _mask_match(match: re.Match[str]) -> str:
    if match.group("id") is not None:
        return mask_id_number(match.group("id"))
    return (match.group("prefix") or "") + mask_msisdn(match.group("mobile"))


# Every character a personal number match can hold, in runs as long as the shortest number (11 digits). The
# characters around such a run are no digits, which is all the pattern's edges ask: a match inside a run is a
# match in the run on its own. This simple pattern skips through text far faster than the full one.
_NUMBER_RUN = re.compile(r"[0-9Xx +-]{11,}")


# Every ASCII digit as "0" (in UTF-8 no other character has a byte below 0x80 that is a digit).
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
# What every number the pattern matches holds once its digits read "0": eleven digits in a row (a mobile number
# written together; any ID number), or a mobile number grouped 3-4-4 by one kind of separator.
_NUMBER_SHAPES = (b"0" * 11, b"000-0000-0000", b"000 0000 0000")


def holds_personal_number(text: str) -> bool:
    """True when `text` holds a mainland mobile or resident ID number that `scrub` would mask."""
    # Most text has no such shape at all, which a few byte searches tell faster than any pattern.
    digits = text.encode("utf-8").translate(_DIGITS_AS_ZERO)
    if not any(shape in digits for shape in _NUMBER_SHAPES):
        return False
    return any(_PERSONAL_NUMBER.search(run.group()) is not None for run in _NUMBER_RUN.finditer(text))


def scrub(text: str) -> str:
    """Mask every mainland mobile number and resident ID number inside free text.

    Only ASCII digits are recognised; a digit run longer than a number (an order id, a timestamp)
    is left as it is.
    """
    return _PERSONAL_NUMBER.sub(_mask_match, text)
