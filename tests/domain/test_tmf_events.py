"""The TMF621 view of the domain: the events a case's life gives rise to, and
the hub's query filter."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from domain import events as ev
from domain import tmf_events as tmf
from domain.hub_filter import BadHubQuery, matches, parse_hub_query
from domain.state import apply
from tests.domain.factories import AGENT, Stream
from tests.store.cases import ZHAO, closed_case


def _life(events: list[ev.Event]) -> list[tmf.TmfEvent]:
    state = None
    found: list[tmf.TmfEvent] = []
    for event in events:
        before, state = state, apply(state, event)
        found += tmf.tmf_events(before, event, state)
    return found


def test_a_case_from_filing_to_closing() -> None:
    events = closed_case("TMF-1", ZHAO)
    found = _life(events)
    assert [(e.seq, e.event_type) for e in found] == [
        (1, tmf.CREATE),
        (3, tmf.STATUS_CHANGE),  # evidence: acknowledged -> inProgress (filed and acknowledged look alike)
        (4, tmf.ATTRIBUTE_VALUE_CHANGE),  # a note
        (5, tmf.ATTRIBUTE_VALUE_CHANGE),  # an adjustment: a related entity
        (6, tmf.STATUS_CHANGE),
        (6, tmf.RESOLVED),
        (8, tmf.STATUS_CHANGE),
    ]
    assert len({e.event_id for e in found}) == len(found)
    resolved = next(e for e in found if e.event_type == tmf.RESOLVED).body
    ticket = resolved["event"]["troubleTicket"]
    assert (ticket["status"], ticket["statusChangeReason"], ticket["id"]) == ("resolved", "ComplaintResolved", "TMF-1")
    assert ticket["href"] == "/tmf-api/troubleTicket/v5/troubleTicket/TMF-1"
    assert resolved["@type"] == resolved["eventType"] == tmf.RESOLVED
    assert found[-1].body["event"]["troubleTicket"]["status"] == "closed"
    assert found[3].body["description"] == "relatedEntity changed"
    assert all(e.body["@baseType"] == "Event" and e.body["title"] == e.event_type for e in found)


def test_no_personal_data_travels_in_an_event() -> None:
    text = json.dumps([e.body for e in _life(closed_case("TMF-2", ZHAO))], ensure_ascii=False)
    for value in ZHAO.clear_values:
        assert value not in text


def test_a_question_asks_for_information_and_the_ticket_waits() -> None:
    s = Stream("TMF-3")
    events: list[ev.Event] = [
        s.filed(),
        s.next(ev.ComplaintAcknowledged, after=timedelta(minutes=1), assignee=AGENT.id, message="ok"),
        s.next(ev.CustomerAsked, question_id="consent", question=f"may we block {ZHAO.msisdn}?", options=["yes"]),
        s.next(ev.ComplaintWithdrawn, reason="customer withdrew"),
        s.next(ev.ComplaintClosed, reason="withdrawn"),
    ]
    found = _life(events)
    assert [(e.seq, e.event_type) for e in found] == [
        (1, tmf.CREATE), (3, tmf.STATUS_CHANGE), (3, tmf.INFORMATION_REQUIRED), (5, tmf.STATUS_CHANGE)
    ]
    asked = found[2].body
    assert asked["description"] == "question consent awaits the customer" and ZHAO.msisdn not in json.dumps(asked)
    assert found[1].body["event"]["troubleTicket"]["status"] == "pending"
    assert found[-1].body["event"]["troubleTicket"]["status"] == "cancelled"


def test_the_hub_query_selects_by_any_field_of_the_event() -> None:
    ticket = {"status": "resolved", "ticketType": "spam_sms"}
    body = {"eventType": tmf.STATUS_CHANGE, "event": {"troubleTicket": ticket}}
    assert matches(parse_hub_query(""), body)
    assert matches(parse_hub_query(None), body)
    assert matches(parse_hub_query(f"?eventType={tmf.STATUS_CHANGE},{tmf.RESOLVED}"), body)
    assert matches(parse_hub_query("event.troubleTicket.status=resolved&event.troubleTicket.ticketType=spam_sms"), body)
    assert not matches(parse_hub_query("event.troubleTicket.status=closed"), body)
    assert not matches(parse_hub_query("event.troubleTicket=resolved"), body)  # an object is no value
    assert not matches(parse_hub_query("event.missing.field=x"), body)
    assert not matches(parse_hub_query("eventType=a&eventType=" + tmf.STATUS_CHANGE), body)  # both must hold


@pytest.mark.parametrize("query", ["=x", "a..b=x", "eventType=", "eventType", "a=,"])
def test_an_unreadable_query_is_refused(query: str) -> None:
    with pytest.raises(BadHubQuery):
        parse_hub_query(query)
