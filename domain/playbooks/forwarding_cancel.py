"""forwarding_cancel decisions and words: identity first, then say exactly what the partner and BOSS did.

The customer's name and ID number must match the billing system's before anything is cancelled (the partner
checks them again). The partner cancels the forwarding, or finds it already off; BOSS cancels the number-change
notice, or finds none active. Each receipt's `effective` flag says which, and the resolution says only that.
"""

from __future__ import annotations

from domain.playbooks.common import identity_mismatch

CANCEL_FORWARDING = "cancel_forwarding"
CANCEL_NOTICE = "cancel_number_change_notice"
IDENTITY_METHOD = "name and ID number against the billing system"


def check_identity(
    on_file_name: str, on_file_id_number: str, given_name: str, given_id_number: str | None
) -> str | None:
    """Why nothing may be cancelled (the identity given is not the one on file), or None to go on."""
    return identity_mismatch(on_file_name, on_file_id_number, given_name, given_id_number)


def identity_refused_summary(mismatch: str) -> str:
    """The resolution when the identity does not match: nothing cancelled, and what the customer can do."""
    return f"Nothing was cancelled: {mismatch}. The customer may come back with their ID card."


def partner_refused_summary(partner: str, reason: str) -> str:
    """The resolution when the partner carrier refuses the cancellation."""
    return f"{partner} refused to cancel the forwarding: {reason}"


def resolution_summary(
    *, partner: str, partner_number: str, number: str, forwarding_cancelled_now: bool, notice_cancelled_now: bool
) -> str:
    """The resolution's words; numbers come in already masked."""
    forwarding = (
        f"Call forwarding on {partner_number} cancelled at {partner}"
        if forwarding_cancelled_now
        else f"Call forwarding on {partner_number} was already off at {partner} (nothing to cancel)"
    )
    notice = (
        "the number-change notice cancelled in BOSS"
        if notice_cancelled_now
        else "no number-change notice was active in BOSS (already cancelled)"
    )
    return f"{forwarding}, and {notice}: calls reach {number}'s owner again."
