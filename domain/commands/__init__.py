"""Commands: state in, events out. Every change a person or the engine asks of a case is decided here.

One module per group of commands: filing (file, reopen), customer (answer, close on confirmation), decisions
(propose and decide adjustments), handling (note, reassign, resolve, withdraw), escalation (escalate, needs
attention, SLA breach), deadlines (when a clock is looked at, its warning, the regulatory clocks' warning and
breach). Each is a pure function of (state, command, now[, policy]) that returns the events to record or raises
a domain error; workflows/complaint.py validates updates with the same function (a dry run on the current
state) and commits what it returns.
"""

from domain.commands.base import Decision, require_open
from domain.commands.customer import CLOSE_REASONS, AnswerQuestion, answer, close_on_confirmation
from domain.commands.deadlines import mark_reached, next_mark, regulatory_breach, regulatory_warn, warn
from domain.commands.decisions import (
    DecideAdjustment,
    ProposeAdjustment,
    decide,
    next_adjustment_id,
    propose_adjustment,
)
from domain.commands.escalation import breach, can_escalate, escalate, needs_attention
from domain.commands.filing import FileComplaint, ReopenComplaint, assignee_on_filing, file_complaint, reopen
from domain.commands.handling import AddNote, Reassign, Resolve, Withdraw, add_note, reassign, resolve, withdraw

__all__ = [
    "CLOSE_REASONS",
    "AddNote",
    "AnswerQuestion",
    "DecideAdjustment",
    "Decision",
    "FileComplaint",
    "ProposeAdjustment",
    "Reassign",
    "ReopenComplaint",
    "Resolve",
    "Withdraw",
    "add_note",
    "answer",
    "assignee_on_filing",
    "breach",
    "can_escalate",
    "close_on_confirmation",
    "decide",
    "escalate",
    "file_complaint",
    "mark_reached",
    "needs_attention",
    "next_adjustment_id",
    "next_mark",
    "propose_adjustment",
    "reassign",
    "regulatory_breach",
    "regulatory_warn",
    "reopen",
    "require_open",
    "resolve",
    "warn",
    "withdraw",
]
