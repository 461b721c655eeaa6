"""What counts as personal data, how it is sealed and opened, and what erasure does to a case's fold."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import events as ev
from domain.errors import InvalidCommand
from domain.personal_data import ERASED, is_personal, known_values, mask_personal, same_or_erased, seal_personal
from domain.reopening import check_reopen
from domain.state import fold
from tests.domain.factories import SUPERVISOR, Stream
from tests.store.cases import CALLED, ZHAO, closed_case

KNOWN = known_values(ZHAO.clear_values)


@pytest.mark.parametrize(
    ("field", "value", "personal"),
    [
        ("msisdn", "anything at all", True),
        ("customer_name", "赵先生", True),
        ("summary", f"two calls to {CALLED}", True),
        ("summary", "ID 330106198001011235 checked", True),
        ("summary", "calls to +86 139-0571-0001", True),
        ("message", "赵先生 is calm now", True),  # the case's own name inside free text
        ("record_id", "13905710001/2026-11", True),
        ("summary", "two calls to 138****5678, 58.20 yuan", False),  # already masked
        ("ledger_id", "ADJ-000001", False),
        ("reason", "pii:v1:looks-sealed", True),  # sealed so the read side never mistakes it
        ("msisdn", ERASED, False),
    ],
)
def test_what_is_personal(field: str, value: str, personal: bool) -> None:
    assert is_personal(field, value, KNOWN) is personal


def test_sealing_reaches_into_nested_facts_and_keeps_the_rest() -> None:
    data = {"facts": {"calls": [{"other_party": CALLED, "minutes": 58}], "matched": True}, "step": "calls"}
    sealed = seal_personal(data, lambda value: f"<{len(value)}>", KNOWN)
    assert sealed == {"facts": {"calls": [{"other_party": "<11>", "minutes": 58}], "matched": True}, "step": "calls"}
    masked = mask_personal({"msisdn": ZHAO.msisdn, "customer_name": ZHAO.name, "text": f"{ZHAO.name} called"}, KNOWN)
    assert masked == {"msisdn": "139****0001", "customer_name": "***", "text": "*** called"}


def test_an_erased_value_matches_whatever_a_retry_sends_and_nothing_else_does() -> None:
    assert same_or_erased({"msisdn": ERASED, "seq": 1}, {"msisdn": ZHAO.msisdn, "seq": 1})
    assert not same_or_erased({"msisdn": ERASED, "seq": 1}, {"msisdn": ZHAO.msisdn, "seq": 2})
    assert not same_or_erased({"names": ["a"]}, {"names": ["a", "b"]})


def test_a_field_added_since_an_event_was_stored_is_the_same_event_only_while_null() -> None:
    # `disputed_since` came after this ComplaintFiled was stored: a retry of it, sent by today's model, has it null.
    stored = {"type": "ComplaintFiled", "seq": 1, "msisdn": ERASED}
    assert same_or_erased(stored, {"type": "ComplaintFiled", "seq": 1, "msisdn": ZHAO.msisdn, "disputed_since": None})
    assert not same_or_erased(stored, {"type": "ComplaintFiled", "seq": 1, "msisdn": ZHAO.msisdn,
                                       "disputed_since": "2026-06-15"})
    # A field the stored event has and the retry lacks is a different event.
    assert not same_or_erased({**stored, "policy": None}, {"type": "ComplaintFiled", "seq": 1, "msisdn": "x"})


def test_an_erased_case_reads_erased_and_cannot_be_reopened() -> None:
    events = closed_case("CASE-A", ZHAO)
    s = Stream("CASE-A")
    s.seq, s.at = events[-1].seq, events[-1].at
    erased = s.next(ev.PersonalDataErased, after=timedelta(days=1), actor=SUPERVISOR, key_id="ck-0123456789abcdef",
                    reason="the customer's request")
    state = fold([*events, erased])
    assert state is not None
    assert (state.msisdn, state.customer_name, state.id_number, state.partner_msisdn) == (ERASED,) * 4
    assert state.personal_data_erased_at == erased.at and state.status.value == "closed"
    with pytest.raises(InvalidCommand, match="personal data was erased"):
        check_reopen(state, erased.at + timedelta(hours=1), timedelta(days=7))
