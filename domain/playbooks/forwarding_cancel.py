"""forwarding_cancel decisions: say exactly what the partner and the billing system did.

The partner cancels the forwarding, or finds it already off; BOSS cancels the number-change notice,
or finds none active. Each receipt's `effective` flag says which, and the resolution says only that.
"""

from __future__ import annotations


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
